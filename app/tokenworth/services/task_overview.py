"""Task value for the dashboard and tray: TFP, TFP per week and valued tasks, as `report value` says.

- A whole-month period shows that month's value report (`tokenworth report value --month M`):
  its task rows (value and cost in that month) and its total TFP, unattributed spend included.
- A custom range adds up the value reports of the months it touches (the report works in whole
  months) and says so in `tfp_detail`.
- The month TFP (tray tooltip) is the current month's total TFP, whatever the query.
- No valued task in the period: no TFP (None), rather than the report's 0.00× of no value.
- TFP per week: tasks grouped by the local week they ended in (the running one: where it
  started), each with its whole value and API-equivalent cost (`tokenworth task list`'s figures).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from decimal import Decimal

from tokenworth.core.db import Database
from tokenworth.core.money import format_usd
from tokenworth.core.periods import Period
from tokenworth.core.timeutil import month_key, utc_now
from tokenworth.services.overview import OverviewQuery, TaskPoint, ValueOverview, WeeklyTfp
from tokenworth.services.tasks import list_tasks
from tokenworth.services.value_report import ValueFigures, ValueReport, value_report

WEEKS_BEFORE_PERIOD = 5
"""The TFP-per-week chart also shows this many weeks before the period, so a trend is visible."""


def months_of(period: Period) -> list[tuple[int, int]]:
    """The (year, month) pairs a period touches, in order."""
    months: list[tuple[int, int]] = []
    year, month = period.start.year, period.start.month
    while (year, month) <= (period.end.year, period.end.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


@dataclass
class _TaskSum:
    title: str
    category: str
    figures: ValueFigures = field(default_factory=ValueFigures)


def _task_points(reports: list[ValueReport]) -> tuple[TaskPoint, ...]:
    """Valued tasks of the reports (one point per task; a task in two months adds up)."""
    by_task: dict[int, _TaskSum] = {}
    for report in reports:
        for row in report.rows:
            task = row.key["task"]
            entry = by_task.setdefault(task["id"], _TaskSum(task["title"], row.key.get("category") or ""))
            entry.figures.add(row.figures)
    points = []
    for entry in by_task.values():
        value = entry.figures.value
        if value is None:
            continue
        points.append(TaskPoint(entry.title, entry.category, entry.figures.cost or Decimal(0), value))
    points.sort(key=lambda point: (-point.cost, point.title))
    return tuple(points)


def _weekly(db: Database, period: Period, zone: tzinfo) -> tuple[WeeklyTfp, ...]:
    first = week_start(period.start) - timedelta(weeks=WEEKS_BEFORE_PERIOD)
    last = week_start(period.end)
    seen: set[int] = set()
    weeks: dict[date, list[Decimal]] = {}
    # Through the last week's Sunday: a week running into the next month keeps the tasks that end
    # there, so a week's TFP is the same whichever period shows it.
    for month in months_of(Period("custom", first, last + timedelta(days=6))):
        for task in list_tasks(db, month=month, zone=zone):
            if task.id in seen or task.value is None:
                continue
            seen.add(task.id)
            moment = task.started_at if task.ended_at is None else task.ended_at
            week = week_start(moment.astimezone(zone).date())
            if not first <= week <= last:
                continue
            sums = weeks.setdefault(week, [Decimal(0), Decimal(0)])
            sums[0] += task.value
            sums[1] += task.cost or Decimal(0)
    return tuple(WeeklyTfp(week, value, cost) for week, (value, cost) in sorted(weeks.items()))


def current_month(query: OverviewQuery, zone: tzinfo) -> tuple[int, int]:
    """The month the tray speaks of: the query's when it is "this month", else today's in `zone`."""
    if query.period.kind == "this-month":
        return query.period.start.year, query.period.start.month
    today = utc_now().astimezone(zone).date()
    return today.year, today.month


def value_overview(db: Database, query: OverviewQuery, zone: tzinfo) -> ValueOverview:
    """The `ValueSource` of the tray app (runs in the DB worker, one session per service call)."""
    months = months_of(query.period)
    reports = [value_report(db, month=month, zone=zone, by="task") for month in months]
    if len(reports) == 1:
        total = reports[0].total
    else:
        total = ValueFigures()
        for report in reports:
            total.add(report.total)
        total.unvalued_tasks = sum(report.total.unvalued_tasks for report in reports)
    figure = total.tfp
    valued = any(row.figures.value is not None for report in reports for row in report.rows)
    ratio = figure.ratio if valued else None
    if ratio is None:
        notes = {"no spend": "no spend yet", "unpriced": "spend not priced"}
        detail = notes.get(figure.note or "", "no valued tasks") if valued else "no valued tasks"
    else:
        unattributed = sum((r.unattributed.cost or Decimal(0) for r in reports), Decimal(0))
        detail = f"÷ all spend; {format_usd(unattributed)} not in a task"
        if not figure.complete:
            detail += " (incomplete)"
    if not query.period.is_whole_month:
        first, last = months[0], months[-1]
        span = month_key(*first) + ("" if first == last else f" to {month_key(*last)}")
        detail = f"whole months {span}: {detail}"
    this = current_month(query, zone)
    if months == [this]:
        month_tfp = ratio
    else:
        month = value_report(db, month=this, zone=zone, by="task")
        has_value = any(row.figures.value is not None for row in month.rows)
        month_tfp = month.total.tfp.ratio if has_value else None
    return ValueOverview(
        tfp=ratio,
        month_tfp=month_tfp,
        weekly=_weekly(db, query.period, zone),
        tasks=_task_points(reports),
        tfp_detail=detail,
    )
