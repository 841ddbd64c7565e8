"""The numbers behind the tray and dashboard (no Qt): series, budget status, filters, watch plan."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from tokenworth.core.budget import Pace
from tokenworth.core.db import Database
from tokenworth.core.ledger import upsert_rows
from tokenworth.core.periods import custom_period, month_period, this_month
from tokenworth.core.pricing import PriceBook
from tokenworth.core.timeutil import to_epoch_ms
from tokenworth.services.local_sync import import_all, log_roots, waiting_folder, watch_plan
from tokenworth.services.overview import OverviewQuery, ValueOverview, build_overview
from tokenworth.services.record_rows import event_row
from tokenworth.sources.records import UsageEvent

SAMPLES = Path(__file__).parent / "fixtures" / "samples"
NOW = datetime(2026, 1, 10, 15, tzinfo=UTC)


def spend(
    db: Database, day: int, model: str, dollars: str, *, source: str = "manual", project: str | None = None
) -> None:
    when = datetime(2026, 1, day, 9, tzinfo=UTC) if day > 0 else datetime(2025, 12, -day, 9, tzinfo=UTC)
    event = UsageEvent(
        source=source,
        provider="anthropic",
        model=model,
        timestamp=when,
        dedupe_key=f"t:{day}:{model}:{dollars}:{source}:{project}",
        reported_cost=Decimal(dollars),
        project=project,
    )
    with db.engine.begin() as conn:
        upsert_rows(conn, [event_row(event, PriceBook({}), to_epoch_ms(when))], "latest")


def test_overview_series_and_budget(db: Database) -> None:
    spend(db, 2, "opus", "4")
    spend(db, 2, "haiku", "1")
    spend(db, 9, "opus", "5", source="codex", project="/p/a")
    spend(db, -20, "opus", "100")  # December: not in this month
    overview = build_overview(db, OverviewQuery(this_month(NOW.date())), zone=UTC, now=NOW, budget=Decimal(30))
    assert overview.today == date(2026, 1, 10)
    assert len(overview.days) == 31
    assert list(overview.daily_by_model) == ["opus", "haiku"]  # costliest first
    assert overview.daily_by_model["opus"][1] == Decimal(4)
    assert overview.daily_total[8] == Decimal(5)
    assert len(overview.cumulative) == 10  # up to today
    assert overview.cumulative[-1] == Decimal(10)
    assert overview.month.spent == Decimal(10)
    assert overview.month.daily_rate == Decimal("0.8571428571")  # ($10/10 days + $5/7 days) / 2
    assert overview.month.pace is Pace.ON_TRACK
    assert overview.forecast[0] == (date(2026, 1, 10), Decimal(10))
    assert overview.forecast[-1][0] == date(2026, 1, 31)
    assert overview.sources_seen == ["codex", "manual"]
    assert overview.projects_seen == ["/p/a"]
    assert overview.records_total == 4
    assert overview.value == ValueOverview()


def test_spend_dated_after_today_is_in_the_month_the_line_and_the_forecast_alike(db: Database) -> None:
    """A device whose clock runs ahead wrote the 20th: the card, the cumulative line's end and
    the forecast's start are the same month-to-date spend, as the export's budget says."""
    spend(db, 2, "opus", "4")
    spend(db, 20, "opus", "15")
    overview = build_overview(db, OverviewQuery(this_month(NOW.date())), zone=UTC, now=NOW, budget=Decimal(10))
    assert overview.month.spent == Decimal(19)
    assert overview.cumulative[-1] == Decimal(19)
    assert overview.forecast[0] == (date(2026, 1, 10), Decimal(19))
    assert overview.month.forecast >= overview.month.spent
    assert overview.month.pace is Pace.OVER


def test_filters_narrow_the_period_but_not_the_tray_month(db: Database) -> None:
    spend(db, 2, "opus", "4")
    spend(db, 9, "opus", "5", source="codex", project="/p/a")
    query = OverviewQuery(this_month(NOW.date()), sources=("codex",))
    overview = build_overview(db, query, zone=UTC, now=NOW, budget=Decimal(30))
    assert overview.period_cost == Decimal(5)
    assert overview.period_status is not None
    assert overview.period_status.spent == Decimal(5)
    assert overview.month.spent == Decimal(9)  # the tray always sees everything


def test_a_past_period_has_no_forecast(db: Database) -> None:
    spend(db, -5, "opus", "7")
    overview = build_overview(db, OverviewQuery(month_period(2025, 12)), zone=UTC, now=NOW, budget=Decimal(30))
    assert overview.forecast == []
    assert len(overview.cumulative) == 31
    assert overview.cumulative[-1] == Decimal(7)
    custom = build_overview(
        db, OverviewQuery(custom_period(date(2025, 12, 1), date(2026, 1, 31))), zone=UTC, now=NOW, budget=None
    )
    assert len(custom.cumulative) == 41  # Dec 1 .. Jan 10


def test_value_source_is_called_in_the_same_unit_of_work(db: Database) -> None:
    seen: list[OverviewQuery] = []

    def value_source(database: Database, query: OverviewQuery, zone: object) -> ValueOverview:
        seen.append(query)
        return ValueOverview(tfp=Decimal(3))

    query = OverviewQuery(this_month(NOW.date()))
    overview = build_overview(db, query, zone=UTC, now=NOW, budget=None, value_source=value_source)
    assert seen == [query]
    assert overview.value.tfp == Decimal(3)


def test_watch_plan_and_import_with_an_extra_folder(db: Database, tmp_path: Path) -> None:
    extra = tmp_path / "elsewhere" / "projects" / "-home-dev-x"
    extra.mkdir(parents=True)
    shutil.copy(SAMPLES / "claude-code.jsonl", extra / "s.jsonl")
    env = {
        "CLAUDE_CONFIG_DIR": str(tmp_path / "none"),
        "CODEX_HOME": str(tmp_path / "none2"),
        "GEMINI_DATA_DIR": str(tmp_path / "none3"),
    }
    roots = log_roots(env, [str(tmp_path / "elsewhere")])
    assert roots[-1] == tmp_path / "elsewhere"
    plan = watch_plan(roots)
    assert extra in plan.dirs
    assert extra / "s.jsonl" in plan.files
    assert tmp_path / "none" / "projects" in plan.missing_roots or tmp_path / "none" in plan.missing_roots
    assert plan.waiting == {tmp_path: plan.missing_roots}
    summary = import_all(db, extra_folders=[str(tmp_path / "elsewhere")], env=env)
    assert summary.records_added > 0
    assert summary.files_read == 1


def test_a_missing_log_folder_is_waited_for_in_its_nearest_existing_folder_within_bounds(tmp_path: Path) -> None:
    home = tmp_path / "user"
    root = home / ".claude" / "projects"
    assert waiting_folder(root, home) is None  # never above the home folder, even a missing one
    home.mkdir()
    assert waiting_folder(root, home) == home
    (home / ".claude").mkdir()
    assert waiting_folder(root, home) == home / ".claude"
    assert waiting_folder(tmp_path / "a" / "b", home) == tmp_path  # outside home: up to what exists
    assert waiting_folder(Path("/no-such-folder-here/projects"), home) is None  # never "/"
    plan = watch_plan([root, tmp_path / "elsewhere"], home=home)
    assert plan.missing_roots == [root, tmp_path / "elsewhere"]
    assert plan.waiting == {home / ".claude": [root], tmp_path: [tmp_path / "elsewhere"]}
