"""Usage reports (daily, weekly, monthly, models, projects, sessions), shared by CLI and UI.

The database sums tokens and cost per time slot (UTC, 15 minutes or an hour, whichever the zone's
offsets allow) and per model; days, weeks and months are then cut in the user's zone here, so a
day is the user's day on every database engine. Unpriced usage is counted and named, never $0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import BigInteger, case, func, select, type_coerce

from tokenworth.core.db import Database
from tokenworth.core.models import UsageRecord
from tokenworth.core.money import decimal_str, from_units
from tokenworth.core.timeutil import from_epoch_ms, local_day_start, to_epoch_ms, zone_name

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


def _slot_ms(zone: tzinfo, since: datetime | None, until: datetime | None) -> int:
    """One hour when the zone's offsets are whole hours over the range, else 15 minutes."""
    moments = [datetime.now(UTC)] + [m for m in (since, until) if m is not None]
    for moment in moments:
        offset = moment.astimezone(zone).utcoffset() or timedelta(0)
        if offset.total_seconds() % 3600:
            return 900_000
    return 3_600_000


def _period_key(kind: ReportKind, day: date) -> str:
    if kind == "daily":
        return day.isoformat()
    if kind == "weekly":
        return (day - timedelta(days=day.weekday())).isoformat()
    return f"{day.year:04d}-{day.month:02d}"


def _totals_from(row: Any) -> UsageTotals:
    unpriced = int(row.unpriced or 0)
    records = int(row.records or 0)
    return UsageTotals(
        input_tokens=int(row.input_tokens or 0),
        output_tokens=int(row.output_tokens or 0),
        cache_read_tokens=int(row.cache_read_tokens or 0),
        cache_write_tokens=int(row.cache_write_tokens or 0),
        reasoning_tokens=int(row.reasoning_tokens or 0),
        requests=int(row.requests or 0),
        records=records,
        cost_units=int(row.cost_units or 0),
        priced_records=records - unpriced,
        unpriced_records=unpriced,
        unpriced_models={row.model} if unpriced else set(),
    )


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
    """Tokens and cost grouped by `kind`; `since`/`until` are inclusive local dates."""
    table = UsageRecord.__table__
    c = table.c
    ts = type_coerce(c.ts, BigInteger)
    cost = type_coerce(c.cost, BigInteger)
    start = local_day_start(since, zone) if since else None
    end = local_day_start(until + timedelta(days=1), zone) if until else None
    measures = [
        func.sum(c.input_tokens).label("input_tokens"),
        func.sum(c.output_tokens).label("output_tokens"),
        func.sum(c.cache_read_tokens).label("cache_read_tokens"),
        func.sum(c.cache_write_5m_tokens + c.cache_write_1h_tokens).label("cache_write_tokens"),
        func.sum(c.reasoning_tokens).label("reasoning_tokens"),
        func.sum(c.request_count).label("requests"),
        func.count().label("records"),
        func.sum(cost).label("cost_units"),
        func.sum(case((c.cost.is_(None), 1), else_=0)).label("unpriced"),
    ]
    group_cols: list[Any]
    if kind in _TIME_KINDS:
        slot_ms = _slot_ms(zone, start, end)
        slot = (ts - ts % slot_ms).label("slot")
        group_cols = [slot, c.model]
    elif kind == "models":
        group_cols = [c.model, c.provider]
    elif kind == "projects":
        group_cols = [c.project, c.model]
    else:
        group_cols = [c.session_id, c.source, c.project, c.model]
        measures += [func.min(ts).label("first_ms"), func.max(ts).label("last_ms")]
    query = select(*group_cols, *measures).group_by(*group_cols)
    if start is not None:
        query = query.where(ts >= to_epoch_ms(start))
    if end is not None:
        query = query.where(ts < to_epoch_ms(end))
    if sources:
        query = query.where(c.source.in_(list(sources)))
    if projects:
        query = query.where(c.project.in_(list(projects)))

    rows: dict[str, ReportRow] = {}
    day_of_slot: dict[int, date] = {}
    with db.engine.connect() as conn:
        result = conn.execute(query).all()
    for record in result:
        totals = _totals_from(record)
        if kind in _TIME_KINDS:
            slot_start = int(record.slot)
            day = day_of_slot.get(slot_start)
            if day is None:
                day = from_epoch_ms(slot_start).astimezone(zone).date()
                day_of_slot[slot_start] = day
            key = _period_key(kind, day)
        elif kind == "models":
            key = record.model
        elif kind == "projects":
            key = record.project or "(no project)"
        else:
            key = record.session_id or "(no session)"
        row = rows.get(key)
        if row is None:
            row = rows[key] = ReportRow(key)
        row.totals.add(totals)
        if kind in _TIME_KINDS or kind in ("projects", "sessions"):
            model_totals = row.by_model.setdefault(record.model, UsageTotals())
            model_totals.add(totals)
        if kind == "models":
            row.extra["provider"] = record.provider
        if kind == "sessions":
            _merge_session_extra(row, record, zone)

    ordered = (
        [rows[key] for key in sorted(rows)]
        if kind in _TIME_KINDS
        else sorted(rows.values(), key=lambda r: (-(r.totals.cost_units), r.key))
    )
    if kind == "sessions":
        ordered.sort(key=lambda r: r.extra.get("last_activity") or "", reverse=True)
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


def _merge_session_extra(row: ReportRow, record: Any, zone: tzinfo) -> None:
    first = from_epoch_ms(int(record.first_ms)).astimezone(zone).isoformat(timespec="seconds")
    last = from_epoch_ms(int(record.last_ms)).astimezone(zone).isoformat(timespec="seconds")
    extra = row.extra
    extra["source"] = record.source
    extra["project"] = record.project
    if "first_activity" not in extra or first < extra["first_activity"]:
        extra["first_activity"] = first
    if "last_activity" not in extra or last > extra["last_activity"]:
        extra["last_activity"] = last


def unpriced_models(db: Database, *, since: datetime | None = None) -> list[tuple[str, str, int]]:
    """(provider, model, records) with no price: to be shown loudly wherever totals are."""
    c = UsageRecord.__table__.c
    query = select(c.provider, c.model, func.count()).where(c.cost.is_(None)).group_by(c.provider, c.model)
    if since is not None:
        query = query.where(type_coerce(c.ts, BigInteger) >= to_epoch_ms(since))
    with db.engine.connect() as conn:
        return [(row[0], row[1], int(row[2])) for row in conn.execute(query)]
