"""Budget math: month-to-date spend, forecast to month end, pace, alerts once per threshold."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tokenworth.core.budget import (
    BudgetStatus,
    Pace,
    budget_status,
    due_alerts,
    forecast_path,
    run_rate,
)
from tokenworth.core.periods import last_month, parse_period, this_month

D = Decimal


def spend(start: date, amounts: list[str]) -> dict[date, Decimal]:
    return {start + timedelta(days=n): D(a) for n, a in enumerate(amounts)}


def test_forecast_is_the_run_rate_of_the_days_so_far_in_the_first_week() -> None:
    status = budget_status(spend(date(2026, 1, 1), ["10", "20", "0", "30"]), date(2026, 1, 4), D("500"))
    assert status.spent == D("60")
    assert status.days_elapsed == 4
    assert status.daily_rate == D("15")
    assert status.forecast == D("60") + D("15") * 27  # January has 31 days
    assert status.forecast == D("465")
    assert status.pace is Pace.ON_TRACK


def test_after_a_week_the_rate_weighs_in_the_last_seven_days() -> None:
    amounts = ["1"] * 7 + ["8"] * 7  # habits changed on the 8th
    status = budget_status(spend(date(2026, 2, 1), amounts), date(2026, 2, 14), D("100"))
    month_avg = D(63) / 14
    recent_avg = D(8)
    assert status.daily_rate == ((month_avg + recent_avg) / 2).quantize(D("1e-10"))
    assert status.daily_rate == D("6.25")
    assert status.forecast == D("63") + D("6.25") * 14
    assert status.pace is Pace.AHEAD


def test_rates_round_half_even_to_ledger_units() -> None:
    assert run_rate([D("1"), D("0"), D("0")]) == D("0.3333333333")
    status = budget_status(spend(date(2026, 4, 1), ["1", "0", "0"]), date(2026, 4, 3), None)
    assert status.forecast == D("1") + D("0.3333333333") * 27


def test_days_without_spend_count_as_zero_and_missing_days_too() -> None:
    status = budget_status({date(2026, 3, 2): D("9")}, date(2026, 3, 3), D("1000"))
    assert status.spent == D("9")
    assert status.daily_rate == D("3")


@pytest.mark.parametrize(
    ("spent", "budget", "pace"),
    [
        ("10", None, Pace.NO_BUDGET),
        ("10", "0", Pace.NO_BUDGET),
        ("100", "100", Pace.ON_TRACK),  # exactly the budget, on its last day: not over it
        ("100.01", "100", Pace.OVER),
        ("150", "100", Pace.OVER),
    ],
)
def test_pace_states(spent: str, budget: str | None, pace: Pace) -> None:
    status = budget_status({date(2026, 1, 31): D(spent)}, date(2026, 1, 31), None if budget is None else D(budget))
    assert status.pace is pace


def test_ahead_means_the_forecast_passes_the_budget_before_the_spend_does() -> None:
    status = budget_status(spend(date(2026, 1, 1), ["10"] * 10), date(2026, 1, 10), D("300"))
    assert status.forecast == D("310")
    assert status.pace is Pace.AHEAD
    status = budget_status(spend(date(2026, 1, 1), ["10"] * 10), date(2026, 1, 10), D("310"))
    assert status.pace is Pace.ON_TRACK


def test_forecast_path_runs_from_today_to_month_end() -> None:
    status = budget_status(spend(date(2026, 1, 1), ["2"] * 29), date(2026, 1, 29), D("100"))
    path = forecast_path(status)
    assert path[0] == (date(2026, 1, 29), D("58"))
    assert path[-1] == (date(2026, 1, 31), D("62"))
    assert len(path) == 3


def status_for(
    spent: str, forecast: str, budget: str = "100", month: date = date(2026, 1, 1), day: int = 15
) -> BudgetStatus:
    today = month.replace(day=day)
    return BudgetStatus(month, today, day, 31, D(spent), D(budget), D(0), D(forecast), Pace.ON_TRACK)


def test_an_alert_is_given_once_per_threshold_per_month() -> None:
    first = due_alerts(status_for("50", "85"), (80, 100), set())
    assert [(a.measure, a.threshold_pct) for a in first] == [("forecast", 80)]
    sent = {key for alert in first for key in alert.keys}
    assert due_alerts(status_for("55", "90"), (80, 100), sent) == []
    later = due_alerts(status_for("81", "130"), (80, 100), sent)
    assert [(a.measure, a.threshold_pct) for a in later] == [("spend", 80), ("forecast", 100)]
    sent |= {key for alert in later for key in alert.keys}
    assert due_alerts(status_for("90", "130"), (80, 100), sent) == []
    next_month = due_alerts(status_for("81", "81", month=date(2026, 2, 1)), (80, 100), sent)
    assert [(a.measure, a.threshold_pct) for a in next_month] == [("spend", 80)]


def test_only_the_highest_threshold_crossed_is_announced() -> None:
    alerts = due_alerts(status_for("120", "150"), (80, 100), set())
    assert [(a.measure, a.threshold_pct) for a in alerts] == [("spend", 100)]
    assert "2026-01:spend:80:100" in alerts[0].keys
    assert "2026-01:forecast:100:100" in alerts[0].keys
    assert "$120.00" in alerts[0].message


def test_a_forecast_alert_says_the_forecast_share_not_the_threshold() -> None:
    alerts = due_alerts(status_for("10", "61.07", budget="40"), (80, 100), set())
    assert [(a.measure, a.threshold_pct) for a in alerts] == [("forecast", 100)]
    assert alerts[0].keys == ("2026-01:forecast:80:40", "2026-01:forecast:100:40")
    assert alerts[0].title == "Forecast at 153% of your monthly budget"
    assert alerts[0].message == (
        "At this pace the month ends at $61.07, against a budget of $40.00 (alert set at 100%)."
    )


@pytest.mark.parametrize(
    ("forecast", "title"),
    [
        ("80", "Forecast at 80% of your monthly budget"),  # exactly at the threshold
        ("84.49", "Forecast at 84% of your monthly budget"),
        ("84.5", "Forecast at 85% of your monthly budget"),
        ("99.6", "Forecast at 99% of your monthly budget"),  # under budget never reads as 100%
        ("100", "Forecast at 100% of your monthly budget"),
        ("100.4", "Forecast at 100% of your monthly budget"),
        ("250", "Forecast at 250% of your monthly budget"),
    ],
)
def test_forecast_share_in_words(forecast: str, title: str) -> None:
    (alert,) = due_alerts(status_for("1", forecast), (80, 100), set())
    assert alert.title == title


def test_a_budget_raised_mid_month_alerts_again_at_its_own_thresholds() -> None:
    first = due_alerts(status_for("100", "100"), (80, 100), set())
    sent = {key for alert in first for key in alert.keys}
    assert due_alerts(status_for("120", "130"), (80, 100), sent) == []  # the same budget: said already
    raised = due_alerts(status_for("200", "210", budget="200"), (80, 100), sent)
    assert [(a.measure, a.threshold_pct) for a in raised] == [("spend", 100)]


def test_alerts_remembered_by_an_older_version_are_not_given_again() -> None:
    """Keys written before they carried the budget count for the month's alerts whatever it is."""
    assert due_alerts(status_for("85", "90"), (80, 100), {"2026-01:spend:80", "2026-01:forecast:80"}) == []


def test_a_forecast_from_the_first_days_raises_no_alert_yet() -> None:
    """A busy first morning times the month is no forecast: it waits for day 3, so it does not
    use up the month's forecast alert; spend alerts come at once."""
    assert due_alerts(status_for("3.6", "111.6", day=1), (80, 100), set()) == []
    assert due_alerts(status_for("3.6", "111.6", day=2), (80, 100), set()) == []
    [alert] = due_alerts(status_for("40", "115", day=3), (80, 100), set())
    assert (alert.measure, alert.threshold_pct) == ("forecast", 100)
    [spend] = due_alerts(status_for("90", "2790", day=1), (80, 100), set())
    assert (spend.measure, spend.threshold_pct) == ("spend", 80)


def test_spend_dated_after_today_counts_as_spent_and_the_forecast_never_falls_below_it() -> None:
    """A device whose clock runs ahead wrote tomorrow's date: the month has that spend already."""
    status = budget_status({date(2026, 12, 20): D("15")}, date(2026, 12, 3), D("10"))
    assert status.spent == D("15")
    assert status.forecast >= status.spent
    assert status.pace is Pace.OVER


def test_no_budget_no_alerts() -> None:
    status = budget_status({date(2026, 1, 1): D("1000")}, date(2026, 1, 1), None)
    assert due_alerts(status, (80, 100), set()) == []


def test_periods() -> None:
    today = date(2026, 1, 15)
    assert this_month(today).start == date(2026, 1, 1)
    assert this_month(today).end == date(2026, 1, 31)
    assert last_month(today).start == date(2025, 12, 1)
    assert parse_period("2024-02", today).end == date(2024, 2, 29)
    assert parse_period("last-month", today).kind == "last-month"
    with pytest.raises(ValueError, match="this-month, last-month"):
        parse_period("yesterday", today)
