"""The Settings dialog: budget and alerts, refresh, log folders, display, price overrides, and the
places where provider keys and plans plug in. Bad input is marked in its field, never raised."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from tokenworth.core.db import Database
from tokenworth.core.settings import (
    MAX_POLL_INTERVAL_S,
    MIN_POLL_INTERVAL_S,
    Settings,
    SettingsError,
    check_export_folder,
    check_time_zone,
    parse_budget,
    parse_thresholds,
)
from tokenworth.services import prices
from tokenworth.ui.controller import AppController
from tokenworth.ui.theme import INVALID_STYLE, error_text_style
from tokenworth.ui.workers import Lane

PROVIDERS = prices.OVERRIDE_PROVIDERS


def _scrolling(page: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(page)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return area


def name_fields_by_their_labels(root: QWidget) -> None:
    """A form label names its field for screen readers by being its buddy, but the buddy of a
    composite field (`ValidatedField`) is the wrapper: its edit gets the label's name."""
    for label in root.findChildren(QLabel):
        buddy = label.buddy()
        proxy = buddy.focusProxy() if buddy is not None else None
        if proxy is not None and not proxy.accessibleName():
            proxy.setAccessibleName(label.text().replace("&", "").strip())


class ValidatedField(QWidget):
    """A line edit with a parser: wrong text gets a red border and a message under it."""

    validity_changed = Signal(bool)

    def __init__(self, parse: Callable[[str], Any], placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._parse = parse
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(error_text_style())
        self.error.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.error)
        self.setFocusProxy(self.edit)  # its label's Alt key and a click on the form reach the edit
        self.valid = True
        self.value: Any = None
        self.edit.textChanged.connect(self.on_edit_text_changed)

    def set_text(self, text: str) -> None:
        self.edit.setText(text)
        self.on_edit_text_changed(text)

    def on_edit_text_changed(self, text: str) -> None:
        try:
            self.value = self._parse(text)
        except (SettingsError, ValueError) as exc:
            self.valid = False
            self.error.setText(str(exc))
            self.edit.setStyleSheet(f"QLineEdit {{ {INVALID_STYLE} }}")
            self.edit.setToolTip(str(exc))
        else:
            self.valid = True
            self.error.setText("")
            self.edit.setStyleSheet("")
            self.edit.setToolTip("")
        self.error.setVisible(not self.valid)
        self.validity_changed.emit(self.valid)


def _price_or_none(text: str, what: str) -> Decimal | None:
    return prices.parse_price(text, what) if text.strip() else None


class SettingsDialog(QDialog):
    """Edits a copy of the settings; Save applies them through the controller."""

    def __init__(self, controller: AppController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Tokenworth settings")
        self.setMinimumWidth(680)
        self.controller = controller
        self.settings = controller.settings
        self.start_at_login_was = self._start_at_login_now()
        """What the desktop really does at login as the dialog opens (the checkbox starts there)."""
        self.autostart_message: QMessageBox | None = None
        self.save_message: QMessageBox | None = None
        """Shown when the settings file cannot be written (kept for tests)."""
        self.tabs = QTabWidget()
        self.tabs.addTab(_scrolling(self._general_tab()), "General")
        self.tabs.addTab(self._folders_tab(), "Log folders")
        self.tabs.addTab(self._prices_tab(), "Prices")
        self.tabs.addTab(self._keys_tab(), "Keys")
        self.tabs.addTab(self._plans_tab(), "Plans")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.buttons)
        self._load(self.settings)
        self.reload_overrides()
        name_fields_by_their_labels(self)
        self.auto_export_folder.edit.setAccessibleName("Into the folder")
        self.overrides.setAccessibleName("Your prices")
        self.overrides.setTabKeyNavigation(False)
        self.folders.setAccessibleName("Log folders")
        self.budget.setFocus()  # the first field, not the tab strip
        self.fit_to_screen()

    def fit_to_screen(self) -> None:
        """As tall as the General tab needs, but never past the screen's free area: with a large
        system font the tab scrolls and Save stays on screen (it was 930 px tall at 20 pt)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        general = self.tabs.widget(0)
        assert isinstance(general, QScrollArea)
        content = general.widget().sizeHint()
        buttons_and_margins = self.sizeHint().height() - self.tabs.sizeHint().height()
        wanted_width = max(self.sizeHint().width(), content.width() + 40)
        wanted_height = content.height() + self.tabs.tabBar().sizeHint().height() + buttons_and_margins + 12
        if screen is not None:
            area = screen.availableGeometry()
            wanted_width = min(wanted_width, area.width())
            wanted_height = min(wanted_height, area.height() - 40)  # the title bar
        self.resize(wanted_width, wanted_height)

    # tabs ---------------------------------------------------------------------------------------

    def _general_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        budget_box = QGroupBox("Budget and alerts")
        form = QFormLayout(budget_box)
        self.budget = ValidatedField(parse_budget, "e.g. 200 (empty: no budget)")
        self.thresholds = ValidatedField(parse_thresholds, "e.g. 80, 100")
        self.notify = QCheckBox("Notify when spend or forecast crosses one (once a month)")
        form.addRow("Monthly budget (USD)", self.budget)
        form.addRow("Alert at (% of budget)", self.thresholds)
        form.addRow("", self.notify)
        layout.addWidget(budget_box)

        refresh_box = QGroupBox("Refresh")
        refresh_form = QFormLayout(refresh_box)
        self.poll_minutes = QSpinBox()
        self.poll_minutes.setRange(MIN_POLL_INTERVAL_S // 60, MAX_POLL_INTERVAL_S // 60)
        self.poll_minutes.setSuffix(" min")
        refresh_form.addRow("Check for new usage every", self.poll_minutes)
        refresh_form.addRow("", QLabel("Agent logs are also watched: new lines appear within seconds."))
        layout.addWidget(refresh_box)

        display_box = QGroupBox("Display")
        display_form = QFormLayout(display_box)
        self.icon_only = QRadioButton("Icon only (its colour shows the budget pace)")
        self.icon_figure = QRadioButton("Icon with a compact figure")
        group = QButtonGroup(display_box)
        group.addButton(self.icon_only)
        group.addButton(self.icon_figure)
        self.figure = QComboBox()
        self.figure.addItem("Spent this month", "spend")
        self.figure.addItem("Forecast for month end", "forecast")
        self.figure.setAccessibleName("Figure on the tray icon")
        self.icon_figure.toggled.connect(self.figure.setEnabled)
        figure_row = QHBoxLayout()
        figure_row.addWidget(self.icon_figure)
        figure_row.addWidget(self.figure)
        figure_row.addStretch(1)
        self.theme = QComboBox()
        self.theme.addItem("Follow the system", "system")
        self.theme.addItem("Light", "light")
        self.theme.addItem("Dark", "dark")
        self.time_zone = ValidatedField(check_time_zone, "system zone (or e.g. Europe/Berlin)")
        self.start_at_login = QCheckBox("Start Tokenworth when I log in")
        display_form.addRow("Tray icon", self.icon_only)
        display_form.addRow("", figure_row)
        display_form.addRow("Theme", self.theme)
        display_form.addRow("Days and months in", self.time_zone)
        display_form.addRow("", self.start_at_login)
        layout.addWidget(display_box)

        export_box = QGroupBox("Monthly export")
        export_form = QFormLayout(export_box)
        self.auto_export = QCheckBox("Export last month automatically when a new month begins (every format)")
        self.auto_export_folder = ValidatedField(check_export_folder, _default_export_folder())
        choose = QPushButton("Choose…")
        choose.clicked.connect(self.on_choose_export_folder_clicked)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.auto_export_folder, 1)
        folder_row.addWidget(choose, 0, Qt.AlignmentFlag.AlignTop)
        self.auto_export.toggled.connect(self.auto_export_folder.setEnabled)
        self.auto_export.toggled.connect(choose.setEnabled)
        export_form.addRow("", self.auto_export)
        export_form.addRow("Into the folder", folder_row)
        export_form.addRow("", QLabel("Export this month any time from the tray menu: Export this month…"))
        layout.addWidget(export_box)
        layout.addStretch(1)
        for field in (self.budget, self.thresholds, self.time_zone, self.auto_export_folder):
            field.validity_changed.connect(self.on_field_validity_changed)
        return page

    def _folders_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(
            QLabel(
                "Claude Code, Codex and Gemini CLI logs are found in their usual places. "
                "Add other folders here (another machine's copy, a custom CLAUDE_CONFIG_DIR…)."
            )
        )
        layout.itemAt(0).widget().setWordWrap(True)
        self.folders = QListWidget()
        self.folders.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        layout.addWidget(self.folders, 1)
        row = QHBoxLayout()
        add = QPushButton("Add folder…")
        add.clicked.connect(self.on_add_folder_clicked)
        remove = QPushButton("Remove")
        remove.clicked.connect(self.on_remove_folder_clicked)
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        layout.addLayout(row)
        return page

    def _prices_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        note = QLabel(
            "Your own price for a model wins over the price database (USD per million tokens). "
            "New records use it; “Re-price this month” applies it to this month's records."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        self.overrides = QTableWidget(0, 6)
        self.overrides.setHorizontalHeaderLabels(["Provider", "Model", "Input", "Output", "Cache read", "Cache write"])
        self.overrides.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.overrides.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.overrides.verticalHeader().setVisible(False)
        layout.addWidget(self.overrides, 1)
        form = QFormLayout()
        self.price_provider = QComboBox()
        self.price_provider.setEditable(True)
        self.price_provider.addItems(PROVIDERS)
        self.price_model = ValidatedField(lambda t: t.strip() or _raise("model must not be empty"), "model id")
        self.price_input = ValidatedField(lambda t: prices.parse_price(t, "input price"), "e.g. 3")
        self.price_output = ValidatedField(lambda t: prices.parse_price(t, "output price"), "e.g. 15")
        self.price_cache_read = ValidatedField(
            lambda t: _price_or_none(t, "cache read price"), "blank: the input price"
        )
        self.price_cache_write = ValidatedField(
            lambda t: _price_or_none(t, "cache write price"), "blank: the input price"
        )
        form.addRow("Provider", self.price_provider)
        form.addRow("Model", self.price_model)
        form.addRow("Input $/M", self.price_input)
        form.addRow("Output $/M", self.price_output)
        form.addRow("Cache read $/M", self.price_cache_read)
        form.addRow("Cache write $/M", self.price_cache_write)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.add_price = QPushButton("Set price")
        self.add_price.clicked.connect(self.on_add_price_clicked)
        self.delete_price = QPushButton("Delete selected")
        self.delete_price.clicked.connect(self.on_delete_price_clicked)
        self.reprice_month = QPushButton("Re-price this month")
        self.reprice_month.clicked.connect(self.on_reprice_month_clicked)
        row.addWidget(self.add_price)
        row.addWidget(self.delete_price)
        row.addWidget(self.reprice_month)
        row.addStretch(1)
        layout.addLayout(row)
        self.price_status = QLabel("")
        self.price_status.setWordWrap(True)
        layout.addWidget(self.price_status)
        return page

    def _keys_tab(self) -> QWidget:
        """Phase 2: provider keys (set, test, delete) come from the providers feature's hook."""
        hook = self.controller.hooks.keys_section
        if hook is not None:
            return hook(self)
        return _placeholder_page(
            "Provider keys",
            "Usage from the OpenAI, Anthropic and OpenRouter usage APIs needs an admin key, kept only "
            "in your system keyring. This section arrives with provider polling. Local agent logs "
            "need no key.",
        )

    def _plans_tab(self) -> QWidget:
        """Phase 2: subscription plans (flat monthly fees) plug in here."""
        hook = self.controller.hooks.plans_section
        if hook is not None:
            return hook(self)
        return _placeholder_page(
            "Plans",
            "Flat-fee plans (e.g. a Claude Max subscription) will be entered here so TFP can use "
            "what you actually pay. Arrives in a later version.",
        )

    # loading and saving -------------------------------------------------------------------------

    def _load(self, settings: Settings) -> None:
        self.budget.set_text("" if settings.monthly_budget is None else format(settings.monthly_budget, "f"))
        self.thresholds.set_text(", ".join(str(t) for t in settings.alert_thresholds_pct))
        self.notify.setChecked(settings.notify_budget)
        self.poll_minutes.setValue(max(1, settings.poll_interval_s // 60))
        self.folders.clear()
        self.folders.addItems(list(settings.log_folders))
        self.icon_only.setChecked(settings.tray_display == "icon")
        self.icon_figure.setChecked(settings.tray_display == "figure")
        self.figure.setEnabled(settings.tray_display == "figure")
        self.figure.setCurrentIndex(max(0, self.figure.findData(settings.tray_figure)))
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        self.time_zone.set_text(settings.time_zone or "")
        self.start_at_login.setChecked(self.start_at_login_was)
        self.auto_export.setChecked(settings.auto_export)
        self.auto_export_folder.set_text(settings.auto_export_folder or "")
        self.auto_export_folder.setEnabled(settings.auto_export)
        self.on_field_validity_changed(True)

    @property
    def is_valid(self) -> bool:
        return self.budget.valid and self.thresholds.valid and self.time_zone.valid and self.auto_export_folder.valid

    def on_field_validity_changed(self, _valid: bool) -> None:
        self.save_button.setEnabled(self.is_valid)

    def edited_settings(self) -> Settings | None:
        """The settings as edited, or None while any field is invalid."""
        if not self.is_valid:
            return None
        return self.settings.with_changes(
            monthly_budget=self.budget.value,
            alert_thresholds_pct=self.thresholds.value,
            notify_budget=self.notify.isChecked(),
            poll_interval_s=self.poll_minutes.value() * 60,
            log_folders=tuple(self.folders.item(i).text() for i in range(self.folders.count())),
            tray_display="figure" if self.icon_figure.isChecked() else "icon",
            tray_figure=self.figure.currentData(),
            theme=self.theme.currentData(),
            time_zone=self.time_zone.value,
            start_at_login=self.start_at_login.isChecked(),
            auto_export=self.auto_export.isChecked(),
            auto_export_folder=self.auto_export_folder.value,
        )

    def accept(self) -> None:
        settings = self.edited_settings()
        if settings is None:
            return  # the invalid field is already marked; Save is disabled
        try:
            problem = self.controller.apply_settings(settings, start_at_login_was=self.start_at_login_was)
        except OSError as exc:  # the settings file cannot be written: nothing was changed
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                "Settings not saved",
                f"Could not save the settings to {self.controller.paths.settings_file}: "
                f"{exc.strerror or exc}.\n\nNothing was changed.",
                QMessageBox.StandardButton.Ok,
                self,
            )
            self.save_message = box
            box.open()
            return
        self.settings = self.controller.settings
        if problem is not None:
            # Everything else is saved; the switch goes back to what is really in place, and the
            # dialog stays open so the user sees it did.
            self.start_at_login.setChecked(self.start_at_login_was)
            self._show_autostart_problem(problem)
            return
        super().accept()

    # start at login -----------------------------------------------------------------------------

    def _start_at_login_now(self) -> bool:
        """The desktop's real state (the hook reads its autostart entry), else the stored setting."""
        probe = self.controller.hooks.start_at_login_enabled
        if probe is None:
            return self.settings.start_at_login
        try:
            return probe()
        except Exception:  # an unreadable entry: show the stored setting rather than fail to open
            return self.settings.start_at_login

    def _show_autostart_problem(self, problem: str) -> None:
        action = "turned on" if not self.start_at_login_was else "turned off"
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Start at login",
            f"Start at login could not be {action}: {problem}\n\nYour other settings were saved.",
            QMessageBox.StandardButton.Ok,
            self,
        )
        self.autostart_message = box
        box.open()

    # automatic export ---------------------------------------------------------------------------

    def on_choose_export_folder_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export last month into")
        if folder:
            self.auto_export_folder.set_text(folder)

    # folders ------------------------------------------------------------------------------------

    def on_add_folder_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add an agent log folder")
        if folder:
            self.add_folder(folder)

    def add_folder(self, folder: str) -> None:
        existing = {self.folders.item(i).text() for i in range(self.folders.count())}
        if folder not in existing:
            self.folders.addItem(folder)

    def on_remove_folder_clicked(self) -> None:
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))

    # price overrides (database work in the DB lane) ---------------------------------------------

    def reload_overrides(self) -> None:
        self.controller.runner.submit(partial(_list_overrides, self.controller.db), self._on_overrides, lane=Lane.DB)

    def _on_overrides(self, rows: Any, error: BaseException | None) -> None:
        if error is not None:
            self.price_status.setText(f"Could not read price overrides: {error}")
            return
        self.overrides.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.overrides.setItem(r, c, QTableWidgetItem(value or ""))
        self.overrides.resizeColumnsToContents()

    def on_add_price_clicked(self) -> None:
        fields = (
            self.price_model,
            self.price_input,
            self.price_output,
            self.price_cache_read,
            self.price_cache_write,
        )
        for field in fields:
            field.on_edit_text_changed(field.edit.text())
        if not all(field.valid for field in fields):
            self.price_status.setText("Fix the marked fields first.")
            return
        price = prices.OverrideInput(
            provider=self.price_provider.currentText().strip() or "anthropic",
            model=self.price_model.value,
            input_mtok=self.price_input.value,
            output_mtok=self.price_output.value,
            cache_read_mtok=self.price_cache_read.value,
            cache_write_5m_mtok=self.price_cache_write.value,
            cache_write_1h_mtok=self.price_cache_write.value,
        )
        self.controller.runner.submit(
            partial(_set_price, self.controller.db, price),
            partial(self._after_price_change, f"Price for {price.model} saved."),
            lane=Lane.DB,
        )

    def on_delete_price_clicked(self) -> None:
        rows = sorted({index.row() for index in self.overrides.selectedIndexes()})
        for row in rows:
            provider = self.overrides.item(row, 0).text()
            model = self.overrides.item(row, 1).text()
            self.controller.runner.submit(
                partial(prices.delete_override, self.controller.db, provider, model),
                partial(self._after_price_change, f"Price for {model} deleted."),
                lane=Lane.DB,
            )

    def on_reprice_month_clicked(self) -> None:
        from tokenworth.core.timeutil import local_day_start

        start = local_day_start(self.controller.today().replace(day=1), self.controller.zone)
        self.controller.runner.submit(
            partial(prices.reprice, self.controller.db, since=start),
            self._after_reprice,
            lane=Lane.DB,
        )

    def _after_price_change(self, message: str, note: Any, error: BaseException | None) -> None:
        if error is None and isinstance(note, str):
            message += f" Note: {note[0].upper()}{note[1:]}"
        self.price_status.setText(f"Could not change the price: {error}" if error else message)
        self.reload_overrides()

    def _after_reprice(self, summary: Any, error: BaseException | None) -> None:
        if error is not None:
            self.price_status.setText(f"Re-pricing failed: {error}")
            return
        self.price_status.setText(f"Re-priced {summary.records:,} records this month; {summary.changed:,} changed.")
        self.controller.refresh()


def _default_export_folder() -> str:
    """Where automatic exports go unless a folder is chosen (shown as the field's placeholder)."""
    from pathlib import Path

    from tokenworth.core.config import default_export_folder

    folder = default_export_folder()
    try:
        return str(Path("~") / folder.relative_to(Path.home()))
    except ValueError:
        return str(folder)


def _raise(message: str) -> str:
    raise SettingsError(message)


def _set_price(db: Database, price: prices.OverrideInput) -> str | None:
    """Save an override (in the worker); what its blank cache prices mean, to say (or None)."""
    prices.set_override(db, price)
    return prices.cache_defaults_note(price, ("a cache read price", "a cache write price"))


def _list_overrides(db: Database) -> list[tuple[str | None, ...]]:
    """The overrides as the table shows them: a cache price left out is the input price, shown
    as `=input` (as `tokenworth prices list` does), never as an empty cell that reads as "none"."""
    return [
        (
            o.provider,
            o.model,
            o.input_mtok,
            o.output_mtok,
            o.cache_read_mtok or "=input",
            o.cache_write_5m_mtok or "=input",
        )
        for o in prices.list_overrides(db)
    ]


def _placeholder_page(title: str, text: str) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    box = QGroupBox(f"{title} (coming in a later version)")
    inner = QVBoxLayout(box)
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    inner.addWidget(label)
    layout.addWidget(box)
    layout.addStretch(1)
    return page
