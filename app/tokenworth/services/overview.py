"""The numbers behind the tray and dashboard: one call, run in a worker, returns ready series.

Charts only draw what this returns (no SQL while drawing). The tables reuse `usage_report`, so
they show exactly what `tokenworth report models/projects` prints. Task value and TFP come from
an optional `ValueSource` (the tasks service plugs in there); without it they stay empty.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from tokenworth.core.budget import BudgetStatus, budget_status, forecast_path
from tokenworth.core.db import Database
from tokenworth.core.money import from_units
from tokenworth.core.periods import Period, this_month
from tokenworth.core.timeutil import from_epoch_ms, zone_name
from tokenworth.services.reports import UsageReport, usage_report


@dataclass(frozen=True)
class OverviewQuery:
    """What the dashboard asks for: a period and optional source/project filters."""

    period: Period
    sources: tuple[str, ...] | None = None
    projects: tuple[str, ...] | None = None


@dataclass(frozen=True)
class WeeklyTfp:
    """Value and cost of the tasks of one week (starting Monday); TFP = value / cost."""

    week_start: date
    value: Decimal
    cost: Decimal

    @property
    def tfp(self) -> Decimal | None:
        return None if self.cost <= 0 else self.value / self.cost


@dataclass(frozen=True)
class TaskPoint:
    """One valued task for the value-against-cost scatter."""

    title: str
    category: str
    cost: Decimal
    value: Decimal

    @property
    def tfp(self) -> Decimal | None:
        return None if self.cost <= 0 else self.value / self.cost


@dataclass(frozen=True)
class ValueOverview:
    """Task value for the period (from the tasks service, phase 2)."""

    tfp: Decimal | None = None
    """TFP of the queried period (dashboard card)."""
    month_tfp: Decimal | None = None
    """TFP of the current month, whatever the query (tray tooltip)."""
    weekly: tuple[WeeklyTfp, ...] = ()
    tasks: tuple[TaskPoint, ...] = ()
    tfp_detail: str = ""
    """What `tfp` divides (shown under it on the dashboard), e.g. "value ÷ all spend"."""


ValueSource = Callable[[Database, OverviewQuery, tzinfo], ValueOverview]
"""Hook: computes task value and TFP for a query, in the worker, with its own session."""


@dataclass
class SpendOverview:
    """Everything one dashboard refresh shows, computed in one unit of work."""

    query: OverviewQuery
    zone: str
    today: date
    days: list[date]
    daily_by_model: dict[str, list[Decimal]]
    """Model -> cost per day of `days` (models ordered by cost in the period, highest first)."""
    daily_total: list[Decimal]
    cumulative: list[Decimal]
    """Running total per day, up to today when the period runs into the future."""
    models: UsageReport
    projects: UsageReport
    month: BudgetStatus
    """The current month, all sources and projects: the tray's view."""
    period_status: BudgetStatus | None
    """The filtered current month, when the period is it: drives the forecast line."""
    forecast: list[tuple[date, Decimal]]
    sources_seen: list[str]
    projects_seen: list[str]
    records_total: int
    value: ValueOverview = field(default_factory=ValueOverview)
    latest_usage: date | None = None
    """The local day of the newest record in the ledger (None when it holds none)."""

    @property
    def budget(self) -> Decimal | None:
        return self.month.budget

    @property
    def period_cost(self) -> Decimal:
        return from_units(self.models.totals.cost_units)

    @property
    def unpriced_models(self) -> list[str]:
        return sorted(self.models.totals.unpriced_models)


def daily_costs(report: UsageReport) -> dict[date, dict[str, Decimal]]:
    """Cost per local day and model from a daily report (unpriced records count as $0 here; they
    are named separately wherever totals are shown)."""
    result: dict[date, dict[str, Decimal]] = {}
    for row in report.rows:
        day = date.fromisoformat(row.key)
        result[day] = {model: from_units(totals.cost_units) for model, totals in row.by_model.items()}
    return result


def month_status(
    db: Database,
    today: date,
    zone: tzinfo,
    budget: Decimal | None,
    *,
    sources: Sequence[str] | None = None,
    projects: Sequence[str] | None = None,
) -> BudgetStatus:
    """The budget status of `today`'s month (local days in `zone`; spend dated after today too)."""
    month = this_month(today)
    report = usage_report(
        db, "daily", zone=zone, since=month.start, until=month.end, sources=sources, projects=projects
    )
    per_day = {day: sum(models.values(), Decimal(0)) for day, models in daily_costs(report).items()}
    return budget_status(per_day, today, budget, complete=report.totals.cost_complete)


def build_overview(
    db: Database,
    query: OverviewQuery,
    *,
    zone: tzinfo,
    now: datetime,
    budget: Decimal | None,
    value_source: ValueSource | None = None,
) -> SpendOverview:
    """Series, tables and budget status for `query`, as of `now`."""
    today = now.astimezone(zone).date()
    period = query.period
    sources = list(query.sources) if query.sources else None
    projects = list(query.projects) if query.projects else None
    daily = usage_report(
        db, "daily", zone=zone, since=period.start, until=period.end, sources=sources, projects=projects
    )
    models = usage_report(
        db, "models", zone=zone, since=period.start, until=period.end, sources=sources, projects=projects
    )
    project_report = usage_report(
        db, "projects", zone=zone, since=period.start, until=period.end, sources=sources, projects=projects
    )
    days = period.days
    per_day = daily_costs(daily)
    order = [row.key for row in models.rows]
    for models_of_day in per_day.values():
        for model in models_of_day:
            if model not in order:
                order.append(model)
    daily_by_model = {model: [per_day.get(day, {}).get(model, Decimal(0)) for day in days] for model in order}
    daily_total = [sum(per_day.get(day, {}).values(), Decimal(0)) for day in days]
    last_shown = min(period.end, today) if period.start <= today else period.end
    cumulative: list[Decimal] = []
    running = Decimal(0)
    later = Decimal(0)  # spend dated after today (a clock running ahead): spent already, as the budget counts it
    for day, cost in zip(days, daily_total, strict=True):
        if day > last_shown:
            later += cost
            continue
        running += cost
        cumulative.append(running)

    filtered = bool(sources or projects)
    is_current_month = period.is_whole_month and period.contains(today)
    if is_current_month and cumulative and later:
        cumulative[-1] += later  # the line ends where the forecast starts: at the month's spend
    period_status: BudgetStatus | None = None
    if is_current_month:
        period_status = budget_status(
            dict(zip(days, daily_total, strict=True)), today, budget, complete=daily.totals.cost_complete
        )
    month = period_status if period_status is not None and not filtered else month_status(db, today, zone, budget)
    seen_sources, seen_projects, records, newest = _seen(db)
    overview = SpendOverview(
        query=query,
        zone=zone_name(zone),
        today=today,
        days=days,
        daily_by_model=daily_by_model,
        daily_total=daily_total,
        cumulative=cumulative,
        models=models,
        projects=project_report,
        month=month,
        period_status=period_status,
        forecast=forecast_path(period_status) if period_status is not None else [],
        sources_seen=seen_sources,
        projects_seen=seen_projects,
        records_total=records,
        latest_usage=None if newest is None else newest.astimezone(zone).date(),
    )
    if value_source is not None:
        overview.value = value_source(db, query, zone)
    return overview


def _as_moment(value: Any) -> datetime:
    return value if isinstance(value, datetime) else from_epoch_ms(int(value))


def _seen(db: Database) -> tuple[list[str], list[str], int, datetime | None]:
    """Sources and projects in the ledger (for the filters), the record count and the newest
    record's time (its 15-minute slot on SQLite).

    On SQLite they come from the trigger-kept rollup (see core.rollup): scanning every record for
    them took most of a dashboard refresh on a year of history.
    """
    table, records = ("usage_rollup", "SUM(records)") if db.dialect == "sqlite" else ("usage_records", "COUNT(*)")
    # sorted here, not by ORDER BY: the same order (by code point) whatever a server's collation
    sources = sorted(row[0] for row in db.fetch(f"SELECT DISTINCT source FROM {table}"))
    projects = sorted(row[0] for row in db.fetch(f"SELECT DISTINCT project FROM {table} WHERE project <> ''"))
    total = int(db.fetch(f"SELECT {records} FROM {table}")[0][0] or 0)
    newest = db.fetch(f"SELECT MAX({'slot_ms' if table == 'usage_rollup' else 'ts'}) FROM {table}")[0][0]
    return sources, projects, total, None if newest is None else _as_moment(newest)
