"""The one QObject that owns the app's timers and the log-folder watcher.

It decides *when* work is due and says so by signal; the controller decides *what* runs. Times
come from a replaceable clock, so tests can move "now" without waiting.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, Qt, QTimer, Signal, Slot

from tokenworth.core.settings import POLL_INTERVAL_S
from tokenworth.core.timeutil import local_day_start, utc_now
from tokenworth.services.local_sync import MAX_WATCHED_DIRS, MAX_WATCHED_FILES, WatchPlan, first_visit

log = logging.getLogger(__name__)

FILE_DEBOUNCE_MS = 300
"""Bursts of writes (an agent streams many lines) become one import this long after the last."""
LOG_SUFFIXES = (".jsonl", ".json")

Clock = Callable[[], datetime]


class Scheduler(QObject):
    """Timers and the watcher. Signals carry no data; the receiver reads what it needs."""

    files_changed = Signal()
    """Log files changed (debounced): import what is new."""
    roots_appeared = Signal()
    """A missing log folder (or a folder on its way) appeared (debounced): plan the watches again."""
    poll_due = Signal()
    """The poll interval elapsed: import (backstop) and poll providers."""
    day_changed = Signal()
    """Local midnight passed: today's numbers start a new day (maybe a new month)."""

    def __init__(self, *, clock: Clock = utc_now, zone: tzinfo | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.clock = clock
        self.zone = zone
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self.on_watcher_directory_changed)
        self._watcher.fileChanged.connect(self.on_watcher_file_changed)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(FILE_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.files_changed)
        self._replan = QTimer(self)
        self._replan.setSingleShot(True)
        self._replan.setInterval(FILE_DEBOUNCE_MS)
        self._replan.timeout.connect(self.roots_appeared)
        self._waiting: dict[str, list[Path]] = {}
        """Folders watched for missing log roots to appear (the plan's `waiting`)."""
        self._waiting_only: set[str] = set()
        """Those of them watched only for that: their changes never import or widen the watch."""
        self._poll = QTimer(self)
        self._poll.setTimerType(Qt.TimerType.VeryCoarseTimer)
        self._poll.timeout.connect(self.poll_due)
        self._poll.setInterval(POLL_INTERVAL_S * 1000)
        self._midnight = QTimer(self)
        self._midnight.setSingleShot(True)
        self._midnight.setTimerType(Qt.TimerType.CoarseTimer)
        self._midnight.timeout.connect(self.on_midnight_timeout)

    # timers -------------------------------------------------------------------------------------

    def start(self, poll_interval_s: int) -> None:
        self.set_poll_interval(poll_interval_s)
        self._poll.start()
        self._arm_midnight()

    def stop(self) -> None:
        for timer in (self._poll, self._debounce, self._replan, self._midnight):
            timer.stop()
        watched = self._watcher.files() + self._watcher.directories()
        if watched:
            self._watcher.removePaths(watched)
        self._waiting = {}
        self._waiting_only = set()

    def set_poll_interval(self, seconds: int) -> None:
        self._poll.setInterval(max(1, seconds) * 1000)

    @property
    def poll_interval_s(self) -> int:
        return self._poll.interval() // 1000

    def set_zone(self, zone: tzinfo) -> None:
        """Days now change at `zone`'s midnight: the next one is armed again at once (a zone set in
        Settings would otherwise wait for the old zone's midnight)."""
        self.zone = zone
        if self._midnight.isActive():
            self._arm_midnight()

    def _arm_midnight(self) -> None:
        self._midnight.start(self.ms_to_next_midnight())

    def ms_to_next_midnight(self) -> int:
        """Milliseconds from the clock's now to the next local midnight (plus a second)."""
        now = self.clock()
        zone = self.zone or now.astimezone().tzinfo
        assert zone is not None
        today = now.astimezone(zone).date()
        next_start = local_day_start(today + timedelta(days=1), zone)
        return max(1000, int((next_start - now).total_seconds() * 1000) + 1000)

    @Slot()
    def on_midnight_timeout(self) -> None:
        self.day_changed.emit()
        self._arm_midnight()

    # the watcher --------------------------------------------------------------------------------

    def apply_watch_plan(self, plan: WatchPlan) -> int:
        """Watch the plan's folders and files (computed in a worker: walking trees takes time),
        and the folders where its missing roots will appear. Returns how many folders and files
        were not watched before (what was written there meanwhile is not imported yet)."""
        plan_dirs = {str(d) for d in plan.dirs}
        waiting = {str(folder): roots for folder, roots in plan.waiting.items()}
        stale = [d for d in self._waiting_only if d not in waiting and d not in plan_dirs]
        if stale:
            self._watcher.removePaths(stale)
            self._waiting_only.difference_update(stale)
        # Files quieter than all the plan counts as recent give their watch back: kept for good,
        # they filled the watch list within days, and a new session's lines were not seen live.
        # One written since the plan was made (a new session) keeps its watch.
        plan_files = {str(f) for f in plan.files}
        least_recent = min((_modified_ns(f) for f in plan_files), default=0)
        quiet = [f for f in self._watcher.files() if f not in plan_files and _modified_ns(f) < least_recent]
        if quiet:
            self._watcher.removePaths(quiet)
        added = self._add(plan.dirs, plan.files)
        have_dirs = set(self._watcher.directories())
        new_waiting = [folder for folder in waiting if folder not in have_dirs]
        if new_waiting:
            failed = set(self._watcher.addPaths(new_waiting))
            self._waiting_only.update(folder for folder in new_waiting if folder not in failed)
        self._waiting = waiting
        for folder in waiting:  # the way may have grown while the plan was on its way here
            self._check_waiting(folder)
        log.info(
            "watching %d folders and %d log files for new usage%s",
            len(self._watcher.directories()) - len(self._waiting_only),
            len(self._watcher.files()),
            f", and {len(self._waiting_only)} more where missing log folders will appear" if self._waiting_only else "",
        )
        return added

    def watched(self) -> tuple[list[str], list[str]]:
        return self._watcher.directories(), self._watcher.files()

    def _add(self, dirs: Iterable[Path], files: Iterable[Path]) -> int:
        have_dirs = set(self._watcher.directories()) - self._waiting_only
        have_files = set(self._watcher.files())
        new_dirs = [str(d) for d in dirs if str(d) not in have_dirs][: max(0, MAX_WATCHED_DIRS - len(have_dirs))]
        limit = MAX_WATCHED_FILES * 2
        new_files = list(dict.fromkeys(str(f) for f in files if str(f) not in have_files))
        if len(have_files) + len(new_files) > limit:
            # Full: the most recently written files keep (or get) a watch, the quietest give
            # theirs up. A new session is where lines are being written; kept for good, old
            # watches filled the list within days and a new session was not seen live.
            recent = set(sorted(have_files.union(new_files), key=_modified_ns, reverse=True)[:limit])
            quietest = [path for path in have_files if path not in recent]
            if quietest:
                self._watcher.removePaths(quietest)
            new_files = [path for path in new_files if path in recent]
        # A folder watched only for a missing root to appear is in the watcher already; as a log
        # folder now, it counts as added (what was written in it has not been imported live).
        promoted = self._waiting_only.intersection(new_dirs)
        self._waiting_only -= promoted
        to_watch = [path for path in new_dirs + new_files if path not in promoted]
        failed = self._watcher.addPaths(to_watch) if to_watch else []
        return len(new_dirs) + len(new_files) - len(failed)

    @Slot(str)
    def on_watcher_directory_changed(self, path: str) -> None:
        """A folder gained or lost entries: watch its new subfolders and log files, then import.
        A folder watched for a missing root asks for a new plan once the way to it grows."""
        if path in self._waiting:
            self._check_waiting(path)
            if path in self._waiting_only:
                return
        folder = Path(path)
        new_dirs: list[Path] = []
        new_files: list[Path] = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    if entry.is_dir():  # a folder, or one linked in (read by the import too)
                        new_dirs.append(Path(entry.path))
                        new_dirs.extend(_subdirs(Path(entry.path)))
                    elif entry.name.endswith(LOG_SUFFIXES):
                        new_files.append(Path(entry.path))
        except OSError:
            pass
        for sub in new_dirs:
            new_files.extend(p for p in _log_files(sub))
        self._add(new_dirs, new_files)
        self._debounce.start()

    def _check_waiting(self, path: str) -> None:
        """A few stats: has a folder on the way to a missing root appeared (or the watched
        folder gone, so one further up must stand in for it)? Then ask for a new plan."""
        folder = Path(path)
        # is_dir, as the plan decides: a file where a folder should be must not ask for plan after plan
        if not folder.is_dir() or any(_next_step(folder, root).is_dir() for root in self._waiting[path]):
            self._replan.start()

    @Slot(str)
    def on_watcher_file_changed(self, path: str) -> None:
        # A file replaced by rename drops out of the watch: take it back when it exists again.
        if path not in self._watcher.files() and os.path.exists(path):
            self._watcher.addPath(path)
        self._debounce.start()


def _modified_ns(path: str) -> int:
    """When a watched file was last written (0 for one that is gone: it goes first)."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


def _next_step(folder: Path, root: Path) -> Path:
    """The entry of `folder` on the way down to `root` (`folder` is one of its ancestors)."""
    try:
        return folder / root.relative_to(folder).parts[0]
    except (ValueError, IndexError):
        return root


def _subdirs(folder: Path) -> list[Path]:
    found: list[Path] = []
    visited: set[tuple[int, int]] = set()
    try:
        for root, subdirs, _files in os.walk(folder, followlinks=True):  # linked-in folders, as imported
            subdirs[:] = [d for d in subdirs if not d.startswith(".")]
            if not first_visit(root, visited):  # a link back up the tree: no loop
                subdirs[:] = []
                continue
            found.extend(Path(root) / d for d in subdirs)
            if len(found) > 200:
                break
    except OSError:
        pass
    return found


def _log_files(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.name.endswith(LOG_SUFFIXES) and p.is_file()]
    except OSError:
        return []
