"""Importing local agent logs into the ledger, incrementally.

Each file's identity (device, inode), size, offset and a hash of its head are kept, so the next
run reads only the bytes appended since; a shrunk or replaced file is read again from the start
(the dedupe keys keep that exact). Records and file positions are committed together, so a crash
mid-import loses nothing and double counts nothing. Logs the agent later deletes stay here.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, select, update

from tokenworth.core.db import Database
from tokenworth.core.ledger import drop_sidechain_replays, upsert_rows
from tokenworth.core.models import CostProvenance, ImportedFile, MetaEntry, UsageRecord
from tokenworth.core.money import from_units, to_units
from tokenworth.core.pricing import PriceBook, cost_units
from tokenworth.core.timeutil import to_epoch_ms, utc_now
from tokenworth.services.attribution import sync_attribution
from tokenworth.services.prices import load_price_book
from tokenworth.sources.local_logs import LocalLogSource, resolve_sources, sniff_source
from tokenworth.sources.records import BrokenLine, UsageEvent

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes done, bytes to read) as an import goes."""

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
    broken_by_file: dict[str, int] = field(default_factory=dict)
    broken_examples: list[BrokenLine] = field(default_factory=list)
    unpriced_models: Counter[str] = field(default_factory=Counter)
    missing_dirs: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def records_added(self) -> int:
        return self.records_after - self.records_before

    @property
    def broken_lines(self) -> int:
        return sum(self.broken_by_file.values())

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
            "broken_examples": [
                {"path": b.path, "line": b.line, "reason": b.reason} for b in self.broken_examples
            ],
            "unpriced_models": dict(self.unpriced_models),
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _PlannedFile:
    source: LocalLogSource
    path: Path
    stat: os.stat_result
    cursor: dict[str, Any] | None
    offset: int
    state: dict[str, Any]


def event_row(event: UsageEvent, book: PriceBook, imported_at: int) -> dict[str, Any]:
    """A ledger row for one event, priced now: the cost is frozen into the record."""
    rates = book.rates(event.provider, event.model, event.timestamp)
    estimate = None
    if rates is not None:
        estimate = cost_units(
            rates,
            event.input_tokens,
            event.output_tokens,
            event.cache_read_tokens,
            event.cache_write_5m_tokens,
            event.cache_write_1h_tokens,
        )
    if event.reported_cost is not None:
        cost: int | None = to_units(event.reported_cost)
        provenance = CostProvenance.REPORTED
        estimated = estimate
    elif estimate is not None:
        cost, provenance, estimated = estimate, CostProvenance.COMPUTED, None
    else:
        cost, provenance, estimated = None, CostProvenance.UNPRICED, None
    return {
        "dedupe_key": event.dedupe_key,
        "source": event.source,
        "provider": event.provider,
        "account": event.account,
        "model": event.model,
        "ts": to_epoch_ms(event.timestamp),
        "bucket_seconds": event.bucket_seconds,
        "input_tokens": event.input_tokens,
        "output_tokens": event.output_tokens,
        "cache_read_tokens": event.cache_read_tokens,
        "cache_write_5m_tokens": event.cache_write_5m_tokens,
        "cache_write_1h_tokens": event.cache_write_1h_tokens,
        "reasoning_tokens": event.reasoning_tokens,
        "request_count": event.request_count,
        "cost": None if cost is None else from_units(cost),
        "cost_provenance": provenance,
        "estimated_cost": None if estimated is None else from_units(estimated),
        "price_version": None if rates is None else rates.version,
        "speed": event.speed,
        "project": event.project,
        "session_id": event.session_id,
        "git_branch": event.git_branch,
        "message_id": event.message_id,
        "request_id": event.request_id,
        "is_sidechain": event.is_sidechain,
        "imported_at": imported_at,
    }


def _head_hash(path: Path, length: int) -> str:
    with path.open("rb") as handle:
        return hashlib.sha1(handle.read(length)).hexdigest()


def _decompressed(path: Path) -> bytes:
    import zstandard

    with path.open("rb") as handle:
        return zstandard.ZstdDecompressor().stream_reader(handle).read()


class _Writer:
    """Collects rows and file positions; writes them together, one transaction per flush."""

    def __init__(self, db: Database, book: PriceBook, summary: ImportSummary) -> None:
        self.db = db
        self.book = book
        self.summary = summary
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.pending_rows = 0
        self.cursors: dict[tuple[str, str], dict[str, Any]] = {}
        self.message_ids: dict[str, set[str]] = {}
        self.imported_at = to_epoch_ms(utc_now())
        self.policies: dict[str, str] = {}

    def add(self, source: LocalLogSource, events: Iterable[UsageEvent]) -> None:
        rows = self.rows.setdefault(source.name, [])
        self.policies[source.name] = source.policy
        ids = self.message_ids.setdefault(source.name, set())
        for event in events:
            row = event_row(event, self.book, self.imported_at)
            if row["cost_provenance"] == CostProvenance.UNPRICED:
                self.summary.unpriced_models[event.model] += 1
            if event.message_id and source.name == "claude-code":
                ids.add(event.message_id)
            rows.append(row)
            self.pending_rows += 1

    def position(self, planned: _PlannedFile, offset: int, broken: int, records: int) -> None:
        stat = planned.stat
        head = _head_hash(planned.path, min(HEAD_BYTES, offset)) if offset else None
        self.cursors[(planned.source.name, str(planned.path))] = {
            "source": planned.source.name,
            "path": str(planned.path),
            "device": stat.st_dev,
            "inode": stat.st_ino,
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "offset": offset,
            "head_hash": head,
            "parser_state": orjson.dumps(planned.state).decode(),
            "broken_lines": broken,
            "records": records,
            "last_read_at": self.imported_at,
        }

    def flush(self) -> None:
        if not self.pending_rows and not self.cursors:
            return
        with self.db.engine.begin() as conn:
            for name, rows in self.rows.items():
                for start in range(0, len(rows), 5000):
                    upsert_rows(conn, rows[start : start + 5000], self.policies[name])  # type: ignore[arg-type]
            self._write_cursors(conn)
        self.rows = {}
        self.pending_rows = 0
        self.cursors = {}

    def _write_cursors(self, conn: Connection) -> None:
        table = ImportedFile.__table__
        for cursor in self.cursors.values():
            found = conn.execute(
                select(table.c.id).where(table.c.source == cursor["source"], table.c.path == cursor["path"])
            ).first()
            if found is None:
                conn.execute(insert(table).values(cursor))
            else:
                conn.execute(update(table).where(table.c.id == found[0]).values(cursor))

    def finish(self) -> None:
        self.flush()
        with self.db.engine.begin() as conn:
            for name, ids in self.message_ids.items():
                if ids:
                    _drop_replays(conn, name, ids)
            now = utc_now().isoformat()
            for name in self.policies:
                _set_meta(conn, f"last_import:{name}", now)


def _drop_replays(conn: Connection, source: str, touched: set[str]) -> None:
    table = UsageRecord.__table__
    sidechain_ids = {
        row[0]
        for row in conn.execute(
            select(table.c.message_id)
            .where(table.c.source == source, table.c.is_sidechain.is_(True))
            .distinct()
        )
    }
    candidates = sidechain_ids & touched
    if candidates:
        drop_sidechain_replays(conn, source, candidates)


def _set_meta(conn: Connection, key: str, value: str) -> None:
    table = MetaEntry.__table__
    if conn.execute(select(table.c.key).where(table.c.key == key)).first() is None:
        conn.execute(insert(table).values(key=key, value=value))
    else:
        conn.execute(update(table).where(table.c.key == key).values(value=value))


def _plan(
    db: Database, sources: Sequence[LocalLogSource], files: Mapping[str, list[Path]], summary: ImportSummary
) -> list[_PlannedFile]:
    table = ImportedFile.__table__
    with db.engine.connect() as conn:
        cursors = {
            (row["source"], row["path"]): dict(row)
            for row in conn.execute(
                select(table).where(table.c.source.in_([s.name for s in sources]))
            ).mappings()
        }
    planned: list[_PlannedFile] = []
    for source in sources:
        for path in files.get(source.name, []):
            try:
                stat = path.stat()
            except OSError:
                continue
            summary.files_found += 1
            cursor = cursors.get((source.name, str(path)))
            plan = _plan_file(source, path, stat, cursor)
            if plan is None:
                summary.files_unchanged += 1
            else:
                planned.append(plan)
    return planned


def _plan_file(
    source: LocalLogSource, path: Path, stat: os.stat_result, cursor: dict[str, Any] | None
) -> _PlannedFile | None:
    fresh = _PlannedFile(source, path, stat, cursor, 0, {})
    if cursor is None:
        return fresh
    same_identity = cursor["device"] == stat.st_dev and cursor["inode"] == stat.st_ino
    unchanged = same_identity and cursor["size"] == stat.st_size and cursor["mtime_ns"] == stat.st_mtime_ns
    if unchanged:
        return None
    if source.is_whole_file(path) or not same_identity or stat.st_size < cursor["offset"]:
        return fresh
    offset = int(cursor["offset"])
    if offset and cursor["head_hash"] != _head_hash(path, min(HEAD_BYTES, offset)):
        return fresh  # rewritten in place: read it all again
    state = orjson.loads(cursor["parser_state"]) if cursor["parser_state"] else {}
    return _PlannedFile(source, path, stat, cursor, offset, state)


def discover_files(
    sources: Sequence[LocalLogSource],
    paths: Sequence[Path] | None,
    env: Mapping[str, str],
    home: Path | None,
    summary: ImportSummary,
) -> dict[str, list[Path]]:
    """The log files of each source: in the given folders, or in each agent's default places."""
    found: dict[str, list[Path]] = {source.name: [] for source in sources}
    if paths:
        names = {source.name for source in sources}
        for folder in paths:
            if not folder.exists():
                summary.missing_dirs.append(str(folder))
                continue
            targets = sources if len(sources) == 1 else [s for s in sources if s.name == sniff_source(folder)]
            for source in targets:
                if source.name in names:
                    found[source.name].extend(source.find_in(folder))
        return found
    for source in sources:
        found[source.name] = source.find_default(env, home)
    return found


def import_local_logs(
    db: Database,
    *,
    source_names: Sequence[str] | None = None,
    paths: Sequence[Path] | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Bring the ledger up to date with the local agent logs; returns what changed."""
    started = time.perf_counter()
    sources = resolve_sources(source_names)
    summary = ImportSummary(sources=[source.name for source in sources])
    env = os.environ if env is None else env
    files = discover_files(sources, paths, env, home, summary)
    planned = _plan(db, sources, files, summary)
    with db.engine.connect() as conn:
        summary.records_before = conn.execute(
            select(func.count()).select_from(UsageRecord.__table__)
        ).scalar_one()
    if not planned:
        summary.records_after = summary.records_before
        summary.seconds = time.perf_counter() - started
        return summary

    with db.session() as session:
        book = load_price_book(session)
    writer = _Writer(db, book, summary)
    total_bytes = sum(max(plan.stat.st_size - plan.offset, 0) for plan in planned)
    done_bytes = 0
    if progress:
        progress(0, total_bytes)
    for plan in planned:
        read = _read_file(plan, writer, summary)
        done_bytes += read
        summary.files_read += 1
        if progress:
            progress(min(done_bytes, total_bytes), total_bytes)
        if writer.pending_rows >= FLUSH_ROWS:
            writer.flush()
    writer.finish()
    sync_attribution(db, imported_since=writer.imported_at)
    with db.engine.connect() as conn:
        summary.records_after = conn.execute(
            select(func.count()).select_from(UsageRecord.__table__)
        ).scalar_one()
    summary.seconds = time.perf_counter() - started
    return summary


def _note_broken(summary: ImportSummary, broken: list[BrokenLine]) -> None:
    for item in broken:
        summary.broken_by_file[item.path] = summary.broken_by_file.get(item.path, 0) + 1
        if len(summary.broken_examples) < MAX_BROKEN_EXAMPLES:
            summary.broken_examples.append(item)


def _read_file(plan: _PlannedFile, writer: _Writer, summary: ImportSummary) -> int:
    """Parse the unread part of one file into the writer; returns the bytes it covered."""
    source, path = plan.source, plan.path
    previous_broken = int(plan.cursor["broken_lines"]) if plan.cursor and plan.offset else 0
    previous_records = int(plan.cursor["records"]) if plan.cursor and plan.offset else 0
    broken_count = previous_broken
    records = previous_records
    if source.is_whole_file(path):
        try:
            data = _decompressed(path) if path.name.endswith(".zst") else path.read_bytes()
        except (OSError, ValueError) as exc:
            _note_broken(summary, [BrokenLine(str(path), 0, f"cannot read file: {exc}")])
            return plan.stat.st_size
        result = source.parse(data, path=str(path), state=plan.state, final=True)
        summary.bytes_read += len(data)
        summary.events_read += len(result.events)
        _note_broken(summary, result.broken)
        writer.add(source, result.events)
        writer.position(plan, plan.stat.st_size, len(result.broken), len(result.events))
        return plan.stat.st_size

    offset = plan.offset
    end = plan.stat.st_size
    try:
        handle = path.open("rb")
    except OSError as exc:
        _note_broken(summary, [BrokenLine(str(path), 0, f"cannot read file: {exc}")])
        return end - offset
    with handle:
        handle.seek(offset)
        carry = b""
        position = offset  # file offset of carry[0]
        while position + len(carry) < end:
            chunk = handle.read(min(READ_CHUNK_BYTES, end - position - len(carry)))
            if not chunk:
                break
            data = carry + chunk if carry else chunk
            at_end = position + len(data) >= end
            result = source.parse(data, path=str(path), state=plan.state, final=at_end)
            summary.bytes_read += len(chunk)
            summary.events_read += len(result.events)
            _note_broken(summary, result.broken)
            broken_count += len(result.broken)
            records += len(result.events)
            writer.add(source, result.events)
            position += result.consumed
            carry = data[result.consumed :]
            writer.position(plan, position, broken_count, records)
            if writer.pending_rows >= FLUSH_ROWS and not at_end:
                writer.flush()
    return end - offset


def last_import_times(db: Database) -> dict[str, str]:
    """When each local source was last imported (ISO UTC), for freshness displays."""
    table = MetaEntry.__table__
    with db.engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.key.like("last_import:%"))).mappings()
        return {row["key"].split(":", 1)[1]: row["value"] for row in rows}
