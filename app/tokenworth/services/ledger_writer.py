"""Writing an import's rows and file positions to the database, together, in batches.

Rows from one flush and the file positions they came from share a transaction, so a crash
mid-import never leaves a file's position ahead of its records. Streamed partial responses are
collapsed before pricing, so each surviving record is priced once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from tokenworth.core.db import META_UPSERT_SQL, Database, RawTransaction
from tokenworth.core.dedupe import ConflictPolicy
from tokenworth.core.ledger import COLUMNS, drop_sidechain_replays, keep_new_values, replayed_message_ids, write_values
from tokenworth.core.pricing import PriceBook
from tokenworth.core.timeutil import from_epoch_ms, to_epoch_ms, utc_now
from tokenworth.sources.records import UsageEvent

WRITTEN_KEYS_MAX = 500_000
"""Past this many keys (about 55 MB of them, from some 5 GB of Claude Code logs) the writer
stops remembering them and asks the database instead: memory stays bounded on any import."""
COST_AT, MODEL_AT, PROVIDER_AT, TS_AT, MESSAGE_ID_AT = (
    COLUMNS.index(name) for name in ("cost", "model", "provider", "ts", "message_id")
)
"""Where a row tuple (`core.ledger.COLUMNS` order) keeps what the writer looks at."""

_CURSOR_SQL = (
    'INSERT INTO imported_files (source, path, device, inode, size, mtime_ns, "offset", head_hash,'
    " parser_state, broken_lines, records, last_read_at) VALUES (:source, :path, :device, :inode, :size,"
    " :mtime_ns, :offset, :head_hash, :parser_state, :broken_lines, :records, :last_read_at)"
    " ON CONFLICT (source, path) DO UPDATE SET device = excluded.device, inode = excluded.inode,"
    ' size = excluded.size, mtime_ns = excluded.mtime_ns, "offset" = excluded."offset",'
    " head_hash = excluded.head_hash, parser_state = excluded.parser_state,"
    " broken_lines = excluded.broken_lines, records = excluded.records, last_read_at = excluded.last_read_at"
)


class LedgerWriter:
    """Collects priced rows and file positions; writes them at each flush."""

    def __init__(
        self,
        db: Database,
        book: PriceBook,
        *,
        ledger_empty: bool = False,
        abandoned_cleanups: Mapping[str, str] | None = None,
    ) -> None:
        self.db = db
        self.book = book
        self.abandoned_cleanups = dict(abandoned_cleanups or {})
        """Markers (key -> source) of gone imports whose replay clean-up this one finishes."""
        self.replays_removed = 0
        self.written: set[str] | None = set() if ledger_empty else None
        """With a ledger that was empty at the start: every key written since. Then which keys
        are stored is known without asking the database (a first import's 90k lookups), as long
        as no other process writes records meanwhile (`_still_alone`)."""
        self._last_id = 0
        """The highest record id after this writer's last flush (0: the empty ledger)."""
        self.added = 0
        """Records this writer added that the ledger did not hold, less the replays its flushes
        dropped: what another import writing at the same time adds is not counted."""
        self.rows: dict[str, dict[str, tuple[Any, ...]]] = {}
        self.policies: dict[str, ConflictPolicy] = {}
        self.pending_rows = 0
        self.cursors: dict[tuple[str, str], dict[str, Any]] = {}
        self.message_ids: dict[str, set[str]] = {}
        self.models: dict[tuple[str, str], int] = {}
        """Every (provider, model) written, with a time it was used: `finish` makes sure the
        book has learned their price schedules, though a worker process may have priced them."""
        self.unpriced: dict[str, int] = {}
        self.imported_at = to_epoch_ms(utc_now())

    def add(self, source: str, policy: ConflictPolicy, events: Iterable[UsageEvent], track_messages: bool) -> None:
        """Price events (each dedupe key once) and queue them as rows."""
        from tokenworth.services.record_rows import priced_rows

        self.add_values(source, policy, priced_rows(events, policy, self.book, self.imported_at), track_messages)

    def add_values(
        self, source: str, policy: ConflictPolicy, rows: Iterable[tuple[Any, ...]], track_messages: bool
    ) -> None:
        """Queue rows priced already (`event_values` tuples, e.g. from a parsing worker); within
        a flush, one per dedupe key survives by the source's policy."""
        pending = self.rows.setdefault(source, {})
        self.policies[source] = policy
        ids = self.message_ids.setdefault(source, set()) if track_messages else None
        models = self.models
        for row in rows:
            key = row[0]
            old = pending.get(key)
            if old is None:
                pending[key] = row
                self.pending_rows += 1
                model = (row[PROVIDER_AT], row[MODEL_AT])
                if model not in models:
                    models[model] = row[TS_AT]
            elif keep_new_values(old, row, policy):
                pending[key] = row
            if ids is not None and row[MESSAGE_ID_AT]:
                ids.add(row[MESSAGE_ID_AT])

    def position(self, cursor: dict[str, Any]) -> None:
        """Where a file has been read up to; written with the rows read from it."""
        cursor["parser_state"] = orjson.dumps(cursor["parser_state"]).decode()
        cursor["last_read_at"] = self.imported_at
        self.cursors[(cursor["source"], cursor["path"])] = cursor

    def flush(self) -> None:
        if not self.pending_rows and not self.cursors:
            return
        with self.db.transaction() as tx:
            top_before = _highest_id(tx)  # inside the write lock: nobody writes before the commit
            if self.written is not None and top_before != self._last_id:
                self.written = None  # another process wrote records: ask the database from now on
            for source, pending in self.rows.items():
                rows = list(pending.values())
                for row in rows:
                    if row[COST_AT] is None:
                        self.unpriced[row[MODEL_AT]] = self.unpriced.get(row[MODEL_AT], 0) + 1
                written = self.written
                stored = None if written is None else {key for key in pending if key in written}
                write_values(tx, rows, self.policies[source], stored)
                if written is not None:
                    written.update(pending)
            inserted = _count_after(tx, top_before) if self.pending_rows else 0
            dropped = 0
            for source, ids in self.message_ids.items():
                if ids:  # in the same transaction: no reader (or crash) ever sees a replay counted
                    dropped += _drop_replays(tx, source, ids)
            if self.cursors:
                tx.executemany(_CURSOR_SQL, list(self.cursors.values()))
            if self.written is not None:
                self._last_id = _highest_id(tx)
                if len(self.written) > WRITTEN_KEYS_MAX:
                    self.written = None
        self.added += inserted - dropped
        self.rows = {}
        self.pending_rows = 0
        self.cursors = {}
        self.message_ids = {}

    def finish(self) -> None:
        """Flush, finish the replay clean-up of imports an older version left, note the time."""
        self.flush()
        with self.db.transaction() as tx:
            self.replays_removed = finish_cleanups(tx, self.abandoned_cleanups)
            now = utc_now().isoformat()
            for source in self.policies:
                tx.execute(META_UPSERT_SQL, {"key": f"last_import:{source}", "value": now})
            from tokenworth.services.prices import keep_learned_prices

            for (provider, model), used_at in self.models.items():
                self.book.rates(provider, model, from_epoch_ms(used_at))  # learned, if a worker priced it
            keep_learned_prices(tx, self.book)


def _highest_id(tx: RawTransaction) -> int:
    ((top,),) = tx.execute("SELECT COALESCE(MAX(id), 0) FROM usage_records")
    return int(top)


def _count_after(tx: RawTransaction, record_id: int) -> int:
    """How many records have an id above `record_id`: the ones a flush inserted, as ids only
    grow and an update keeps its id."""
    ((count,),) = tx.execute("SELECT COUNT(*) FROM usage_records WHERE id > :id", {"id": record_id})
    return int(count)


def _drop_replays(tx: RawTransaction, source: str, touched: set[str] | None) -> int:
    candidates = replayed_message_ids(tx, source, among=touched)
    return drop_sidechain_replays(tx, source, candidates) if candidates else 0


def finish_cleanups(tx: RawTransaction, abandoned: Mapping[str, str]) -> int:
    """Clean up replays over every record of each source an `abandoned` marker (key -> source)
    names (which records its import wrote is not known), then delete those markers; how many
    records went."""
    removed = sum(_drop_replays(tx, source, None) for source in sorted(set(abandoned.values())))
    for key in sorted(abandoned):
        tx.execute("DELETE FROM meta WHERE key = :key", {"key": key})
    return removed
