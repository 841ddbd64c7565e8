"""Routing suggestions from the user's own valued history: which work would have cost less where. Pure, no DB.

Inputs (built from the ledger by services.routing):

- `SpendCell`: one task category's month of spend on one model: tasks, known API-equivalent
  cost, the token mix (input / output / cache read / cache write) in size bands, and the largest
  single request's input (input + cache read + cache write tokens).
- `Sample`: the evidence for one (category, model): the user's finished, valued tasks of that
  category that ran *mostly* on that model (`primary_model`: the model carrying more than half
  of the task's known cost; a mixed task counts for no model). Unvalued tasks say nothing about
  quality and are not counted.
- `Candidate`: a model to price the same work on, with its rates and context window.

For each cell with known spend, every candidate is considered that is a chat/text model
(`is_chat_model`), is not the cell's own model, has a context window that fits the cell's largest
request (an unknown window is not held against it) and prices the same token mix below the cell's
known cost. The month's projected cost is that mix at the candidate's prices (tiers chosen by
request size, see `MixBand`); the savings are current minus projected.

Evidence, with `RoutingRules` defaults (N = 5 tasks, 10%):

- **measured**: at least N valued tasks of the category mostly on the candidate, and their value
  per task is at least 90% of the current model's (within 10% below, or better).
- a candidate with at least N such tasks whose value per task is more than 10% below is
  **measured worse** and never suggested.
- **thin**: fewer than N (but some) such tasks; also N or more when the current model has no
  valued task of the category to compare with.
- **priced_only**: none; the suggestion is an experiment: "try M for the next K tasks of C".

Which suggestions are kept (`select`), so the user is not flooded: per (category, model), the
measured option with the largest savings, then the thin option with the largest savings, then
one priced-only option: the cheapest untried model of the current model's own provider (the
switch that needs no new tool or key: Claude Code on Opus is told to try Haiku, not another
vendor's smallest model), or the cheapest untried model of any provider when its own has none.
Each is kept only if it saves strictly more than every option with stronger evidence kept
before it (a weaker claim that saves less than a proven one is noise). Ties go to the model name. Kept suggestions are
ranked by evidence (measured, thin, priced only), then savings (largest first), then category
and model names. Every option (`options`) keeps a stable id so any shown suggestion can be
accepted as an experiment later (`suggestion_id`: a hash of month, category and both models).

Caching opportunities (`caching_opportunities`): a model whose cache-read share (cache-read
tokens / all input tokens) is less than half the median share of the user's other models in the
same category, where the model and each of those others have at least `MIN_CACHE_INPUT` input
tokens that month. The dollars are what moving uncached input to cache reads, up to that median
share, would have saved at the model's own prices (cache-write premiums not counted: an upper
bound).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from statistics import median
from typing import Literal

from tokenworth.core.analytics import Tfp, tfp, units_to_money
from tokenworth.core.pricing import POPULAR_MODELS, ModelRates, Rate

Evidence = Literal["measured", "thin", "priced_only"]
EVIDENCE_LEVELS: tuple[Evidence, ...] = ("measured", "thin", "priced_only")
_EVIDENCE_RANK = {level: rank for rank, level in enumerate(EVIDENCE_LEVELS)}

MIN_CACHE_INPUT = 100_000
"""Input tokens (uncached + cache read + cache write) a model needs in a category and month
before its cache-read share is compared, or used as a comparison."""

_UNITS_PER_TOKEN_DOLLAR = 10_000
"""Storage units (1e-10 USD) per token at a rate of 1 USD per million tokens."""

CANDIDATE_MODELS = POPULAR_MODELS
"""The well-known models considered beside those the user has used (never the whole price
database: 2,000+ models would drown the useful few)."""

_NOT_CHAT = re.compile(
    r"embed|rerank|moderation|whisper|transcri|tts|speech|dall-e|image|imagen|veo|sora|audio|realtime|voice|music"
)


def is_chat_model(name: str) -> bool:
    """Whether a model name is a chat/text model (not embeddings, images, audio, moderation)."""
    return _NOT_CHAT.search(name.lower()) is None


@dataclass(frozen=True, slots=True, order=True)
class ModelKey:
    """A model as the ledger names it, under the provider that serves it."""

    provider: str
    model: str


@dataclass(frozen=True, slots=True)
class TokenMix:
    """Tokens by kind; Fractions because a bucketed record may be split between tasks."""

    input: Fraction = Fraction(0)
    output: Fraction = Fraction(0)
    cache_read: Fraction = Fraction(0)
    cache_write_5m: Fraction = Fraction(0)
    cache_write_1h: Fraction = Fraction(0)

    def __add__(self, other: TokenMix) -> TokenMix:
        return TokenMix(
            self.input + other.input,
            self.output + other.output,
            self.cache_read + other.cache_read,
            self.cache_write_5m + other.cache_write_5m,
            self.cache_write_1h + other.cache_write_1h,
        )

    def scaled(self, share: Fraction) -> TokenMix:
        return TokenMix(
            self.input * share,
            self.output * share,
            self.cache_read * share,
            self.cache_write_5m * share,
            self.cache_write_1h * share,
        )

    @property
    def cache_write(self) -> Fraction:
        return self.cache_write_5m + self.cache_write_1h

    @property
    def total_input(self) -> Fraction:
        """Every input token: uncached, read from cache and written to cache."""
        return self.input + self.cache_read + self.cache_write

    @property
    def total(self) -> Fraction:
        return self.total_input + self.output

    @property
    def cache_read_share(self) -> Fraction | None:
        """Cache-read tokens / all input tokens; None without input."""
        total = self.total_input
        return None if total == 0 else self.cache_read / total


@dataclass(frozen=True, slots=True)
class MixBand:
    """Tokens of requests in one size band, and the largest request input among them.

    Bands are cut at every long-context tier start of the models priced, so within a band each
    model charges one rate per kind of token: `size` picks it (`Rate.at(size)`).
    """

    size: int
    mix: TokenMix


def _rate_units(rate: Rate, size: int) -> Fraction:
    return Fraction(rate.at(size)) * _UNITS_PER_TOKEN_DOLLAR


def price_units(rates: ModelRates, bands: Iterable[MixBand]) -> Fraction:
    """The exact cost, in storage units, of these tokens at these rates (rounded only on output)."""
    total = Fraction(0)
    for band in bands:
        mix, size = band.mix, band.size
        total += (
            mix.input * _rate_units(rates.input, size)
            + mix.output * _rate_units(rates.output, size)
            + mix.cache_read * _rate_units(rates.cache_read, size)
            + mix.cache_write_5m * _rate_units(rates.cache_write_5m, size)
            + mix.cache_write_1h * _rate_units(rates.cache_write_1h, size)
        )
    return total


def tier_starts(rates: Iterable[ModelRates]) -> list[int]:
    """Every long-context tier start of these rates, sorted: the size bands' boundaries."""
    starts: set[int] = set()
    for rate in rates:
        for kind in (rate.input, rate.output, rate.cache_read, rate.cache_write_5m, rate.cache_write_1h):
            starts.update(start for start, _price in kind.tiers)
    return sorted(starts)


@dataclass(frozen=True, slots=True)
class SpendCell:
    """One category's month of spend on one model (only the usage attributed to its tasks)."""

    category: str | None
    model: ModelKey
    tasks: int
    """Tasks of the category with usage on this model in the month."""
    cost_units: Fraction
    """Known API-equivalent cost; unpriced records add nothing (see `unpriced_records`)."""
    bands: tuple[MixBand, ...]
    """The priced records' tokens, so current and projected cost cover the same usage."""
    largest_request: int
    """The largest single request's input tokens (for a bucket: its average per request)."""
    unpriced_records: Fraction = Fraction(0)
    unpriced_mix: TokenMix = TokenMix()
    """The tokens of the unpriced records: shown, never priced (current and projected cost cover
    the priced bands alike)."""

    @property
    def all_tokens(self) -> TokenMix:
        return self.mix + self.unpriced_mix

    @property
    def mix(self) -> TokenMix:
        total = TokenMix()
        for band in self.bands:
            total = total + band.mix
        return total

    @property
    def cost_complete(self) -> bool:
        return self.unpriced_records == 0

    @property
    def all_unpriced(self) -> bool:
        """Spend with no known price at all: its cost is unknown, not zero."""
        return self.unpriced_records > 0 and not self.bands


@dataclass(frozen=True, slots=True)
class Sample:
    """Finished, valued tasks of one category mostly on one model: the evidence."""

    tasks: int = 0
    value_units: Fraction = Fraction(0)
    cost_units: Fraction = Fraction(0)
    """The whole known cost of those tasks (every model they used)."""
    incomplete_tasks: int = 0
    """Tasks with usage no price is known for: their known cost is a lower bound."""

    def plus(self, value_units: Fraction, cost_units: Fraction, *, complete: bool = True) -> Sample:
        return Sample(
            self.tasks + 1,
            self.value_units + value_units,
            self.cost_units + cost_units,
            self.incomplete_tasks + (0 if complete else 1),
        )

    @property
    def cost_unknown(self) -> bool:
        """No price known for any of it: the cost is unknown, never $0."""
        return self.incomplete_tasks > 0 and self.cost_units == 0

    @property
    def value_per_task(self) -> Fraction | None:
        return None if self.tasks == 0 else self.value_units / self.tasks

    @property
    def cost_per_task(self) -> Fraction | None:
        return None if self.tasks == 0 or self.cost_unknown else self.cost_units / self.tasks

    @property
    def tfp(self) -> Tfp:
        return tfp(
            self.value_units if self.tasks else None,
            None if self.cost_unknown else self.cost_units,
            cost_complete=self.incomplete_tasks == 0,
        )


EMPTY_SAMPLE = Sample()


def primary_model(costs: Mapping[ModelKey, Fraction], tokens: Mapping[ModelKey, Fraction]) -> ModelKey | None:
    """The model a task ran mostly on: more than half its known cost (by tokens when none of its
    usage is priced); None for a task split more evenly, or with no usage."""
    weights = costs if sum(costs.values(), Fraction(0)) > 0 else tokens
    total = sum(weights.values(), Fraction(0))
    if total <= 0:
        return None
    for key, weight in sorted(weights.items()):
        if weight * 2 > total:
            return key
    return None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A model the work could be priced on: its rates now, and whether the user has used it."""

    model: ModelKey
    rates: ModelRates
    used: bool = False
    identity: tuple[str, str] | None = None
    """(provider, price database id): one model under several names (a dated and an undated
    one) shares it, and is never suggested in place of itself."""

    @property
    def context_window(self) -> int | None:
        return self.rates.context_window

    def fits(self, largest_request: int) -> bool:
        """The largest request seen fits its context window (an unknown window is not held against it)."""
        window = self.context_window
        return window is None or largest_request <= window


@dataclass(frozen=True, slots=True)
class RoutingRules:
    """The thresholds: N tasks for measured evidence, the value tolerance, K tasks per experiment."""

    min_tasks: int = 5
    value_tolerance: Fraction = Fraction(1, 10)
    experiment_tasks: int = 5


def classify(from_sample: Sample, to_sample: Sample, rules: RoutingRules) -> Evidence | None:
    """The evidence level of moving work from one model to another; None when measured worse."""
    if to_sample.tasks == 0:
        return "priced_only"
    to_value = to_sample.value_per_task
    from_value = from_sample.value_per_task
    if to_sample.tasks < rules.min_tasks or from_value is None or to_value is None:
        return "thin"
    if to_value >= from_value * (1 - rules.value_tolerance):
        return "measured"
    return None


def suggestion_id(month: str, category: str | None, from_model: ModelKey, to_model: ModelKey) -> str:
    """A short stable id: the same month, category and models always give the same id."""
    text = "\x1f".join(
        (
            month,
            category if category is not None else "\x00",
            from_model.provider,
            from_model.model,
            to_model.provider,
            to_model.model,
        )
    )
    return hashlib.sha1(text.encode()).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """ "Category C on model A would have cost less on model B this month", with the evidence."""

    id: str
    month: str
    category: str | None
    from_model: ModelKey
    to_model: ModelKey
    tasks: int
    current_units: Fraction
    projected_units: Fraction
    evidence: Evidence
    from_sample: Sample
    to_sample: Sample
    experiment_tasks: int
    min_tasks: int
    """N: valued tasks on the candidate needed for measured evidence."""
    context_window: int | None
    largest_request: int
    cost_complete: bool

    @property
    def savings_units(self) -> Fraction:
        return self.current_units - self.projected_units

    @property
    def current_cost(self) -> Decimal:
        return units_to_money(self.current_units)

    @property
    def projected_cost(self) -> Decimal:
        return units_to_money(self.projected_units)

    @property
    def savings(self) -> Decimal:
        """Rounded once from the exact difference (so it may differ from current - projected by 1e-10)."""
        return units_to_money(self.savings_units)


def options(
    cells: Iterable[SpendCell],
    samples: Mapping[tuple[str | None, ModelKey], Sample],
    candidates: Sequence[Candidate],
    *,
    month: str,
    rules: RoutingRules | None = None,
) -> list[Suggestion]:
    """Every cheaper, fitting, not-measured-worse candidate for every cell with known spend."""
    rules = rules or RoutingRules()
    found: list[Suggestion] = []
    by_key = {candidate.model: candidate for candidate in candidates}
    for cell in cells:
        if cell.cost_units <= 0 or not is_chat_model(cell.model.model):
            continue
        from_sample = samples.get((cell.category, cell.model), EMPTY_SAMPLE)
        current = by_key.get(cell.model)
        # The candidate must be cheaper on these tokens at list prices too: a stored cost the
        # source reported (or priced long ago) can exceed the current model's own list price.
        list_units = None if current is None else price_units(current.rates, cell.bands)
        for candidate in candidates:
            if candidate.model == cell.model or not is_chat_model(candidate.model.model):
                continue
            if current is not None and candidate.identity is not None and candidate.identity == current.identity:
                continue  # the same model under another name
            if not candidate.fits(cell.largest_request):
                continue
            projected = price_units(candidate.rates, cell.bands)
            if projected >= cell.cost_units or (list_units is not None and projected >= list_units):
                continue
            to_sample = samples.get((cell.category, candidate.model), EMPTY_SAMPLE)
            evidence = classify(from_sample, to_sample, rules)
            if evidence is None:
                continue
            found.append(
                Suggestion(
                    id=suggestion_id(month, cell.category, cell.model, candidate.model),
                    month=month,
                    category=cell.category,
                    from_model=cell.model,
                    to_model=candidate.model,
                    tasks=cell.tasks,
                    current_units=cell.cost_units,
                    projected_units=projected,
                    evidence=evidence,
                    from_sample=from_sample,
                    to_sample=to_sample,
                    experiment_tasks=rules.experiment_tasks,
                    min_tasks=rules.min_tasks,
                    context_window=candidate.context_window,
                    largest_request=cell.largest_request,
                    cost_complete=cell.cost_complete,
                )
            )
    return found


def _category_key(category: str | None) -> tuple[bool, str]:
    return (category is None, category or "")


def rank_key(suggestion: Suggestion) -> tuple[object, ...]:
    """Evidence first (measured, thin, priced only), then the largest savings, then names."""
    return (
        _EVIDENCE_RANK[suggestion.evidence],
        -suggestion.savings_units,
        _category_key(suggestion.category),
        suggestion.from_model,
        suggestion.to_model,
    )


def select(found: Iterable[Suggestion]) -> list[Suggestion]:
    """The suggestions worth showing (see the module doc), ranked."""
    by_cell: dict[tuple[tuple[bool, str], ModelKey], list[Suggestion]] = {}
    for item in found:
        by_cell.setdefault((_category_key(item.category), item.from_model), []).append(item)
    kept: list[Suggestion] = []
    for items in by_cell.values():
        floor: Fraction | None = None
        for level in EVIDENCE_LEVELS:
            level_items = [item for item in items if item.evidence == level]
            if level == "priced_only":
                same_provider = [item for item in level_items if item.to_model.provider == item.from_model.provider]
                level_items = same_provider or level_items
            if not level_items:
                continue
            best = min(level_items, key=lambda item: (-item.savings_units, item.to_model))
            if floor is None or best.savings_units > floor:
                kept.append(best)
                floor = best.savings_units
    return sorted(kept, key=rank_key)


def suggest(
    cells: Iterable[SpendCell],
    samples: Mapping[tuple[str | None, ModelKey], Sample],
    candidates: Sequence[Candidate],
    *,
    month: str,
    rules: RoutingRules | None = None,
) -> list[Suggestion]:
    """The ranked suggestions for a month: `select(options(...))`."""
    return select(options(cells, samples, candidates, month=month, rules=rules))


@dataclass(frozen=True, slots=True)
class CachingFlag:
    """A model reading far less of its input from cache than the user's others for the same work."""

    category: str | None
    model: ModelKey
    cache_read_share: Fraction
    others_median_share: Fraction
    others: tuple[ModelKey, ...]
    input_tokens: Fraction
    """All input tokens of the model in the category and month."""
    tokens_to_cache: Fraction
    """Uncached input tokens that would have been cache reads at the others' median share."""
    savings_units: Fraction

    @property
    def savings(self) -> Decimal:
        return units_to_money(self.savings_units)


def caching_opportunities(
    cells: Iterable[SpendCell],
    rates: Mapping[ModelKey, ModelRates | None],
    *,
    min_input: int = MIN_CACHE_INPUT,
) -> list[CachingFlag]:
    """Models whose cache-read share is below half the median of the category's others (module doc)."""
    by_category: dict[tuple[bool, str], list[SpendCell]] = {}
    for cell in cells:
        if cell.mix.total_input >= min_input:
            by_category.setdefault(_category_key(cell.category), []).append(cell)
    flags: list[CachingFlag] = []
    for group in by_category.values():
        for cell in group:
            others = [other for other in group if other.model != cell.model]
            model_rates = rates.get(cell.model)
            share = cell.mix.cache_read_share
            if not others or model_rates is None or share is None:
                continue
            shares = [other.mix.cache_read_share or Fraction(0) for other in others]
            target = Fraction(median(shares))
            if target == 0 or share * 2 >= target:
                continue
            moved = Fraction(0)
            savings = Fraction(0)
            for band in cell.bands:
                mix = band.mix
                extra = min(max(target * mix.total_input - mix.cache_read, Fraction(0)), mix.input)
                gain = _rate_units(model_rates.input, band.size) - _rate_units(model_rates.cache_read, band.size)
                moved += extra
                savings += extra * gain
            if savings <= 0:
                continue
            flags.append(
                CachingFlag(
                    category=cell.category,
                    model=cell.model,
                    cache_read_share=share,
                    others_median_share=target,
                    others=tuple(sorted(other.model for other in others)),
                    input_tokens=cell.mix.total_input,
                    tokens_to_cache=moved,
                    savings_units=savings,
                )
            )
    return sorted(flags, key=lambda flag: (-flag.savings_units, _category_key(flag.category), flag.model))


# --- experiments ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrackedTask:
    """A task an experiment may count: started after acceptance, of the category, on the model."""

    task_id: int
    started_ms: int
    finished: bool
    value_units: Fraction | None
    cost_units: Fraction


@dataclass(frozen=True, slots=True)
class ExperimentOutcome:
    """The tasks an experiment has counted so far, and their figures against the baseline."""

    counted: tuple[TrackedTask, ...]
    running: tuple[TrackedTask, ...]
    target: int
    baseline: Sample
    tolerance: Fraction = field(default=Fraction(1, 10))

    @property
    def done(self) -> bool:
        return len(self.counted) >= self.target

    @property
    def sample(self) -> Sample:
        """The counted tasks that carry a value."""
        result = EMPTY_SAMPLE
        for task in self.counted:
            if task.value_units is not None:
                result = result.plus(task.value_units, task.cost_units)
        return result

    @property
    def unvalued(self) -> int:
        return sum(1 for task in self.counted if task.value_units is None)

    @property
    def cost_per_task(self) -> Fraction | None:
        """Over every counted task (valued or not)."""
        if not self.counted:
            return None
        return sum((task.cost_units for task in self.counted), Fraction(0)) / len(self.counted)

    @property
    def verdict(self) -> str | None:
        """When done: 'holds' (value per task within the tolerance or better, and cheaper per task),
        'value_dropped', 'not_cheaper', or 'undecided' (a task or the baseline has no value)."""
        if not self.done:
            return None
        mine, base = self.sample.value_per_task, self.baseline.value_per_task
        if self.unvalued or mine is None or base is None:
            return "undecided"
        if mine < base * (1 - self.tolerance):
            return "value_dropped"
        cost, base_cost = self.cost_per_task, self.baseline.cost_per_task
        if cost is None or base_cost is None or cost >= base_cost:
            return "not_cheaper"
        return "holds"


def track_experiment(
    tasks: Iterable[TrackedTask], target: int, baseline: Sample, tolerance: Fraction = Fraction(1, 10)
) -> ExperimentOutcome:
    """The first `target` finished tasks by start time (ties: task id); running ones reported apart."""
    ordered = sorted(tasks, key=lambda task: (task.started_ms, task.task_id))
    counted = tuple(task for task in ordered if task.finished)[:target]
    running = () if len(counted) >= target else tuple(task for task in ordered if not task.finished)
    return ExperimentOutcome(counted, running, target, baseline, tolerance)
