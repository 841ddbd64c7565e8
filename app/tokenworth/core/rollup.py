"""The usage rollup: tokens and cost per 15-minute slot, source, provider, model and project.

Reports of days, weeks, months, models and projects read this small table instead of scanning
every record: a year of history is a few thousand rows. On SQLite, triggers on `usage_records`
keep it exact through every insert, update and delete, whoever writes (imports, polls, re-prices,
replay clean-up); other databases do not maintain it and reports read the records themselves.
"""

from __future__ import annotations

SLOT_MS = 900_000
"""15 minutes: every time zone's offset is a multiple of it, so any local day is whole slots."""

_SUMS = (
    ("input_tokens", "input_tokens"),
    ("output_tokens", "output_tokens"),
    ("cache_read_tokens", "cache_read_tokens"),
    ("cache_write_tokens", "cache_write_5m_tokens + {row}.cache_write_1h_tokens"),
    ("reasoning_tokens", "reasoning_tokens"),
    ("requests", "request_count"),
)
_KEY = "slot_ms, source, provider, model, project"


def _values(row: str) -> str:
    sums = ", ".join(f"{row}.{expr.format(row=row)}" for _name, expr in _SUMS)
    return (
        f"{row}.ts - {row}.ts % {SLOT_MS}, {row}.source, {row}.provider, {row}.model, COALESCE({row}.project, ''),"
        f" {sums}, 1, COALESCE({row}.cost, 0), CASE WHEN {row}.cost IS NULL THEN 1 ELSE 0 END"
    )


_COLUMNS = f"{_KEY}, {', '.join(name for name, _expr in _SUMS)}, records, cost, unpriced"
_ACCUMULATE = f" ON CONFLICT ({_KEY}) DO UPDATE SET " + ", ".join(
    f"{name} = {name} + excluded.{name}" for name in (*(name for name, _expr in _SUMS), "records", "cost", "unpriced")
)


def _add(row: str) -> str:
    return f"INSERT INTO usage_rollup ({_COLUMNS}) VALUES ({_values(row)}){_ACCUMULATE};"


def _remove(row: str) -> str:
    updates = ", ".join(f"{name} = {name} - ({row}.{expr.format(row=row)})" for name, expr in _SUMS)
    where = (
        f"slot_ms = {row}.ts - {row}.ts % {SLOT_MS} AND source = {row}.source AND provider = {row}.provider"
        f" AND model = {row}.model AND project = COALESCE({row}.project, '')"
    )
    return (
        f"UPDATE usage_rollup SET {updates}, records = records - 1, cost = cost - COALESCE({row}.cost, 0),"
        f" unpriced = unpriced - CASE WHEN {row}.cost IS NULL THEN 1 ELSE 0 END WHERE {where};"
        f" DELETE FROM usage_rollup WHERE {where} AND records = 0;"
    )


_WATCHED = (
    "ts, source, provider, model, project, input_tokens, output_tokens, cache_read_tokens, cache_write_5m_tokens,"
    " cache_write_1h_tokens, reasoning_tokens, request_count, cost"
)

SQLITE_TRIGGERS = (
    f"CREATE TRIGGER usage_rollup_insert AFTER INSERT ON usage_records BEGIN {_add('NEW')} END",
    f"CREATE TRIGGER usage_rollup_delete AFTER DELETE ON usage_records BEGIN {_remove('OLD')} END",
    f"CREATE TRIGGER usage_rollup_update AFTER UPDATE OF {_WATCHED} ON usage_records"
    f" BEGIN {_remove('OLD')} {_add('NEW')} END",
)
"""The triggers that keep `usage_rollup` equal to a GROUP BY over `usage_records` (SQLite)."""


def _grouped(where: str) -> str:
    """INSERT of the records matching `where`, summed per rollup row."""
    return (
        f"INSERT INTO usage_rollup ({_COLUMNS})"
        f" SELECT ts - ts % {SLOT_MS}, source, provider, model, COALESCE(project, ''),"
        " SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens),"
        " SUM(cache_write_5m_tokens + cache_write_1h_tokens), SUM(reasoning_tokens), SUM(request_count),"
        " COUNT(*), COALESCE(SUM(cost), 0), SUM(CASE WHEN cost IS NULL THEN 1 ELSE 0 END)"
        f" FROM usage_records {where}GROUP BY ts - ts % {SLOT_MS}, source, provider, model, COALESCE(project, '')"
    )


BACKFILL = _grouped("")
"""Fills the rollup from the records already stored (once, when the table is created)."""

INSERT_TRIGGER_NAME = "usage_rollup_insert"

ADD_RECORDS_AFTER = _grouped("WHERE id > :after_id ") + _ACCUMULATE
"""Adds the records with an id above `:after_id` to the rollup, in one grouped statement.

The bulk path of an import: the per-row insert trigger costs more than the insert itself, so a
large batch is written with that trigger dropped (inside the same transaction) and its new rows
are added here. Updated rows keep their id and still go through the update trigger.
"""
