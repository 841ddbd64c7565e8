"""Estimated versus billed spend per day, provider and model (`tokenworth report reconcile`).

Three figures per row, never added together: the estimate from local agent logs (tokens x price),
the estimate from the provider's usage API (its buckets' tokens x price), and what was billed
(cost reports, plus rows whose source reports its own charge, like OpenRouter's activity). The
difference is billed minus the usage-API estimate, or minus the log estimate when the provider's
usage API is not polled. Bills are cut in UTC days, so days default to UTC here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, case, func, select, type_coerce

from tokenworth.core.db import Database
from tokenworth.core.models import CostProvenance, UsageRecord
from tokenworth.core.money import decimal_str, from_units
from tokenworth.core.provider_models import BilledCost
from tokenworth.core.timeutil import from_epoch_ms, local_day_start, to_epoch_ms, zone_name

API_SOURCES = frozenset({"openai", "anthropic", "openrouter"})
SLOT_MS = 900_000
"""Sums are taken per UTC quarter hour in SQL, then cut into the zone's days here."""


@dataclass
class Figure:
    """A sum of money that may be missing (no data) or partial (some records unpriced)."""

    units: int = 0
    records: int = 0
    unpriced: int = 0

    @property
    def present(self) -> bool:
        return self.records > 0

    @property
    def amount(self) -> Decimal | None:
        if not self.present or self.records == self.unpriced:
            return None
        return from_units(self.units)

    @property
    def complete(self) -> bool:
        return self.unpriced == 0

    def add(self, units: int | None, records: int, unpriced: int = 0) -> None:
        self.units += int(units or 0)
        self.records += records
        self.unpriced += unpriced

    def as_json(self) -> str | None:
        return decimal_str(self.amount)


@dataclass
class ReconcileRow:
    day: date
    provider: str
    model: str
    logs: Figure = field(default_factory=Figure)
    usage_api: Figure = field(default_factory=Figure)
    billed: Figure = field(default_factory=Figure)
    other_currencies: dict[str, Decimal] = field(default_factory=dict)

    @property
    def estimate(self) -> Figure:
        return self.usage_api if self.usage_api.present else self.logs

    @property
    def difference(self) -> Decimal | None:
        """Billed minus estimate; None when either side is missing."""
        billed, estimate = self.billed.amount, self.estimate.amount
        if billed is None or estimate is None:
            return None
        return billed - estimate

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "provider": self.provider,
            "model": self.model,
            "estimated_from_logs_usd": self.logs.as_json(),
            "estimated_from_usage_api_usd": self.usage_api.as_json(),
            "billed_usd": self.billed.as_json(),
            "difference_usd": decimal_str(self.difference),
            "estimate_complete": self.estimate.complete,
            "billed_other_currencies": {k: decimal_str(v) for k, v in sorted(self.other_currencies.items())},
        }


@dataclass
class ReconcileReport:
    zone: str
    since: date | None
    until: date | None
    rows: list[ReconcileRow]

    def totals(self) -> ReconcileRow:
        total = ReconcileRow(date.min, "", "Total")
        for row in self.rows:
            for mine, theirs in (
                (total.logs, row.logs),
                (total.usage_api, row.usage_api),
                (total.billed, row.billed),
            ):
                mine.add(theirs.units, theirs.records, theirs.unpriced)
        return total

    def as_json(self) -> dict[str, Any]:
        totals = self.totals()
        return {
            "report": "reconcile",
            "time_zone": self.zone,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "rows": [row.as_json() for row in self.rows],
            "totals": {
                "estimated_from_logs_usd": totals.logs.as_json(),
                "estimated_from_usage_api_usd": totals.usage_api.as_json(),
                "billed_usd": totals.billed.as_json(),
            },
        }


def billed_label(model: str | None, line_item: str | None, cost_type: str | None) -> str:
    """What a billed line is shown under: its model, else its line item in parentheses."""
    if model:
        return model
    return f"({line_item or cost_type or 'other charges'})"


def reconcile_report(
    db: Database,
    *,
    zone: tzinfo,
    since: date | None = None,
    until: date | None = None,
    sources: Sequence[str] | None = None,
) -> ReconcileReport:
    """Per day (in `zone`), provider and model: estimate from logs, from usage APIs, and billed."""
    start = to_epoch_ms(local_day_start(since, zone)) if since else None
    end = to_epoch_ms(local_day_start(until + timedelta(days=1), zone)) if until else None
    rows: dict[tuple[date, str, str], ReconcileRow] = {}
    day_of_slot: dict[int, date] = {}

    def row_for(slot: int, provider: str, model: str) -> ReconcileRow:
        day = day_of_slot.get(slot)
        if day is None:
            day = day_of_slot[slot] = from_epoch_ms(slot).astimezone(zone).date()
        key = (day, provider, model)
        if key not in rows:
            rows[key] = ReconcileRow(day, provider, model)
        return rows[key]

    c = UsageRecord.__table__.c
    ts = type_coerce(c.ts, BigInteger)
    slot = (ts - ts % SLOT_MS).label("slot")
    reported = c.cost_provenance == CostProvenance.REPORTED
    query = select(
        slot,
        c.source,
        c.provider,
        c.model,
        func.sum(case((reported, 0), else_=type_coerce(c.cost, BigInteger))).label("estimate"),
        func.sum(case((reported, type_coerce(c.estimated_cost, BigInteger)), else_=0)).label("reported_estimate"),
        func.sum(case((reported, type_coerce(c.cost, BigInteger)), else_=0)).label("billed"),
        func.sum(case((reported, 1), else_=0)).label("reported_rows"),
        func.sum(case((reported, case((c.estimated_cost.is_(None), 1), else_=0)), else_=0)).label("reported_unpriced"),
        func.sum(case((c.cost.is_(None), 1), else_=0)).label("unpriced"),
        func.count().label("records"),
    ).group_by(slot, c.source, c.provider, c.model)
    b = BilledCost.__table__.c
    bts = type_coerce(b.ts, BigInteger)
    bslot = (bts - bts % SLOT_MS).label("slot")
    billed_query = select(
        bslot,
        b.provider,
        b.model,
        b.line_item,
        b.cost_type,
        b.currency,
        func.sum(type_coerce(b.amount, BigInteger)).label("amount"),
        func.count().label("records"),
    ).group_by(bslot, b.provider, b.model, b.line_item, b.cost_type, b.currency)
    if start is not None:
        query = query.where(ts >= start)
        billed_query = billed_query.where(bts >= start)
    if end is not None:
        query = query.where(ts < end)
        billed_query = billed_query.where(bts < end)
    if sources:
        query = query.where(c.source.in_(list(sources)))
        billed_query = billed_query.where(b.source.in_(list(sources)))

    with db.engine.connect() as conn:
        usage = conn.execute(query).all()
        billed = conn.execute(billed_query).all()
    for record in usage:
        row = row_for(int(record.slot), record.provider, record.model)
        records, reported_rows = int(record.records), int(record.reported_rows or 0)
        if record.source in API_SOURCES:
            row.usage_api.add(record.estimate, records - reported_rows, int(record.unpriced or 0))
            if reported_rows:
                row.usage_api.add(record.reported_estimate, reported_rows, int(record.reported_unpriced or 0))
                row.billed.add(record.billed, reported_rows)
        else:
            row.logs.add((record.estimate or 0) + (record.billed or 0), records, int(record.unpriced or 0))
    for record in billed:
        row = row_for(int(record.slot), record.provider, billed_label(record.model, record.line_item, record.cost_type))
        if record.currency.upper() == "USD":
            row.billed.add(record.amount, int(record.records))
        else:
            currency = record.currency.upper()
            row.other_currencies[currency] = row.other_currencies.get(currency, Decimal(0)) + from_units(
                int(record.amount or 0)
            )
    ordered = sorted(rows.values(), key=lambda r: (r.day, r.provider, r.model))
    return ReconcileReport(zone=zone_name(zone), since=since, until=until, rows=ordered)
