"""Importing local agent logs into the ledger, incrementally.

Each file's identity (device, inode), size, offset and a hash of its head are kept, so the next
run reads only the bytes appended since; a shrunk or replaced file is read again from the start
(the dedupe keys keep that exact). Records and file positions are committed together, so a crash
mid-import loses nothing and double counts nothing. Logs the agent later deletes stay here.

Finding out that nothing changed needs only `stat` calls and one small query: SQLAlchemy is
loaded (in `ledger_writer`) only when there is something to write.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from tokenworth.core.db import Database
from tokenworth.core.dedupe import ConflictPolicy
from tokenworth.sources.files import LogFile, file_identity, path_text
from tokenworth.sources.lines import TORN_LINE
from tokenworth.sources.local_logs import LocalLogSource, resolve_sources, sniff_source
from tokenworth.sources.records import BrokenLine, UsageEvent

if TYPE_CHECKING:
    from tokenworth.core.pricing import PriceBook, RatesLookup
    from tokenworth.services.ledger_writer import LedgerWriter

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes done, bytes to read) as an import goes."""

CLEANUP_PENDING_PREFIX = "replay_cleanup_pending:"
"""`meta` key (+ `source:run`) that versions up to 2026-12-03 committed with an import's first
Claude Code records and removed with its replay clean-up, then a separate transaction. Left behind
by an import that is gone (a crash, a kill), it tells a later import to finish that clean-up over
the whole source. Imports now drop replays in the transaction that writes them, so none is left
half done and no marker is written; those an older version left are still honoured."""
CLEANUP_LEASE_MS = 60 * 60 * 1000
"""A marker not refreshed for this long is abandoned, wherever its import ran."""
READ_CHUNK_BYTES = 32 * 1024 * 1024
FLUSH_ROWS = 20_000
HEAD_BYTES = 1024
MAX_BROKEN_EXAMPLES = 20


@dataclass
class ImportSummary:
    """What an import did, for the CLI's summary, the UI's status line, and tests."""

    sources: list[str]
    files_found: int = 0
    files_read: int = 0
    files_unchanged: int = 0
    bytes_read: int = 0
    events_read: int = 0
    records_before: int = 0
    records_after: int = 0
    records_added: int = 0
    """Records this import wrote that the ledger did not hold (net of sidechain replays it
    dropped). Not `records_after - records_before`: another import at the same time (the tray's
    and a terminal's) would make both report the same records as new."""
    broken_by_file: dict[str, int] = field(default_factory=dict)
    broken_examples: list[BrokenLine] = field(default_factory=list)
    unpriced_models: Counter[str] = field(default_factory=Counter)
    missing_dirs: list[str] = field(default_factory=list)
    unreadable_files: dict[str, str] = field(default_factory=dict)
    """Files that could not be read at all (path -> why); not marked read, so tried again next time."""
    searched_dirs: list[tuple[str, str]] = field(default_factory=list)
    """(source name, or '' when no agent's logs were recognised there; folder) for every folder looked in."""
    mismatched_dirs: list[tuple[str, str, str]] = field(default_factory=list)
    """(folder, the source asked for, the agent whose logs it holds) for each given folder whose
    logs look like another agent's: read as the wrong format, they yield nothing."""
    seconds: float = 0.0
    replays_removed: int = 0
    """Sidechain replays an earlier, interrupted import left and this one removed."""
    stopped: bool = False
    """Asked to stop (the app quitting, SIGTERM) before every file was read: what was read is
    kept, and the next import reads the rest."""

    @property
    def broken_lines(self) -> int:
        return sum(self.broken_by_file.values())

    @property
    def examples_in_order(self) -> list[BrokenLine]:
        """The broken-line examples by file, then line: a parser may report a file's lines out of
        order (torn lines are found in a second pass), which reads as a muddle."""
        return sorted(self.broken_examples, key=lambda item: (item.path, item.line))

    def note_broken(self, broken: Sequence[BrokenLine]) -> None:
        for item in broken:
            self.broken_by_file[item.path] = self.broken_by_file.get(item.path, 0) + 1
            if len(self.broken_examples) < MAX_BROKEN_EXAMPLES:
                self.broken_examples.append(item)

    def as_json(self) -> dict[str, Any]:
        return {
            "sources": self.sources,
            "files_found": self.files_found,
            "files_read": self.files_read,
            "files_unchanged": self.files_unchanged,
            "bytes_read": self.bytes_read,
            "events_read": self.events_read,
            "records_added": self.records_added,
            "records_total": self.records_after,
            "broken_lines": self.broken_lines,
            "broken_by_file": self.broken_by_file,
            "broken_examples": [{"path": b.path, "line": b.line, "reason": b.reason} for b in self.examples_in_order],
            "unpriced_models": dict(self.unpriced_models),
            "unreadable_files": self.unreadable_files,
            "missing_dirs": self.missing_dirs,
            "searched_dirs": [{"source": source or None, "path": path} for source, path in self.searched_dirs],
            "mismatched_dirs": [
                {"path": path, "source": source, "looks_like": other} for path, source, other in self.mismatched_dirs
            ],
            "seconds": round(self.seconds, 3),
            "replays_removed": self.replays_removed,
            "stopped": self.stopped,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ImportSummary:
        """The summary `as_json` wrote (another process's import, e.g. `tokenworth import --json`)."""
        return cls(
            sources=list(data["sources"]),
            files_found=int(data["files_found"]),
            files_read=int(data["files_read"]),
            files_unchanged=int(data["files_unchanged"]),
            bytes_read=int(data["bytes_read"]),
            events_read=int(data["events_read"]),
            records_before=int(data["records_total"])
            - int(data["records_added"])
            + int(data.get("replays_removed", 0)),
            records_after=int(data["records_total"]),
            records_added=int(data["records_added"]),
            broken_by_file={str(path): int(count) for path, count in data["broken_by_file"].items()},
            broken_examples=[
                BrokenLine(item["path"], int(item["line"]), item["reason"]) for item in data["broken_examples"]
            ],
            unpriced_models=Counter({str(model): int(count) for model, count in data["unpriced_models"].items()}),
            missing_dirs=list(data["missing_dirs"]),
            unreadable_files=dict(data["unreadable_files"]),
            searched_dirs=[(item["source"] or "", item["path"]) for item in data["searched_dirs"]],
            mismatched_dirs=[
                (item["path"], item["source"], item["looks_like"]) for item in data.get("mismatched_dirs", [])
            ],
            seconds=float(data["seconds"]),
            replays_removed=int(data.get("replays_removed", 0)),
            stopped=bool(data.get("stopped", False)),
        )


def head_hash(path: Path, length: int) -> str:
    """A fingerprint of a file's first bytes: tells an appended file from a rewritten one."""
    with path.open("rb") as handle:
        return _fingerprint(handle.read(length))


def _fingerprint(head: bytes) -> str:
    import hashlib  # only when a file changed: not on the path that finds nothing new

    return hashlib.sha1(head).hexdigest()


def _decompressed(path: Path) -> bytes:
    """A `.zst` file's content, every frame of it; ValueError for a corrupt or truncated file.

    zstandard's stream reader returns what it has for a truncated file without a word, which
    would store a half-written rollout as if it were whole.
    """
    import zstandard

    blob = path.read_bytes()
    parts = []
    try:
        while blob:
            frame = zstandard.ZstdDecompressor().decompressobj()
            parts.append(frame.decompress(blob))
            if not frame.eof:
                raise ValueError("truncated zstd file (its last frame is incomplete)")
            blob = frame.unused_data
    except zstandard.ZstdError as exc:
        raise ValueError(f"corrupt zstd file ({exc})") from None
    return b"".join(parts)


@dataclass
class _PlannedFile:
    source: LocalLogSource
    path: Path
    stat: os.stat_result
    offset: int
    state: dict[str, Any]
    broken: int = 0
    records: int = 0

    @property
    def identity(self) -> tuple[int, int]:
        return file_identity(self.stat) or (0, 0)

    @property
    def name(self) -> str:
        """The path as stored and shown (`path_text`)."""
        return path_text(self.path)

    def _head_hash(self, offset: int) -> str | None:
        """The hash of the head read so far; None for a file gone since it was read (the next
        import, finding no match, reads whatever stands there again: dedupe keeps it exact)."""
        try:
            return head_hash(self.path, min(HEAD_BYTES, offset))
        except OSError:
            return None

    def cursor(self, offset: int, known_head_hash: str | None = None) -> dict[str, Any]:
        """The file's position row as it stands after reading up to `offset` (`known_head_hash`:
        its head's hash, when the reader already had those bytes in hand)."""
        return {
            "source": self.source.name,
            "path": self.name,
            "device": self.identity[0],
            "inode": self.identity[1],
            "size": self.stat.st_size,
            "mtime_ns": self.stat.st_mtime_ns,
            "offset": offset,
            "head_hash": known_head_hash or (self._head_hash(offset) if offset else None),
            "parser_state": dict(self.state),
            "broken_lines": self.broken,
            "records": self.records,
        }


_CURSOR_COLUMNS = (
    "path",
    "device",
    "inode",
    "size",
    "mtime_ns",
    "offset",
    "head_hash",
    "parser_state",
    "broken_lines",
    "records",
)


def _stored_cursors(db: Database, sources: Sequence[LocalLogSource]) -> dict[tuple[str, str], dict[str, Any]]:
    names = [source.name for source in sources]
    placeholders = ", ".join(f":s{index}" for index in range(len(names)))
    columns = ", ".join(f'"{name}"' for name in _CURSOR_COLUMNS)  # "offset" is a keyword on PostgreSQL
    sql = f"SELECT source, {columns} FROM imported_files WHERE source IN ({placeholders})"
    rows = db.fetch(sql, {f"s{index}": name for index, name in enumerate(names)})
    return {(row[0], row[1]): dict(zip(_CURSOR_COLUMNS, row[1:], strict=True)) for row in rows}


def _plan_file(
    source: LocalLogSource, name: str, stat: os.stat_result, cursor: dict[str, Any] | None
) -> _PlannedFile | None:
    """What to read of one file: nothing (unchanged), all of it, or what was appended."""
    if cursor is not None:
        same_identity = (cursor["device"], cursor["inode"]) == (file_identity(stat) or (0, 0))
        if same_identity and cursor["size"] == stat.st_size and cursor["mtime_ns"] == stat.st_mtime_ns:
            return None  # the common case: no Path object, no read
    path = Path(name)
    fresh = _PlannedFile(source, path, stat, 0, {})
    if cursor is None:
        return fresh
    if source.is_whole_file(path) or not same_identity or stat.st_size < cursor["offset"]:
        return fresh
    offset = int(cursor["offset"])
    if offset and cursor["head_hash"] != head_hash(path, min(HEAD_BYTES, offset)):
        return fresh  # rewritten in place: read it all again
    state = orjson.loads(cursor["parser_state"]) if cursor["parser_state"] else {}
    return _PlannedFile(source, path, stat, offset, state, int(cursor["broken_lines"]), int(cursor["records"]))


def discover_files(
    sources: Sequence[LocalLogSource],
    paths: Sequence[Path] | None,
    env: Mapping[str, str],
    home: Path | None,
    summary: ImportSummary,
) -> dict[str, list[LogFile]]:
    """The log files of each source: in the given folders, or in each agent's default places."""
    found: dict[str, list[LogFile]] = {source.name: [] for source in sources}
    if paths:
        for folder in paths:
            if not os.path.exists(folder):
                summary.missing_dirs.append(path_text(folder))
                continue
            if len(sources) == 1:  # the source was named: read the folder as its logs, but say if they look otherwise
                targets = list(sources)
                recognised = sniff_source(folder)
                if recognised is not None and recognised != sources[0].name:
                    summary.mismatched_dirs.append((path_text(folder), sources[0].name, recognised))
            else:
                targets = [s for s in sources if s.name == sniff_source(folder)]
            summary.searched_dirs.extend((source.name, path_text(folder)) for source in targets or [])
            if not targets:
                summary.searched_dirs.append(("", path_text(folder)))
            for source in targets:
                found[source.name].extend(source.find_in(folder))
        return found
    for source in sources:
        summary.searched_dirs.extend((source.name, path_text(folder)) for folder in source.default_dirs(env, home))
        for folder in source.configured_dirs(env, home):
            if not os.path.exists(folder) and path_text(folder) not in summary.missing_dirs:
                summary.missing_dirs.append(path_text(folder))
        for folder in source.default_dirs(env, home):
            if os.path.isdir(folder) and not os.access(folder, os.R_OK | os.X_OK):
                summary.unreadable_files[path_text(folder)] = "cannot open this folder (permission denied)"
        found[source.name] = source.find_default(env, home)
    return found


def _count_records(db: Database) -> int:
    return int(db.fetch("SELECT COUNT(*) FROM usage_records")[0][0])


def _host() -> str:
    return os.uname().nodename if hasattr(os, "uname") else ""


def cleanup_owner(now_ms: int) -> str:
    """A clean-up marker's value: where and when its import last committed."""
    return f"{_host()}|{os.getpid()}|{now_ms}"


def _abandoned(owner: str, now_ms: int) -> bool:
    """Whether the import that wrote `owner` (`cleanup_owner`) is gone: its process ended on this
    machine, or it has not committed for `CLEANUP_LEASE_MS`."""
    host, _, rest = owner.partition("|")
    pid_text, _, at_text = rest.partition("|")
    if not (pid_text.isdigit() and at_text.isdigit()):
        return True
    if now_ms - int(at_text) > CLEANUP_LEASE_MS:
        return True
    if os.name == "posix" and host == _host():  # (os.kill would terminate the process on Windows)
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
    return False


def _abandoned_cleanups(db: Database) -> dict[str, str]:
    """Markers (key -> source) of imports that stopped between committing records and their
    replay clean-up and are gone."""
    rows = db.fetch("SELECT key, value FROM meta WHERE key LIKE :prefix", {"prefix": CLEANUP_PENDING_PREFIX + "%"})
    now_ms = int(time.time() * 1000)
    found = {}
    for key, owner in rows:
        if key.startswith(CLEANUP_PENDING_PREFIX) and _abandoned(owner or "", now_ms):
            found[key] = key[len(CLEANUP_PENDING_PREFIX) :].split(":", 1)[0]
    return found


def import_local_logs(
    db: Database,
    *,
    source_names: Sequence[str] | None = None,
    paths: Sequence[Path] | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    progress: ProgressCallback | None = None,
    workers: int = 1,
    stop: threading.Event | None = None,
) -> ImportSummary:
    """Bring the ledger up to date with the local agent logs; returns what changed.

    `workers` > 1 parses large imports in that many processes (see `default_workers`). Once
    `stop` is set, no further file is started: what was read is committed (`summary.stopped`).
    """
    started = time.perf_counter()
    sources = resolve_sources(source_names)
    summary = ImportSummary(sources=[source.name for source in sources])
    env = os.environ if env is None else env
    files = discover_files(sources, paths, env, home, summary)
    cursors = _stored_cursors(db, sources)
    planned: list[_PlannedFile] = []
    for source in sources:
        for item in files.get(source.name, []):
            try:
                stat = item.stat or os.stat(item.path)
            except OSError:
                continue
            summary.files_found += 1
            try:
                plan = _plan_file(source, item.path, stat, cursors.get((source.name, path_text(item.path))))
            except FileNotFoundError:
                continue  # gone since it was found: its records stay in the ledger
            except OSError as exc:  # unreadable since the last import: the other files go on
                summary.unreadable_files[path_text(item.path)] = str(exc)
                continue
            if plan is None:
                summary.files_unchanged += 1
            else:
                planned.append(plan)
    abandoned = _abandoned_cleanups(db)
    summary.records_before = _count_records(db)
    if planned:
        _read_planned(db, planned, summary, progress, workers, stop, abandoned)
        summary.records_after = _count_records(db)
    elif abandoned:
        from tokenworth.services.ledger_writer import finish_cleanups

        with db.transaction() as tx:
            summary.replays_removed = finish_cleanups(tx, abandoned)
        summary.records_after = _count_records(db)
    else:
        summary.records_after = summary.records_before
    summary.seconds = time.perf_counter() - started
    return summary


PARALLEL_MIN_BYTES = 64 * 1024 * 1024
"""Below this much to read, starting worker processes costs more than it saves."""


def default_workers() -> int:
    """Worker processes for a large import: the cores, at most 4; 1 where forking is unsafe.

    Only Linux forks cheaply and safely here (macOS and Windows spawn, frozen apps re-run their
    entry point): elsewhere the import runs in one process.
    """
    if sys.platform != "linux" or getattr(sys, "frozen", False):
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def _read_planned(
    db: Database,
    planned: list[_PlannedFile],
    summary: ImportSummary,
    progress: ProgressCallback | None,
    workers: int,
    stop: threading.Event | None = None,
    abandoned_cleanups: Mapping[str, str] | None = None,
) -> None:
    from tokenworth.services.ledger_writer import LedgerWriter
    from tokenworth.services.prices import load_price_book

    book = load_price_book(db)
    writer = LedgerWriter(
        db, book, ledger_empty=summary.records_before == 0, abandoned_cleanups=abandoned_cleanups or {}
    )
    total_bytes = sum(max(plan.stat.st_size - plan.offset, 0) for plan in planned)
    done_bytes = 0
    if progress:
        progress(0, total_bytes)
    results: Generator[tuple[_PlannedFile, Iterable[_Chunk]], None, None]
    if workers > 1 and len(planned) > 1 and total_bytes >= PARALLEL_MIN_BYTES:
        db.dispose()  # no pooled connection (PostgreSQL) may be inherited by the forked workers
        if not book.database.knows_schedules:
            book.database.preload()  # once here, shared by the workers, not once in each
        pricing = _WorkerPricing(book, writer.imported_at)
        results = _parse_in_processes(planned, workers, pricing, while_waiting=_preload if _has_tasks(db) else None)
    else:
        results = (
            (plan, _parse_chunks(plan.source, plan.path, plan.offset, plan.stat.st_size, plan.state))
            for plan in planned
        )
    try:
        _write_results(results, writer, summary, stop, progress, done_bytes, total_bytes)
    except Exception as exc:
        if not _broken_pool(exc):
            raise
        with contextlib.suppress(Exception):
            results.close()
        writer.flush()  # what finished reading is kept: the next import starts from there
        raise ImportWorkerDied(
            "a log-reading worker process died (killed, or out of memory); what was read is kept,"
            " run the import again to read the rest"
        ) from None
    results.close()  # when stopped early: worker processes drop the files not started yet
    writer.finish()
    summary.replays_removed = writer.replays_removed
    summary.records_added = writer.added
    summary.unpriced_models.update(writer.unpriced)
    if _has_tasks(db):  # asked after the last write: a task made meanwhile attributed what was there
        from tokenworth.services.attribution import sync_attribution

        sync_attribution(db, imported_since=writer.imported_at)


def _has_tasks(db: Database) -> bool:
    """Whether any task exists: attribution rules all come from tasks, so with none there is
    nothing to attribute, and SQLAlchemy (a third of a second) need not be loaded."""
    return bool(db.fetch("SELECT 1 FROM tasks LIMIT 1"))


@dataclass
class _Chunk:
    """What one read of part of a file gave: events, broken lines, and how far it got."""

    events: list[UsageEvent]
    broken: list[BrokenLine]
    position: int
    """File offset up to which every line is handled (a torn tail waits for the next read)."""
    bytes_read: int
    failure: str = ""
    """Why the file could not be read at all ('' when it was)."""
    events_before_collapse: int = -1
    """Events the parser gave, before streamed copies of one response were collapsed (-1: not
    collapsed, `events` are all of them)."""
    rows: list[tuple[Any, ...]] | None = None
    """The events priced into ledger rows (`event_values`), when a worker process did it."""
    head_hash: str | None = None
    """The file's head fingerprint at `position`, when this read began at the start of the file
    (so the writing process need not open the file again to take it)."""

    @property
    def failed(self) -> bool:
        return bool(self.failure)

    @property
    def events_read(self) -> int:
        return len(self.events) if self.events_before_collapse < 0 else self.events_before_collapse

    def priced(self, policy: ConflictPolicy, book: RatesLookup, imported_at: int) -> _Chunk:
        """The chunk with its events as priced rows, one per dedupe key: what a worker process
        sends back, so the writing process only writes (and receives half as much)."""
        from tokenworth.services.record_rows import priced_rows

        rows = priced_rows(self.events, policy, book, imported_at)
        return replace(self, events=[], events_before_collapse=self.events_read, rows=rows)


def _parse_chunks(source: LocalLogSource, path: Path, offset: int, end: int, state: dict[str, Any]) -> Iterator[_Chunk]:
    """Parse `path` from `offset` to `end` in bounded chunks, updating `state` as it goes."""
    name = path_text(path)
    if source.is_whole_file(path):
        try:
            data = _decompressed(path) if path.name.endswith(".zst") else path.read_bytes()
        except (OSError, ValueError) as exc:
            yield _Chunk([], [], offset, 0, failure=str(exc))
            return
        result = source.parse(data, path=name, state=state, final=True)
        broken = result.broken
        complete = bool(result.consumed)  # else a JSON document caught mid-write: read it again
        if path.name.endswith(".zst"):  # never grows: a torn last line will not be finished later
            complete = True
            if data[result.consumed :].strip():
                broken = [*broken, BrokenLine(name, int(state.get("line", 1)), TORN_LINE)]
        yield _Chunk(result.events, broken, end if complete else 0, len(data))
        return
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield _Chunk([], [], offset, 0, failure=str(exc))
        return
    with handle:
        if end <= offset:  # an empty file: its place is kept, so it is not read again and again
            yield _Chunk([], [], offset, 0)
            return
        handle.seek(offset)
        carry = b""
        position = offset  # file offset of carry[0]
        head = None  # the file's first bytes, when this read starts there
        while position + len(carry) < end:
            chunk = handle.read(min(READ_CHUNK_BYTES, end - position - len(carry)))
            if not chunk:
                break
            if head is None and offset == 0:
                head = chunk[:HEAD_BYTES]
            data = carry + chunk if carry else chunk
            at_end = position + len(data) >= end
            result = source.parse(data, path=name, state=state, final=at_end)
            position += result.consumed
            carry = data[result.consumed :]
            fingerprint = _fingerprint(head[: min(HEAD_BYTES, position)]) if head is not None and position else None
            yield _Chunk(result.events, result.broken, position, len(chunk), head_hash=fingerprint)


@dataclass
class _WorkerPricing:
    """What a worker process prices its rows with (handed over by fork, never pickled)."""

    book: PriceBook
    imported_at: int


_worker_pricing: _WorkerPricing | None = None


def _start_worker(pricing: _WorkerPricing) -> None:
    import signal

    global _worker_pricing
    _worker_pricing = pricing
    # A forked worker inherits the importing process's handlers, e.g. `tokenworth import`'s SIGTERM
    # one (which only asks the import to stop): the pool must still be able to terminate it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Ctrl-C reaches the whole process group: the importing process stops the pool, so a worker
    # ignores it instead of printing a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()


def _die_with_parent() -> None:
    """Linux: a worker gets SIGKILL when the importing process dies (killed, say), instead of
    waiting for ever on the pool's queues with that process's pipes held open."""
    import ctypes

    pr_set_pdeathsig = 1
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, 9, 0, 0, 0)  # 9: SIGKILL
    except (OSError, AttributeError):
        pass


def _parse_file_job(job: tuple[str, str, int, int, dict[str, Any]]) -> tuple[list[_Chunk], dict[str, Any]]:
    """A worker process's unit: one whole file, parsed and priced; the chunks and the parser
    state back."""
    from tokenworth.sources.local_logs import LOCAL_SOURCES

    assert _worker_pricing is not None, "a worker prices with what _start_worker was given"
    source_name, path, offset, end, state = job
    source = LOCAL_SOURCES[source_name]
    book, imported_at = _worker_pricing.book, _worker_pricing.imported_at
    chunks = [
        chunk.priced(source.policy, book, imported_at)
        for chunk in _parse_chunks(source, Path(path), offset, end, state)
    ]
    return chunks, state


def _preload() -> None:
    """What the writing side will need for a ledger with tasks, loaded while the workers parse
    (they price the rows: the writing side needs no prices)."""
    import tokenworth.services.attribution  # noqa: F401  (SQLAlchemy and the task models)


def _parse_in_processes(
    planned: list[_PlannedFile], workers: int, pricing: _WorkerPricing, while_waiting: Callable[[], None] | None
) -> Generator[tuple[_PlannedFile, list[_Chunk]], None, None]:
    """Parse and price files in forked worker processes, in the planned order; writing stays here."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    jobs = [(plan.source.name, str(plan.path), plan.offset, plan.stat.st_size, plan.state) for plan in planned]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(pricing,)
    ) as pool:
        results = pool.map(_parse_file_job, jobs, chunksize=4)  # every job is submitted now
        if while_waiting is not None:
            while_waiting()
        try:
            for plan, (chunks, state) in zip(planned, results, strict=True):
                plan.state.clear()
                plan.state.update(state)
                yield plan, chunks
        finally:  # closed before the end (asked to stop): cancel what no worker has started
            pool.shutdown(wait=True, cancel_futures=True)


def last_import_times(db: Database) -> dict[str, str]:
    """When each local source was last imported (ISO UTC), for freshness displays."""
    rows = db.fetch("SELECT key, value FROM meta WHERE key LIKE 'last_import:%'")
    return {key.split(":", 1)[1]: value for key, value in rows}


def _broken_pool(exc: BaseException) -> bool:
    """A worker process died under the pool (BrokenProcessPool), told without importing the
    process pool on the path that finds nothing new (20 ms of start-up)."""
    process = sys.modules.get("concurrent.futures.process")
    return process is not None and isinstance(exc, process.BrokenProcessPool)


class ImportWorkerDied(RuntimeError):
    """A parsing worker process ended mid-import (the OOM killer, a kill): said plainly, not
    as a pool traceback; what was read before is committed."""


def _write_results(
    results: Iterable[tuple[_PlannedFile, Iterable[_Chunk]]],
    writer: LedgerWriter,
    summary: ImportSummary,
    stop: threading.Event | None,
    progress: ProgressCallback | None,
    done_bytes: int,
    total_bytes: int,
) -> None:
    """Queue each parsed file's rows and position with the writer, flushing as they pile up."""
    for plan, chunks in results:
        if stop is not None and stop.is_set():
            summary.stopped = True  # this file and the rest wait for the next import
            break
        track = plan.source.name == "claude-code"
        for chunk in chunks:
            if chunk.failed:
                # Unreadable now: no position is stored, so the next import tries again.
                summary.unreadable_files[plan.name] = chunk.failure
                continue
            summary.bytes_read += chunk.bytes_read
            summary.events_read += chunk.events_read
            summary.note_broken(chunk.broken)
            plan.broken += len(chunk.broken)
            plan.records += chunk.events_read
            if chunk.rows is None:
                writer.add(plan.source.name, plan.source.policy, chunk.events, track)
            else:
                writer.add_values(plan.source.name, plan.source.policy, chunk.rows, track)
            writer.position(plan.cursor(chunk.position, chunk.head_hash))
            if writer.pending_rows >= FLUSH_ROWS:
                writer.flush()
        done_bytes += max(plan.stat.st_size - plan.offset, 0)
        if plan.name not in summary.unreadable_files:
            summary.files_read += 1
        if progress:
            progress(min(done_bytes, total_bytes), total_bytes)
