"""services.routing on known ledgers: the exact suggestions, savings and evidence; flags; experiments."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from routing_ledger import CURATED, Request, at, copy_ledger, history_file, set_prices, task, write
from tokenworth.core.db import Database
from tokenworth.core.ledger import upsert_rows
from tokenworth.core.pricing import ModelRates, PriceBook, Rate
from tokenworth.core.routing import ModelKey, suggestion_id
from tokenworth.services.record_rows import event_row
from tokenworth.services.routing import (
    ExperimentConflictError,
    ExperimentNotFoundError,
    SuggestionInputError,
    SuggestionNotFoundError,
    accept_suggestion,
    cancel_experiment,
    get_experiment,
    list_experiments,
    routing_report,
)
from tokenworth.services.tasks import Assignment, TaskDraft, delete_task, log_task
from tokenworth.services.value_report import value_report
from tokenworth.sources.records import UsageEvent

JAN = (2026, 1)
FEB = (2026, 2)
BIG = ModelKey("anthropic", "big")
NANO = ModelKey("openai", "nano")


def report_json(db: Database, month: tuple[int, int] = JAN, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("curated", CURATED)
    return routing_report(db, month=month, zone=UTC, **kwargs).as_json(UTC)


def brief(suggestion: dict[str, Any]) -> tuple[Any, ...]:
    return (
        suggestion["category"],
        suggestion["from_model"],
        suggestion["to_model"],
        suggestion["tasks"],
        suggestion["current_cost_usd"],
        suggestion["projected_cost_usd"],
        suggestion["savings_usd"],
        suggestion["evidence"],
        suggestion["from_tasks"],
        suggestion["to_tasks"],
    )


@pytest.fixture(scope="module")
def history_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return history_file(tmp_path_factory.mktemp("routing"))


@pytest.fixture
def history(history_source: Path, tmp_path: Path) -> Iterator[Database]:
    db = copy_ledger(history_source, tmp_path / "ledger.db")
    yield db
    db.dispose()


def test_known_history_gives_exactly_these_suggestions(history: Database) -> None:
    payload = report_json(history)
    assert [brief(item) for item in payload["suggestions"]] == [
        # docs: 6 valued docs tasks on mid worth $95 a task against $100 on big: measured as good.
        # (small was measured worse for docs, $50 a task: never suggested.)
        ("docs", "big", "mid", 7, "14", "2.8", "11.2", "measured", 7, 6),
        # coding: only 2 coding tasks on small so far: thin.
        ("coding", "big", "small", 4, "8", "0.36", "7.64", "thin", 4, 2),
        # nano was never used for these categories: the cheapest untried model, an experiment.
        ("docs", "big", "nano", 7, "14", "0.063", "13.937", "priced_only", 7, 0),
        ("coding", "big", "nano", 4, "8", "0.036", "7.964", "priced_only", 4, 0),
        ("research", "mid", "nano", 2, "6", "0.14", "5.86", "priced_only", 2, 0),
        # legal runs on nano: nothing is cheaper, so no suggestion.
    ]
    ids = [item["id"] for item in payload["suggestions"]]
    assert ids[0] == suggestion_id("2026-01", "docs", BIG, ModelKey("openai", "mid"))
    assert len(set(ids)) == 5
    assert payload["totals"] == {
        "task_cost_usd": "28.027",
        "unattributed_cost_usd": "2",
        "measured_savings_usd": "11.2",
    }
    assert [(c["provider"], c["model"]) for c in payload["candidates"]] == [
        ("anthropic", "big"),
        ("openai", "mid"),
        ("openai", "nano"),
        ("openai", "small"),
        ("openai", "tiny"),  # curated, never used
    ]


def test_suggestion_details_carry_the_samples_behind_the_evidence(history: Database) -> None:
    measured = report_json(history)["suggestions"][0]
    assert {key: measured[key] for key in measured if key.startswith(("from_", "to_", "min_"))} == {
        "from_provider": "anthropic",
        "from_model": "big",
        "to_provider": "openai",
        "to_model": "mid",
        "from_tasks": 7,
        "to_tasks": 6,
        "min_tasks": 5,
        "from_value_per_task_usd": "100",
        "to_value_per_task_usd": "95",
        "from_cost_per_task_usd": "2",
        "to_cost_per_task_usd": "0.4",
        "from_tfp": "50",
        "to_tfp": "237.5",
        "to_context_window": None,
    }
    assert (measured["experiment_tasks"], measured["largest_request_tokens"], measured["cost_complete"]) == (
        5,
        100_000,
        True,
    )


def test_spend_per_category_and_model_shows_tasks_cost_mix_and_evidence(history: Database) -> None:
    models = {(m["category"], m["model"]): m for m in report_json(history)["models"]}
    assert set(models) == {("coding", "big"), ("docs", "big"), ("legal", "nano"), ("research", "mid")}
    assert models[("research", "mid")] == {
        "category": "research",
        "provider": "openai",
        "model": "mid",
        "tasks": 2,
        "cost_usd": "6",
        "cost_complete": True,
        "input_tokens": 2_000_000,
        "output_tokens": 200_000,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "cache_read_share": "0",
        "largest_request_tokens": 1_000_000,
        "valued_tasks": 2,
        "value_per_task_usd": "1.5",
        "cost_per_task_usd": "3",
        "tfp": "0.5",
    }


def test_tasks_and_categories_worth_less_than_their_tokens_are_flagged(history: Database) -> None:
    flags = report_json(history)["flags"]["tfp_below_one"]
    assert [
        (f["kind"], f.get("task", {}).get("title"), f["category"], f["cost_usd"], f["value_usd"], f["tfp"])
        for f in flags
    ] == [
        ("task", "Deep dive", "research", "3", "2", "0.6667"),
        ("task", "Survey", "research", "3", "1", "0.3333"),
        ("category", None, "research", "6", "3", "0.5"),
    ]


def test_category_flags_agree_with_report_value_by_category(history: Database) -> None:
    def flagged_categories(db: Database) -> tuple[list[str], list[str]]:
        routing = [f["category"] for f in report_json(db)["flags"]["tfp_below_one"] if f["kind"] == "category"]
        rows = value_report(db, month=JAN, zone=UTC, by="category").rows
        return routing, [row.key["category"] for row in rows if row.figures.flagged]

    assert flagged_categories(history) == (["research"], ["research"])
    # A research task without a value yet: the category's value is unknown, so it is not flagged.
    task(history, "research", at(2026, 1, 22), None, Request("nano"))
    assert flagged_categories(history) == ([], [])


def test_a_month_without_tasks_has_nothing_to_suggest(history: Database) -> None:
    payload = report_json(history, month=(2025, 11))
    assert (payload["suggestions"], payload["models"], payload["flags"]["tfp_below_one"]) == ([], [], [])


def test_spend_without_a_price_is_shown_as_unknown_and_gets_no_suggestion(db: Database) -> None:
    set_prices(db)
    event = UsageEvent("claude-code", "anthropic", "mystery", at(2026, 1, 5), "m1", input_tokens=10_000, session_id="M")
    write(db, [event])
    log_task(db, TaskDraft("Unknown", Decimal(5), category="docs", assignments=(Assignment(session_id="M"),)))
    payload = report_json(db)
    [model] = payload["models"]
    assert (model["model"], model["tasks"], model["cost_usd"], model["cost_complete"]) == ("mystery", 1, None, False)
    assert model["input_tokens"] == 10_000  # used, only not priced: never shown as 0 tokens
    assert (model["cost_per_task_usd"], model["tfp"]) == (None, None)  # unknown, never $0
    assert payload["suggestions"] == []


def test_a_caching_opportunity_is_flagged_with_exact_dollars(db: Database) -> None:
    set_prices(db)
    task(db, "extraction", at(2026, 1, 5), "50", Request("big", 1_000_000, 0))
    task(db, "extraction", at(2026, 1, 6), "50", Request("mid", 200_000, 0, cache_read_tokens=800_000))
    task(db, "extraction", at(2026, 1, 7), "50", Request("small", 400_000, 0, cache_read_tokens=600_000))
    task(db, "extraction", at(2026, 1, 8), "50", Request("nano", 50_000, 0))  # too little to compare
    [flag] = report_json(db)["flags"]["caching"]
    assert flag == {
        "category": "extraction",
        "provider": "anthropic",
        "model": "big",
        "cache_read_share": "0",
        "others_median_share": "0.7",  # median of mid's 80% and small's 60%
        "others": ["mid", "small"],
        "input_tokens": 1_000_000,
        "tokens_to_cache": 700_000,
        "savings_usd": "6.3",  # 700k tokens x ($10 - $1) per million
    }


def test_a_bucket_split_between_tasks_counts_its_exact_share_in_each_category(db: Database) -> None:
    set_prices(db)
    write(
        db,
        [
            UsageEvent(
                source="openai",
                provider="openai",
                model="mid",
                timestamp=at(2026, 1, 5, 10),
                dedupe_key="bucket",
                input_tokens=360_000,
                output_tokens=36_000,
                request_count=3,
                bucket_seconds=3600,
            )
        ],
    )
    log_task(db, TaskDraft("Notes", Decimal(10), at(2026, 1, 5, 10), at(2026, 1, 5, 10, 20), category="docs"))
    log_task(db, TaskDraft("Fix", Decimal(10), at(2026, 1, 5, 10, 20), at(2026, 1, 5, 11), category="coding"))
    payload = report_json(db)
    models = {m["category"]: m for m in payload["models"]}
    # $1.08 for the hour (360k x $2 + 36k x $10 per million), a third to docs, two thirds to coding.
    assert {c: (m["cost_usd"], m["input_tokens"], m["output_tokens"]) for c, m in models.items()} == {
        "docs": ("0.36", 120_000, 12_000),
        "coding": ("0.72", 240_000, 24_000),
    }
    assert {m["largest_request_tokens"] for m in models.values()} == {120_000}  # 360k over 3 requests
    projected = {s["category"]: (s["to_model"], s["projected_cost_usd"]) for s in payload["suggestions"]}
    # tiny (the only other model priced): (360k x $0.10 + 36k x $0.40) per million, split the same way.
    assert projected == {"docs": ("tiny", "0.0168"), "coding": ("tiny", "0.0336")}


def test_a_candidate_must_fit_the_largest_request_and_is_priced_at_its_long_context_tier(db: Database) -> None:
    def flat(price: str, *, window: int | None = None, tier: tuple[int, str] | None = None) -> ModelRates:
        rate = Rate(Decimal(price), () if tier is None else ((tier[0], Decimal(tier[1])),))
        return ModelRates(rate, rate, rate, rate, rate, "test", context_window=window)

    book = PriceBook(
        {
            ("anthropic", "big"): flat("10"),
            ("openai", "narrow"): flat("0.1", window=200_000),
            ("openai", "tiered"): flat("1", window=1_000_000, tier=(200_000, "2")),
        }
    )
    events = [
        UsageEvent("claude-code", "anthropic", "big", at(2026, 1, 5, 10, n), f"r{n}", input_tokens=size, session_id="S")
        for n, size in enumerate((150_000, 300_000))
    ]
    with db.engine.begin() as conn:
        upsert_rows(conn, [event_row(item, book, 1) for item in events], "latest")
    log_task(db, TaskDraft("Long read", Decimal(50), category="docs", assignments=(Assignment(session_id="S"),)))
    payload = routing_report(db, month=JAN, zone=UTC, curated=("narrow", "tiered"), book=book).as_json(UTC)
    # narrow's 200k window cannot hold the 300k request; tiered charges $2 above 200k input.
    assert [(s["to_model"], s["current_cost_usd"], s["projected_cost_usd"]) for s in payload["suggestions"]] == [
        ("tiered", "4.5", "0.75")  # 150k x $1 + 300k x $2 per million
    ]
    assert payload["suggestions"][0]["largest_request_tokens"] == 300_000
    assert payload["suggestions"][0]["to_context_window"] == 1_000_000


# --- experiments ---------------------------------------------------------------------------

ACCEPTED = datetime(2026, 2, 1, tzinfo=UTC)


def docs_to_nano(db: Database) -> str:
    return suggestion_id("2026-01", "docs", BIG, NANO)


def test_an_accepted_experiment_counts_the_next_k_tasks_and_reports_against_the_baseline(history: Database) -> None:
    view = accept_suggestion(history, docs_to_nano(history), zone=UTC, month=JAN, curated=CURATED, now=ACCEPTED)
    assert (view.id, view.status, view.task_count, view.counted) == (1, "running", 5, 0)
    baseline = view.as_json(UTC)["baseline"]
    assert baseline == {"tasks": 7, "value_per_task_usd": "100", "cost_per_task_usd": "2", "tfp": "50"}

    # Two docs tasks on nano; one docs task mostly on big and one coding task on nano do not count.
    counted = [task(history, "docs", at(2026, 2, day), "90", Request("nano")) for day in (2, 3)]
    task(history, "docs", at(2026, 2, 4), "100", Request("big"), Request("nano"))
    task(history, "coding", at(2026, 2, 5), "90", Request("nano"))
    [running] = list_experiments(history, now=datetime(2026, 2, 6, tzinfo=UTC))
    assert (running.status, running.counted, running.verdict) == ("running", 2, None)
    assert [t.task_id for t in running.outcome.counted] == [t.id for t in counted]

    counted += [task(history, "docs", at(2026, 2, day), "90", Request("nano")) for day in (6, 7, 8)]
    done = get_experiment(history, view.id, now=datetime(2026, 2, 9, tzinfo=UTC))
    assert (done.status, done.counted, done.verdict) == ("done", 5, "holds")
    result = done.as_json(UTC)["result"]
    assert result == {
        "tasks": 5,
        "valued_tasks": 5,
        "value_per_task_usd": "90",  # within 10% of $100
        "cost_per_task_usd": "0.009",  # against $2
        "tfp": "10000",
        "tfp_note": None,
        "verdict": "holds",
    }
    assert done.as_json(UTC)["ended_at"] == "2026-02-09T00:00:00+00:00"

    # The counted tasks are frozen: a later docs task on nano does not change the result.
    task(history, "docs", at(2026, 2, 10), "90", Request("nano"))
    again = get_experiment(history, view.id)
    assert [t.task_id for t in again.outcome.counted] == [t.id for t in counted]
    assert again.verdict == "holds"

    # February's report links the switch to its experiment, now measured on the five tasks.
    feb = report_json(history, month=FEB)
    [docs_nano] = [s for s in feb["suggestions"] if (s["category"], s["to_model"]) == ("docs", "nano")]
    assert (docs_nano["evidence"], docs_nano["to_tasks"], docs_nano["experiment"]) == (
        "measured",
        6,
        {"id": 1, "status": "done"},
    )
    assert feb["experiments"][0]["status"] == "done"

    # A counted task deleted: the verdict no longer rests on five tasks, so the experiment counts
    # the next docs task on nano in its place (here the one of 10 February), never judging on four.
    delete_task(history, counted[0].id)
    reopened = get_experiment(history, view.id, now=datetime(2026, 2, 11, tzinfo=UTC))
    assert (reopened.status, reopened.counted, reopened.verdict) == ("done", 5, "holds")
    assert counted[0].id not in [t.task_id for t in reopened.outcome.counted]
    delete_task(history, counted[1].id)
    short = get_experiment(history, view.id, now=datetime(2026, 2, 12, tzinfo=UTC))
    assert (short.status, short.counted, short.verdict) == ("running", 4, None)


def test_an_experiment_can_be_cancelled_and_a_running_switch_is_not_accepted_twice(history: Database) -> None:
    suggestion = docs_to_nano(history)
    first = accept_suggestion(history, suggestion, zone=UTC, month=JAN, curated=CURATED, tasks=3, now=ACCEPTED)
    assert first.task_count == 3
    with pytest.raises(ExperimentConflictError, match="already tries nano for docs tasks"):
        accept_suggestion(history, suggestion, zone=UTC, month=JAN, curated=CURATED, now=ACCEPTED)
    cancelled = cancel_experiment(history, first.id)
    assert cancelled.status == "cancelled"
    with pytest.raises(ExperimentConflictError, match="already cancelled"):
        cancel_experiment(history, first.id)
    again = accept_suggestion(history, suggestion, zone=UTC, month=JAN, curated=CURATED, now=ACCEPTED)
    assert [(v.id, v.status) for v in list_experiments(history)] == [(again.id, "running"), (first.id, "cancelled")]


def test_accepting_needs_a_known_well_formed_id(history: Database) -> None:
    with pytest.raises(SuggestionInputError, match="8 hex characters"):
        accept_suggestion(history, "not-an-id", zone=UTC, month=JAN)
    with pytest.raises(SuggestionNotFoundError, match="no suggestion 0badc0de in 2026-01"):
        accept_suggestion(history, "0badc0de", zone=UTC, month=JAN, curated=CURATED)
    # Without a month: this month, then last month.
    with pytest.raises(SuggestionNotFoundError, match="in 2026-02 or 2026-01"):
        accept_suggestion(history, "0badc0de", zone=UTC, curated=CURATED, now=datetime(2026, 2, 3, tzinfo=UTC))
    found = accept_suggestion(
        history, docs_to_nano(history), zone=UTC, curated=CURATED, now=datetime(2026, 2, 3, tzinfo=UTC)
    )
    assert (found.month, found.to_model) == ("2026-01", NANO)
    with pytest.raises(SuggestionInputError, match="1 to 100 tasks"):
        accept_suggestion(history, docs_to_nano(history), zone=UTC, month=JAN, curated=CURATED, tasks=0)
    with pytest.raises(ExperimentNotFoundError):
        get_experiment(history, 99)
    assert [v.id for v in list_experiments(history)] == [found.id]  # nothing else was stored


def test_an_experiment_counts_a_dated_model_name_as_the_model_it_tries(db: Database) -> None:
    """Claude Code logs `claude-haiku-4-5-20251001`; the suggestion names `claude-haiku-4-5`."""

    def claude_task(model: str, when: datetime, session: str) -> None:
        event = UsageEvent("claude-code", "anthropic", model, when, session, 100_000, 20_000, session_id=session)
        write(db, [event])
        log_task(db, TaskDraft(session, Decimal(50), category="coding", assignments=(Assignment(session_id=session),)))

    claude_task("claude-opus-4-5-20251101", at(2026, 1, 5), "opus-1")
    payload = report_json(db, curated=("claude-haiku-4-5",))
    [suggestion] = payload["suggestions"]
    assert (suggestion["from_model"], suggestion["to_model"], suggestion["evidence"]) == (
        "claude-opus-4-5-20251101",
        "claude-haiku-4-5",
        "priced_only",
    )
    view = accept_suggestion(
        db, suggestion["id"], zone=UTC, month=JAN, curated=("claude-haiku-4-5",), tasks=1, now=ACCEPTED
    )
    # The same switch under the model's dated name is the same experiment: refused while it runs.
    dated = report_json(db, curated=("claude-haiku-4-5-20251001",))["suggestions"][0]
    assert dated["to_model"] == "claude-haiku-4-5-20251001"
    with pytest.raises(ExperimentConflictError, match=f"experiment #{view.id} already tries"):
        accept_suggestion(db, dated["id"], zone=UTC, month=JAN, curated=("claude-haiku-4-5-20251001",), now=ACCEPTED)
    claude_task("claude-haiku-4-5-20251001", at(2026, 2, 3), "haiku-1")
    done = get_experiment(db, view.id)
    assert (done.status, done.counted) == ("done", 1)


def test_categories_spanning_projects_are_broken_down_by_project(db: Database) -> None:
    set_prices(db)
    for day in (3, 4):
        task(db, "docs", at(2026, 1, day), "100", Request("big"), project="/p/app")
    task(db, "docs", at(2026, 1, 5), "20", Request("big"), project="/p/site")
    task(db, "coding", at(2026, 1, 6), "50", Request("big"), project="/p/app")
    rows = report_json(db)["projects"]
    assert [
        (r["category"], r["project"], r["model"], r["tasks"], r["cost_usd"], r["value_usd"], r["tfp"]) for r in rows
    ] == [
        ("docs", "/p/app", "big", 2, "4", "200", "50"),
        ("docs", "/p/site", "big", 1, "2", "20", "10"),
    ]
    assert (rows[0]["cost_per_task_usd"], rows[0]["value_per_task_usd"]) == ("2", "100")
