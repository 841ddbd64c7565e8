"""core.routing on hand-made inputs: pricing a token mix, evidence levels, which suggestions are kept,
caching opportunities and experiment verdicts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from tokenworth.core.pricing import ModelRates, PriceBook, Rate
from tokenworth.core.routing import (
    CANDIDATE_MODELS,
    Candidate,
    MixBand,
    ModelKey,
    RoutingRules,
    Sample,
    SpendCell,
    TokenMix,
    TrackedTask,
    caching_opportunities,
    classify,
    is_chat_model,
    options,
    price_units,
    primary_model,
    select,
    suggest,
    suggestion_id,
    tier_starts,
    track_experiment,
)

USD = 10**10  # storage units per dollar


def rates(
    input_mtok: str,
    output_mtok: str,
    cache_read: str | None = None,
    *,
    window: int | None = None,
    tiers: tuple[tuple[int, str], ...] = (),
) -> ModelRates:
    base = Rate(Decimal(input_mtok), tuple((start, Decimal(price)) for start, price in tiers))
    return ModelRates(
        input=base,
        output=Rate(Decimal(output_mtok)),
        cache_read=Rate(Decimal(cache_read)) if cache_read is not None else base,
        cache_write_5m=base,
        cache_write_1h=base,
        version="test",
        context_window=window,
    )


def mix(input_tokens: int = 0, output: int = 0, cache_read: int = 0) -> TokenMix:
    return TokenMix(Fraction(input_tokens), Fraction(output), Fraction(cache_read))


BIG, MID, SMALL, NANO = (ModelKey("p", name) for name in ("big", "mid", "small", "nano"))
PRICES = {BIG: rates("10", "50", "1"), MID: rates("2", "10"), SMALL: rates("0.5", "2"), NANO: rates("0.05", "0.2")}


def cell(category: str | None, model: ModelKey, tokens: TokenMix, *, tasks: int = 1, size: int = 100_000) -> SpendCell:
    band = MixBand(size, tokens)
    return SpendCell(category, model, tasks, price_units(PRICES[model], [band]), (band,), size)


def pool(*keys: ModelKey) -> list[Candidate]:
    return [Candidate(key, PRICES[key], used=True) for key in keys]


def test_a_token_mix_is_priced_exactly_with_each_band_at_its_own_tier() -> None:
    tiered = rates("3", "15", "0.3", tiers=((200_000, "6"),))
    small_requests = MixBand(150_000, mix(1_000_000, 100_000, 500_000))
    long_requests = MixBand(250_000, mix(500_000))
    # 1M x $3 + 100k x $15 + 500k x $0.30 = $4.65; the long band's input pays $6: 500k x $6 = $3.
    assert price_units(tiered, [small_requests]) == Fraction(465, 100) * USD
    assert price_units(tiered, [small_requests, long_requests]) == Fraction(765, 100) * USD
    assert tier_starts([tiered, PRICES[BIG], rates("1", "1", tiers=((128_000, "2"),))]) == [128_000, 200_000]


def test_evidence_levels_follow_the_sample_sizes_and_the_value_tolerance() -> None:
    rules = RoutingRules()
    current = Sample(4, Fraction(400), Fraction(8))  # $100 a task
    assert classify(current, Sample(), rules) == "priced_only"
    assert classify(current, Sample(4, Fraction(400), Fraction(1)), rules) == "thin"
    assert classify(current, Sample(5, Fraction(450), Fraction(1)), rules) == "measured"  # $90: exactly 10% below
    assert classify(current, Sample(5, Fraction(600), Fraction(1)), rules) == "measured"  # better is fine
    assert classify(current, Sample(5, Fraction(449), Fraction(1)), rules) is None  # measured worse
    assert classify(Sample(), Sample(9, Fraction(9), Fraction(1)), rules) == "thin"  # nothing to compare with
    assert classify(current, Sample(2, Fraction(200), Fraction(1)), RoutingRules(min_tasks=2)) == "measured"


def test_only_cheaper_fitting_chat_models_other_than_the_current_one_are_options() -> None:
    spend = cell("docs", MID, mix(1_000_000, 100_000), size=150_000)  # $3.00
    candidates = [
        *pool(MID, BIG, SMALL),  # itself, dearer, cheaper
        Candidate(ModelKey("p", "narrow"), rates("0.1", "0.1", window=128_000)),  # cheaper, too small a window
        Candidate(ModelKey("p", "wide"), rates("1", "1", window=150_000)),  # cheaper, fits exactly
        Candidate(ModelKey("p", "text-embedding-x"), rates("0.01", "0.01")),  # not a chat model
    ]
    found = options([spend], {}, candidates, month="2026-01")
    assert {item.to_model.model: item.projected_cost for item in found} == {
        "small": Decimal("0.7"),
        "wide": Decimal("1.1"),
    }
    assert all(item.evidence == "priced_only" and item.current_cost == Decimal(3) for item in found)
    assert {item.to_model.model: item.context_window for item in found} == {"small": None, "wide": 150_000}


def test_a_reported_cost_above_the_list_price_never_makes_a_dearer_model_an_option() -> None:
    """Claude Code lines with `costUSD`: the stored cost is what the source reported, which may be
    more than the model's own list price; a candidate must beat both on the same tokens."""
    tokens = mix(1_000_000, 100_000)
    band = MixBand(150_000, tokens)
    reported = SpendCell("review", SMALL, 2, Fraction(20 * USD), (band,), 150_000)  # $20 paid; list $0.70
    found = options([reported], {}, pool(SMALL, MID, NANO), month="2026-01")
    assert {item.to_model.model: item.savings for item in found} == {"nano": Decimal("19.93")}


def test_the_same_model_under_another_name_is_never_an_option() -> None:
    dated, undated = ModelKey("p", "mid-20250929"), ModelKey("p", "mid")
    spend = SpendCell("docs", dated, 1, Fraction(6 * USD), (MixBand(150_000, mix(1_000_000, 100_000)),), 150_000)
    same = ("p", "mid")
    candidates = [
        Candidate(dated, rates("4", "20"), used=True, identity=same),  # repriced by an override since
        Candidate(undated, PRICES[MID], used=True, identity=same),
    ]
    assert options([spend], {}, candidates, month="2026-01") == []


def test_per_cell_the_best_of_each_evidence_level_is_kept_only_if_it_saves_more_than_stronger_ones() -> None:
    samples = {
        ("docs", BIG): Sample(3, Fraction(300), Fraction(6)),
        ("docs", MID): Sample(5, Fraction(475), Fraction(2)),  # measured
        ("docs", SMALL): Sample(2, Fraction(180), Fraction(1)),  # thin
        ("coding", BIG): Sample(3, Fraction(300), Fraction(6)),
        ("coding", NANO): Sample(5, Fraction(500), Fraction(1)),  # measured, and the cheapest
        ("coding", SMALL): Sample(1, Fraction(100), Fraction(1)),  # thin but saves less: dropped
    }
    cells = [cell("docs", BIG, mix(300_000, 60_000), tasks=3), cell("coding", BIG, mix(300_000, 60_000), tasks=3)]
    kept = suggest(cells, samples, pool(BIG, MID, SMALL, NANO), month="2026-01")
    assert [(item.category, item.to_model.model, item.evidence, item.savings) for item in kept] == [
        ("coding", "nano", "measured", Decimal("5.973")),  # $6 - (300k x 0.05 + 60k x 0.2)/1M
        ("docs", "mid", "measured", Decimal("4.8")),  # $6 - $1.20
        ("docs", "small", "thin", Decimal("5.73")),  # $6 - $0.27
        ("docs", "nano", "priced_only", Decimal("5.973")),
    ]
    assert [item.id for item in kept] == [
        suggestion_id("2026-01", item.category, item.from_model, item.to_model) for item in kept
    ]


def test_the_untried_model_suggested_is_the_cheapest_of_the_same_provider_when_there_is_one() -> None:
    opus, haiku, mini = ModelKey("anthropic", "opus"), ModelKey("anthropic", "haiku"), ModelKey("openai", "mini")
    prices = {opus: rates("5", "25"), haiku: rates("1", "5"), mini: rates("0.25", "2")}
    candidates = [Candidate(key, value) for key, value in prices.items()]
    spend = SpendCell(
        "coding", opus, 2, price_units(prices[opus], [MixBand(1, mix(1_000_000))]), (MixBand(1, mix(1_000_000)),), 1
    )
    [kept] = suggest([spend], {}, candidates, month="2026-01")
    assert (kept.to_model, kept.evidence, kept.savings) == (haiku, "priced_only", Decimal(4))
    # Without an untried model of its own provider, the cheapest of any provider.
    [kept] = suggest([spend], {}, [c for c in candidates if c.model != haiku], month="2026-01")
    assert (kept.to_model, kept.savings) == (mini, Decimal("4.75"))


def test_suggestion_ids_are_stable_short_and_tell_apart_months_categories_and_models() -> None:
    first = suggestion_id("2026-01", "docs", BIG, MID)
    assert first == suggestion_id("2026-01", "docs", BIG, MID)
    assert len(first) == 8
    assert int(first, 16) >= 0
    others = {
        suggestion_id("2026-02", "docs", BIG, MID),
        suggestion_id("2026-01", "coding", BIG, MID),
        suggestion_id("2026-01", None, BIG, MID),
        suggestion_id("2026-01", "docs", MID, BIG),
        suggestion_id("2026-01", "docs", BIG, ModelKey("q", "mid")),
    }
    assert first not in others
    assert len(others) == 5


def test_select_ranks_by_evidence_then_savings() -> None:
    cells = [cell("a", MID, mix(1_000_000)), cell("b", BIG, mix(1_000_000))]
    ranked = select(options(cells, {}, pool(BIG, MID, SMALL, NANO), month="2026-01"))
    assert [(item.category, item.to_model.model, item.savings) for item in ranked] == [
        ("b", "nano", Decimal("9.95")),
        ("a", "nano", Decimal("1.95")),
    ]


def test_a_task_runs_mostly_on_the_model_with_more_than_half_its_cost() -> None:
    assert primary_model({BIG: Fraction(3), MID: Fraction(2)}, {}) == BIG
    assert primary_model({BIG: Fraction(1), MID: Fraction(1)}, {}) is None  # split evenly: no model
    assert primary_model({BIG: Fraction(0)}, {BIG: Fraction(5), MID: Fraction(1)}) == BIG  # unpriced: by tokens
    assert primary_model({}, {}) is None


def test_chat_models_are_told_from_embeddings_images_and_audio() -> None:
    assert all(is_chat_model(name) for name in ("gpt-5-mini", "claude-sonnet-4-5-20250929", "o3", "gemini-2.5-pro"))
    for name in ("text-embedding-3-small", "dall-e-3", "gpt-image-1", "whisper-1", "tts-1", "gpt-4o-realtime-preview"):
        assert not is_chat_model(name)


def test_the_curated_candidates_are_chat_models_the_bundled_price_database_prices() -> None:
    book = PriceBook()
    moment = datetime(2026, 1, 31, tzinfo=UTC)
    unpriced = [
        name for name in CANDIDATE_MODELS if (key := book.find(name)) is None or book.rates(*key, moment) is None
    ]
    assert unpriced == []
    assert all(is_chat_model(name) for name in CANDIDATE_MODELS)


def test_a_model_caching_far_less_than_the_others_for_the_same_work_is_flagged_with_the_dollars() -> None:
    cells = [
        cell("extraction", BIG, mix(1_000_000)),  # 0% from cache
        cell("extraction", MID, mix(200_000, 0, 800_000)),  # 80%
        cell("extraction", SMALL, mix(400_000, 0, 600_000)),  # 60%
        cell("extraction", NANO, mix(50_000)),  # too little input to compare or be compared
        cell("docs", NANO, mix(1_000_000)),  # alone in its category
    ]
    [flag] = caching_opportunities(cells, PRICES)
    assert (flag.category, flag.model, flag.cache_read_share, flag.others_median_share) == (
        "extraction",
        BIG,
        Fraction(0),
        Fraction(7, 10),
    )
    assert flag.others == (MID, SMALL)
    assert flag.tokens_to_cache == 700_000
    assert flag.savings == Decimal("6.3")  # 700k x ($10 - $1) per million


def test_no_caching_flag_without_a_cache_discount_or_when_the_share_is_close() -> None:
    no_discount = {**PRICES, BIG: rates("10", "50")}  # cache reads cost as much as input
    cells = [cell("x", BIG, mix(1_000_000)), cell("x", MID, mix(200_000, 0, 800_000))]
    assert caching_opportunities(cells, no_discount) == []
    close = [cell("x", BIG, mix(600_000, 0, 400_000)), cell("x", MID, mix(200_000, 0, 800_000))]
    assert caching_opportunities(close, PRICES) == []  # 40% is not below half of 80%


def _task(
    task_id: int, value: int | None, cost: str, *, finished: bool = True, started: int | None = None
) -> TrackedTask:
    return TrackedTask(
        task_id,
        started if started is not None else task_id,
        finished,
        None if value is None else Fraction(value * USD),
        Fraction(Decimal(cost)) * USD,
    )


BASELINE = Sample(4, Fraction(400 * USD), Fraction(8 * USD))  # $100 and $2 a task


@pytest.mark.parametrize(
    ("values", "cost", "verdict"),
    [
        ((90, 95, 100), "0.5", "holds"),
        ((70, 90, 100), "0.5", "value_dropped"),  # $86.67 a task: more than 10% below $100
        ((100, 100, 100), "2", "not_cheaper"),
        ((100, None, 100), "0.5", "undecided"),
    ],
)
def test_an_experiment_is_judged_against_its_baseline_when_k_tasks_are_done(
    values: tuple[int | None, ...], cost: str, verdict: str
) -> None:
    tasks = [_task(index + 1, value, cost) for index, value in enumerate(values)]
    assert track_experiment(tasks[:2], 3, BASELINE).verdict is None
    outcome = track_experiment(tasks, 3, BASELINE)
    assert outcome.done
    assert outcome.verdict == verdict


def test_an_experiment_counts_the_first_k_finished_tasks_by_start_time() -> None:
    tasks = [
        _task(7, 100, "1", started=30),
        _task(3, 100, "1", started=10),
        _task(5, 100, "1", started=20, finished=False),
        _task(9, 100, "1", started=40),
    ]
    outcome = track_experiment(tasks, 3, BASELINE)
    assert [task.task_id for task in outcome.counted] == [3, 7, 9]
    assert outcome.running == ()
    partial = track_experiment(tasks[:3], 3, BASELINE)
    assert ([t.task_id for t in partial.counted], [t.task_id for t in partial.running]) == ([3, 7], [5])


def test_a_curated_candidate_priced_by_the_hour_is_projected_the_same_at_any_hour() -> None:
    """deepseek-chat costs half off-peak: a month's work moved to it is projected at its dearest
    hour, so the suggestion does not change with the hour (or --tz) the report runs at."""
    from tokenworth.services.routing_stats import candidate_pool

    book = PriceBook()
    pools = [
        candidate_pool(book, [], ["deepseek-chat"], at=datetime(2026, 11, 30, hour, tzinfo=UTC)) for hour in (3, 20)
    ]
    [[morning], [evening]] = pools
    assert (
        morning.rates == evening.rates == book.rates("deepseek", "deepseek-chat", datetime(2026, 11, 30, 3, tzinfo=UTC))
    )
