"""Usage reports (daily, weekly, monthly, models, projects, sessions), shared by CLI and UI.

The database sums tokens and cost per model and per time slot (UTC, 15 minutes or an hour,
whichever the zone's offsets allow) in plain SQL, so reports run on the fast read path; days,
weeks and months are then cut in the user's zone here, the same on every database engine.
Unpriced usage is counted and named, never $0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Literal

from tokenworth.core.db import Database
from tokenworth.core.money import decimal_str, from_units
from tokenworth.core.timeutil import from_epoch_ms, local_day_start, month_key, to_epoch_ms, zone_name

ReportKind = Literal["daily", "weekly", "monthly", "models", "projects", "sessions"]
REPORT_KINDS: tuple[ReportKind, ...] = ("daily", "weekly", "monthly", "models", "projects", "sessions")
KEY_NAMES: dict[str, str] = {
    "daily": "date",
    "weekly": "week",
    "monthly": "month",
    "models": "model",
    "projects": "project",
    "sessions": "session",
}
_TIME_KINDS = ("daily", "weekly", "monthly")


@dataclass
class UsageTotals:
    """Summed tokens and cost of a group of records."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    requests: int = 0
    records: int = 0
    cost_units: int = 0
    priced_records: int = 0
    unpriced_records: int = 0
    unpriced_models: set[str] = field(default_factory=set)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def cost(self) -> Decimal | None:
        """Cost of the priced records; None when nothing in the group has a price."""
        if self.priced_records == 0 and self.unpriced_records > 0:
            return None
        return from_units(self.cost_units)

    @property
    def cost_complete(self) -> bool:
        return self.unpriced_records == 0

    def add(self, other: UsageTotals) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cache_write_tokens += other.cache_write_tokens
        self.reasoning_tokens += other.reasoning_tokens
        self.requests += other.requests
        self.records += other.records
        self.cost_units += other.cost_units
        self.priced_records += other.priced_records
        self.unpriced_records += other.unpriced_records
        self.unpriced_models |= other.unpriced_models

    def as_json(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "total_tokens": self.total_tokens,
            "requests": self.requests,
            "cost_usd": decimal_str(self.cost),
            "cost_complete": self.cost_complete,
            "unpriced_models": sorted(self.unpriced_models),
        }


@dataclass
class ReportRow:
    key: str
    totals: UsageTotals = field(default_factory=UsageTotals)
    by_model: dict[str, UsageTotals] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class UsageReport:
    kind: ReportKind
    zone: str
    since: date | None
    until: date | None
    sources: list[str] | None
    rows: list[ReportRow]
    totals: UsageTotals

    @property
    def key_name(self) -> str:
        return KEY_NAMES[self.kind]

    def as_json(self) -> dict[str, Any]:
        rows = []
        for row in self.rows:
            item: dict[str, Any] = {self.key_name: row.key, **row.totals.as_json(), **row.extra}
            if self.kind in _TIME_KINDS:
                item["by_model"] = [
                    {"model": model, **totals.as_json()} for model, totals in sorted(row.by_model.items())
                ]
            rows.append(item)
        return {
            "report": self.kind,
            "time_zone": self.zone,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "sources": self.sources,
            "rows": rows,
            "totals": self.totals.as_json(),
        }


def _slot_ms(offsets: set[timedelta]) -> int:
    """One hour when every offset the range's days have is whole hours, else 15 minutes (Lord
    Howe Island is +11 in its summer, +10:30 in its winter)."""
    return 900_000 if any(offset.total_seconds() % 3600 for offset in offsets) else 3_600_000


_DAY_MS = 86_400_000
_OFFSET_PROBE = timedelta(days=1)


def _offsets_in_range(
    db: Database, table: str, time_column: str, zone: tzinfo, start: datetime | None, end: datetime | None
) -> set[timedelta]:
    """The zone's UTC offsets over the range that holds data (empty when none does).

    The offset is probed every day of the range and at both ends (a few hundred lookups for a
    year): a change that comes and goes within one day is the only one missed.
    """
    if start is None or end is None:
        ((low, high),) = db.fetch(f"SELECT MIN({time_column}), MAX({time_column}) FROM {table}")
        if low is None:
            return set()
        start = start or from_epoch_ms(int(low))
        end = end or from_epoch_ms(int(high))
    offsets = set()
    moment = start
    while moment < end:
        offsets.add(moment.astimezone(zone).utcoffset() or timedelta(0))
        moment += _OFFSET_PROBE
    offsets.add(end.astimezone(zone).utcoffset() or timedelta(0))
    return offsets


def _fixed_offset_ms(offsets: set[timedelta]) -> int | None:
    """The zone's UTC offset (ms) when it is the same all through the range, so that local days
    can be cut in SQL; None when it changes (daylight saving time) or there is no data."""
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    return int(offset.total_seconds() * 1000)


def _period_key(kind: ReportKind, day: date) -> str:
    if kind == "daily":
        return day.isoformat()
    if kind == "weekly":
        return (day - timedelta(days=day.weekday())).isoformat()
    return month_key(day.year, day.month)


_MEASURES = (
    "SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), "
    "SUM(cache_write_5m_tokens + cache_write_1h_tokens), SUM(reasoning_tokens), SUM(request_count), "
    "COUNT(*), SUM(cost), SUM(CASE WHEN cost IS NULL THEN 1 ELSE 0 END)"
)
_ROLLUP_MEASURES = (
    "SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_tokens),"
    " SUM(reasoning_tokens), SUM(requests), SUM(records), SUM(cost), SUM(unpriced)"
)
_MEASURE_COUNT = 9


def _totals_from(values: Sequence[Any], model: str) -> UsageTotals:
    input_tokens, output, cache_read, cache_write, reasoning, requests, records, cost, unpriced = values
    records = int(records or 0)
    unpriced = int(unpriced or 0)
    return UsageTotals(
        input_tokens=int(input_tokens or 0),
        output_tokens=int(output or 0),
        cache_read_tokens=int(cache_read or 0),
        cache_write_tokens=int(cache_write or 0),
        reasoning_tokens=int(reasoning or 0),
        requests=int(requests or 0),
        records=records,
        cost_units=int(cost or 0),
        priced_records=records - unpriced,
        unpriced_records=unpriced,
        unpriced_models={model} if unpriced else set(),
    )


def record_filter(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    sources: Sequence[str] | None = None,
    projects: Sequence[str] | None = None,
    time_column: str = "ts",
) -> tuple[str, dict[str, Any]]:
    """A WHERE clause (with `:name` parameters) selecting usage records (or rollup rows, whose
    time column is `slot_ms`); shared by reports."""
    clauses = ["1 = 1"]
    params: dict[str, Any] = {}
    if start is not None:
        clauses.append(f"{time_column} >= :start_ms")
        params["start_ms"] = to_epoch_ms(start)
    if end is not None:
        clauses.append(f"{time_column} < :end_ms")
        params["end_ms"] = to_epoch_ms(end)
    for column, values in (("source", sources), ("project", projects)):
        if values:
            names = [f"{column}_{index}" for index in range(len(values))]
            clauses.append(f"{column} IN ({', '.join(':' + name for name in names)})")
            params.update(zip(names, values, strict=True))
    return " AND ".join(clauses), params


def usage_report(
    db: Database,
    kind: ReportKind,
    *,
    zone: tzinfo,
    since: date | None = None,
    until: date | None = None,
    sources: Sequence[str] | None = None,
    projects: Sequence[str] | None = None,
) -> UsageReport:
    """Tokens and cost grouped by `kind`; `since`/`until` are inclusive local dates.

    On SQLite every kind but sessions reads the trigger-kept rollup (see core.rollup): the same
    sums, from a table a small fraction of the records' size.
    """
    start = local_day_start(since, zone) if since else None
    end = local_day_start(until + timedelta(days=1), zone) if until else None
    rolled = kind != "sessions" and db.dialect == "sqlite"
    table, time_column, measures = (
        ("usage_rollup", "slot_ms", _ROLLUP_MEASURES) if rolled else ("usage_records", "ts", _MEASURES)
    )
    where, params = record_filter(start=start, end=end, sources=sources, projects=projects, time_column=time_column)
    extra_measures = ""
    if kind in _TIME_KINDS:
        offsets = _offsets_in_range(db, table, time_column, zone, start, end)
        offset_ms = _fixed_offset_ms(offsets)
        if offset_ms is not None:  # days cut in SQL: one row per day and model, not per hour
            keys = f"{time_column} - ({time_column} + {offset_ms}) % {_DAY_MS}, model"
        else:
            slot_ms = _slot_ms(offsets)  # integers we chose: safe to inline
            keys = f"{time_column} - {time_column} % {slot_ms}, model"
    elif kind == "models":
        keys = "model, provider"
    elif kind == "projects":
        keys = "project, model"
    else:
        keys = "session_id, source, project, model"
        extra_measures = ", MIN(ts), MAX(ts)"
    key_count = keys.count(",") + 1
    sql = f"SELECT {keys}, {measures}{extra_measures} FROM {table} WHERE {where} GROUP BY {keys}"

    rows: dict[str, ReportRow] = {}
    day_of_slot: dict[int, date] = {}
    activity_ms: dict[str, tuple[int, int]] = {}  # sessions: first and last activity, compared as instants
    records = db.fetch(sql, params)
    if kind in ("models", "sessions"):  # a row's provider / source / project is its last group's: fix the order
        records.sort(key=lambda record: group_order(record[:key_count]))
    for record in records:
        group = record[:key_count]
        sums = record[key_count : key_count + _MEASURE_COUNT]
        model = group[-1] if kind != "models" else group[0]
        totals = _totals_from(sums, model)
        if kind in _TIME_KINDS:
            slot_start = int(group[0])
            day = day_of_slot.get(slot_start)
            if day is None:
                day = from_epoch_ms(slot_start).astimezone(zone).date()
                day_of_slot[slot_start] = day
            key = _period_key(kind, day)
        elif kind == "models":
            key = model
        else:
            key = group[0] or ("(no project)" if kind == "projects" else "(no session)")
        row = rows.get(key)
        if row is None:
            row = rows[key] = ReportRow(key)
        row.totals.add(totals)
        if kind != "models":
            row.by_model.setdefault(model, UsageTotals()).add(totals)
        if kind == "models":
            row.extra["provider"] = group[1]
        if kind == "sessions":
            first_ms, last_ms = (int(ms) for ms in record[key_count + _MEASURE_COUNT :])
            seen = activity_ms.get(key)
            if seen is not None:
                first_ms, last_ms = min(first_ms, seen[0]), max(last_ms, seen[1])
            activity_ms[key] = (first_ms, last_ms)
            row.extra.update(source=group[1], project=group[2])

    if kind in _TIME_KINDS:
        ordered = [rows[key] for key in sorted(rows)]
    else:
        ordered = sorted(rows.values(), key=lambda r: (-(r.totals.cost_units), r.key))
    if kind == "sessions":
        ordered.sort(key=lambda r: activity_ms[r.key][1], reverse=True)
        for row in ordered:
            first_ms, last_ms = activity_ms[row.key]
            row.extra["first_activity"] = _local_iso(first_ms, zone)
            row.extra["last_activity"] = _local_iso(last_ms, zone)
    for row in ordered:
        if kind in ("projects", "sessions"):
            row.extra["models"] = sorted(row.by_model)
    grand = UsageTotals()
    for row in ordered:
        grand.add(row.totals)
    return UsageReport(
        kind=kind,
        zone=zone_name(zone),
        since=since,
        until=until,
        sources=list(sources) if sources else None,
        rows=ordered,
        totals=grand,
    )


def group_order(values: Sequence[Any]) -> tuple[tuple[bool, Any], ...]:
    """A sort key for SQL group keys as SQLite orders them (NULL first, text by code point), so
    groups read in any order (PostgreSQL returns them unordered) are folded the same way."""
    return tuple((False, 0) if value is None else (True, value) for value in values)


def _local_iso(ms: int, zone: tzinfo) -> str:
    return from_epoch_ms(ms).astimezone(zone).isoformat(timespec="seconds")


def unpriced_models(db: Database, *, since: datetime | None = None) -> list[tuple[str, str, int]]:
    """(provider, model, records) with no price: to be shown loudly wherever totals are."""
    where, params = record_filter(start=since)
    sql = f"SELECT provider, model, COUNT(*) FROM usage_records WHERE cost IS NULL AND {where} GROUP BY provider, model"
    return sorted((row[0], row[1], int(row[2])) for row in db.fetch(sql, params))  # by code point, any collation
