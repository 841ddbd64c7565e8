"""The tray app's value figures (services.task_overview) are `tokenworth report value`'s: month TFP,
task rows, TFP per week; custom ranges add up whole months; no valued task means no TFP."""

from __future__ import annotations

import json
from datetime import UTC, date
from decimal import Decimal
from pathlib import Path

from task_ledger import at, known_events, write_events
from tokenworth.core.config import resolve_paths
from tokenworth.core.db import Database, open_database
from tokenworth.core.periods import custom_period, month_period, this_month
from tokenworth.services.overview import OverviewQuery, TaskPoint, WeeklyTfp
from tokenworth.services.task_overview import months_of, value_overview
from tokenworth.services.tasks import Assignment, TaskDraft, log_task

JANUARY = month_period(2026, 1)


def fill(db: Database) -> None:
    write_events(db, known_events())
    log_task(db, TaskDraft("Feature A", Decimal(30), at(5, 10), at(5, 11), category="coding"))
    log_task(db, TaskDraft("Codex work", Decimal(0), category="research", assignments=(Assignment(session_id="S2"),)))
    log_task(db, TaskDraft("Spike", Decimal(50), at(20, 8), at(20, 10), category="research"))
    log_task(db, TaskDraft("Unvalued", None, at(12, 8), at(12, 9)))


def test_the_month_figures_are_the_value_reports(home: Path, cli) -> None:
    db = open_database(resolve_paths().db_url)
    try:
        fill(db)
        value = value_overview(db, OverviewQuery(JANUARY), UTC)
    finally:
        db.dispose()
    report = json.loads(cli("report", "value", "--month", "2026-01", "--json", "--no-import", "--tz", "UTC").out)
    assert value.tfp == Decimal(report["totals"]["tfp"])
    rows = {row["task"]["title"]: row for row in report["rows"]}
    points = {point.title: point for point in value.tasks}
    assert set(points) == {"Feature A", "Codex work", "Spike"}  # "Unvalued" has no value to plot
    for title, point in points.items():
        assert point.cost == Decimal(rows[title]["cost_usd"])
        assert point.value == Decimal(rows[title]["value_usd"])
    assert points["Feature A"] == TaskPoint("Feature A", "coding", Decimal("7.6"), Decimal(30))
    assert "not in a task" in value.tfp_detail
    assert "(incomplete)" in value.tfp_detail  # unpriced usage and an unvalued task


def test_tfp_per_week_and_the_month_tfp_for_another_period(db: Database) -> None:
    fill(db)
    value = value_overview(db, OverviewQuery(this_month(date(2026, 1, 20))), UTC)
    # Feature A ($30 / $7.60) and Codex work ($0 / $2) end in the week of Jan 5, Spike ($50 / $1)
    # in the week of Jan 19; the unvalued task counts nowhere
    assert value.weekly == (
        WeeklyTfp(date(2026, 1, 5), Decimal(30), Decimal("9.6")),
        WeeklyTfp(date(2026, 1, 19), Decimal(50), Decimal(1)),
    )
    assert value.month_tfp == value.tfp

    february = value_overview(db, OverviewQuery(month_period(2026, 2)), UTC)
    assert february.tfp is None
    assert february.tasks == ()
    assert february.tfp_detail == "no valued tasks"


def test_a_custom_range_adds_up_the_months_it_touches(db: Database) -> None:
    fill(db)
    period = custom_period(date(2026, 1, 15), date(2026, 2, 3))
    assert months_of(period) == [(2026, 1), (2026, 2)]
    value = value_overview(db, OverviewQuery(period), UTC)
    january = value_overview(db, OverviewQuery(JANUARY), UTC)
    assert value.tfp == january.tfp
    assert value.tfp_detail.startswith("whole months 2026-01 to 2026-02: ")


def test_no_tasks_means_no_tfp(db: Database) -> None:
    write_events(db, known_events())
    value = value_overview(db, OverviewQuery(JANUARY), UTC)
    assert (value.tfp, value.month_tfp, value.weekly, value.tasks) == (None, None, (), ())


def test_a_week_running_into_the_next_month_has_one_tfp_whichever_month_shows_it(db: Database) -> None:
    """The week of Mon Jan 26 ends Sun Feb 1: a task ending on Feb 1 belongs to it in January's
    chart as much as in February's."""
    write_events(db, known_events())
    log_task(db, TaskDraft("Late January", Decimal(20), at(27, 10), at(27, 11)))
    log_task(db, TaskDraft("Into February", Decimal(40), at(1, 9, month=2), at(1, 10, month=2)))
    january = value_overview(db, OverviewQuery(JANUARY), UTC)
    february = value_overview(db, OverviewQuery(month_period(2026, 2)), UTC)
    (last_of_january,) = [week for week in january.weekly if week.week_start == date(2026, 1, 26)]
    (first_of_february,) = [week for week in february.weekly if week.week_start == date(2026, 1, 26)]
    assert last_of_january == first_of_february
    assert last_of_january.value == Decimal(60)
