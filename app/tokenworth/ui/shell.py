"""The running app's parts wired together: controller, dashboard, tray (or none), settings."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from tokenworth.core.config import AppPaths
from tokenworth.core.db import Database
from tokenworth.core.periods import last_month, month_period
from tokenworth.core.settings import Settings
from tokenworth.services.importing import ImportSummary
from tokenworth.ui.controller import AppController, Runner
from tokenworth.ui.hooks import AppHooks, Notice
from tokenworth.ui.scheduler import Scheduler
from tokenworth.ui.settings_dialog import SettingsDialog
from tokenworth.ui.theme import apply_theme
from tokenworth.ui.tray import TrayController
from tokenworth.ui.workers import TaskRunner

if TYPE_CHECKING:
    from tokenworth.services.overview import SpendOverview
    from tokenworth.ui.dashboard import DashboardWindow

log = logging.getLogger(__name__)

ERROR_MESSAGE_GAP_S = 60.0
"""After telling the user about an error, the same error within this time is only logged: a fault
in a timer's slot would otherwise fill the screen with messages."""


class TokenworthApp:
    """Everything one running app owns; built without running an event loop (tests use this)."""

    def __init__(
        self,
        *,
        paths: AppPaths,
        db: Database,
        settings: Settings,
        hooks: AppHooks | None = None,
        runner: Runner | None = None,
        scheduler: Scheduler | None = None,
        tray_available: bool | None = None,
        tray_icon: QSystemTrayIcon | None = None,
        env: Mapping[str, str] | None = None,
        first_import_in_child: bool = False,
    ) -> None:
        self.started_at = time.perf_counter()
        self.paths = paths
        self.db = db
        self.runner = runner if runner is not None else TaskRunner()
        self.scheduler = scheduler if scheduler is not None else Scheduler()
        self.controller = AppController(
            paths=paths,
            db=db,
            settings=settings,
            runner=self.runner,
            scheduler=self.scheduler,
            hooks=hooks,
            env=env,
            first_import_in_child=first_import_in_child,
        )
        apply_theme(settings.theme)
        self.settings_dialog: SettingsDialog | None = None
        self._error_box: QMessageBox | None = None
        self._errors_shown: dict[str, float] = {}
        self._dashboard: DashboardWindow | None = None
        self.controller.notice.connect(self.on_controller_notice)
        self.controller.settings_changed.connect(lambda s: apply_theme(s.theme))
        self.controller.first_import_done.connect(self.on_controller_first_import_done)
        self.has_tray = QSystemTrayIcon.isSystemTrayAvailable() if tray_available is None else tray_available
        self.tray: TrayController | None = None
        if self.has_tray:
            self.tray = TrayController(
                self.controller,
                open_dashboard=self.show_dashboard,
                open_settings=self.open_settings,
                quit_app=self.quit,
                icon=tray_icon,
            )

    @property
    def dashboard(self) -> DashboardWindow:
        """The dashboard, built the first time it is needed (charts load only then)."""
        if self._dashboard is None:
            from tokenworth.ui.dashboard import DashboardWindow
            from tokenworth.ui.price_panel import PricePanel
            from tokenworth.ui.suggestions_panel import SuggestionsPanel

            window = DashboardWindow(
                actions=self._dashboard_actions(), today=self.controller.today(), colors=self.controller.model_colors
            )
            window.add_panel(SuggestionsPanel(self.controller), "Suggestions")
            window.add_panel(PricePanel(self.controller), "Price a prompt")
            window.query_changed.connect(self.controller.set_query)
            self.controller.overview_changed.connect(window.show_overview)
            self.controller.status_changed.connect(window.show_status)
            if self.tray is None:
                # No tray on this desktop: the dashboard is the app; closing it quits.
                window.quit_on_close = True
                window.closed.connect(self.quit)
            if self.controller.overview is not None:
                window.set_period(self.controller.query.period)
                window.show_overview(self.controller.overview)
            if self.controller.status:
                window.show_status(self.controller.status)
            self._dashboard = window
        return self._dashboard

    @property
    def dashboard_built(self) -> bool:
        return self._dashboard is not None

    def _dashboard_actions(self) -> list[QAction]:
        hooks = self.controller.hooks
        actions: list[QAction] = []

        def add(text: str, slot: Callable[[], None] | None, keys: QKeySequence, tip: str = "") -> None:
            action = QAction(text)
            action.setShortcut(keys)  # the toolbar's buttons take no keyboard focus: keys reach them
            action.setToolTip(f"{text.rstrip('…')} ({keys.toString(QKeySequence.SequenceFormat.NativeText)})")
            if slot is None:
                action.setEnabled(False)
                action.setToolTip(tip or "Arrives in a later version.")
            else:
                action.triggered.connect(lambda _checked=False: slot())
            actions.append(action)

        def hook_slot(hook: Any) -> Callable[[], None] | None:
            return None if hook is None else (lambda: hook(self.controller))

        add("Log task value…", hook_slot(hooks.log_task_value), QKeySequence("Ctrl+L"))
        add("Export this month…", hook_slot(hooks.export_month), QKeySequence("Ctrl+E"))
        add("Refresh now", self.controller.refresh_now, QKeySequence("F5"))
        add("Settings…", self.open_settings, QKeySequence("Ctrl+,"))
        add("Quit", self.quit, QKeySequence("Ctrl+Q"))
        self._actions = actions  # QActions without a parent live as long as we keep them
        return actions

    # lifecycle ----------------------------------------------------------------------------------

    def start(self, *, show_dashboard: bool = False) -> None:
        if self.tray is not None:
            self.tray.show()
            log.info(
                "tray menu ready %.2f s after the app's parts were built",
                time.perf_counter() - self.started_at,
            )
        if self.tray is None or show_dashboard:
            self.dashboard.bring_forward()
        self.controller.overview_changed.connect(self._log_first_numbers)
        self.controller.start()

    def _log_first_numbers(self, _overview: Any) -> None:
        self.controller.overview_changed.disconnect(self._log_first_numbers)
        log.info("ready: first numbers shown %.2f s after start", time.perf_counter() - self.started_at)

    def shutdown(self) -> None:
        if self.tray is not None:  # gone at once: the work in hand may take a moment to end
            self.tray.hide()
        self.controller.shutdown()
        if self._dashboard is not None:
            self._dashboard.quit_on_close = False

    def quit(self) -> None:
        # As a signal's quit is: a log that just stops reads as a crash.
        log.info("quitting: Quit chosen (or, with no tray, the dashboard closed)")
        self.end_event_loop()

    def end_event_loop(self) -> None:
        QApplication.quit()

    # user-facing reactions ----------------------------------------------------------------------

    def show_dashboard(self) -> None:
        self.dashboard.bring_forward()

    def open_settings(self) -> None:
        if self.settings_dialog is not None and self.settings_dialog.isVisible():
            self.settings_dialog.raise_()
            self.settings_dialog.activateWindow()
            return
        parent = self._dashboard if self._dashboard is not None and self._dashboard.isVisible() else None
        self.settings_dialog = SettingsDialog(self.controller, parent)
        self.settings_dialog.open()

    def on_controller_notice(self, notice: Notice) -> None:
        log.info("notice (%s): %s: %s", notice.kind, notice.title, notice.message)
        if self.tray is None:
            self.dashboard.show_status(f"{notice.title}: {notice.message}")

    def on_controller_first_import_done(self, summary: ImportSummary) -> None:
        """A new user sees their real spend straight away, without typing a key."""
        if summary.records_after:  # the next numbers tell whether this month has any of it
            self.controller.overview_changed.connect(self._show_where_the_usage_is)
        if summary.records_after and self.tray is not None:
            self.controller.notice.emit(
                Notice(
                    "import",
                    "Tokenworth is in your tray",
                    f"Found {summary.records_after:,} usage records in your agent logs. "
                    "The icon's colour shows your budget pace.",
                )
            )
        self.show_dashboard()

    def _show_where_the_usage_is(self, overview: SpendOverview) -> None:
        """After the first import: if this month holds none of the usage found (a new user early
        in a month, or one whose last agent work was weeks ago), show the month of the newest
        usage, and say so, rather than $0.00 on every card."""
        latest = overview.latest_usage
        if latest is None:
            return  # numbers read before the import ended: the next ones hold its records
        self.controller.overview_changed.disconnect(self._show_where_the_usage_is)
        period = overview.query.period
        if period.kind != "this-month" or overview.period_cost or latest >= period.start:
            return
        previous = last_month(overview.today)  # shown as "Last month" in the period control
        shown = previous if latest >= previous.start else month_period(latest.year, latest.month)
        self.dashboard.choose_period(shown)
        self.controller.set_status(
            f"No usage yet this month: showing {shown.label}, the month of your newest usage ({latest:%d %b %Y})."
        )

    def report_unexpected(self, text: str) -> None:
        """Tell the user an error was logged and the app goes on (the crash hook calls this on the
        main thread, after the traceback is in the log). The same error again soon is only logged."""
        now = time.monotonic()
        last = self._errors_shown.get(text)
        if last is not None and now - last < ERROR_MESSAGE_GAP_S:
            return
        self._errors_shown[text] = now
        from tokenworth.core.logsetup import log_file_of

        where = log_file_of() or self.paths.log_file
        message = f"Tokenworth hit an error and logged it to {where}; it keeps running.\n{text}"
        if self.tray is not None and self.tray.icon.isVisible():
            self.tray.show_notice(Notice("error", "Tokenworth hit an error", message))
            return
        if self._error_box is not None and self._error_box.isVisible():
            self._error_box.setText(f"{self._error_box.text()}\n{text}")  # one box lists them all
            return
        self._error_box = QMessageBox(QMessageBox.Icon.Warning, "Tokenworth", message)
        self._error_box.setModal(False)
        self._error_box.show()
