"""The app's brain on the main thread: runs imports and refreshes in workers, holds the latest
numbers, and tells the tray and dashboard by signal. Widgets never query the database."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from tokenworth.core.app_state import AppState, load_state, save_state, state_file
from tokenworth.core.budget import due_alerts
from tokenworth.core.config import AppPaths
from tokenworth.core.db import Database, ledger_error_text
from tokenworth.core.memory import release_freed_memory
from tokenworth.core.periods import this_month
from tokenworth.core.settings import Settings, save_settings
from tokenworth.core.timeutil import resolve_zone
from tokenworth.services.importing import ImportSummary
from tokenworth.services.ledger_changes import LedgerChanges
from tokenworth.services.local_sync import WatchPlan, import_all, log_roots, watch_plan
from tokenworth.services.overview import OverviewQuery, SpendOverview, build_overview
from tokenworth.ui.hooks import ActiveTask, AppHooks, Notice
from tokenworth.ui.scheduler import Scheduler
from tokenworth.ui.theme import ColorAssigner
from tokenworth.ui.workers import Lane

RELEASE_AFTER_BYTES = 16 * 1024 * 1024
"""After an import that read this much, freed memory is handed back to the system."""

log = logging.getLogger(__name__)

LEDGER_CHECK_MS = 5_000
"""How often the app asks whether another process changed the ledger (a cheap SQLite pragma)."""

REFRESHING = "Refreshing…"
"""The status while "Refresh now" runs; replaced by the time it ended, or by what went wrong."""


def _size(count: int) -> str:
    return f"{count / 1e6:,.1f} MB" if count >= 100_000 else f"{count / 1e3:,.0f} kB"


class Runner(Protocol):
    def submit(self, fn: Any, on_done: Any = None, *, lane: Lane = Lane.DB, on_progress: Any = None) -> None: ...

    def wait(self, timeout_ms: int = 30_000) -> bool: ...


class AppController(QObject):
    """Owns settings, state, the latest overview, and the order in which background work runs."""

    overview_changed = Signal(object)
    """A new `SpendOverview` (charts, tables, tray)."""
    status_changed = Signal(str)
    """One line for the status bar and the tray tooltip (import progress, errors)."""
    notice = Signal(object)
    """A `Notice` to show once."""
    settings_changed = Signal(object)
    first_import_done = Signal(object)
    """The very first import finished (an `ImportSummary`): show the user what was found."""

    def __init__(
        self,
        *,
        paths: AppPaths,
        db: Database,
        settings: Settings,
        runner: Runner,
        scheduler: Scheduler,
        hooks: AppHooks | None = None,
        env: Mapping[str, str] | None = None,
        first_import_in_child: bool = False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.first_import_in_child = first_import_in_child
        """Run the first import (the whole log history) in a child `tokenworth import` process:
        parse workers there, and its peak memory leaves with it (`services.import_child`)."""
        self.paths = paths
        self.db = db
        self.settings = settings
        self.runner = runner
        self.scheduler = scheduler
        self.hooks = hooks or AppHooks()
        self.env = dict(os.environ if env is None else env)
        self.state: AppState = load_state(state_file(paths.home))
        self.model_colors = ColorAssigner(self.state.series_colors, on_assign=self._remember_colors)
        """Chart colours by model name, kept in the state file so a model keeps its colour."""
        self.zone: tzinfo = self._zone_of(settings)
        self.scheduler.zone = self.zone
        self.query = OverviewQuery(this_month(self.today()))
        self.overview: SpendOverview | None = None
        self.active_task: ActiveTask | None = None
        self.status = ""
        self.last_import: ImportSummary | None = None
        self._importing = False
        self._import_failing = False
        """The last import failed (and was told): the next failures are not told again until one works."""
        self._import_again = False
        self._refreshing = False
        self._refresh_again = False
        self._polling = False
        self._planning = False
        self._plan_again = False
        self._roots_missing: list[Path] = []
        """The log folders that did not exist (yet) at the last watch plan."""
        self._ledger_changes = LedgerChanges(db.url)
        self._checking_ledger = False
        self._ledger_timer = QTimer(self)
        self._ledger_timer.setInterval(LEDGER_CHECK_MS)
        self._ledger_timer.timeout.connect(self._check_ledger)
        self._stopped = False
        self.stopping = threading.Event()
        """Set when the app shuts down: a long job in a worker (an import) ends early on it."""
        scheduler.files_changed.connect(self.on_scheduler_files_changed)
        scheduler.roots_appeared.connect(self.on_scheduler_roots_appeared)
        scheduler.poll_due.connect(self.on_scheduler_poll_due)
        scheduler.day_changed.connect(self.on_scheduler_day_changed)

    # lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        """First import (with progress on a first run), then watch the log folders."""
        self.scheduler.start(self.settings.poll_interval_s)
        if not self.state.first_import_done:
            self._set_status("First run: looking for Claude Code, Codex and Gemini CLI logs…")
        self.refresh()
        self.import_logs()
        self.update_watches()
        self._ledger_timer.start()

    def shutdown(self) -> None:
        self._stopped = True
        self._ledger_timer.stop()
        self.stopping.set()  # an import under way commits the file it is on and ends
        polling = sys.modules.get("tokenworth.services.polling")  # loaded only if a poll ran
        if polling is not None:
            polling.stop_polling()  # a poll waiting out a Retry-After, or on a slow reply, ends
        self.scheduler.stop()
        self.runner.wait()
        self._ledger_changes.close()

    def today(self) -> date:
        """Today in the user's zone, by the scheduler's (replaceable) clock."""
        return self.scheduler.clock().astimezone(self.zone).date()

    @staticmethod
    def _zone_of(settings: Settings) -> tzinfo:
        try:
            return resolve_zone(settings.time_zone)
        except ValueError:
            return resolve_zone(None)

    # changes made elsewhere ---------------------------------------------------------------------

    def _check_ledger(self) -> None:
        """Refresh when the ledger changed under the app (a task logged or a price set from the
        command line): the dashboard and an export made from it show the same figures."""
        if self._stopped or self._checking_ledger or self._importing:
            return  # an import refreshes when it ends; the check after it sees its commits once
        self._checking_ledger = True
        self.runner.submit(self._ledger_changes.changed, self._on_ledger_checked, lane=Lane.DB)

    def _on_ledger_checked(self, changed: bool | None, error: BaseException | None) -> None:
        self._checking_ledger = False
        if error is not None:
            log.warning("cannot tell whether the ledger changed: %s", error)
        elif changed:
            self.refresh()

    # importing ----------------------------------------------------------------------------------

    def import_logs(self) -> None:
        """Incremental import in the DB lane; a request during an import runs once after it."""
        if self._stopped:
            return
        if self._importing:
            self._import_again = True
            return
        self._importing = True
        first = not self.state.first_import_done
        in_child = first and self.first_import_in_child
        job = partial(
            self._import_job,
            self.db,
            tuple(self.settings.log_folders),
            self.env,
            in_child=in_child,
            stop=self.stopping,
            changes=self._ledger_changes,
        )
        self.runner.submit(
            job,
            partial(self._on_import_done, first),
            lane=Lane.DB,
            on_progress=self._on_import_progress if first else None,
        )

    @staticmethod
    def _import_job(
        db: Database,
        folders: tuple[str, ...],
        env: dict[str, str],
        progress: Any = None,
        *,
        in_child: bool = False,
        stop: threading.Event | None = None,
        changes: LedgerChanges | None = None,
    ) -> ImportSummary:
        sink = None if progress is None else (lambda done, total: progress((done, total)))
        summary = import_all(db, extra_folders=folders, env=env, progress=sink, in_child=in_child, stop=stop)
        if changes is not None and not summary.records_added:
            changes.changed()  # only its place in each file was written: nothing to show again
        if summary.bytes_read >= RELEASE_AFTER_BYTES:
            release_freed_memory()  # a big first import would otherwise keep the app at its peak
        return summary

    def _on_import_progress(self, value: Any) -> None:
        done, total = value
        if total:
            percent = done * 100 // total
            self._set_status(f"Importing your agent logs… {percent}% ({_size(done)} of {_size(total)})")

    def _on_import_done(self, first: bool, summary: ImportSummary | None, error: BaseException | None) -> None:
        self._importing = False
        if error is not None:
            log.error("import failed", exc_info=error)
            problem = ledger_error_text(error, self.db.url)
            self._set_status(f"Import failed: {problem}")
            if not self._import_failing:  # said once; a locked or full disk fails every few seconds
                self.notice.emit(Notice("error", "Could not import agent logs", problem))
            self._import_failing = True
        elif summary is not None:
            if self._import_failing:
                log.info("imports work again")
            self._import_failing = False
            self.last_import = summary
            self._after_import(first, summary)
            self._auto_export_if_due()
        if self._import_again and not self._stopped:
            self._import_again = False
            self.import_logs()
        # A log folder missing at the last plan may exist now (an agent's first run creates it;
        # "Refresh now" imported it): plan again. Folders and files appearing under a watched
        # folder are added by the scheduler as they come, so no walk is needed after other imports.
        if any(root.is_dir() for root in self._roots_missing):  # a few stats, not a walk
            self.update_watches()
        self._say_refreshed()

    def _after_import(self, first: bool, summary: ImportSummary) -> None:
        log.info(
            "import: %d new records from %d files (%d unchanged) in %.2f s",
            summary.records_added,
            summary.files_read,
            summary.files_unchanged,
            summary.seconds,
        )
        new_unpriced = set(summary.unpriced_models) - set(self.state.unpriced_notified)
        if new_unpriced:
            names = ", ".join(sorted(new_unpriced))
            self.notice.emit(
                Notice(
                    "unpriced",
                    "New models without a price",
                    f"{names}: their cost is unknown (not $0). Set a price in Settings › Prices.",
                )
            )
            self._save_state(self.state.with_unpriced(new_unpriced))
        if first and summary.stopped:
            return  # quitting mid-way: the next start carries on with the first import
        if first:
            self._save_state(replace(self.state, first_import_done=True))
            if summary.records_after:
                records, files = summary.records_after, summary.files_found
                self._set_status(f"Found {records:,} usage records in {files:,} agent log files.")
            else:
                self._set_status(
                    "No agent logs found yet. Usage appears here as soon as Claude Code, Codex or "
                    "Gemini CLI writes some (or add a folder in Settings)."
                )
            self.first_import_done.emit(summary)
        elif summary.records_added:
            self._set_status(f"{summary.records_added:,} new records imported.")
        if first or summary.records_added or self.overview is None:
            self.refresh()

    # refreshing ---------------------------------------------------------------------------------

    def set_query(self, query: OverviewQuery) -> None:
        self.query = query
        self.refresh()

    def refresh(self) -> None:
        """Recompute the overview in the DB lane; coalesces requests made while one runs."""
        if self._stopped:
            return
        if self._refreshing:
            self._refresh_again = True
            return
        self._follow_today()
        self._refreshing = True
        job = partial(
            self._overview_job,
            self.db,
            self.query,
            self.zone,
            self.scheduler.clock(),
            self.settings.monthly_budget,
            self.hooks,
            self._ledger_changes,
        )
        self.runner.submit(job, self._on_overview_done, lane=Lane.DB)

    @staticmethod
    def _overview_job(
        db: Database,
        query: OverviewQuery,
        zone: tzinfo,
        now: datetime,
        budget: Decimal | None,
        hooks: AppHooks,
        changes: LedgerChanges,
    ) -> tuple[SpendOverview, ActiveTask | None]:
        """One unit of work in the DB lane: the overview, plus the active task when hooked. What
        was committed before it reads is in it: the check for changes made elsewhere starts again
        when it ends (so the app's own writes, its imports' and the attribution it brings up to
        date while reading, set off no second refresh)."""
        overview = build_overview(db, query, zone=zone, now=now, budget=budget, value_source=hooks.value_source)
        active = hooks.active_task(db) if hooks.active_task is not None else None
        changes.changed()
        return overview, active

    def _on_overview_done(self, result: Any, error: BaseException | None) -> None:
        self._refreshing = False
        if error is not None:
            log.error("refresh failed", exc_info=error)
            self._set_status(f"Could not read the ledger: {ledger_error_text(error, self.db.url)}")
        elif result is not None:
            self.overview, self.active_task = result
            self.overview_changed.emit(self.overview)
            self._check_budget_alerts(self.overview)
            self._auto_export_if_due()
        if self._refresh_again and not self._stopped:
            self._refresh_again = False
            self.refresh()
        self._say_refreshed()

    def _say_refreshed(self) -> None:
        """Replace "Refreshing…" once the import, poll and refresh it started have all ended (an
        import that found nothing new refreshes nothing, so any of them may end last)."""
        if self.status == REFRESHING and not (self._importing or self._polling or self._refreshing):
            self._set_status(f"Up to date at {self.scheduler.clock().astimezone(self.zone):%H:%M}.")

    def _check_budget_alerts(self, overview: SpendOverview) -> None:
        if not self.settings.notify_budget:
            return
        alerts = due_alerts(overview.month, self.settings.alert_thresholds_pct, self.state.alerts_sent)
        if not alerts:
            return
        keys: set[str] = set()
        for alert in alerts:
            keys.update(alert.keys)
            self.notice.emit(Notice("budget", alert.title, alert.message))
        self._save_state(self.state.with_alerts(keys))

    def _auto_export_if_due(self) -> None:
        """Export last month once it has ended (at most one check a day, see ui.export_action);
        only after this session's first import, so the month's last log lines are in."""
        if not self.settings.auto_export or self.last_import is None or self._stopped:
            return
        from tokenworth.ui.export_action import auto_export_if_due

        auto_export_if_due(self)

    # polling and manual refresh -----------------------------------------------------------------

    def refresh_now(self) -> None:
        """ "Refresh now": import local logs and poll providers (when that hook exists)."""
        self._set_status(REFRESHING)
        self.import_logs()
        self.poll_providers()
        self.refresh()

    def poll_providers(self) -> None:
        hook = self.hooks.poll_providers
        if hook is None or self._polling or self._stopped:
            return
        self._polling = True
        self.runner.submit(partial(hook, self.db), self._on_poll_done, lane=Lane.NET)

    def _on_poll_done(self, notices: Any, error: BaseException | None) -> None:
        self._polling = False
        if error is not None:
            log.error("provider poll failed", exc_info=error)
            self.notice.emit(Notice("error", "Provider poll failed", str(error)))
        for item in notices or ():
            self.notice.emit(item)
        self.refresh()

    def update_watches(self) -> None:
        """(Re)compute which folders to watch, off the main thread (walking trees takes time);
        a request while one is computed runs once after it (plans apply in order)."""
        if self._stopped:
            return
        if self._planning:
            self._plan_again = True
            return
        self._planning = True
        roots = log_roots(self.env, self.settings.log_folders)
        home = Path(self.env.get("HOME") or Path.home())
        self.runner.submit(partial(watch_plan, roots, home=home), self._on_watch_plan, lane=Lane.NET)

    def _on_watch_plan(self, plan: WatchPlan | None, error: BaseException | None) -> None:
        self._planning = False
        if error is not None:
            log.warning("cannot plan which log folders to watch: %s", error)
        elif plan is not None and not self._stopped and self._apply_plan(plan):
            # Newly watched folders and files: lines written there before the watch began
            # raised no event, so import once (coalesced with an import under way).
            self.import_logs()
        if self._plan_again and not self._stopped:
            self._plan_again = False
            self.update_watches()

    def _apply_plan(self, plan: WatchPlan) -> int:
        self._roots_missing = list(plan.missing_roots)
        return self.scheduler.apply_watch_plan(plan)

    @Slot()
    def on_scheduler_files_changed(self) -> None:
        self.import_logs()

    @Slot()
    def on_scheduler_roots_appeared(self) -> None:
        """A log folder missing at the last plan (or a folder on its way) appeared."""
        self.update_watches()

    @Slot()
    def on_scheduler_poll_due(self) -> None:
        self.import_logs()
        self.poll_providers()
        self.update_watches()  # a backstop: whatever the watcher missed (a full watch list, say)

    @Slot()
    def on_scheduler_day_changed(self) -> None:
        self.refresh()

    def _follow_today(self) -> None:
        """ "This month" moves on with the calendar at every refresh, not only at the midnight
        timer: after a suspend or a clock change the timer fires late (it counts elapsed time)."""
        today = self.today()
        if self.query.period.kind == "this-month" and not self.query.period.contains(today):
            self.query = replace(self.query, period=this_month(today))

    # settings and state -------------------------------------------------------------------------

    def apply_settings(self, settings: Settings, *, start_at_login_was: bool | None = None) -> str | None:
        """Save and apply new settings (the dialog validated them). Returns why start at login could
        not be changed (the setting then keeps what is really in place), or None.

        `start_at_login_was` is what the desktop really had when the dialog opened (it may differ
        from the stored setting: the user removed the entry by hand, or used `tokenworth autostart`).
        """
        old = self.settings
        was = old.start_at_login if start_at_login_was is None else start_at_login_was
        problem = None
        # Saved first: a file that cannot be written (OSError, for the dialog to show) changes nothing,
        # not even the login entry.
        save_settings(self.paths.settings_file, settings)
        if settings.start_at_login != was and self.hooks.set_start_at_login is not None:
            problem = self._set_start_at_login(settings.start_at_login)
            if problem is not None:
                settings = settings.with_changes(start_at_login=was)
                try:
                    save_settings(self.paths.settings_file, settings)
                except OSError as exc:  # written a moment ago: the file keeps the switch as asked
                    log.warning("settings: could not record start at login as %s: %s", was, exc)
        self.settings = settings
        self.zone = self._zone_of(settings)
        self.scheduler.set_zone(self.zone)
        today = self.today()  # in the new zone: "this month" may be another month there
        if self.query.period.kind == "this-month" and not self.query.period.contains(today):
            self.query = replace(self.query, period=this_month(today))
        self.scheduler.set_poll_interval(settings.poll_interval_s)
        self.settings_changed.emit(settings)
        if settings.log_folders != old.log_folders:
            self.update_watches()
            self.import_logs()
        self.refresh()
        return problem

    def _set_start_at_login(self, enabled: bool) -> str | None:
        """Apply the start-at-login switch; a refusal (e.g. the user's own entry is in the way)
        comes back as its message."""
        from tokenworth.services.autostart import AutostartError

        assert self.hooks.set_start_at_login is not None
        try:
            self.hooks.set_start_at_login(enabled)
        except AutostartError as exc:
            log.warning("start at login not changed: %s", exc)
            return str(exc)
        return None

    def set_status(self, text: str) -> None:
        """One line for the status bar and the tray tooltip (e.g. an export's progress)."""
        self._set_status(text)

    def _remember_colors(self, colors: dict[str, str]) -> None:
        self._save_state(replace(self.state, series_colors=colors))

    def _save_state(self, state: AppState) -> None:
        self.state = state
        try:
            save_state(state_file(self.paths.home), state)
        except OSError as exc:
            log.warning("cannot save app state: %s", exc)

    def _set_status(self, text: str) -> None:
        self.status = text
        self.status_changed.emit(text)
