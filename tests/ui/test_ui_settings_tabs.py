"""Settings › Keys and Plans, the dashboard's price panel, and provider polling from the app:
keys checked against a real local HTTP server and kept in an in-memory keyring, never shown;
no keyring said plainly; plans round-trip; the price panel shows `tokenworth price`'s rows."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QLabel, QLineEdit
from uihelpers import shut_down

from provider_fakes import FAKE_KEY, FakeProviders, MemoryKeyring
from task_ledger import known_events, write_events
from tokenworth.core.db import Database
from tokenworth.core.money import format_usd
from tokenworth.core.settings import Settings
from tokenworth.services import polling
from tokenworth.services.accounts import list_accounts, store_key
from tokenworth.services.plans import list_plans
from tokenworth.sources.provider_http import RetryPolicy
from tokenworth.ui.hooks import default_hooks
from tokenworth.ui.keys_section import KeysSection
from tokenworth.ui.plans_section import PlansSection
from tokenworth.ui.price_panel import PricePanel
from tokenworth.ui.provider_poll import poll_providers
from tokenworth.ui.settings_dialog import SettingsDialog
from tokenworth.ui.theme import ERROR_COLOR, readable_on

WRONG_KEY = "sk-admin-WRONG0KEY0typed0by0mistake000000"


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(polling, "DEFAULT_RETRY", RetryPolicy(sleep=lambda _s: None))


@pytest.fixture
def settings_dialog(qtbot, make_controller):
    def build() -> SettingsDialog:
        controller = make_controller(Settings(), hooks=default_hooks())
        dialog = SettingsDialog(controller)
        qtbot.addWidget(dialog)
        return dialog

    return build


def all_texts(widget) -> str:
    """Every text the user can see in the widget: labels, line edits, table cells, tooltips."""
    parts = [label.text() + label.toolTip() for label in widget.findChildren(QLabel)]
    parts += [edit.text() + edit.toolTip() for edit in widget.findChildren(QLineEdit)]
    table = getattr(widget, "table", None)
    if table is not None:
        for r in range(table.rowCount()):
            for c in range(table.columnCount()):
                item = table.item(r, c)
                parts.append(item.text() + item.toolTip() if item else "")
    return "\n".join(parts)


def table_rows(section) -> list[list[str]]:
    table = section.table
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_keys_tab_stores_a_checked_key_in_the_keyring_and_never_shows_it(
    qtbot,
    settings_dialog,
    memory_keyring: MemoryKeyring,
    fake_env: dict[str, str],
    fake: FakeProviders,
    ledger: Database,
    quick_retries: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    dialog = settings_dialog()
    section = dialog.tabs.widget(3)
    assert isinstance(section, KeysSection)
    assert dialog.tabs.tabText(3) == "Keys"
    assert "MemoryKeyring" in section.keyring_label.text()
    assert "No provider keys stored yet" in section.status.text()
    assert section.key_edit.echoMode() is QLineEdit.EchoMode.Password
    assert not section.store_button.isEnabled()  # nothing typed yet

    section.provider.setCurrentIndex(section.provider.findData("openai"))
    assert "Admin key" in section.hint.text()
    section.label_edit.setText("no spaces allowed")
    assert "d64541" in section.label_edit.styleSheet()
    section.key_edit.setText(FAKE_KEY)
    assert not section.store_button.isEnabled()
    section.label_edit.setText("work")
    assert section.store_button.isEnabled()
    section.on_store_clicked()

    assert memory_keyring.entries == {("tokenworth", "openai:work"): FAKE_KEY}
    assert section.key_edit.text() == ""  # the field keeps no copy
    assert section.status.text() == "Stored the openai key 'work' (…0000) in the keyring; it works."
    assert table_rows(section) == [["openai", "work", "…0000", "never", "key checked", ""]]
    checks = [path for path, _args, _headers in fake.requests]
    assert len(checks) == 1  # one cheap call

    # a wrong key: refused by the provider, not stored, and not echoed (the fake's 401 repeats it)
    section.label_edit.setText("second")
    section.key_edit.setText(WRONG_KEY)
    section.on_store_clicked()
    assert "The key was not stored" in section.status.text()
    assert "rejected (HTTP 401)" in section.status.text()
    assert "Admin key" in section.status.text()
    assert ("tokenworth", "openai:second") not in memory_keyring.entries

    section.table.selectRow(0)
    section.on_test_clicked()
    assert section.status.text() == "openai:work: ok - the key works"
    assert table_rows(section)[0][4] == "ok"

    section.delete_account(section.accounts[0])
    assert memory_keyring.entries == {}
    assert table_rows(section) == []
    assert "usage already polled is kept" in section.status.text()

    seen = all_texts(dialog) + caplog.text
    assert FAKE_KEY not in seen
    assert "WRONG0KEY0typed" not in seen


def test_keys_tab_without_a_keyring_says_so_and_how_to_fix_it(qtbot, settings_dialog, fake_env, fake) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        dialog = settings_dialog()
    finally:
        keyring.set_keyring(previous)
    section = dialog.tabs.widget(3)
    text = section.keyring_label.text()
    assert text.startswith("No usable keyring")
    assert "gnome-keyring" in text.lower() or "GNOME Keyring" in text
    assert readable_on(ERROR_COLOR) in section.keyring_label.styleSheet()  # the error red, as text
    assert not section.key_edit.isEnabled()
    assert not section.store_button.isEnabled()
    assert fake.requests == []


def test_a_rejected_key_is_announced_once(
    ledger: Database, memory_keyring: MemoryKeyring, fake_env: dict[str, str], fake: FakeProviders, quick_retries
) -> None:
    from tokenworth.core.secrets import SecretStore

    assert poll_providers(ledger, env=fake_env) == []  # no key stored: nothing polled, keyring not touched
    store_key(ledger, SecretStore(), "openai", "work", FAKE_KEY, env=fake_env)
    fake.key = "sk-admin-ROTATED0000000000000000000000000"  # the provider no longer accepts ours
    [notice] = poll_providers(ledger, env=fake_env)
    assert notice.kind == "key-rejected"
    assert notice.title == "Your openai key 'work' was rejected"
    assert "Settings › Keys" in notice.message
    assert FAKE_KEY not in notice.message
    assert poll_providers(ledger, env=fake_env) == []  # already told
    [account] = list_accounts(ledger)
    assert account.last_status == "key rejected"


def test_a_key_stored_under_a_new_label_is_told_of_the_old_labels_usage(
    qtbot,
    settings_dialog,
    memory_keyring: MemoryKeyring,
    fake_env: dict[str, str],
    fake: FakeProviders,
    ledger: Database,
    quick_retries: None,
) -> None:
    """As `keys set` says it: the old label's polled usage is still in the ledger."""
    from tokenworth.core.secrets import SecretStore

    fake.now = polling.utc_now()
    store_key(ledger, SecretStore(), "openai", "work", FAKE_KEY, env=fake_env)
    assert poll_providers(ledger, env=fake_env) == []
    dialog = settings_dialog()
    section = dialog.tabs.widget(3)
    section.delete_account(section.accounts[0])
    section.provider.setCurrentIndex(section.provider.findData("openai"))
    section.label_edit.setText("home")
    section.key_edit.setText(FAKE_KEY)
    section.on_store_clicked()
    assert "Usage polled by openai:work" in section.status.text()
    assert "keys delete openai --label work --drop-usage" in section.status.text()


def test_plans_tab_round_trip(qtbot, settings_dialog, ledger: Database) -> None:
    write_events(ledger, known_events())
    dialog = settings_dialog()
    section = dialog.tabs.widget(4)
    assert isinstance(section, PlansSection)
    assert dialog.tabs.tabText(4) == "Plans"
    assert table_rows(section) == []
    assert {"claude-code", "codex"} <= set(section.sources.stringList())

    section.name_edit.setText("Claude Max")
    section.fee_edit.setText("two hundred")
    section.covers_edit.setText("claude-code")
    section.first_edit.setText("2026-13")
    section.on_set_clicked()
    assert "Fix the marked fields" in section.status.text()
    assert "d64541" in section.fee_edit.styleSheet()
    assert "d64541" in section.first_edit.styleSheet()
    assert list_plans(ledger) == []

    section.fee_edit.setText("200")
    section.first_edit.setText("2026-01")
    section.on_set_clicked()
    [plan] = list_plans(ledger)
    assert (plan.name, plan.monthly_fee, plan.covers, plan.first_month) == (
        "Claude Max",
        Decimal("200.00"),
        ("claude-code",),
        "2026-01",
    )
    # January's claude-code usage at API prices: r1 $1 + r2 $2 + r7 $1 (r4 is unpriced)
    assert table_rows(section) == [["Claude Max", "$200.00", "claude-code", "2026-01", "ongoing", "$4.00", "0.02×"]]

    section.table.selectRow(0)
    assert section.fee_edit.text() == "200.00"
    section.fee_edit.setText("100")
    section.on_set_clicked()
    assert list_plans(ledger)[0].monthly_fee == Decimal("100.00")
    assert table_rows(section)[0][1] == "$100.00"

    section.covers_edit.setText("claude-code")
    section.name_edit.setText("Other plan")
    section.on_set_clicked()  # claude-code is already covered in those months
    assert "already covers claude-code" in section.status.text()
    assert len(list_plans(ledger)) == 1

    section.table.selectRow(0)
    section.on_delete_clicked()
    assert list_plans(ledger) == []
    assert table_rows(section) == []


def test_price_panel_shows_the_rows_of_tokenworth_price(qtbot, make_controller, cli, tmp_path: Path) -> None:
    controller = make_controller(Settings())
    panel = PricePanel(controller)
    qtbot.addWidget(panel)
    text = "Summarise the attached quarterly report in five bullet points for the board.\n" * 40
    panel.text.setPlainText(text)
    panel.run_pricing()
    rows = panel.table_cells()
    prompt = tmp_path / "prompt.txt"
    prompt.write_text(text)
    result = cli("price", str(prompt), "--json")
    assert result.code == 0, result.err
    expected = json.loads(result.out)["rows"]
    assert [row[0] for row in rows] == [row["model"] for row in expected]
    assert [row[2] for row in rows] == [f"{row['input_tokens']:,}" for row in expected]
    assert [row[3] for row in rows] == [f"{row['output_tokens']:,}" for row in expected]
    assert [row[4] for row in rows] == [
        format_usd(None if row["cost_usd"] is None else Decimal(row["cost_usd"]), 6) for row in expected
    ]
    costs = [Decimal(row[4].strip("$").replace(",", "")) for row in rows if row[4] != "unpriced"]
    assert costs == sorted(costs)  # cheapest first
    assert "Assumed: output = 0.25 x input tokens (the default)" in panel.notes.text()

    panel.output_edit.setText("lots")
    panel.run_pricing()
    assert "d64541" in panel.output_edit.styleSheet()
    assert panel.table_cells() == rows  # the last good table stays
    panel.output_edit.setText("800")
    panel.run_pricing()
    assert {row[3] for row in panel.table_cells()} == {"800"}


def test_the_dashboard_has_the_price_panel(qtbot, paths, ledger) -> None:
    from tokenworth.ui.shell import TokenworthApp
    from tokenworth.ui.workers import InlineRunner

    app = TokenworthApp(
        paths=paths, db=ledger, settings=Settings(), hooks=default_hooks(), runner=InlineRunner(), tray_available=False
    )
    try:
        tabs = app.dashboard.tables
        titles = [tabs.tabText(i) for i in range(tabs.count())]
        assert titles == ["Models", "Projects", "Tasks", "Suggestions", "Price a prompt"]
        assert isinstance(tabs.widget(4), PricePanel)
    finally:
        shut_down(app)


def test_an_unusable_keyring_is_announced_once(
    ledger: Database, memory_keyring: MemoryKeyring, fake_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tokenworth.core.secrets import SecretStore
    from tokenworth.ui import provider_poll

    monkeypatch.setattr(provider_poll, "_keyring_problem_told", False)

    store_key(ledger, SecretStore(), "openai", "work", FAKE_KEY, env=fake_env, check=False)
    locked = SecretStore(fail.Keyring())
    [notice] = poll_providers(ledger, secrets=locked, env=fake_env)
    assert notice.title == "Provider keys cannot be read"
    assert "No usable keyring" in notice.message
    assert poll_providers(ledger, secrets=locked, env=fake_env) == []


def test_a_late_answer_for_a_deleted_widget_is_dropped(qtbot) -> None:
    import shiboken6
    from PySide6.QtWidgets import QWidget

    from tokenworth.ui.workers import if_alive

    answers: list[object] = []
    alive, gone = QWidget(), QWidget()
    qtbot.addWidget(alive)
    if_alive(alive, lambda result, _error: answers.append(result))("kept", None)
    late = if_alive(gone, lambda result, _error: answers.append(result))
    shiboken6.delete(gone)  # a closed Settings dialog (and its Keys tab) while a key check runs
    late("dropped", None)
    assert answers == ["kept"]
