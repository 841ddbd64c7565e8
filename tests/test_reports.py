"""Reports: days cut in the user's zone, per-model breakdowns, unpriced usage never $0."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tokenworth.core.db import Database
from tokenworth.core.ledger import upsert_rows
from tokenworth.core.pricing import PriceBook
from tokenworth.services.record_rows import event_row
from tokenworth.services.reports import usage_report
from tokenworth.sources.records import UsageEvent

BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")


def _add(db: Database, *events: UsageEvent) -> None:
    book = PriceBook()
    with db.engine.begin() as conn:
        upsert_rows(conn, [event_row(e, book, 0) for e in events], "latest")


def _event(key: str, when: datetime, model: str = "claude-sonnet-4-5-20250929", **kw: object) -> UsageEvent:
    base: dict[str, object] = {"input_tokens": 100_000, "output_tokens": 0}
    base.update(kw)
    return UsageEvent(
        source=str(base.pop("source", "claude-code")),
        provider=str(base.pop("provider", "anthropic")),
        model=model,
        timestamp=when,
        dedupe_key=key,
        **base,  # type: ignore[arg-type]
    )


def test_days_are_cut_in_the_chosen_zone(db: Database) -> None:
    _add(
        db,
        _event("a", datetime(2026, 1, 5, 22, 30, tzinfo=UTC)),  # 23:30 in Berlin, 04:00 next day in Kolkata
        _event("b", datetime(2026, 1, 5, 23, 30, tzinfo=UTC)),  # 00:30 on the 6th in Berlin
    )
    utc = usage_report(db, "daily", zone=UTC)
    berlin = usage_report(db, "daily", zone=BERLIN)
    kolkata = usage_report(db, "daily", zone=KOLKATA)
    assert [(r.key, r.totals.input_tokens) for r in utc.rows] == [("2026-01-05", 200_000)]
    assert [(r.key, r.totals.input_tokens) for r in berlin.rows] == [
        ("2026-01-05", 100_000),
        ("2026-01-06", 100_000),
    ]
    assert [r.key for r in kolkata.rows] == ["2026-01-06"]


def test_half_hour_zones_cut_at_their_own_midnight(db: Database) -> None:
    _add(
        db,
        _event("a", datetime(2026, 1, 5, 18, 15, tzinfo=UTC)),
        _event("b", datetime(2026, 1, 5, 18, 45, tzinfo=UTC)),
    )
    rows = usage_report(db, "daily", zone=KOLKATA).rows  # midnight in Kolkata is 18:30 UTC
    assert [r.key for r in rows] == ["2026-01-05", "2026-01-06"]


def test_a_zone_whose_summer_offset_is_whole_hours_cuts_its_winter_days_at_half_past(db: Database) -> None:
    """Lord Howe Island: +11 in summer (now and at the range's ends here), +10:30 in winter. A
    request at 00:15 local on a winter day belongs to that day, not to the one before."""
    _add(
        db,
        _event("before-midnight", datetime(2026, 6, 15, 13, 15, tzinfo=UTC)),  # 23:45 on the 15th
        _event("after-midnight", datetime(2026, 6, 15, 13, 45, tzinfo=UTC)),  # 00:15 on the 16th
        _event("summer", datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),
    )
    rows = usage_report(db, "daily", zone=ZoneInfo("Australia/Lord_Howe")).rows
    assert [(r.key, r.totals.input_tokens) for r in rows][:2] == [("2026-06-15", 100_000), ("2026-06-16", 100_000)]


def test_a_half_hour_offset_in_the_middle_of_the_range_cuts_its_days_there(db: Database) -> None:
    """Pyongyang was +8:30 from 2015 to 2018 and +9 on either side: a range from 2014 to 2019
    has whole-hour ends (and today), yet its 2016 days start at half past."""
    _add(
        db,
        _event("first", datetime(2014, 1, 1, tzinfo=UTC)),
        _event("before-midnight", datetime(2016, 6, 15, 15, 15, tzinfo=UTC)),  # 23:45 on the 15th
        _event("after-midnight", datetime(2016, 6, 15, 15, 45, tzinfo=UTC)),  # 00:15 on the 16th
        _event("last", datetime(2019, 12, 31, tzinfo=UTC)),
    )
    rows = usage_report(db, "daily", zone=ZoneInfo("Asia/Pyongyang")).rows
    assert [r.key for r in rows][1:3] == ["2016-06-15", "2016-06-16"]


def test_days_are_cut_at_local_midnight_on_both_sides_of_a_clock_change(db: Database) -> None:
    _add(
        db,
        _event("winter", datetime(2026, 3, 28, 23, 30, tzinfo=UTC)),  # 00:30 CET on the 29th
        _event("summer", datetime(2026, 3, 29, 22, 30, tzinfo=UTC)),  # 00:30 CEST on the 30th
        _event("summer-eve", datetime(2026, 3, 29, 21, 30, tzinfo=UTC)),  # 23:30 CEST on the 29th
    )
    rows = usage_report(db, "daily", zone=BERLIN).rows
    assert [(r.key, r.totals.records) for r in rows] == [("2026-03-29", 2), ("2026-03-30", 1)]
    # Within summer time alone the offset never changes (days are cut in SQL): the same days.
    summer = usage_report(db, "daily", zone=BERLIN, since=date(2026, 3, 30), until=date(2026, 3, 30)).rows
    assert [(r.key, r.totals.records) for r in summer] == [("2026-03-30", 1)]
    # A range of a few days across the change, or open at one end, is cut at local midnight too.
    short = usage_report(db, "daily", zone=BERLIN, since=date(2026, 3, 28), until=date(2026, 3, 30)).rows
    since_only = usage_report(db, "daily", zone=BERLIN, since=date(2026, 3, 29)).rows
    until_only = usage_report(db, "daily", zone=BERLIN, until=date(2026, 3, 30)).rows
    for rows in (short, since_only, until_only):
        assert [(r.key, r.totals.records) for r in rows] == [("2026-03-29", 2), ("2026-03-30", 1)]


def test_daily_rows_break_down_by_model_with_exact_costs(db: Database) -> None:
    day = datetime(2026, 1, 5, 12, tzinfo=UTC)
    _add(
        db,
        _event("a", day),
        _event("b", day, model="claude-opus-4-5-20251101", input_tokens=0, output_tokens=1_000_000),
        _event("c", day, model="claude-imaginary-9"),
    )
    report = usage_report(db, "daily", zone=UTC)
    doc = report.as_json()
    (row,) = doc["rows"]
    assert row["date"] == "2026-01-05"
    assert row["cost_usd"] == "25.3"  # $0.30 sonnet input + $25 opus output; the unknown model is not $0
    assert row["cost_complete"] is False
    assert row["unpriced_models"] == ["claude-imaginary-9"]
    by_model = {m["model"]: m for m in row["by_model"]}
    assert by_model["claude-imaginary-9"]["cost_usd"] is None
    assert by_model["claude-opus-4-5-20251101"]["output_tokens"] == 1_000_000
    for key in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd"):
        assert key in row
        assert key in doc["totals"]
    assert doc["totals"]["cost_usd"] == "25.3"


def test_weekly_and_monthly_and_range(db: Database) -> None:
    _add(
        db,
        _event("a", datetime(2026, 1, 4, 12, tzinfo=UTC)),  # a Sunday
        _event("b", datetime(2026, 1, 5, 12, tzinfo=UTC)),  # the next Monday
        _event("c", datetime(2026, 2, 1, 12, tzinfo=UTC)),
    )
    weekly = usage_report(db, "weekly", zone=UTC)
    assert [r.key for r in weekly.rows] == ["2025-12-29", "2026-01-05", "2026-01-26"]
    monthly = usage_report(db, "monthly", zone=UTC)
    assert [(r.key, r.totals.records) for r in monthly.rows] == [("2026-01", 2), ("2026-02", 1)]
    ranged = usage_report(db, "daily", zone=UTC, since=date(2026, 1, 5), until=date(2026, 1, 31))
    assert [r.key for r in ranged.rows] == ["2026-01-05"]


def test_models_projects_sessions_and_source_filter(db: Database) -> None:
    when = datetime(2026, 1, 5, 12, tzinfo=UTC)
    _add(
        db,
        _event("a", when, project="/w/app", session_id="s1"),
        _event("b", when, project="/w/app", session_id="s2"),
        _event("c", when, model="gpt-5", source="codex", provider="openai", project="/w/lib", session_id="s3"),
    )
    models = usage_report(db, "models", zone=UTC)
    assert {r.key: r.extra["provider"] for r in models.rows} == {
        "claude-sonnet-4-5-20250929": "anthropic",
        "gpt-5": "openai",
    }
    projects = usage_report(db, "projects", zone=UTC)
    assert {r.key: r.totals.records for r in projects.rows} == {"/w/app": 2, "/w/lib": 1}
    sessions = usage_report(db, "sessions", zone=UTC, sources=["codex"])
    assert [(r.key, r.extra["project"], r.extra["models"]) for r in sessions.rows] == [("s3", "/w/lib", ["gpt-5"])]
    assert sessions.as_json()["rows"][0]["session"] == "s3"


def test_sessions_order_by_the_instant_of_last_activity_across_a_clock_change(db: Database) -> None:
    """New York's clocks go back at 06:00 UTC on 2025-11-02: 01:45 EDT comes before 01:15 EST."""
    edt_0145 = datetime(2025, 11, 2, 5, 45, tzinfo=UTC)
    est_0115 = datetime(2025, 11, 2, 6, 15, tzinfo=UTC)
    _add(
        db,
        _event("a", edt_0145, session_id="earlier"),
        _event("b", est_0115, session_id="later"),
        _event("c", edt_0145, session_id="both"),
        _event("d", est_0115, model="claude-haiku-4-5-20251001", session_id="both"),
    )
    sessions = usage_report(db, "sessions", zone=ZoneInfo("America/New_York"))
    assert [r.key for r in sessions.rows] == ["both", "later", "earlier"]  # same instant: by cost
    both = next(r for r in sessions.rows if r.key == "both")
    assert (both.extra["first_activity"], both.extra["last_activity"]) == (
        "2025-11-02T01:45:00-04:00",
        "2025-11-02T01:15:00-05:00",
    )


@pytest.mark.parametrize("kind", ["daily", "weekly", "monthly", "models", "projects", "sessions"])
def test_empty_ledger_gives_empty_reports(db: Database, kind: str) -> None:
    doc = usage_report(db, kind, zone=UTC).as_json()  # type: ignore[arg-type]
    assert doc["rows"] == []
    assert doc["totals"]["cost_usd"] == "0"
    assert Decimal(doc["totals"]["cost_usd"]) == 0
