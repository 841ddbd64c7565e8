"""Routing suggestions for a month, flags and experiments: the one API the CLI and the dashboard share.

What a caller (the `report routing` and `experiment` commands, the dashboard's Suggestions panel)
uses; every function takes a `Database` and returns plain typed objects with `as_json`:

- `routing_report(db, month=(2026, 1), zone=tz)` -> `RoutingReport`: the month's spend per
  (category, model) (`cells`) and, for categories whose work spans projects, per (category,
  project, model) with value per task and TFP (`projects`); the ranked `suggestions` (each a
  `core.routing.Suggestion` with a stable 8-character `id`, the models, month tasks, current /
  projected cost and savings, the evidence level and both sample sizes); `tfp_flags` (tasks
  and categories whose TFP is below 1); `caching` flags (a model reading far less from cache
  than the user's others for the same category, with the dollars); and `experiments` (all of
  them, with progress). `as_json(zone)` is exactly what `tokenworth report routing --json`
  prints.
- `accept_suggestion(db, suggestion_id, zone=tz)` -> `ExperimentView`: start the experiment
  "try M for the next K tasks of C" from a suggestion id (looked up in the given month, else
  this month and then last month). Raises `SuggestionInputError` for a malformed id or K,
  `SuggestionNotFoundError` for an id not found, `ExperimentConflictError` when the same switch
  is already being tried.
- `list_experiments(db)` / `get_experiment(db, id)` -> `ExperimentView` (status `running`, `done`
  or `cancelled`; `outcome.counted` / `outcome.running` tasks, `result` figures and `verdict` vs
  the baseline when done); `cancel_experiment(db, id)`. `ExperimentNotFoundError` for a wrong id.

Each call does its own database work in short sessions (no Qt, no network): from the UI, call
them in a worker thread. The rules behind the figures are in core.routing (suggestions,
evidence, which are kept and how they rank, caching), services.routing_stats (what is read)
and services.experiments (how experiments count tasks). In short: only spend attributed to tasks
takes part; costs are API-equivalent (a plan's flat fee is not what a switch would save); the
candidates are the chat models the user has used plus `core.routing.CANDIDATE_MODELS` (the
well-known models of the major providers), priced at the month's end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Any

from tokenworth.core.analytics import TFP_PLACES, Tfp, rounded_ratio, units_to_money
from tokenworth.core.db import Database
from tokenworth.core.money import decimal_str
from tokenworth.core.pricing import ModelRates, PriceBook
from tokenworth.core.routing import (
    CANDIDATE_MODELS,
    EMPTY_SAMPLE,
    CachingFlag,
    Candidate,
    ModelKey,
    RoutingRules,
    Sample,
    SpendCell,
    Suggestion,
    caching_opportunities,
    options,
    select,
    tier_starts,
)
from tokenworth.core.timeutil import month_bounds, to_epoch_ms, utc_now, zone_name
from tokenworth.services.attribution import sync_attribution
from tokenworth.services.experiments import (
    ExperimentConflictError,
    ExperimentInputError,
    ExperimentNotFoundError,
    ExperimentView,
    cancel_experiment,
    check_task_count,
    get_experiment,
    list_experiments,
    start_experiment,
)
from tokenworth.services.plans import month_key
from tokenworth.services.prices import load_price_book
from tokenworth.services.routing_stats import (
    candidate_pool,
    evidence_samples,
    load_tasks,
    price_moment,
    skipped_candidates,
    spend_cells,
    used_models,
)
from tokenworth.services.value_report import ValueFigures, ValueRow, value_cells, value_report

SUGGESTION_ID = re.compile(r"^[0-9a-f]{8}$")


class SuggestionInputError(ExperimentInputError):
    """A malformed suggestion id (or K): a usage error."""


class SuggestionNotFoundError(LookupError):
    """No suggestion with that id in the months looked at."""


def _share(value: Fraction | None) -> str | None:
    return None if value is None else decimal_str(rounded_ratio(value, 1, TFP_PLACES))


def _money(units: Fraction | None) -> str | None:
    return None if units is None else decimal_str(units_to_money(units))


def _tfp_text(figure: Tfp) -> str | None:
    return decimal_str(figure.ratio)


@dataclass(frozen=True)
class CellView:
    """A category's month on one model, with the evidence of its valued tasks (all history)."""

    cell: SpendCell
    sample: Sample

    def as_json(self) -> dict[str, Any]:
        mix = self.cell.all_tokens  # unpriced records' tokens too: they were used, only not priced
        figure = self.sample.tfp
        return {
            "category": self.cell.category,
            "provider": self.cell.model.provider,
            "model": self.cell.model.model,
            "tasks": self.cell.tasks,
            "cost_usd": None if self.cell.all_unpriced else _money(self.cell.cost_units),
            "cost_complete": self.cell.cost_complete,
            "input_tokens": round(mix.input),
            "output_tokens": round(mix.output),
            "cache_read_tokens": round(mix.cache_read),
            "cache_write_tokens": round(mix.cache_write),
            "cache_read_share": _share(mix.cache_read_share),
            "largest_request_tokens": self.cell.largest_request,
            "valued_tasks": self.sample.tasks,
            "value_per_task_usd": _money(self.sample.value_per_task),
            "cost_per_task_usd": _money(self.sample.cost_per_task),
            "tfp": _tfp_text(figure),
        }


@dataclass(frozen=True)
class ProjectCell:
    """A category's month on one model within one project: shown where a category spans projects,
    because the same kind of work can be worth (and cost) different amounts in each."""

    category: str | None
    project: str | None
    model: str
    figures: ValueFigures

    def as_json(self) -> dict[str, Any]:
        tasks = len(self.figures.task_ids)
        cost, value = self.figures.known_cost_units, self.figures.value_units
        return {
            "category": self.category,
            "project": self.project,
            "model": self.model,
            "tasks": tasks,
            "cost_per_task_usd": _money(None if cost is None or not tasks else cost / tasks),
            "value_per_task_usd": _money(None if value is None or not tasks else value / tasks),
            **self.figures.as_json(),
        }


def project_cells(figures: dict[Any, ValueFigures], categories: dict[int, str | None]) -> list[ProjectCell]:
    """The month's task spend and value per (category, project, model), for the categories whose
    tasks' usage lies in more than one project (elsewhere the category's own line says it all)."""
    groups: dict[tuple[str | None, str | None, str], ValueFigures] = {}
    for (task_id, model, project, _source), item in figures.items():
        if task_id is None or model is None:
            continue
        groups.setdefault((categories[task_id], project, model), ValueFigures()).add(item)
    projects_of: dict[str | None, set[str | None]] = {}
    for category, project, _model in groups:
        projects_of.setdefault(category, set()).add(project)
    spanning = {category for category, projects in projects_of.items() if len(projects) > 1}
    cells = [
        ProjectCell(category, project, model, item)
        for (category, project, model), item in groups.items()
        if category in spanning
    ]
    return sorted(cells, key=lambda c: (c.category is None, c.category or "", c.project or "", c.model))


@dataclass(frozen=True)
class TfpFlag:
    """A task or a category whose value was less than its cost this month (TFP below 1)."""

    kind: str
    """'task' or 'category'."""
    category: str | None
    task_id: int | None
    title: str | None
    tasks: int
    cost: Decimal | None
    value: Decimal | None
    tfp: Tfp

    def as_json(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"kind": self.kind, "category": self.category}
        if self.kind == "task":
            payload["task"] = {"id": self.task_id, "title": self.title}
        else:
            payload["tasks"] = self.tasks
        payload.update(
            {
                "cost_usd": decimal_str(self.cost),
                "value_usd": decimal_str(self.value),
                "tfp": _tfp_text(self.tfp),
                "tfp_complete": self.tfp.complete,
            }
        )
        return payload


def suggestion_json(item: Suggestion, experiment: ExperimentView | None = None) -> dict[str, Any]:
    """A suggestion as the JSON report carries it (money as decimal strings)."""
    return {
        "id": item.id,
        "category": item.category,
        "from_provider": item.from_model.provider,
        "from_model": item.from_model.model,
        "to_provider": item.to_model.provider,
        "to_model": item.to_model.model,
        "tasks": item.tasks,
        "current_cost_usd": decimal_str(item.current_cost),
        "projected_cost_usd": decimal_str(item.projected_cost),
        "savings_usd": decimal_str(item.savings),
        "cost_complete": item.cost_complete,
        "evidence": item.evidence,
        "from_tasks": item.from_sample.tasks,
        "to_tasks": item.to_sample.tasks,
        "min_tasks": item.min_tasks,
        "from_value_per_task_usd": _money(item.from_sample.value_per_task),
        "to_value_per_task_usd": _money(item.to_sample.value_per_task),
        "from_cost_per_task_usd": _money(item.from_sample.cost_per_task),
        "to_cost_per_task_usd": _money(item.to_sample.cost_per_task),
        "from_tfp": _tfp_text(item.from_sample.tfp),
        "to_tfp": _tfp_text(item.to_sample.tfp),
        "experiment_tasks": item.experiment_tasks,
        "largest_request_tokens": item.largest_request,
        "to_context_window": item.context_window,
        "experiment": None if experiment is None else {"id": experiment.id, "status": experiment.status},
    }


def caching_json(flag: CachingFlag) -> dict[str, Any]:
    """A caching opportunity as the JSON report carries it."""
    return {
        "category": flag.category,
        "provider": flag.model.provider,
        "model": flag.model.model,
        "cache_read_share": _share(flag.cache_read_share),
        "others_median_share": _share(flag.others_median_share),
        "others": [key.model for key in flag.others],
        "input_tokens": round(flag.input_tokens),
        "tokens_to_cache": round(flag.tokens_to_cache),
        "savings_usd": decimal_str(flag.savings),
    }


@dataclass(frozen=True)
class RoutingReport:
    """A month's routing suggestions with the spend behind them, the flags and the experiments."""

    month: str
    zone: str
    rules: RoutingRules
    cells: list[CellView]
    projects: list[ProjectCell]
    suggestions: list[Suggestion]
    tfp_flags: list[TfpFlag]
    caching: list[CachingFlag]
    experiments: list[ExperimentView]
    candidates: list[ModelKey]
    task_cost: Decimal | None
    unattributed_cost: Decimal | None
    plans: list[str]
    skipped_candidates: list[tuple[str, str]] = field(default_factory=list)
    """(name, why) for each `--candidates` name left out (unknown, not chat, unpriced)."""

    def experiment_for(self, item: Suggestion) -> ExperimentView | None:
        """The newest running or done experiment trying this suggestion's switch."""
        for experiment in self.experiments:  # newest first
            if (
                experiment.status != "cancelled"
                and experiment.category == item.category
                and experiment.from_model == item.from_model
                and experiment.to_model == item.to_model
            ):
                return experiment
        return None

    @property
    def measured_savings(self) -> Decimal:
        """The sum of the measured suggestions' savings (at most one per category and model)."""
        return units_to_money(
            sum((item.savings_units for item in self.suggestions if item.evidence == "measured"), Fraction(0))
        )

    def as_json(self, zone: tzinfo) -> dict[str, Any]:
        return {
            "report": "routing",
            "month": self.month,
            "time_zone": self.zone,
            "rules": {
                "min_tasks": self.rules.min_tasks,
                "value_tolerance": _share(self.rules.value_tolerance),
                "experiment_tasks": self.rules.experiment_tasks,
            },
            "suggestions": [suggestion_json(item, self.experiment_for(item)) for item in self.suggestions],
            "flags": {
                "tfp_below_one": [flag.as_json() for flag in self.tfp_flags],
                "caching": [caching_json(flag) for flag in self.caching],
            },
            "experiments": [experiment.as_json(zone) for experiment in self.experiments],
            "models": [cell.as_json() for cell in self.cells],
            "projects": [cell.as_json() for cell in self.projects],
            "candidates": [{"provider": key.provider, "model": key.model} for key in self.candidates],
            "skipped_candidates": [{"model": name, "reason": why} for name, why in self.skipped_candidates],
            "totals": {
                "task_cost_usd": decimal_str(self.task_cost),
                "unattributed_cost_usd": decimal_str(self.unattributed_cost),
                "measured_savings_usd": decimal_str(self.measured_savings),
            },
            "plans": self.plans,
        }


@dataclass(frozen=True)
class _MonthInputs:
    key: str
    cells: list[SpendCell]
    samples: dict[tuple[str | None, ModelKey], Sample]
    candidates: list[Candidate]
    rates: dict[ModelKey, ModelRates | None]
    skipped: list[tuple[str, str]]


def _month_inputs(
    db: Database,
    *,
    month: tuple[int, int],
    zone: tzinfo,
    curated: Sequence[str] | None,
    book: PriceBook | None,
    now: datetime | None,
) -> _MonthInputs:
    sync_attribution(db)
    book = book or load_price_book(db)
    start, end = month_bounds(month[0], month[1], zone)
    start_ms, end_ms = to_epoch_ms(start), to_epoch_ms(end)
    moment = price_moment(end, now or utc_now())
    with db.session() as session:
        conn = session.connection()
        tasks = load_tasks(conn)
        used = used_models(conn, until_ms=end_ms)
        pool = candidate_pool(book, used, CANDIDATE_MODELS if curated is None else curated, at=moment)
        skipped = [] if curated is None else skipped_candidates(book, curated, at=moment)
        boundaries = tier_starts(candidate.rates for candidate in pool)
        cells = spend_cells(conn, tasks, start_ms=start_ms, end_ms=end_ms, boundaries=boundaries)
        samples = evidence_samples(conn, tasks, until_ms=end_ms)
    rates: dict[ModelKey, ModelRates | None] = {candidate.model: candidate.rates for candidate in pool}
    for cell in cells:
        if cell.model not in rates:
            rates[cell.model] = book.rates(cell.model.provider, cell.model.model, moment)
    return _MonthInputs(month_key(*month), cells, samples, pool, rates, skipped)


def tfp_flags(task_rows: Sequence[ValueRow]) -> list[TfpFlag]:
    """Tasks, then categories, whose value was less than their cost (the value report's rows by
    task, summed per category as `report value --by category` sums them)."""
    flags: list[TfpFlag] = []
    categories: dict[str | None, list[ValueRow]] = {}
    for row in task_rows:
        category = row.key.get("category")
        categories.setdefault(category, []).append(row)
        figures = row.figures
        if figures.flagged:
            task = row.key["task"]
            flags.append(
                TfpFlag("task", category, task["id"], task["title"], 1, figures.cost, figures.value, figures.tfp)
            )
    sums: list[tuple[str | None, ValueFigures]] = []
    for category, rows in categories.items():
        total = ValueFigures()
        for row in rows:
            total.add(row.figures)
        total.unvalued_tasks = sum(1 for row in rows if row.figures.value_units is None)
        sums.append((category, total))
    sums.sort(key=lambda item: (-item[1].cost_units, item[0] or ""))
    for category, total in sums:
        if total.flagged:
            flags.append(
                TfpFlag("category", category, None, None, len(total.task_ids), total.cost, total.value, total.tfp)
            )
    return flags


def routing_report(
    db: Database,
    *,
    month: tuple[int, int],
    zone: tzinfo,
    curated: Sequence[str] | None = None,
    rules: RoutingRules | None = None,
    book: PriceBook | None = None,
    now: datetime | None = None,
) -> RoutingReport:
    """The month's suggestions, flags and experiments (see the module doc).

    `curated` replaces `CANDIDATE_MODELS` (the user's own models always take part); `book`
    replaces the stored price overrides plus the price database.
    """
    rules = rules or RoutingRules()
    inputs = _month_inputs(db, month=month, zone=zone, curated=curated, book=book, now=now)
    found = options(inputs.cells, inputs.samples, inputs.candidates, month=inputs.key, rules=rules)
    by_task = value_report(db, month=month, zone=zone, by="task")
    figures, tasks = value_cells(db, month=month, zone=zone)
    return RoutingReport(
        month=inputs.key,
        zone=zone_name(zone),
        rules=rules,
        cells=[CellView(cell, inputs.samples.get((cell.category, cell.model), EMPTY_SAMPLE)) for cell in inputs.cells],
        projects=project_cells(figures, {task_id: task.category for task_id, task in tasks.items()}),
        suggestions=select(found),
        tfp_flags=tfp_flags(by_task.rows),
        caching=caching_opportunities(inputs.cells, inputs.rates),
        experiments=list_experiments(db, now=now),
        candidates=[candidate.model for candidate in inputs.candidates],
        task_cost=by_task.attributed.cost,
        unattributed_cost=by_task.unattributed.cost,
        plans=[use.plan.name for use in by_task.plans],
        skipped_candidates=inputs.skipped,
    )


def _previous(month: tuple[int, int]) -> tuple[int, int]:
    year, number = month
    return (year - 1, 12) if number == 1 else (year, number - 1)


def find_suggestion(
    db: Database,
    suggestion_id: str,
    *,
    zone: tzinfo,
    month: tuple[int, int] | None = None,
    curated: Sequence[str] | None = None,
    rules: RoutingRules | None = None,
    book: PriceBook | None = None,
    now: datetime | None = None,
) -> Suggestion:
    """The suggestion with this id among every option of `month` (default: this month, then the
    previous one), shown or not; SuggestionNotFoundError when there is none."""
    wanted = suggestion_id.strip().lower()
    if not SUGGESTION_ID.match(wanted):
        raise SuggestionInputError(
            f"a suggestion id is 8 hex characters as `tokenworth report routing` shows it, got {suggestion_id!r}"
        )
    moment = now or utc_now()
    if month is None:
        local = moment.astimezone(zone)
        months = [(local.year, local.month), _previous((local.year, local.month))]
    else:
        months = [month]
    for candidate_month in months:
        inputs = _month_inputs(db, month=candidate_month, zone=zone, curated=curated, book=book, now=moment)
        for item in options(inputs.cells, inputs.samples, inputs.candidates, month=inputs.key, rules=rules):
            if item.id == wanted:
                return item
    looked = " or ".join(month_key(*m) for m in months)
    raise SuggestionNotFoundError(
        f"no suggestion {wanted} in {looked}; see `tokenworth report routing --month YYYY-MM` "
        "(and pass the same --month and --candidates here)"
    )


def accept_suggestion(
    db: Database,
    suggestion_id: str,
    *,
    zone: tzinfo,
    month: tuple[int, int] | None = None,
    tasks: int | None = None,
    curated: Sequence[str] | None = None,
    rules: RoutingRules | None = None,
    book: PriceBook | None = None,
    now: datetime | None = None,
) -> ExperimentView:
    """Start the experiment a suggestion proposes: count the next K (`tasks`, default the
    suggestion's) tasks of its category on its model, against the current model's baseline."""
    if tasks is not None:
        try:
            check_task_count(tasks)
        except ExperimentInputError as exc:
            raise SuggestionInputError(str(exc)) from None
    item = find_suggestion(db, suggestion_id, zone=zone, month=month, curated=curated, rules=rules, book=book, now=now)
    return start_experiment(db, item, tasks=tasks, now=now)


__all__ = [
    "ExperimentConflictError",
    "ExperimentInputError",
    "ExperimentNotFoundError",
    "ExperimentView",
    "RoutingReport",
    "SuggestionInputError",
    "SuggestionNotFoundError",
    "accept_suggestion",
    "cancel_experiment",
    "find_suggestion",
    "get_experiment",
    "list_experiments",
    "routing_report",
]
