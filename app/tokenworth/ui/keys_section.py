"""Settings › Keys: the stored provider accounts, and adding (checked first), testing and deleting
keys. A key is typed into a password field, goes to the keyring through services.accounts in the
network worker, and is never shown, logged or kept by the UI after it is sent."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tokenworth.core.db import Database
from tokenworth.core.secrets import KeyringUnavailable, SecretStore
from tokenworth.services.accounts import (
    DEFAULT_LABEL,
    PROVIDERS,
    AccountView,
    KeyTest,
    StoredKey,
    check_label,
    check_stored_keys,
    delete_account,
    list_accounts,
    store_key,
)
from tokenworth.sources.provider_http import KeyRejected, ProviderError
from tokenworth.ui.controller import AppController
from tokenworth.ui.popup import error_label
from tokenworth.ui.tables import row_picker_table
from tokenworth.ui.theme import INVALID_STYLE, error_text_style
from tokenworth.ui.workers import Lane, if_alive

log = logging.getLogger(__name__)

COLUMNS = ("Provider", "Label", "Key", "Last poll", "Status", "Last error")


def probe_keyring(secrets: SecretStore) -> str:
    """The keyring backend's name; KeyringUnavailable (with the fix) when there is none to use."""
    return secrets.backend_name


def _store(
    db: Database, secrets: SecretStore, provider: str, label: str, key: str, env: Mapping[str, str]
) -> StoredKey:
    from tokenworth.services.polling import DEFAULT_RETRY

    return store_key(db, secrets, provider, label, key, env=env, retry=DEFAULT_RETRY)


def _test(
    db: Database, secrets: SecretStore, env: Mapping[str, str], provider: str | None, label: str | None
) -> list[KeyTest]:
    from tokenworth.services.polling import DEFAULT_RETRY

    return check_stored_keys(db, secrets, env=env, provider=provider, label=label, retry=DEFAULT_RETRY)


def store_error_text(error: BaseException, provider: str) -> str:
    """Why a key was not stored, in words that say what to do (never containing the key)."""
    hint = PROVIDERS[provider].key_hint if provider in PROVIDERS else "the provider's key"
    if isinstance(error, KeyRejected):
        return f"The key was not stored: {error}. It should be {hint}."
    if isinstance(error, ProviderError):
        return f"The key was not stored: {error}. Try again later."
    if isinstance(error, KeyringUnavailable | ValueError):
        return f"The key was not stored: {error}"
    return f"The key was not stored ({type(error).__name__}); details are in the log."


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


class KeysSection(QWidget):
    """The Keys tab: accounts table, add form, test / delete; all work in the network worker."""

    def __init__(
        self, controller: AppController, parent: QWidget | None = None, *, secrets: SecretStore | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.secrets = secrets or SecretStore()
        self.accounts: list[AccountView] = []
        self.keyring_ok: bool | None = None
        self.busy = 0
        layout = QVBoxLayout(self)
        self.keyring_label = QLabel("Looking for your system keyring…")
        self.keyring_label.setWordWrap(True)
        layout.addWidget(self.keyring_label)

        self.table = row_picker_table(COLUMNS, "Provider keys")
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.test_button = QPushButton("Test keys")
        self.test_button.setToolTip("One cheap call per key (the selected one, or all)")
        self.test_button.clicked.connect(self.on_test_clicked)
        self.delete_button = QPushButton("Delete selected")
        self.delete_button.setToolTip("The key leaves the keyring; usage already polled stays")
        self.delete_button.clicked.connect(self.on_delete_clicked)
        self.poll_button = QPushButton("Poll now")
        self.poll_button.clicked.connect(self.on_poll_clicked)
        row.addWidget(self.test_button)
        row.addWidget(self.delete_button)
        row.addWidget(self.poll_button)
        row.addStretch(1)
        layout.addLayout(row)

        box = QGroupBox("Add a key")
        form = QFormLayout(box)
        self.provider = QComboBox()
        for name in PROVIDERS:
            self.provider.addItem(name, name)
        self.provider.currentIndexChanged.connect(self.on_provider_changed)
        self.hint = QLabel("")
        self.hint.setWordWrap(True)
        self.label_edit = QLineEdit(DEFAULT_LABEL)
        self.label_edit.setToolTip("A name for this account; several keys per provider are told apart by it")
        self.label_error = error_label()
        self.key_edit = QLineEdit()
        self.key_edit.setAccessibleName("Key")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("paste the key: it goes to your keyring only, never to disk or a log")
        self.store_button = QPushButton("Check and store")
        self.store_button.clicked.connect(self.on_store_clicked)
        self.key_edit.returnPressed.connect(self.on_store_clicked)
        form.addRow("Provider", self.provider)
        form.addRow("", self.hint)
        form.addRow("Label", self.label_edit)
        form.addRow("", self.label_error)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.store_button)
        form.addRow("Key", key_row)
        layout.addWidget(box)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.label_edit.textChanged.connect(self.on_label_changed)
        self.key_edit.textChanged.connect(self.update_buttons)
        self.table.itemSelectionChanged.connect(self.update_buttons)
        self.on_provider_changed(0)
        self.update_buttons()
        controller.runner.submit(
            partial(probe_keyring, self.secrets), if_alive(self, self._on_keyring_probed), lane=Lane.NET
        )
        self.reload()

    # state --------------------------------------------------------------------------------------

    def _submit(self, fn: Any, on_done: Any, lane: Lane = Lane.NET) -> None:
        self.busy += 1
        self.update_buttons()

        def done(result: Any, error: BaseException | None) -> None:
            self.busy -= 1
            on_done(result, error)
            self.update_buttons()

        self.controller.runner.submit(fn, if_alive(self, done), lane=lane)

    def label_problem(self) -> str | None:
        try:
            check_label(self.label_edit.text().strip())
        except ValueError as exc:
            return str(exc)
        return None

    def update_buttons(self) -> None:
        usable = self.keyring_ok is True and self.busy == 0
        self.store_button.setEnabled(usable and bool(self.key_edit.text().strip()) and self.label_problem() is None)
        self.key_edit.setEnabled(self.keyring_ok is not False)
        self.test_button.setEnabled(usable and bool(self.accounts))
        self.poll_button.setEnabled(usable and bool(self.accounts))
        self.delete_button.setEnabled(usable and self.selected() is not None)

    def selected(self) -> AccountView | None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        return self.accounts[rows.pop()] if len(rows) == 1 and self.accounts else None

    def show_status(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(error_text_style() if error else "")

    # reading ------------------------------------------------------------------------------------

    def _on_keyring_probed(self, name: str | None, error: BaseException | None) -> None:
        if error is not None:
            self.keyring_ok = False
            message = str(error) if isinstance(error, KeyringUnavailable) else f"The keyring cannot be used: {error}"
            self.keyring_label.setText(message)
            self.keyring_label.setStyleSheet(error_text_style())
        else:
            self.keyring_ok = True
            self.keyring_label.setText(
                f"Keys are kept only in your system keyring ({name}), never in the database, a file or a log. "
                "Local agent logs need no key."
            )
            self.keyring_label.setStyleSheet("")
        self.update_buttons()

    def reload(self) -> None:
        self._submit(partial(list_accounts, self.controller.db), self._on_accounts, lane=Lane.DB)

    def _on_accounts(self, accounts: list[AccountView] | None, error: BaseException | None) -> None:
        if error is not None:
            self.show_status(f"Could not read the accounts: {error}", error=True)
            return
        self.accounts = list(accounts or [])
        self.table.setRowCount(len(self.accounts))
        for r, account in enumerate(self.accounts):
            cells = (
                account.provider,
                account.label,
                account.masked_key,
                _when(account.last_poll_at),
                account.last_status or "",
                account.last_error or "",
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 5 and text:
                    item.setToolTip(text)
                self.table.setItem(r, c, item)
        if not self.accounts and not self.status.text():
            self.show_status("No provider keys stored yet. Usage APIs need an admin key (see the hint below).")

    # actions ------------------------------------------------------------------------------------

    def on_provider_changed(self, _index: int) -> None:
        provider = self.provider.currentData()
        self.hint.setText(f"Needs {PROVIDERS[provider].key_hint}." if provider in PROVIDERS else "")

    def on_label_changed(self, _text: str) -> None:
        problem = self.label_problem()
        self.label_edit.setStyleSheet(f"QLineEdit {{ {INVALID_STYLE} }}" if problem else "")
        self.label_edit.setToolTip(problem or "")
        self.label_error.setText(problem or "")
        self.label_error.setVisible(bool(problem))
        self.update_buttons()

    def on_store_clicked(self) -> None:
        if not self.store_button.isEnabled():
            return
        provider = str(self.provider.currentData())
        label = self.label_edit.text().strip()
        key = self.key_edit.text()
        self.key_edit.clear()  # the UI keeps no copy; the job holds it until it is stored
        self.show_status(f"Checking the {provider} key with one call…")
        env = dict(self.controller.env)
        job = partial(_store, self.controller.db, self.secrets, provider, label, key, env)
        del key
        self._submit(job, partial(self._on_stored, provider))

    def _on_stored(self, provider: str, stored: StoredKey | None, error: BaseException | None) -> None:
        if error is not None or stored is None:
            if error is not None and not isinstance(error, ProviderError | KeyringUnavailable | ValueError):
                log.error("storing a key failed: %s", type(error).__name__)
            self.show_status(store_error_text(error or RuntimeError("nothing stored"), provider), error=True)
        else:
            account = stored.account
            verb = "Replaced" if stored.replaced else "Stored"
            self.show_status(
                "\n".join(
                    [
                        f"{verb} the {account.provider} key '{account.label}' ({account.masked_key}) in the keyring; "
                        "it works.",
                        *stored.notes(),
                    ]
                )
            )
        self.reload()

    def on_test_clicked(self) -> None:
        account = self.selected()
        provider, label = (account.provider, account.label) if account else (None, None)
        self.show_status("Testing…")
        env = dict(self.controller.env)
        job = partial(_test, self.controller.db, self.secrets, env, provider, label)
        self._submit(job, self._on_tested)

    def _on_tested(self, results: list[KeyTest] | None, error: BaseException | None) -> None:
        if error is not None:
            self.show_status(f"Could not test the keys: {error}", error=True)
        else:
            lines = [f"{r.provider}:{r.label}: {r.status} - {r.message}" for r in results or []]
            failed = any(not r.ok for r in results or [])
            self.show_status("\n".join(lines) or "No keys to test.", error=failed)
        self.reload()

    def on_delete_clicked(self) -> None:
        account = self.selected()
        if account is None:
            return
        answer = QMessageBox.question(
            self,
            "Delete the key?",
            f"Remove the {account.provider} key '{account.label}' ({account.masked_key}) from your keyring? "
            "Usage already polled stays.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_account(account)

    def delete_account(self, account: AccountView) -> None:
        job = partial(delete_account, self.controller.db, self.secrets, account.provider, account.label)
        self._submit(job, partial(self._on_deleted, account))

    def _on_deleted(self, account: AccountView, _removed: bool | None, error: BaseException | None) -> None:
        if error is not None:
            self.show_status(f"Could not delete the key: {error}", error=True)
        else:
            self.show_status(
                f"Deleted the {account.provider} key '{account.label}' from the keyring; usage already polled is kept."
            )
        self.reload()

    def on_poll_clicked(self) -> None:
        from tokenworth.ui.provider_poll import poll_providers

        self.show_status("Polling the providers…")
        job = partial(poll_providers, self.controller.db, secrets=self.secrets, env=dict(self.controller.env))
        self._submit(job, self._on_polled)

    def _on_polled(self, notices: list[Any] | None, error: BaseException | None) -> None:
        if error is not None:
            self.show_status(f"The poll failed: {error}", error=True)
        else:
            for notice in notices or []:
                self.controller.notice.emit(notice)
            self.show_status("Polled every key; see each one's status above.")
            self.controller.refresh()
        self.reload()


def keys_section(parent: QWidget | None) -> QWidget:
    """Hook `keys_section`: the Keys tab, for the Settings dialog `parent` (it carries the controller)."""
    controller = getattr(parent, "controller", None)
    if not isinstance(controller, AppController):
        raise TypeError("the Keys section needs the Settings dialog (with its controller) as parent")
    return KeysSection(controller, parent)
