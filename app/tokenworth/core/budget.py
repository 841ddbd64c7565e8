"""Monthly budget math: month-to-date spend, forecast to month end, pace, threshold alerts.

Forecast method (documented for users): a linear run rate over whole local days. Today counts as
a full day, so an early morning does not inflate the rate. From the eighth day on, the rate is
the mean of two averages, the month so far and the last seven days, so a change of habit shows
within a week without one busy day swinging the forecast:

    rate     = spent / days_elapsed                                   (days 1..7)
    rate     = (spent / days_elapsed + spent_last_7_days / 7) / 2     (day 8 on)
    forecast = spent + rate * (days_in_month - days_elapsed)

Spend dated after today (a device whose clock runs ahead) counts as spent, never as a forecast
below it. Rates and forecasts are rounded half-even to the ledger's 1e-10 USD, so results are
exact. A forecast from the first days of a month is a guess: it raises no alert before
`FORECAST_ALERTS_FROM_DAY` (spend alerts come at once).
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Literal

from tokenworth.core.money import format_usd
from tokenworth.core.timeutil import month_key

FORECAST_RECENT_DAYS = 7
"""The recent window (days) weighted into the run rate once the month is longer than it."""
DEFAULT_THRESHOLDS_PCT: tuple[int, ...] = (80, 100)
FORECAST_ALERTS_FROM_DAY = 3
"""A forecast alert waits for this day of the month: one busy first morning, times the month,
would otherwise use up the month's forecast alert before the forecast means anything."""
_QUANTUM = Decimal("1e-10")
_HUNDRED = Decimal(100)


class Pace(StrEnum):
    """Where the month stands against the budget; the tray icon's colour."""

    NO_BUDGET = "no-budget"
    ON_TRACK = "on-track"
    AHEAD = "ahead"  # the forecast for month end is over budget
    OVER = "over"  # already spent the whole budget

    @property
    def label(self) -> str:
        return {
            Pace.NO_BUDGET: "no budget set",
            Pace.ON_TRACK: "on track",
            Pace.AHEAD: "ahead of budget",
            Pace.OVER: "over budget",
        }[self]


@dataclass(frozen=True)
class BudgetStatus:
    """One month's spend against its budget, as of `today` (a local date)."""

    month_start: date
    today: date
    days_elapsed: int
    days_in_month: int
    spent: Decimal
    budget: Decimal | None
    daily_rate: Decimal
    forecast: Decimal
    pace: Pace
    complete: bool = True
    """False when part of the month's usage has no price: `spent` is then a floor (shown "$X+")."""

    @property
    def month_key(self) -> str:
        return month_key(self.month_start.year, self.month_start.month)

    @property
    def spent_pct(self) -> Decimal | None:
        return None if not self.budget else self.spent * _HUNDRED / self.budget

    @property
    def forecast_pct(self) -> Decimal | None:
        return None if not self.budget else self.forecast * _HUNDRED / self.budget

    @property
    def remaining(self) -> Decimal | None:
        return None if self.budget is None else self.budget - self.spent


def _q(amount: Decimal) -> Decimal:
    return amount.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)


def run_rate(daily_spend: Sequence[Decimal]) -> Decimal:
    """Dollars per day from the spend of each elapsed day of the month, oldest first."""
    elapsed = len(daily_spend)
    if elapsed == 0:
        return Decimal(0)
    spent = sum(daily_spend, Decimal(0))
    month_avg = spent / elapsed
    if elapsed <= FORECAST_RECENT_DAYS:
        return _q(month_avg)
    recent_avg = sum(daily_spend[-FORECAST_RECENT_DAYS:], Decimal(0)) / FORECAST_RECENT_DAYS
    return _q((month_avg + recent_avg) / 2)


def pace_of(spent: Decimal, forecast: Decimal, budget: Decimal | None) -> Pace:
    if budget is None or budget <= 0:
        return Pace.NO_BUDGET
    if spent > budget:  # exactly the budget is not over it (the export's status says the same)
        return Pace.OVER
    if forecast > budget:
        return Pace.AHEAD
    return Pace.ON_TRACK


def budget_status(
    daily_spend: Mapping[date, Decimal], today: date, budget: Decimal | None, *, complete: bool = True
) -> BudgetStatus:
    """The month of `today` from its spend per local day (days without spend may be missing;
    days after today count as spent, see the module's note)."""
    month_start = today.replace(day=1)
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    elapsed = today.day
    series = [daily_spend.get(month_start + timedelta(days=n), Decimal(0)) for n in range(elapsed)]
    later = [daily_spend.get(month_start + timedelta(days=n), Decimal(0)) for n in range(elapsed, days_in_month)]
    spent = sum(series, Decimal(0)) + sum(later, Decimal(0))
    rate = run_rate(series)
    forecast = _q(spent + rate * (days_in_month - elapsed))
    return BudgetStatus(
        month_start=month_start,
        today=today,
        days_elapsed=elapsed,
        days_in_month=days_in_month,
        spent=spent,
        budget=budget,
        daily_rate=rate,
        forecast=forecast,
        pace=pace_of(spent, forecast, budget),
        complete=complete,
    )


def forecast_path(status: BudgetStatus) -> list[tuple[date, Decimal]]:
    """The forecast line from today's spend to month end: one point per remaining day."""
    points = [(status.today, status.spent)]
    for n in range(1, status.days_in_month - status.days_elapsed + 1):
        points.append((status.today + timedelta(days=n), _q(status.spent + status.daily_rate * n)))
    return points


Measure = Literal["spend", "forecast"]


@dataclass(frozen=True)
class BudgetAlert:
    """A threshold crossed this month; `keys` are remembered so it is said once per month.

    `threshold_pct` is what triggered it; the forecast's words give the forecast's own share of
    the budget (a forecast at 153% is not "at 100%")."""

    measure: Measure
    threshold_pct: int
    amount: Decimal
    budget: Decimal
    keys: tuple[str, ...] = field(default=())

    @property
    def title(self) -> str:
        if self.measure == "spend":
            return f"{self.threshold_pct}% of your monthly budget spent"
        return f"Forecast at {self.share_pct}% of your monthly budget"

    @property
    def message(self) -> str:
        if self.measure == "spend":
            return f"You have spent {format_usd(self.amount)} of your {format_usd(self.budget)} budget."
        return (
            f"At this pace the month ends at {format_usd(self.amount)}, against a budget of "
            f"{format_usd(self.budget)} (alert set at {self.threshold_pct}%)."
        )

    @property
    def share_pct(self) -> int:
        """`amount` as a whole percentage of the budget, rounded half up, but never 100% or more
        for an amount still under the budget."""
        share = int((self.amount * _HUNDRED / self.budget).to_integral_value(rounding=ROUND_HALF_UP))
        return min(share, 99) if self.amount < self.budget else share


def alert_key(month_key: str, measure: Measure, threshold_pct: int, budget: Decimal) -> str:
    """What is remembered of an alert given: per month and budget, so a budget raised mid-month
    alerts again as its own thresholds are crossed."""
    return f"{month_key}:{measure}:{threshold_pct}:{budget.normalize():f}"


def _legacy_key(key: str) -> str:
    """The key without its budget, as versions before it remembered alerts."""
    return key.rsplit(":", 1)[0]


def due_alerts(status: BudgetStatus, thresholds_pct: Sequence[int], already_sent: Collection[str]) -> list[BudgetAlert]:
    """Alerts not yet given this month: at most one for spend and one for the forecast.

    Only the highest threshold crossed is announced (a first import at 120% says "100%", not
    "80%" then "100%"); lower ones are remembered with it. Spend crossing a threshold covers the
    forecast crossing it too (the forecast is never below the spend).
    """
    if status.budget is None or status.budget <= 0:
        return []
    budget = status.budget
    month = status.month_key
    ordered = sorted({int(t) for t in thresholds_pct if int(t) > 0})

    def crossed(amount: Decimal) -> list[int]:
        return [t for t in ordered if amount * 100 >= budget * t]

    alerts: list[BudgetAlert] = []
    spend_crossed = crossed(status.spent)
    covered: set[str] = set(already_sent)

    def given(key: str) -> bool:
        # A key remembered without its budget (an older version) is taken as for any budget.
        return key in covered or _legacy_key(key) in covered

    if spend_crossed:
        top = spend_crossed[-1]
        keys = [alert_key(month, m, t, budget) for t in spend_crossed for m in ("spend", "forecast")]
        if not given(alert_key(month, "spend", top, budget)):
            alerts.append(BudgetAlert("spend", top, status.spent, budget, tuple(keys)))
        covered.update(keys)
    forecast_crossed = crossed(status.forecast) if status.days_elapsed >= FORECAST_ALERTS_FROM_DAY else []
    if forecast_crossed:
        top = forecast_crossed[-1]
        if not given(alert_key(month, "forecast", top, budget)):
            keys = [alert_key(month, "forecast", t, budget) for t in forecast_crossed]
            alerts.append(BudgetAlert("forecast", top, status.forecast, budget, tuple(keys)))
    return alerts
