"""The monthly summary on a known ledger: its figures are the reports' figures, its optional parts
(budget, routing, settings) are filled when present and named as missing when not."""

from __future__ import annotations

import sys
import types
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from export_ledger import JANUARY_SPEND, MONTH, UNICODE_TITLE, build_export_ledger
from tokenworth.core.db import Database
from tokenworth.services.monthly_summary import (
    ROUTING_MODULE,
    ROUTING_UNAVAILABLE,
    SCHEMA_VERSION,
    MonthlySummary,
    RoutingSection,
    build_monthly_summary,
    find_routing_provider,
    routing_section_from_json,
    settings_inputs,
)
from tokenworth.services.reconcile import reconcile_report
from tokenworth.services.reports import usage_report
from tokenworth.services.value_report import value_report

AFTER_JANUARY = datetime(2026, 2, 3, 12, tzinfo=UTC)


def summary_of(db: Database, **options: Any) -> MonthlySummary:
    options.setdefault("routing", None)
    return build_monthly_summary(db, month=MONTH, zone=UTC, now=AFTER_JANUARY, **options)


@pytest.fixture
def ledger(db: Database) -> dict[str, int]:
    return build_export_ledger(db)


def test_totals_are_the_reports_totals(db: Database, ledger: dict[str, int]) -> None:
    summary = summary_of(db)
    data = summary.as_json()
    monthly = usage_report(db, "monthly", zone=UTC).as_json()
    [january] = [row for row in monthly["rows"] if row["month"] == "2026-01"]
    value = value_report(db, month=MONTH, zone=UTC).as_json()["totals"]
    totals = data["totals"]
    assert data["schema_version"] == SCHEMA_VERSION
    assert Decimal(totals["cost_usd"]) == Decimal(january["cost_usd"]) == JANUARY_SPEND
    for name in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "total_tokens"):
        assert totals[name] == january[name]
    assert totals["requests"] == january["requests"]
    assert totals["value_usd"] == value["value_usd"] == "88"
    assert totals["tfp"] == value["tfp"]
    assert totals["attributed_tfp"] == value["attributed_tfp"]
    assert totals["unattributed_cost_usd"] == value["unattributed_cost_usd"]
    assert totals["unpriced_models"] == ["mystery"]
    assert totals["cost_complete"] is False


def test_billed_against_estimated_follows_report_reconcile(db: Database, ledger: dict[str, int]) -> None:
    summary = summary_of(db)
    reconcile = reconcile_report(db, zone=UTC, since=summary.first_day, until=summary.last_day).as_json()
    totals = summary.as_json()["totals"]
    assert totals["billed_usd"] == reconcile["totals"]["billed_usd"]
    by_provider = {row["provider"]: row for row in summary.as_json()["reconciliation"]}
    # OpenAI: beta billed $2.25 against its $2.00 log estimate the same day; gamma's reported $3.60
    # has no price to estimate it by, so only beta is compared.
    assert by_provider["openai"]["billed_usd"] == "5.85"
    assert by_provider["openai"]["gap_usd"] == "0.25"
    # Anthropic: the daily bucket's $24.00 against its $2.40 usage-API estimate.
    assert by_provider["anthropic"]["gap_usd"] == "21.6"
    assert totals["reconciliation_gap_usd"] == "21.85"


def test_breakdowns_previous_month_and_plans(db: Database, ledger: dict[str, int]) -> None:
    data = summary_of(db).as_json()
    models = usage_report(db, "models", zone=UTC, since=datetime(2026, 1, 1).date(), until=datetime(2026, 1, 31).date())
    assert [row["model"] for row in data["by_model"]] == [row.key for row in models.rows]
    assert {row["provider"]: row["cost_usd"] for row in data["by_provider"]} == {"anthropic": "28", "openai": "5.6"}
    assert {row["source"]: row["cost_usd"] for row in data["by_source"]} == {
        "anthropic": "24",
        "claude-code": "4",
        "openai": "3.6",
        "codex": "2",
    }
    assert {row["category"] for row in data["by_category"]} == {"coding", "research", "writing"}
    previous = data["previous_month"]
    assert (previous["month"], previous["cost_usd"], previous["cost_change_usd"]) == ("2025-12", "1", "32.6")
    assert previous["cost_change_pct"] == "3260"
    [plan] = data["plans"]
    assert (plan["name"], plan["monthly_fee_usd"]) == ("Claude Max", "100")
    plan_basis = value_report(db, month=MONTH, zone=UTC, basis="plan").as_json()["totals"]
    assert data["totals"]["plan_basis_cost_usd"] == plan_basis["cost_usd"]


def test_task_lists_rank_by_value_cost_and_break_even(db: Database, ledger: dict[str, int]) -> None:
    summary = summary_of(db, top=3)
    titles = [row.key["task"]["title"] for row in summary.top_by_value]
    assert titles == ["Spike", "Feature A", UNICODE_TITLE]
    assert [row.key["task"]["title"] for row in summary.top_by_cost] == ["Review", "Feature A", "Codex work"]
    below = [row.key["task"]["title"] for row in summary.below_break_even]
    assert below == ["Codex work", "Review"]  # TFP 0 and 0.625
    data = summary.as_json()
    assert data["tasks_below_break_even"] == [ledger["Codex work"], ledger["Review"]]


def test_freshness_names_sources_and_accounts_never_keys(db: Database, ledger: dict[str, int]) -> None:
    data = summary_of(db).as_json()
    assert data["sources"]["local"] == [{"source": "claude-code", "last_import_at": "2026-02-01T07:30:00+00:00"}]
    [account] = data["sources"]["accounts"]
    assert (account["account"], account["last_status"]) == ("openai:default", "ok")
    assert "abcd" not in str(data)


def test_budget_outcome(db: Database, ledger: dict[str, int]) -> None:
    under = summary_of(db, budget=Decimal(40)).as_json()["budget"]
    assert under == {
        "budget_usd": "40",
        "spent_usd": "33.6",
        "remaining_usd": "6.4",
        "used_pct": "84",
        "status": "under",
        "month_complete": True,
        "forecast_usd": None,  # a finished month has no forecast
        "pace": None,
        "spent_complete": False,  # the ledger has an unpriced model: the spend is a floor
    }
    over = summary_of(db, budget=Decimal(30)).as_json()["budget"]
    assert (over["status"], over["remaining_usd"], over["used_pct"]) == ("over", "-3.6", "112")
    assert summary_of(db).as_json()["budget"] is None
    running = build_monthly_summary(
        db, month=MONTH, zone=UTC, budget=Decimal(40), now=datetime(2026, 1, 25, tzinfo=UTC), routing=None
    )
    assert running.as_json()["budget"]["month_complete"] is False
    # Mid-month, the export says what the tray says: the month-end forecast and the pace.
    from datetime import date

    from tokenworth.core.money import decimal_str
    from tokenworth.services.overview import month_status

    tray = month_status(db, date(2026, 1, 25), UTC, Decimal(40))
    budget = running.as_json()["budget"]
    assert (budget["forecast_usd"], budget["pace"]) == (decimal_str(tray.forecast), tray.pace.value)
    assert tray.forecast > 0
    from tokenworth.core.budget import Pace
    from tokenworth.core.money import format_usd
    from tokenworth.services.export_markdown import render_markdown
    from tokenworth.services.summary_document import build_document

    text = render_markdown(build_document(running, charts=[]), lambda chart: "unused.png")
    assert f"forecast {format_usd(tray.forecast)}+ by month end: {Pace(tray.pace).label}" in text
    assert "part of the usage has no price: the spend is a floor" in text
    assert f"forecast {format_usd(tray.forecast)}+ by month end" in text  # a floor too
    assert tray.complete is False  # the tray marks it too ("$33.60+")
    exact = summary_of(db, budget=Decimal("33.6")).as_json()["budget"]
    assert (exact["status"], exact["remaining_usd"]) == ("under", "0")  # reaching the budget is not over it


def test_month_is_cut_in_the_zone(db: Database, ledger: dict[str, int]) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    summary = build_monthly_summary(db, month=MONTH, zone=tokyo, now=AFTER_JANUARY, routing=None)
    report = usage_report(db, "monthly", zone=tokyo)
    [january] = [row for row in report.as_json()["rows"] if row["month"] == "2026-01"]
    assert summary.as_json()["totals"]["cost_usd"] == january["cost_usd"]
    assert summary.as_json()["time_zone"] == "Asia/Tokyo"


def test_routing_not_available_without_the_routing_service(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, ROUTING_MODULE, None)  # importing it now fails, as when absent
    assert find_routing_provider() is None
    summary = build_monthly_summary(db, month=MONTH, zone=UTC, now=AFTER_JANUARY)
    assert summary.routing == RoutingSection(False, note=ROUTING_UNAVAILABLE)
    assert summary.as_json()["routing"] == {
        "available": False,
        "note": "routing suggestions: not available",
        "measured_savings_usd": None,
        "suggestions": [],
    }


SUGGESTIONS = {
    "month": "2026-01",
    "suggestions": [
        {
            "category": "coding",
            "from_model": "alpha",
            "to_model": "beta-mini",
            "tasks": 2,
            "current_cost_usd": "8.1",
            "projected_cost_usd": "2.7",
            "savings_usd": "5.4",
            "evidence": "thin",
        },
        {
            "category": "research",
            "from_model": "beta",
            "to_model": "alpha",
            "savings_usd": "12.25",
            "evidence": "priced_only",
            "unknown_field": 1,
        },
    ],
}


def test_routing_suggestions_come_from_the_routing_service(
    db: Database, ledger: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, ...]] = []

    class Report:
        def as_json(self) -> dict[str, Any]:
            return SUGGESTIONS

    def routing_report(database: Database, *, month: tuple[int, int], zone: Any) -> Report:
        calls.append((database, month, zone))
        return Report()

    module = types.ModuleType(ROUTING_MODULE)
    module.routing_report = routing_report  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, ROUTING_MODULE, module)
    summary = build_monthly_summary(db, month=MONTH, zone=UTC, now=AFTER_JANUARY)
    assert calls == [(db, MONTH, UTC)]
    routing = summary.as_json()["routing"]
    assert routing["available"] is True
    assert routing["measured_savings_usd"] is None  # neither suggestion is measured
    assert [(s["category"], s["to_model"], s["savings_usd"], s["evidence"]) for s in routing["suggestions"]] == [
        ("coding", "beta-mini", "5.4", "thin"),  # the routing report's order is kept
        ("research", "alpha", "12.25", "priced_only"),
    ]


def test_a_suggestion_for_uncategorized_tasks_is_named_as_everywhere_else(db: Database) -> None:
    """`report routing` and the value report say "(uncategorized)": so does the export."""
    from tokenworth.services.export_markdown import render_markdown
    from tokenworth.services.summary_document import build_document

    uncategorized = {"suggestions": [dict(SUGGESTIONS["suggestions"][0], category=None)]}
    summary = build_monthly_summary(
        db, month=MONTH, zone=UTC, now=AFTER_JANUARY, routing=lambda *_: routing_section_from_json(uncategorized)
    )
    text = render_markdown(build_document(summary, charts=[]), lambda chart: "unused.png")
    [row] = [line for line in text.splitlines() if "beta-mini" in line]
    assert row.startswith("| (uncategorized) |")


def test_a_failing_routing_service_leaves_the_section_unavailable(db: Database) -> None:
    def broken(database: Database, month: tuple[int, int], zone: Any) -> RoutingSection:
        raise RuntimeError("no price database")

    summary = build_monthly_summary(db, month=MONTH, zone=UTC, now=AFTER_JANUARY, routing=broken)
    assert summary.routing.available is False
    assert summary.routing.note == f"{ROUTING_UNAVAILABLE} (the routing report failed: no price database)"


def test_routing_json_without_a_list_is_named() -> None:
    assert routing_section_from_json({"rows": []}).available is False
    assert routing_section_from_json({"suggestions": []}).note == "no cheaper model found for this month's work"


def test_settings_inputs_are_read_when_the_settings_module_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tokenworth.core.settings", None)
    assert settings_inputs(tmp_path / "settings.json").budget is None

    class Settings:
        monthly_budget = Decimal("250.00")
        time_zone = "Europe/Berlin"

    read: list[Path] = []

    def load_settings(path: Path) -> tuple[Settings, list[str]]:
        read.append(path)
        return Settings(), ["theme: must be one of system, light, dark; using the default"]

    module = types.ModuleType("tokenworth.core.settings")
    module.load_settings = load_settings  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tokenworth.core.settings", module)
    inputs = settings_inputs(tmp_path / "settings.json")
    assert read == [tmp_path / "settings.json"]
    assert (inputs.budget, inputs.time_zone) == (Decimal("250.00"), "Europe/Berlin")
    assert inputs.problems == ("theme: must be one of system, light, dark; using the default",)


def test_an_empty_month_still_summarises(db: Database) -> None:
    data = build_monthly_summary(db, month=(2030, 2), zone=UTC, now=AFTER_JANUARY, routing=None).as_json()
    assert data["totals"]["cost_usd"] == "0"
    assert data["totals"]["tfp_note"] == "no spend"
    assert len(data["daily"]) == 28
    assert data["period"] == {"first_day": "2030-02-01", "last_day": "2030-02-28", "complete": False}


def test_titles_cannot_break_the_html_or_markdown(db: Database) -> None:
    from tokenworth.services.export_html import render_standalone_html
    from tokenworth.services.export_markdown import render_markdown
    from tokenworth.services.summary_document import build_document
    from tokenworth.services.tasks import TaskDraft, log_task

    title = "<script>alert(1)</script> | *bold* [link](http://x)"
    log_task(db, TaskDraft(title, Decimal(10), datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC)))
    document = build_document(summary_of(db), charts=[])
    page = render_standalone_html(document)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; | *bold* [link](http://x)" in page
    text = render_markdown(document, lambda chart: "unused.png")
    assert r"\<script\>alert(1)\</script\> \| \*bold\* \[link\](http://x)" in text


def test_routing_section_is_the_routing_report(tmp_path: Path) -> None:
    """With the routing service installed, the summary carries `report routing`'s suggestions."""
    from routing_ledger import copy_ledger, history_file
    from tokenworth.services.routing import routing_report

    db = copy_ledger(history_file(tmp_path / "source"), tmp_path / "ledger.db")
    try:
        summary = build_monthly_summary(db, month=MONTH, zone=UTC, now=AFTER_JANUARY)
        expected = routing_report(db, month=MONTH, zone=UTC).as_json(UTC)
    finally:
        db.dispose()
    routing = summary.as_json()["routing"]
    assert routing["available"] is True
    keys = ("id", "category", "from_model", "to_model", "tasks", "savings_usd", "evidence")
    assert [{k: s[k] for k in keys} for s in routing["suggestions"]] == [
        {k: s[k] for k in keys} for s in expected["suggestions"]
    ]
    assert {s["evidence"] for s in routing["suggestions"]} >= {"measured", "thin", "priced_only"}
    assert routing["measured_savings_usd"] == expected["totals"]["measured_savings_usd"]
