"""Keeping the ledger in step with agent logs while the app runs: what to watch, what to import."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tokenworth.core.db import Database
from tokenworth.services.importing import ImportSummary, ProgressCallback, import_local_logs
from tokenworth.sources.local_logs import LOCAL_SOURCES

log = logging.getLogger(__name__)

MAX_WATCHED_DIRS = 2000
MAX_WATCHED_FILES = 400


def log_roots(env: Mapping[str, str] | None = None, extra_folders: Sequence[str] = ()) -> list[Path]:
    """Each agent's default log folders (existing or not) plus the user's extra folders."""
    env = os.environ if env is None else env
    roots: list[Path] = []
    for source in LOCAL_SOURCES.values():
        roots.extend(source.default_dirs(env, None))
    roots.extend(Path(folder).expanduser() for folder in extra_folders)
    return list(dict.fromkeys(roots))


@dataclass
class WatchPlan:
    """Folders (recursively) and recently active files to hand to a file watcher."""

    dirs: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    missing_roots: list[Path] = field(default_factory=list)
    waiting: dict[Path, list[Path]] = field(default_factory=dict)
    """Existing folders to watch for missing roots to appear: nearest existing ancestor -> the
    missing roots below it. A change there means "plan again", not "import"."""


def watch_plan(roots: Sequence[Path], *, recent_files: int = MAX_WATCHED_FILES, home: Path | None = None) -> WatchPlan:
    """Every folder under the roots (capped) and the most recently written log files; for a
    root that does not exist yet, its nearest existing ancestor (see `waiting_folder`).

    A folder watch sees new files and subfolders; a file watch sees appended lines. Older
    files that come back to life are picked up by the periodic import.
    """
    plan = WatchPlan()
    candidates: list[tuple[int, Path]] = []
    for root in roots:
        if not root.is_dir():
            plan.missing_roots.append(root)
            anchor = waiting_folder(root, home)
            if anchor is not None:
                plan.waiting.setdefault(anchor, []).append(Path(os.path.abspath(root)))
            continue
        visited: set[tuple[int, int]] = set()
        for folder, subdirs, names in os.walk(root, followlinks=True):  # linked-in folders, as the import reads
            subdirs[:] = [d for d in subdirs if not d.startswith(".")]
            if not first_visit(folder, visited):  # a link back up the tree: no loop
                subdirs[:] = []
                continue
            if len(plan.dirs) >= MAX_WATCHED_DIRS:
                break
            plan.dirs.append(Path(folder))
            for name in names:
                if name.endswith((".jsonl", ".json")):
                    path = Path(folder) / name
                    try:
                        candidates.append((path.stat().st_mtime_ns, path))
                    except OSError:
                        continue
    candidates.sort(reverse=True)
    plan.files = [path for _mtime, path in candidates[:recent_files]]
    return plan


def first_visit(folder: str, visited: set[tuple[int, int]]) -> bool:
    """Whether a walk that follows links comes to this real folder for the first time."""
    try:
        real = os.stat(folder)
    except OSError:
        return False
    if not real.st_ino:  # a file system without ids has no links either
        return True
    key = (real.st_dev, real.st_ino)
    if key in visited:
        return False
    visited.add(key)
    return True


def waiting_folder(root: Path, home: Path | None = None) -> Path | None:
    """The nearest existing folder above a missing log root, where its creation shows up.

    Bounded: a root inside `home` is never waited for above `home` (and not at all if `home`
    is missing), and the filesystem root (`/`) is never watched.
    """
    root = Path(os.path.abspath(root))
    limit = Path(os.path.abspath(home)) if home is not None else None
    if limit is not None and limit not in root.parents:
        limit = None
    for parent in root.parents:
        if parent == Path(parent.anchor):
            return None
        if parent.is_dir():
            return parent
        if parent == limit:
            return None
    return None


def import_all(
    db: Database,
    *,
    extra_folders: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    in_child: bool = False,
    stop: threading.Event | None = None,
) -> ImportSummary:
    """One incremental import of every agent's default places, then the user's extra folders.

    `in_child` imports the default places in a child process (`services.import_child`: for a
    long-running app's first import); if that fails, this process imports them itself. Once
    `stop` is set (the app quitting), no further file is started and the summary says `stopped`.
    """
    summary = _import_default_places(db, env, progress, in_child, stop)
    folders = [Path(folder).expanduser() for folder in extra_folders if folder.strip()]
    if folders and not summary.stopped:
        more = import_local_logs(db, paths=folders, env=env, stop=stop)
        summary.files_found += more.files_found
        summary.files_read += more.files_read
        summary.files_unchanged += more.files_unchanged
        summary.bytes_read += more.bytes_read
        summary.events_read += more.events_read
        summary.records_after = more.records_after
        summary.records_added += more.records_added
        summary.replays_removed += more.replays_removed
        summary.broken_by_file.update(more.broken_by_file)
        summary.broken_examples.extend(more.broken_examples)
        summary.unpriced_models.update(more.unpriced_models)
        summary.unreadable_files.update(more.unreadable_files)
        summary.missing_dirs.extend(more.missing_dirs)
        summary.searched_dirs.extend(more.searched_dirs)
        summary.seconds += more.seconds
        summary.stopped = more.stopped
    return summary


def _import_default_places(
    db: Database,
    env: Mapping[str, str] | None,
    progress: ProgressCallback | None,
    in_child: bool,
    stop: threading.Event | None,
) -> ImportSummary:
    if in_child:
        from tokenworth.services.import_child import ChildImportError, import_in_child

        try:
            return import_in_child(db.url, env=env, progress=progress, stop=stop)
        except ChildImportError as exc:
            if stop is not None and stop.is_set():  # killed on the way out: nothing more to do now
                log.info("import stopped: %s", exc)
                return ImportSummary(sources=[], stopped=True)
            log.warning("importing in this process instead: %s", exc)
    return import_local_logs(db, env=env, progress=progress, stop=stop)
