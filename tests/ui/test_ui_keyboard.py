"""The dashboard and Settings from the keyboard and to a screen reader: every input has a name,
Tab never gets stuck in a table, the dashboard's actions have keys, coloured text reads."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from task_ledger import known_events, write_events
from tokenworth.core.db import Database
from tokenworth.core.periods import month_period
from tokenworth.core.settings import Settings
from tokenworth.services.overview import OverviewQuery
from tokenworth.ui.dashboard import DashboardWindow
from tokenworth.ui.hooks import default_hooks
from tokenworth.ui.popup import MUTED_TEXT
from tokenworth.ui.price_panel import PricePanel
from tokenworth.ui.settings_dialog import SettingsDialog
from tokenworth.ui.task_actions import task_actions
from tokenworth.ui.theme import ERROR_COLOR, PACE_COLORS, apply_theme, contrast, readable_on

INPUTS = (QLineEdit, QComboBox, QAbstractSpinBox, QAbstractItemView, QPlainTextEdit)


def unnamed_inputs(root: QWidget) -> list[str]:
    """Inputs a screen reader would announce without a name: no accessible name of their own and
    no label whose buddy they are (what Qt names a field by)."""
    labelled = {label.buddy() for label in root.findChildren(QLabel) if label.buddy() is not None}
    found = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, INPUTS) or isinstance(widget, QHeaderView):
            continue
        if isinstance(widget.parent(), (QComboBox, QAbstractSpinBox)) or _in_combo_popup(widget):
            continue  # the inner parts of a combo box or spin box: named with it
        if widget.accessibleName() or widget in labelled:
            continue
        hint = widget.placeholderText() if isinstance(widget, QLineEdit) else ""
        found.append(f"{type(widget).__name__} {widget.objectName()} {hint}".strip())
    return found


def _in_combo_popup(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QComboBox):
            return True
        parent = parent.parentWidget()
    return False


def test_every_settings_field_has_a_name_and_focus_starts_in_the_first(qtbot, make_controller) -> None:
    dialog = SettingsDialog(make_controller(Settings(), hooks=default_hooks()))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert unnamed_inputs(dialog) == []
    assert dialog.budget.edit.accessibleName() == "Monthly budget (USD)"
    assert dialog.focusWidget() is dialog.budget.edit


def test_the_dashboard_names_its_inputs_and_tab_leaves_a_table(qtbot, make_controller, ledger: Database) -> None:
    write_events(ledger, known_events())
    controller = make_controller(Settings())
    window = DashboardWindow(today=controller.today())
    qtbot.addWidget(window)
    controller.overview_changed.connect(window.show_overview)
    controller.set_query(OverviewQuery(month_period(2026, 1)))
    window.show()
    qtbot.waitExposed(window)
    assert unnamed_inputs(window) == []
    assert window.models_model.rowCount() > 1
    window.tables.setCurrentWidget(window.models_table)
    window.models_table.setFocus()
    assert window.focusWidget() is window.models_table
    QTest.keyClick(window.models_table, Qt.Key.Key_Tab)
    assert window.focusWidget() is not window.models_table  # not from cell to cell for good


def test_the_dashboards_actions_answer_their_keys(qtbot, make_app) -> None:
    """The toolbar's buttons take no keyboard focus: their keys are the way in."""
    app = make_app(hooks=default_hooks())
    window = app.dashboard
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    with qtbot.waitSignal(app.controller.overview_changed, timeout=10_000):
        QTest.keyClick(window, Qt.Key.Key_F5)  # Refresh now
    QTest.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)  # Settings…
    qtbot.waitUntil(lambda: app.settings_dialog is not None and app.settings_dialog.isVisible(), timeout=5_000)
    app.settings_dialog.reject()
    keys = [action.shortcut().toString() for action in window.findChildren(QAction) if action.text().endswith("…")]
    assert all(keys), keys  # every action has its key, Log and Export too


def test_coloured_text_reads_on_either_theme(qtbot) -> None:
    """Pace colours, error red and the muted hint were drawn as text at 1.6-3.8:1 on the light
    window (amber "Ahead" at 2:1); as text they now read at 4.5:1 at least, in their own hue."""
    try:
        for theme in ("light", "dark"):
            apply_theme(theme)
            window = QApplication.palette().color(QPalette.ColorRole.Window)
            for color in (*PACE_COLORS.values(), ERROR_COLOR, MUTED_TEXT):
                shown = QColor(readable_on(color))
                assert contrast(shown, window) >= 4.5, (theme, color, shown.name())
                assert abs(shown.hslHue() - QColor(color).hslHue()) <= 3 or QColor(color).hslSaturation() < 40
    finally:
        apply_theme("system")


def test_the_popups_hint_is_muted_yet_readable(qtbot, make_controller) -> None:
    apply_theme("light")
    try:
        controller = make_controller(Settings(), hooks=default_hooks())
        controller.hooks.log_task_value(controller)
        popup = task_actions(controller).popup
        assert popup is not None
        [hint] = [label for label in popup.findChildren(QLabel) if label.text().startswith("Enter saves")]
        hint.ensurePolished()
        group = QPalette.ColorGroup.Active if hint.isEnabled() else QPalette.ColorGroup.Disabled
        text = hint.palette().color(group, QPalette.ColorRole.WindowText)
        assert contrast(text, popup.palette().color(QPalette.ColorRole.Window)) >= 4.5
        popup.close()
    finally:
        apply_theme("system")


def test_settings_keep_save_on_screen_with_a_large_font(qtbot, make_controller) -> None:
    from PySide6.QtGui import QFont

    original = QApplication.font()
    big = QFont(original)
    big.setPointSize(20)
    QApplication.setFont(big)
    try:
        dialog = SettingsDialog(make_controller(Settings(), hooks=default_hooks()))
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        screen = dialog.screen().availableGeometry()
        assert dialog.height() <= screen.height()  # the General tab scrolls instead
        save = dialog.save_button
        assert save.mapTo(dialog, save.rect().bottomRight()).y() <= dialog.height()
    finally:
        QApplication.setFont(original)


def test_the_popup_and_the_price_panel_name_their_inputs(qtbot, make_controller) -> None:
    controller = make_controller(Settings(), hooks=default_hooks())
    controller.hooks.log_task_value(controller)
    popup = task_actions(controller).popup
    assert popup is not None
    assert unnamed_inputs(popup) == []
    popup.close()
    panel = PricePanel(controller)
    qtbot.addWidget(panel)
    assert unnamed_inputs(panel) == []
    panel.text.setFocus()
    QTest.keyClick(panel.text, Qt.Key.Key_Tab)
    assert panel.text.toPlainText() == ""  # Tab moved on instead of typing a tab
