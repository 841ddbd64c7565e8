"""The tray icon: its colour is the month's budget pace, its tooltip the numbers, its menu the
everyday actions (rebuilt each time it opens, so it always shows the current state)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from tokenworth.core.budget import BudgetStatus, Pace
from tokenworth.core.money import format_budget, format_cost, format_usd
from tokenworth.core.settings import Settings
from tokenworth.services.overview import SpendOverview
from tokenworth.ui.controller import AppController
from tokenworth.ui.hooks import Notice
from tokenworth.ui.tray_icon import ICON_SIZE_PX, draw_tray_icon, figure_text

__all__ = ["ICON_SIZE_PX", "TrayController", "draw_tray_icon", "figure_text", "tooltip_text"]

NOTICE_SHOW_MS = 10_000


def tooltip_text(month: BudgetStatus | None, tfp: Decimal | None, status: str = "") -> str:
    """Month-to-date spend, budget, forecast for month end, TFP (and what the app is doing)."""
    lines = ["Tokenworth"]
    if month is None:
        lines.append("Reading your usage…")
    else:
        lines[0] += f" · {month.month_start:%B %Y}"
        if month.budget is None:
            lines.append(f"Spent: {format_cost(month.spent, month.complete)} (no budget set)")
        else:
            pct = month.spent_pct or Decimal(0)
            spent = format_cost(month.spent, month.complete)
            lines.append(f"Spent: {spent} of {format_budget(month.budget)} budget ({pct:.0f}%)")
        lines.append(f"Forecast for month end: {format_cost(month.forecast, month.complete)} ({month.pace.label})")
        if not month.complete:
            lines.append("+ part of the usage has no price: its cost is unknown, not $0")
        lines.append(f"TFP: {'—' if tfp is None else f'{tfp:.2f}×'}")
    if status:
        lines.append(status)
    return "\n".join(lines)


class TrayController(QObject):
    """Owns the QSystemTrayIcon and its menu; reacts to the controller's signals."""

    message_shown = Signal(str, str)
    """A notification was shown (title, message)."""

    def __init__(
        self,
        controller: AppController,
        *,
        open_dashboard: Callable[[], None],
        open_settings: Callable[[], None],
        quit_app: Callable[[], None],
        icon: QSystemTrayIcon | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self._open_dashboard = open_dashboard
        self._open_settings = open_settings
        self._quit = quit_app
        self.icon = icon if icon is not None else QSystemTrayIcon()
        self.icon.setParent(self)
        self.menu = QMenu()
        self.menu.aboutToShow.connect(self.on_menu_about_to_show)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self.on_icon_activated)
        controller.overview_changed.connect(self.on_controller_overview_changed)
        controller.status_changed.connect(self.on_controller_status_changed)
        controller.settings_changed.connect(self.on_controller_settings_changed)
        controller.notice.connect(self.show_notice)
        self.waiting: deque[tuple[str, str, QSystemTrayIcon.MessageIcon]] = deque()
        """Balloons due while another shows: a tray shows one at a time, and a second would wipe
        the first unread (a spend alert and a forecast alert come together)."""
        self._balloon = QTimer(self)
        self._balloon.setSingleShot(True)
        self._balloon.timeout.connect(self.on_balloon_timeout)
        self.pace = Pace.NO_BUDGET
        self.figure: str | None = None
        self.rebuild_menu()
        self.update_icon()

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    # icon and tooltip ---------------------------------------------------------------------------

    def update_icon(self) -> None:
        overview = self.controller.overview
        settings: Settings = self.controller.settings
        month = overview.month if overview else None
        self.pace = month.pace if month else Pace.NO_BUDGET
        self.figure = None
        if month is not None and settings.tray_display == "figure":
            self.figure = figure_text(month.forecast if settings.tray_figure == "forecast" else month.spent)
        self.icon.setIcon(QIcon(draw_tray_icon(self.pace, self.figure)))
        tfp = overview.value.month_tfp if overview else None
        self.icon.setToolTip(tooltip_text(month, tfp, self.controller.status))

    @Slot(object)
    def on_controller_overview_changed(self, _overview: SpendOverview) -> None:
        self.update_icon()

    @Slot(str)
    def on_controller_status_changed(self, _text: str) -> None:
        overview = self.controller.overview
        self.icon.setToolTip(
            tooltip_text(
                overview.month if overview else None,
                overview.value.month_tfp if overview else None,
                self.controller.status,
            )
        )

    @Slot(object)
    def on_controller_settings_changed(self, _settings: Settings) -> None:
        self.update_icon()

    # menu ---------------------------------------------------------------------------------------

    @Slot()
    def on_menu_about_to_show(self) -> None:
        self.rebuild_menu()

    def rebuild_menu(self) -> None:
        """Fill the menu from the current state (called each time it opens)."""
        menu = self.menu
        menu.clear()
        hooks = self.controller.hooks
        overview = self.controller.overview
        if overview is not None:
            month = overview.month
            budget = "" if month.budget is None else f" of {format_budget(month.budget)}"
            spent = format_cost(month.spent, month.complete)
            summary = menu.addAction(f"This month: {spent}{budget} · {month.pace.label}")
            summary.setEnabled(False)
            menu.addSeparator()
        task = self.controller.active_task
        if task is not None:
            minutes = int((datetime.now(task.started_at.tzinfo) - task.started_at).total_seconds() // 60)
            cost = "" if task.cost_so_far is None else f", {format_usd(task.cost_so_far)}"
            current = menu.addAction(f"Working on: {task.title} ({minutes} min{cost})")
            current.setEnabled(False)
            self._hook_action("Stop task and log its value…", hooks.stop_task)
        else:
            self._hook_action("Start a task…", hooks.start_task)
        self._hook_action("Log task value…", hooks.log_task_value)
        menu.addSeparator()
        menu.addAction("Open dashboard").triggered.connect(self._open_dashboard)
        menu.addAction("Refresh now").triggered.connect(self.controller.refresh_now)
        self._hook_action("Export this month…", hooks.export_month)
        menu.addSeparator()
        menu.addAction("Settings…").triggered.connect(self._open_settings)
        menu.addAction("Quit Tokenworth").triggered.connect(self._quit)

    def _hook_action(self, text: str, hook: Callable[[AppController], None] | None) -> None:
        action = self.menu.addAction(text)
        if hook is None:
            action.setEnabled(False)
            action.setToolTip("Arrives with the tasks and export features.")
        else:
            action.triggered.connect(lambda _checked=False, h=hook: h(self.controller))

    def action_texts(self) -> list[str]:
        return [action.text() for action in self.menu.actions() if not action.isSeparator()]

    @Slot(QSystemTrayIcon.ActivationReason)
    def on_icon_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            hook = self.controller.hooks.log_task_value
            if hook is not None and reason == QSystemTrayIcon.ActivationReason.Trigger:
                hook(self.controller)
            else:
                self._open_dashboard()

    # notifications ------------------------------------------------------------------------------

    @Slot(object)
    def show_notice(self, notice: Notice) -> None:
        kind = (
            QSystemTrayIcon.MessageIcon.Warning
            if notice.kind in ("budget", "key-rejected", "unpriced", "error")
            else QSystemTrayIcon.MessageIcon.Information
        )
        if self.icon.isVisible() and QSystemTrayIcon.supportsMessages():
            waiting = (notice.title, notice.message, kind)
            if waiting not in self.waiting:  # the same news already waiting its turn: once is enough
                self.waiting.append(waiting)
            if not self._balloon.isActive():
                self.on_balloon_timeout()
        self.message_shown.emit(notice.title, notice.message)

    @Slot()
    def on_balloon_timeout(self) -> None:
        """Show the next waiting balloon, if any, for its full time."""
        if self.waiting:
            title, message, kind = self.waiting.popleft()
            self.icon.showMessage(title, message, kind, NOTICE_SHOW_MS)
            self._balloon.start(NOTICE_SHOW_MS + 500)
