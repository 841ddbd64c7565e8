"""`report value` figures on the known ledger: per task, category, model, project; both bases."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from task_ledger import at, event, known_events, write_events
from tokenworth.core.analytics import rounded_ratio, units_to_money
from tokenworth.core.db import Database
from tokenworth.services.plans import PlanInputError, set_plan
from tokenworth.services.tasks import Assignment, TaskDraft, delete_task, log_task
from tokenworth.services.value_report import month_value, value_report

JAN = (2026, 1)


def usd(amount: Fraction | int | str) -> str:
    """The decimal string the JSON carries for an exact dollar amount."""
    value = units_to_money(Fraction(amount) * 10**10)
    return format(value.normalize(), "f")


def ratio(value: Fraction | int, cost: Fraction | int) -> str:
    return format(rounded_ratio(Fraction(value), Fraction(cost)).normalize(), "f")


@pytest.fixture
def ledger(db: Database) -> dict[str, int]:
    write_events(db, known_events())
    t1 = log_task(db, TaskDraft("Feature A", Decimal(30), at(5, 10), at(5, 11), category="coding"))
    t2 = log_task(db, TaskDraft("Review", Decimal(3), at(5, 10, 30), at(5, 11, 30), category="coding"))
    t3 = log_task(
        db,
        TaskDraft("Codex work", Decimal(0), category="research", assignments=(Assignment(session_id="S2"),)),
    )
    t4 = log_task(db, TaskDraft("Spike", Decimal(50), at(10, 9), at(10, 10), category="research"))
    return {"T1": t1.id, "T2": t2.id, "T3": t3.id, "T4": t4.id}


def rows_by(report: dict[str, Any], key: str) -> dict[Any, dict[str, Any]]:
    return {(row[key]["title"] if key == "task" else row[key]): row for row in report["rows"]}


def test_by_task_json_has_exact_cost_value_tfp_and_flags(db: Database, ledger: dict[str, int]) -> None:
    report = value_report(db, month=JAN, zone=UTC, by="task").as_json()
    assert (report["report"], report["month"], report["basis"], report["by"]) == (
        "value",
        "2026-01",
        "api",
        "task",
    )
    rows = rows_by(report, "task")
    assert rows["Feature A"]["task"] == {"id": ledger["T1"], "title": "Feature A"}
    assert rows["Feature A"]["category"] == "coding"
    assert {name: row["cost_usd"] for name, row in rows.items()} == {
        "Feature A": "3.3",
        "Review": "4.8",
        "Codex work": "2",
        "Spike": "0",
    }
    assert {name: row["tokens"] for name, row in rows.items()} == {
        "Feature A": 173_000,
        "Review": 228_000,
        "Codex work": 100_000,
        "Spike": 0,
    }
    assert {name: row["value_usd"] for name, row in rows.items()} == {
        "Feature A": "30",
        "Review": "3",
        "Codex work": "0",
        "Spike": "50",
    }
    assert {name: (row["tfp"], row["tfp_note"], row["tfp_complete"]) for name, row in rows.items()} == {
        "Feature A": ("9.0909", None, False),  # unpriced usage: incomplete
        "Review": ("0.625", None, True),
        "Codex work": ("0", None, True),  # zero value
        "Spike": (None, "no spend", True),  # a task with no usage
    }
    assert {name for name, row in rows.items() if row["flagged"]} == {"Review", "Codex work"}
    totals = report["totals"]
    assert totals["cost_usd"] == "33.6"
    assert totals["value_usd"] == "83"
    assert totals["tfp"] == ratio(83, Fraction("33.6"))  # value over all spend, unattributed included
    assert totals["attributed_cost_usd"] == "10.1"
    assert totals["attributed_tfp"] == ratio(83, Fraction("10.1"))
    assert totals["unattributed_cost_usd"] == "23.5"  # 22.50 of the daily bucket + r7
    assert totals["unattributed_tokens"] == 325_000
    assert totals["tokens"] == 826_000
    assert totals["flagged_rows"] == 2
    assert totals["flagged"] is False  # 83 of value against 33.60 of spend
    assert report["unpriced_models"] == ["mystery"]


def test_by_category(db: Database, ledger: dict[str, int]) -> None:
    rows = rows_by(value_report(db, month=JAN, zone=UTC, by="category").as_json(), "category")
    assert set(rows) == {"coding", "research"}
    assert (rows["coding"]["cost_usd"], rows["coding"]["value_usd"]) == ("8.1", "33")
    assert rows["coding"]["tfp"] == ratio(33, Fraction("8.1"))
    assert (rows["research"]["cost_usd"], rows["research"]["value_usd"], rows["research"]["tfp"]) == (
        "2",
        "50",
        "25",
    )
    assert rows["research"]["tasks"] == 2


def test_by_model_spreads_each_task_value_by_cost(db: Database, ledger: dict[str, int]) -> None:
    rows = rows_by(value_report(db, month=JAN, zone=UTC, by="model").as_json(), "model")
    t1_alpha, t1_gamma = Fraction("1.5"), Fraction("1.8")  # T1 cost 3.30 on alpha / gamma
    t2_alpha, t2_gamma = Fraction("3.0"), Fraction("1.8")  # T2 cost 4.80
    alpha_value = 30 * t1_alpha / Fraction("3.3") + 3 * t2_alpha / Fraction("4.8")
    gamma_value = 30 * t1_gamma / Fraction("3.3") + 3 * t2_gamma / Fraction("4.8")
    assert rows["alpha"]["cost_usd"] == "4.5"
    assert rows["alpha"]["value_usd"] == usd(alpha_value)
    assert rows["alpha"]["tfp"] == ratio(alpha_value, Fraction("4.5"))
    assert rows["gamma"]["cost_usd"] == "3.6"
    assert rows["gamma"]["tfp"] == ratio(gamma_value, Fraction("3.6"))
    assert (rows["beta"]["cost_usd"], rows["beta"]["value_usd"], rows["beta"]["tfp"]) == ("2", "0", "0")
    assert rows["mystery"]["cost_usd"] is None
    assert rows["mystery"]["tfp_note"] == "unpriced"
    assert rows["mystery"]["value_usd"] == "0"
    assert rows[None]["value_usd"] == "50"  # Spike: no usage
    assert rows[None]["tfp_note"] == "no spend"
    assert sum(Decimal(row["value_usd"]) for row in rows.values()) == Decimal(83)


def test_by_project(db: Database, ledger: dict[str, int]) -> None:
    rows = rows_by(value_report(db, month=JAN, zone=UTC, by="project").as_json(), "project")
    # /p/app: T1's r1 ($1.00), T2's r2 ($2.00), T3's r3 ($2.00); buckets have no project.
    assert rows["/p/app"]["cost_usd"] == "5"
    app_value = 30 * Fraction(1) / Fraction("3.3") + 3 * Fraction(2) / Fraction("4.8") + 0
    assert rows["/p/app"]["value_usd"] == usd(app_value)
    assert rows["/p/docs"]["cost_usd"] is None  # only the unpriced record
    assert rows[None]["cost_usd"] == "5.1"  # bucket shares: 1.80 + 0.50 + 1.80 + 1.00


def test_plan_basis_charges_the_fee_for_covered_usage(db: Database, ledger: dict[str, int]) -> None:
    set_plan(db, "Max", monthly_fee="100", covers=["claude-code"])
    report = value_report(db, month=JAN, zone=UTC, by="task", basis="plan").as_json()
    rows = rows_by(report, "task")
    # Covered: r1 $1, r2 $2, r7 $1 (r4 unpriced): the $100 fee is split 25/50/25 by API cost.
    assert rows["Feature A"]["cost_usd"] == "27.3"  # 25 + 1.80 + 0.50
    assert rows["Feature A"]["api_equivalent_usd"] == "3.3"
    assert rows["Review"]["cost_usd"] == "52.8"  # 50 + 1.80 + 1.00
    assert rows["Codex work"]["cost_usd"] == "2"  # codex is not covered
    assert report["totals"]["cost_usd"] == "129.6"  # the fee + uncovered API cost
    assert report["totals"]["unattributed_cost_usd"] == "47.5"
    assert report["basis"] == "plan"
    assert "plan fees" in report["basis_label"]
    assert report["plans"] == [
        {
            "name": "Max",
            "monthly_fee_usd": "100",
            "covers": ["claude-code"],
            "first_month": None,
            "last_month": None,
            "api_equivalent_usd": "4",
            "leverage": "0.04",
            "cost_complete": False,
        }
    ]
    api = value_report(db, month=JAN, zone=UTC, by="task", basis="api").as_json()
    assert api["totals"]["cost_usd"] == "33.6"
    assert api["plans"][0]["leverage"] == "0.04"


def test_plan_outside_its_months_does_not_apply(db: Database, ledger: dict[str, int]) -> None:
    set_plan(db, "Max", monthly_fee="100", covers=["claude-code"], first_month="2026-02")
    report = value_report(db, month=JAN, zone=UTC, basis="plan").as_json()
    assert report["plans"] == []
    assert report["totals"]["cost_usd"] == "33.6"


def test_a_fee_with_no_covered_usage_is_unattributed_spend(db: Database) -> None:
    set_plan(db, "Pro", monthly_fee="20", covers=["codex"])
    report = value_report(db, month=(2026, 3), zone=UTC, basis="plan").as_json()
    assert report["totals"]["cost_usd"] == "20"
    assert report["totals"]["unattributed_cost_usd"] == "20"
    assert report["plans"][0]["leverage"] == "0"


def test_overlapping_plan_coverage_is_refused(db: Database) -> None:
    set_plan(db, "Max", monthly_fee="200", covers=["claude-code"])
    with pytest.raises(PlanInputError, match="already covers claude-code"):
        set_plan(db, "Other", monthly_fee="100", covers=["codex", "claude-code"])
    set_plan(db, "Max", monthly_fee="100", covers=["claude-code", "codex"])  # replacing itself is fine


def test_deleting_a_task_moves_its_cost_to_unattributed_and_keeps_totals(db: Database, ledger: dict[str, int]) -> None:
    before = value_report(db, month=JAN, zone=UTC).as_json()["totals"]
    delete_task(db, ledger["T3"])
    after = value_report(db, month=JAN, zone=UTC).as_json()["totals"]
    assert after["cost_usd"] == before["cost_usd"] == "33.6"
    assert after["tokens"] == before["tokens"]
    assert after["unattributed_cost_usd"] == "25.5"  # 23.50 + T3's 2.00
    assert after["value_usd"] == "83"  # T3 was worth $0


def test_a_task_across_two_months_counts_in_each_by_its_spend(db: Database) -> None:
    write_events(db, [event("jan", at(31, 22)), event("feb", at(1, 2, month=2), tokens=300_000)])
    log_task(db, TaskDraft("Long", Decimal(100), at(31, 20), at(1, 5, month=2)))
    jan = value_report(db, month=JAN, zone=UTC).as_json()["rows"][0]
    feb = value_report(db, month=(2026, 2), zone=UTC).as_json()["rows"][0]
    assert (jan["cost_usd"], jan["value_usd"], jan["tfp"]) == ("1", "25", "25")
    assert (feb["cost_usd"], feb["value_usd"], feb["tfp"]) == ("3", "75", "25")


def test_months_are_cut_in_the_users_zone(db: Database) -> None:
    write_events(db, [event("late", at(31, 23, 30))])  # already February 1st in Berlin
    berlin = ZoneInfo("Europe/Berlin")
    assert value_report(db, month=JAN, zone=berlin).as_json()["totals"]["cost_usd"] == "0"
    assert value_report(db, month=(2026, 2), zone=berlin).as_json()["totals"]["cost_usd"] == "1"


def test_empty_database_reports_no_spend(db: Database) -> None:
    report = value_report(db, month=JAN, zone=UTC).as_json()
    assert report["rows"] == []
    assert report["totals"]["cost_usd"] == "0"
    assert report["totals"]["tfp_note"] == "no spend"


def test_unvalued_task_is_shown_as_such(db: Database) -> None:
    write_events(db, [event("x", at(5, 10, 10))])
    log_task(db, TaskDraft("Unvalued", None, at(5, 10), at(5, 11)))
    report = value_report(db, month=JAN, zone=UTC).as_json()
    row = report["rows"][0]
    assert (row["value_usd"], row["tfp"], row["tfp_note"], row["flagged"]) == (None, None, "unvalued", False)
    assert report["totals"]["tfp_complete"] is False


def test_tasks_of_equal_cost_keep_their_order_past_number_nine(db: Database) -> None:
    for number in range(1, 12):  # #10 and #11 sort before #2 as text
        log_task(db, TaskDraft(f"Chore {number}", Decimal(1), at(5 + number, 10), at(5 + number, 11)))
    rows = value_report(db, month=JAN, zone=UTC).as_json()["rows"]
    assert [row["task"]["id"] for row in rows] == list(range(1, 12))


def test_month_value_for_the_popup(db: Database, ledger: dict[str, int]) -> None:
    month = month_value(db, month=JAN, zone=UTC)
    assert (month.value, month.cost, month.attributed_cost, month.unattributed_cost) == (
        Decimal(83),
        Decimal("33.6"),
        Decimal("10.1"),
        Decimal("23.5"),
    )
    assert month.flagged_tasks == 2
