"""Writing an import's rows and file positions to the database, together, in batches.

Rows from one flush and the file positions they came from share a transaction, so a crash
mid-import never leaves a file's position ahead of its records. Streamed partial responses are
collapsed before pricing, so each surviving record is priced once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from tokenworth.core.db import META_UPSERT_SQL, Database, RawTransaction
from tokenworth.core.ledger import ConflictPolicy, drop_sidechain_replays, replayed_message_ids, upsert_rows
from tokenworth.core.pricing import PriceBook
from tokenworth.core.timeutil import to_epoch_ms, utc_now
from tokenworth.sources.records import UsageEvent

UPSERT_BATCH = 5000

_CURSOR_SQL = (
    'INSERT INTO imported_files (source, path, device, inode, size, mtime_ns, "offset", head_hash,'
    " parser_state, broken_lines, records, last_read_at) VALUES (:source, :path, :device, :inode, :size,"
    " :mtime_ns, :offset, :head_hash, :parser_state, :broken_lines, :records, :last_read_at)"
    " ON CONFLICT (source, path) DO UPDATE SET device = excluded.device, inode = excluded.inode,"
    ' size = excluded.size, mtime_ns = excluded.mtime_ns, "offset" = excluded."offset",'
    " head_hash = excluded.head_hash, parser_state = excluded.parser_state,"
    " broken_lines = excluded.broken_lines, records = excluded.records, last_read_at = excluded.last_read_at"
)


def _fuller(old: UsageEvent, new: UsageEvent) -> bool:
    """The `fullest` rule on events (see core.ledger.keep_new)."""
    if old.is_sidechain and not new.is_sidechain:
        return True
    old_total, new_total = old.total_tokens, new.total_tokens
    if new_total != old_total:
        return new_total > old_total
    return bool(new.speed) and not old.speed


class LedgerWriter:
    """Collects events and file positions; prices and writes them at each flush."""

    def __init__(self, db: Database, book: PriceBook) -> None:
        self.db = db
        self.book = book
        self.events: dict[str, dict[str, UsageEvent]] = {}
        self.policies: dict[str, ConflictPolicy] = {}
        self.pending_rows = 0
        self.cursors: dict[tuple[str, str], dict[str, Any]] = {}
        self.message_ids: dict[str, set[str]] = {}
        self.unpriced: dict[str, int] = {}
        self.imported_at = to_epoch_ms(utc_now())

    def add(self, source: str, policy: ConflictPolicy, events: Iterable[UsageEvent], track_messages: bool) -> None:
        """Queue events; within a flush, one per dedupe key survives by the source's policy."""
        pending = self.events.setdefault(source, {})
        self.policies[source] = policy
        ids = self.message_ids.setdefault(source, set()) if track_messages else None
        fullest = policy == "fullest"
        for event in events:
            key = event.dedupe_key
            old = pending.get(key)
            if old is None:
                pending[key] = event
                self.pending_rows += 1
            elif not fullest or _fuller(old, event):
                pending[key] = event
            if ids is not None and event.message_id:
                ids.add(event.message_id)

    def position(self, cursor: dict[str, Any]) -> None:
        """Where a file has been read up to; written with the rows read from it."""
        cursor["parser_state"] = orjson.dumps(cursor["parser_state"]).decode()
        cursor["last_read_at"] = self.imported_at
        self.cursors[(cursor["source"], cursor["path"])] = cursor

    def flush(self) -> None:
        if not self.pending_rows and not self.cursors:
            return
        from tokenworth.services.importing import event_row

        with self.db.transaction() as tx:
            for source, pending in self.events.items():
                rows = []
                for event in pending.values():
                    row = event_row(event, self.book, self.imported_at)
                    if row["cost"] is None:
                        self.unpriced[event.model] = self.unpriced.get(event.model, 0) + 1
                    rows.append(row)
                for start in range(0, len(rows), UPSERT_BATCH):
                    upsert_rows(tx, rows[start : start + UPSERT_BATCH], self.policies[source])
            if self.cursors:
                tx.executemany(_CURSOR_SQL, list(self.cursors.values()))
        self.events = {}
        self.pending_rows = 0
        self.cursors = {}

    def finish(self) -> None:
        """Flush, drop sidechain replays of responses counted elsewhere, note the import time."""
        self.flush()
        with self.db.transaction() as tx:
            for source, ids in self.message_ids.items():
                if ids:
                    _drop_replays(tx, source, ids)
            now = utc_now().isoformat()
            for source in self.policies:
                tx.execute(META_UPSERT_SQL, {"key": f"last_import:{source}", "value": now})
            from tokenworth.services.prices import keep_learned_prices

            keep_learned_prices(tx, self.book)


def _drop_replays(tx: RawTransaction, source: str, touched: set[str]) -> None:
    candidates = replayed_message_ids(tx, source) & touched
    if candidates:
        drop_sidechain_replays(tx, source, candidates)
