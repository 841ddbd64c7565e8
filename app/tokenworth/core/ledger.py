"""Writing usage records: one upsert per batch, keyed by the source's dedupe key.

A re-import or a re-poll updates a record in place, never counts it twice. Two policies:
`fullest` keeps the row with the most tokens (Claude Code streams partial rows first) and
`latest` keeps the newest (Gemini re-appends changed messages; providers restate buckets).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from sqlalchemy import Connection, Table, and_, delete, exists, or_, select
from sqlalchemy.orm import aliased

from tokenworth.core.models import UsageRecord

ConflictPolicy = Literal["fullest", "latest"]

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

_table: Table = UsageRecord.__table__  # type: ignore[assignment]


def row_total(row: dict[str, Any]) -> int:
    return sum(int(row[name]) for name in TOKEN_COLUMNS)


def _keep_new(old: dict[str, Any], new: dict[str, Any], policy: ConflictPolicy) -> bool:
    if policy == "latest":
        return True
    if old["is_sidechain"] and not new["is_sidechain"]:
        return True
    old_total, new_total = row_total(old), row_total(new)
    if new_total != old_total:
        return new_total > old_total
    return bool(new.get("speed")) and not old.get("speed")


def collapse(rows: Iterable[dict[str, Any]], policy: ConflictPolicy) -> list[dict[str, Any]]:
    """One row per dedupe key within a batch, by the same rule the database applies."""
    kept: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = row["dedupe_key"]
        old = kept.get(key)
        if old is None or _keep_new(old, row, policy):
            kept[key] = row
    return list(kept.values())


def upsert_rows(conn: Connection, rows: Sequence[dict[str, Any]], policy: ConflictPolicy) -> None:
    """Insert rows, or update the stored row with the same dedupe key when the policy says so."""
    if not rows:
        return
    rows = collapse(rows, policy)
    dialect = conn.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    else:
        _upsert_portable(conn, rows, policy)
        return
    stmt = insert(_table)
    excluded = stmt.excluded
    current = _table.c
    where = None
    if policy == "fullest":
        new_total = sum((excluded[name] for name in TOKEN_COLUMNS[1:]), excluded[TOKEN_COLUMNS[0]])
        old_total = sum((current[name] for name in TOKEN_COLUMNS[1:]), current[TOKEN_COLUMNS[0]])
        where = or_(
            new_total > old_total,
            and_(current.is_sidechain.is_(True), excluded.is_sidechain.is_(False)),
            and_(new_total == old_total, current.speed.is_(None), excluded.speed.is_not(None)),
        )
    stmt = stmt.on_conflict_do_update(
        index_elements=["dedupe_key"],
        set_={name: excluded[name] for name in _UPDATABLE},
        where=where,
    )
    conn.execute(stmt, list(rows))


def _upsert_portable(conn: Connection, rows: Sequence[dict[str, Any]], policy: ConflictPolicy) -> None:
    """Select-then-write for databases without ON CONFLICT (slower, same result)."""
    keys = [row["dedupe_key"] for row in rows]
    stored: dict[str, dict[str, Any]] = {}
    for chunk_start in range(0, len(keys), 500):
        chunk = keys[chunk_start : chunk_start + 500]
        for found in conn.execute(select(_table).where(_table.c.dedupe_key.in_(chunk))).mappings():
            stored[found["dedupe_key"]] = dict(found)
    inserts = [row for row in rows if row["dedupe_key"] not in stored]
    if inserts:
        conn.execute(_table.insert(), inserts)
    for row in rows:
        old = stored.get(row["dedupe_key"])
        if old is not None and _keep_new(old, row, policy):
            conn.execute(
                _table.update()
                .where(_table.c.dedupe_key == row["dedupe_key"])
                .values({name: row[name] for name in _UPDATABLE})
            )


def drop_sidechain_replays(conn: Connection, source: str, message_ids: Iterable[str]) -> int:
    """Delete sidechain copies of a response already counted under another request id.

    A sidechain transcript can replay its parent's message (same message id, another request
    id); the parent's copy is kept, or among sidechain copies the fullest, then the oldest.
    """
    ids = sorted({mid for mid in message_ids if mid})
    if not ids:
        return 0
    other = aliased(UsageRecord)
    me = UsageRecord
    my_total = sum((getattr(me, name) for name in TOKEN_COLUMNS[1:]), getattr(me, TOKEN_COLUMNS[0]))
    other_total = sum((getattr(other, name) for name in TOKEN_COLUMNS[1:]), getattr(other, TOKEN_COLUMNS[0]))
    deleted = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        better_copy = exists().where(
            other.source == source,
            other.message_id == me.message_id,
            other.id != me.id,
            or_(
                other.is_sidechain.is_(False),
                other_total > my_total,
                and_(other_total == my_total, other.id < me.id),
            ),
        )
        result = conn.execute(
            delete(me)
            .where(me.source == source, me.is_sidechain.is_(True), me.message_id.in_(chunk), better_copy)
            .execution_options(synchronize_session=False)
        )
        deleted += result.rowcount or 0
    return deleted
