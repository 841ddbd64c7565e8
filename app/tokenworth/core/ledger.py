"""Writing usage records: one upsert per batch, keyed by the source's dedupe key.

A re-import or a re-poll updates a record in place, never counts it twice. Two policies:
`fullest` keeps the row with the most tokens (Claude Code streams partial rows first) and
`latest` keeps the newest (Gemini re-appends changed messages; providers restate buckets).
Rows are plain dicts in storage form (money in integer units of 1e-10 USD, times in epoch ms)
written with the driver's executemany: this is the hot path of an import.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from operator import itemgetter
from typing import Any

from tokenworth.core.db import RawTransaction, SqlAlchemyTransaction, SqliteTransaction, as_transaction
from tokenworth.core.dedupe import ConflictPolicy, fuller_copy
from tokenworth.core.money import to_units
from tokenworth.core.rollup import ADD_RECORDS_AFTER, INSERT_TRIGGER_NAME
from tokenworth.core.timeutil import to_epoch_ms

TOKEN_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
)
_UPDATABLE = (
    "source",
    "provider",
    "account",
    "model",
    "ts",
    "bucket_seconds",
    *TOKEN_COLUMNS,
    "reasoning_tokens",
    "request_count",
    "cost",
    "cost_provenance",
    "estimated_cost",
    "price_version",
    "speed",
    "project",
    "session_id",
    "git_branch",
    "message_id",
    "request_id",
    "is_sidechain",
    "web_search_requests",
    "imported_at",
)
COLUMNS = ("dedupe_key", *_UPDATABLE)
"""A usage record's columns in the order of `write_values` tuples (the dedupe key first)."""
_PRICE_COLUMNS = ("cost", "cost_provenance", "estimated_cost", "price_version")
"""Frozen when a record is read again unchanged: a price change never rewrites it by itself."""
_USAGE_COLUMNS = ("provider", "model", "ts", "bucket_seconds", *TOKEN_COLUMNS, "reasoning_tokens", "request_count")
"""What a record measured; its price is recomputed only when one of these changed (or a cost the
source reports did)."""


def row_total(row: dict[str, Any]) -> int:
    return sum(int(row[name]) for name in TOKEN_COLUMNS)


def keep_new(old: dict[str, Any], new: dict[str, Any], policy: ConflictPolicy) -> bool:
    """Whether `new` replaces `old` (same dedupe key) under `policy`."""
    if policy == "latest":
        return True
    return fuller_copy(
        old["is_sidechain"], row_total(old), old.get("speed"), new["is_sidechain"], row_total(new), new.get("speed")
    ) or _newly_priced(old.get("cost_provenance"), new.get("cost_provenance"))


def _newly_priced(old_provenance: Any, new_provenance: Any) -> bool:
    """A copy read again with a price the stored one lacked takes its place: only a price is ever
    frozen, and an unpriced record has none yet."""
    return old_provenance == "unpriced" and new_provenance not in (None, "unpriced")


_TOKENS_AT = slice(COLUMNS.index(TOKEN_COLUMNS[0]), COLUMNS.index(TOKEN_COLUMNS[-1]) + 1)
_SIDECHAIN_AT = COLUMNS.index("is_sidechain")
_SPEED_AT = COLUMNS.index("speed")
_PROVENANCE_AT = COLUMNS.index("cost_provenance")


def keep_new_values(old: tuple[Any, ...], new: tuple[Any, ...], policy: ConflictPolicy) -> bool:
    """`keep_new` for rows as `write_values` tuples."""
    if policy == "latest":
        return True
    return fuller_copy(
        old[_SIDECHAIN_AT],
        sum(old[_TOKENS_AT]),
        old[_SPEED_AT],
        new[_SIDECHAIN_AT],
        sum(new[_TOKENS_AT]),
        new[_SPEED_AT],
    ) or _newly_priced(old[_PROVENANCE_AT], new[_PROVENANCE_AT])


def collapse(rows: Iterable[dict[str, Any]], policy: ConflictPolicy) -> list[dict[str, Any]]:
    """One row per dedupe key within a batch, by the same rule the database applies."""
    kept: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = row["dedupe_key"]
        old = kept.get(key)
        if old is None or keep_new(old, row, policy):
            kept[key] = row
    return list(kept.values())


def raw_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row with money as integer units and times as epoch ms (Decimal/datetime converted)."""
    for name in ("cost", "estimated_cost"):
        value = row.get(name)
        if isinstance(value, Decimal):
            row[name] = to_units(value)
    for name in ("ts", "imported_at"):
        value = row.get(name)
        if isinstance(value, datetime):
            row[name] = to_epoch_ms(value)
    return row


@cache
def _upsert_sql(policy: ConflictPolicy, positional: bool = False) -> str:
    """INSERT ... ON CONFLICT (dedupe_key) DO UPDATE, as SQLite and PostgreSQL both spell it;
    `positional` takes SQLite `?` parameters in `COLUMNS` order instead of names."""
    same_usage = " AND ".join(f"usage_records.{name} = excluded.{name}" for name in _USAGE_COLUMNS)
    same_usage += (
        " AND usage_records.cost_provenance <> 'unpriced'"  # nothing frozen yet: priced when a price appears
        " AND (excluded.cost_provenance <> 'reported'"
        " OR (usage_records.cost_provenance = 'reported' AND usage_records.cost = excluded.cost))"
    )
    updates = ", ".join(
        f"{name} = CASE WHEN {same_usage} THEN usage_records.{name} ELSE excluded.{name} END"
        if name in _PRICE_COLUMNS
        else f"{name} = excluded.{name}"
        for name in _UPDATABLE
    )
    params = ", ".join("?" if positional else ":" + name for name in COLUMNS)
    sql = (
        f"INSERT INTO usage_records ({', '.join(COLUMNS)}) VALUES ({params}) "
        f"ON CONFLICT (dedupe_key) DO UPDATE SET {updates}"
    )
    if policy == "fullest":
        new_total = " + ".join(f"excluded.{name}" for name in TOKEN_COLUMNS)
        old_total = " + ".join(f"usage_records.{name}" for name in TOKEN_COLUMNS)
        sql += (
            f" WHERE ({new_total}) > ({old_total})"
            " OR (usage_records.is_sidechain AND NOT excluded.is_sidechain)"
            f" OR (({new_total}) = ({old_total}) AND usage_records.speed IS NULL AND excluded.speed IS NOT NULL)"
            " OR (usage_records.cost_provenance = 'unpriced' AND excluded.cost_provenance <> 'unpriced')"
        )
    return sql


def upsert_rows(conn: RawTransaction | Any, rows: Sequence[dict[str, Any]], policy: ConflictPolicy) -> None:
    """Insert rows, or update the stored row with the same dedupe key when the policy says so.

    `conn` is a `Database.transaction()` or a SQLAlchemy Connection inside a transaction.
    """
    if not rows:
        return
    write_rows(as_transaction(conn), [raw_row(row) for row in collapse(rows, policy)], policy)


def write_rows(tx: RawTransaction, rows: Sequence[dict[str, Any]], policy: ConflictPolicy) -> None:
    """`upsert_rows` for rows already in storage form and unique by dedupe key (an import's
    writer, which has collapsed and converted them on the way)."""
    if not rows:
        return
    if isinstance(tx, SqliteTransaction) and len(rows) >= BULK_MIN_ROWS:
        _upsert_sqlite_bulk(tx, [_column_values(row) for row in rows], policy)
    elif tx.dialect in ("sqlite", "postgresql"):
        tx.executemany(_upsert_sql(policy), rows)
    elif isinstance(tx, SqlAlchemyTransaction):
        _upsert_portable(tx, rows, policy)
    else:  # pragma: no cover - a RawTransaction is SQLite or SQLAlchemy
        raise TypeError(f"no upsert for {tx.dialect}")


def write_values(
    tx: RawTransaction, values: Sequence[tuple[Any, ...]], policy: ConflictPolicy, stored: set[str] | None = None
) -> None:
    """`write_rows` for rows given as tuples in `COLUMNS` order: a large SQLite batch is written
    as it is, with no dict built per row (the cold import's hot path). `stored`, when the caller
    knows it, is which of the rows' keys the ledger holds already (else they are looked up)."""
    if isinstance(tx, SqliteTransaction) and len(values) >= BULK_MIN_ROWS:
        _upsert_sqlite_bulk(tx, values, policy, stored)
    else:
        write_rows(tx, [dict(zip(COLUMNS, row, strict=True)) for row in values], policy)


BULK_MIN_ROWS = 500
"""From this many rows, a SQLite upsert adds new rows to the rollup in one statement, not per row."""


def _upsert_sqlite_bulk(
    tx: SqliteTransaction, rows: Sequence[tuple[Any, ...]], policy: ConflictPolicy, stored: set[str] | None = None
) -> None:
    """The upsert of a large batch with the rollup's insert trigger paused, all in one transaction.

    SQLite runs a trigger per row, which made it most of a cold import's write time. The trigger
    is dropped, the rows written, the new ones (ids above the old maximum: ids only grow and an
    update keeps its id) added to the rollup grouped, and the trigger created again with its
    stored text. Only on our own `sqlite3` transaction (an explicit BEGIN IMMEDIATE), where the
    DDL is part of the transaction. Rows are unique by dedupe key here (`collapse`), so no row
    of this batch is both inserted and then updated. A failure rolls the whole transaction back,
    trigger included.
    """
    trigger = tx.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name", {"name": INSERT_TRIGGER_NAME}
    )
    if not trigger:  # no rollup kept here (a database older than the rollup, mid-migration)
        tx.executemany_values(_upsert_sql(policy, positional=True), rows)
        return
    if stored is None:
        stored = _stored_keys(tx, [row[0] for row in rows])
    ((last_id,),) = tx.execute("SELECT COALESCE(MAX(id), 0) FROM usage_records")
    tx.execute(f"DROP TRIGGER {INSERT_TRIGGER_NAME}")
    # New keys by a plain insert: an upsert clause costs SQLite twice the time even when it
    # never fires. Known keys by the upsert (their update trigger keeps the rollup). Values go
    # as tuples: sqlite3 binds a dict's 27 names one lookup at a time, a third of the write.
    tx.executemany_values(_insert_new_sql(), [row for row in rows if row[0] not in stored])
    tx.executemany_values(_upsert_sql(policy, positional=True), [row for row in rows if row[0] in stored])
    tx.execute(ADD_RECORDS_AFTER, {"after_id": last_id})
    tx.execute(trigger[0][0])


def _in_chunks(values: Sequence[str]) -> Iterator[tuple[str, dict[str, str]]]:
    """`(placeholders, params)` for `IN (...)` over `values`, 500 at a time (SQLite's and the
    drivers' parameter limits)."""
    for start in range(0, len(values), 500):
        params = {f"v{index}": value for index, value in enumerate(values[start : start + 500])}
        yield ", ".join(":" + name for name in params), params


def _stored_keys(tx: RawTransaction, keys: Sequence[str]) -> set[str]:
    """Which of `keys` the ledger already holds (an index lookup each)."""
    stored: set[str] = set()
    for placeholders, params in _in_chunks(keys):
        found = tx.execute(f"SELECT dedupe_key FROM usage_records WHERE dedupe_key IN ({placeholders})", params)
        stored.update(key for (key,) in found)
    return stored


@cache
def _insert_new_sql() -> str:
    """INSERT of rows whose keys are not stored (DO NOTHING only guards against a mistake), with
    positional parameters in `COLUMNS` order."""
    return (
        f"INSERT INTO usage_records ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
        " ON CONFLICT (dedupe_key) DO NOTHING"
    )


_column_values = itemgetter(*COLUMNS)
"""A row dict's values in `COLUMNS` order, as one tuple (C speed)."""


def _upsert_portable(tx: SqlAlchemyTransaction, rows: Sequence[dict[str, Any]], policy: ConflictPolicy) -> None:
    """Select-then-write for databases without ON CONFLICT (slower, same result)."""
    stored: dict[str, dict[str, Any]] = {}
    for placeholders, params in _in_chunks([row["dedupe_key"] for row in rows]):
        found = tx.execute(
            f"SELECT {', '.join(COLUMNS)} FROM usage_records WHERE dedupe_key IN ({placeholders})", params
        )
        for values in found:
            record = dict(zip(COLUMNS, values, strict=True))
            stored[record["dedupe_key"]] = record
    inserts = [row for row in rows if row["dedupe_key"] not in stored]
    if inserts:
        tx.executemany(
            f"INSERT INTO usage_records ({', '.join(COLUMNS)}) VALUES ({', '.join(':' + n for n in COLUMNS)})",
            inserts,
        )
    updates = [
        _keeping_price(stored[row["dedupe_key"]], row)
        for row in rows
        if row["dedupe_key"] in stored and keep_new(stored[row["dedupe_key"]], row, policy)
    ]
    if updates:
        assignments = ", ".join(f"{name} = :{name}" for name in _UPDATABLE)
        tx.executemany(f"UPDATE usage_records SET {assignments} WHERE dedupe_key = :dedupe_key", updates)


def _keeping_price(stored: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """`row`, with the stored price when the usage it measures is unchanged (`_upsert_sql`'s rule)."""
    same = (
        all(stored[name] == row[name] for name in _USAGE_COLUMNS)
        and stored["cost_provenance"] != "unpriced"
        and (
            row["cost_provenance"] != "reported"
            or (stored["cost_provenance"] == "reported" and stored["cost"] == row["cost"])
        )
    )
    return {**row, **{name: stored[name] for name in _PRICE_COLUMNS}} if same else row


def drop_sidechain_replays(conn: RawTransaction | Any, source: str, message_ids: Iterable[str]) -> int:
    """Delete sidechain copies of a response already counted under another request id.

    A sidechain transcript can replay its parent's message (same message id, another request
    id); the parent's copy is kept, or among sidechain copies the fullest, then the oldest.
    """
    tx = as_transaction(conn)
    ids = sorted({mid for mid in message_ids if mid})
    deleted = 0
    source_test = _source_test(tx)
    other_total = " + ".join(f"other.{name}" for name in TOKEN_COLUMNS)
    mine_total = " + ".join(f"usage_records.{name}" for name in TOKEN_COLUMNS)
    for placeholders, params in _in_chunks(ids):
        tx.execute(
            f"DELETE FROM usage_records WHERE {source_test} AND is_sidechain"
            f" AND message_id IN ({placeholders}) AND EXISTS (SELECT 1 FROM usage_records AS other"
            " WHERE other.source = :source AND other.message_id = usage_records.message_id"
            " AND other.id <> usage_records.id AND (NOT other.is_sidechain"
            f" OR ({other_total}) > ({mine_total})"
            f" OR (({other_total}) = ({mine_total}) AND other.id < usage_records.id)))",
            {"source": source, **params},
        )
        deleted += max(getattr(tx, "rowcount", 0) or 0, 0)
    return deleted


def replayed_message_ids(conn: RawTransaction | Any, source: str, among: Iterable[str] | None = None) -> set[str]:
    """Message ids stored more than once with a sidechain copy among them: the only candidates
    for replay clean-up (a subagent's own messages are sidechain rows too, but unique).

    `among` limits the search to those ids (an import's own): a few index lookups instead of a
    pass over every record of the source, which a large ledger made a tenth of a second or more
    on every live import. Past `REPLAY_LOOKUP_MAX` ids the one pass is cheaper.
    """
    tx = as_transaction(conn)
    having = "GROUP BY message_id HAVING COUNT(*) > 1 AND MAX(CASE WHEN is_sidechain THEN 1 ELSE 0 END) = 1"
    ids = sorted(set(among)) if among is not None else None
    if ids is None or len(ids) > REPLAY_LOOKUP_MAX:
        rows = tx.execute(
            f"SELECT message_id FROM usage_records WHERE source = :source AND message_id IS NOT NULL {having}",
            {"source": source},
        )
        found = {row[0] for row in rows}
        return found if ids is None else found & set(ids)
    source_test = _source_test(tx)
    found = set()
    for placeholders, params in _in_chunks(ids):
        rows = tx.execute(
            f"SELECT message_id FROM usage_records WHERE {source_test} AND message_id IN ({placeholders}) {having}",
            {"source": source, **params},
        )
        found.update(row[0] for row in rows)
    return found


def _source_test(tx: RawTransaction) -> str:
    """`source = :source` for a query that looks rows up by message id: on SQLite written
    `+source`, which keeps the planner from choosing the (source, ts) index and so reading every
    record of the source."""
    return "+source = :source" if tx.dialect == "sqlite" else "source = :source"


REPLAY_LOOKUP_MAX = 20_000
"""Up to this many message ids, replay candidates are looked up id by id (see above)."""
