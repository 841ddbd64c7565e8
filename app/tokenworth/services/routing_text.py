"""Routing suggestions, flags and experiments in plain words: `report routing` prints them and the
dashboard's Suggestions panel shows them, so both say exactly the same thing."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from tokenworth.core.analytics import Tfp, format_tfp, units_to_money
from tokenworth.core.money import format_cost, format_usd

if TYPE_CHECKING:
    from tokenworth.core.routing import CachingFlag, Sample, Suggestion
    from tokenworth.services.experiments import ExperimentView
    from tokenworth.services.routing import ProjectCell, TfpFlag


def per_task(units: Fraction | None) -> str:
    return "-" if units is None else format_usd(units_to_money(units))


def ratio_text(figure: Tfp) -> str:
    return format_tfp(figure) if figure.ratio is not None else "-"


def _tasks_of(category: str | None) -> str:
    return "uncategorized tasks" if category is None else f"{category} tasks"


def evidence_text(item: Suggestion) -> str:
    """The evidence in words: measured on how many tasks, thin, or only priced (an experiment)."""
    sample: Sample = item.to_sample
    compare = (
        f"value/task {per_task(sample.value_per_task)} vs {per_task(item.from_sample.value_per_task)} "
        f"on {item.from_model.model}"
    )
    if item.evidence == "measured":
        return f"measured on {sample.tasks} of your {_tasks_of(item.category)} ({compare})"
    if item.evidence == "thin":
        if item.from_sample.tasks == 0:
            return (
                f"thin: {sample.tasks} of your {_tasks_of(item.category)} on it, none valued on "
                f"{item.from_model.model} to compare"
            )
        theirs, ours = sample.value_per_task, item.from_sample.value_per_task
        lower = theirs is not None and ours is not None and theirs < ours
        return (
            f"thin: only {sample.tasks} of your {_tasks_of(item.category)} so far ({compare}"
            f"{': worth less so far, an experiment would tell' if lower else ''}); "
            f"{item.min_tasks} make it measured"
        )
    return f"priced only: try {item.to_model.model} for the next {item.experiment_tasks} {_tasks_of(item.category)}"


def tfp_flag_text(flag: TfpFlag) -> str:
    """One TFP-below-1 line."""
    figures = f"cost {format_usd(flag.cost)}, value {format_usd(flag.value)}, TFP {format_tfp(flag.tfp)}"
    if flag.kind == "task":
        category = f" [{flag.category}]" if flag.category else ""
        return f"task #{flag.task_id} {flag.title}{category}: {figures}"
    tasks = f"{flag.tasks} task{'' if flag.tasks == 1 else 's'}"
    return f"category {flag.category or '(uncategorized)'} ({tasks}): {figures}"


def caching_text(flag: CachingFlag) -> str:
    """One caching-opportunity line, with the dollars."""
    others = ", ".join(key.model for key in flag.others)
    category = flag.category or "uncategorized work"
    return (
        f"{category} on {flag.model.model} reads {float(flag.cache_read_share) * 100:.0f}% of its input from cache; "
        f"your other {category} models read {float(flag.others_median_share) * 100:.0f}% (median of {others}). "
        f"At that share {round(flag.tokens_to_cache):,} input tokens would have been cache reads: "
        f"{format_usd(flag.savings)} less (cache writes not counted)."
    )


def experiment_text(view: ExperimentView) -> str:
    """One experiment line: what it tries, how far it is, and the result against the baseline."""
    head = f"#{view.id} {view.category or '(uncategorized)'}: {view.to_model.model} instead of {view.from_model.model}"
    if view.status == "cancelled":
        return f"{head}, cancelled after {view.counted} of {view.task_count} tasks"
    if view.status == "running":
        running = f", {len(view.outcome.running)} running" if view.outcome.running else ""
        return f"{head}, {view.counted} of {view.task_count} tasks counted{running}"
    sample = view.outcome.sample
    base = view.baseline
    return (
        f"{head}, done: value/task {per_task(sample.value_per_task)} vs {per_task(base.value_per_task)}, "
        f"cost/task {per_task(view.outcome.cost_per_task)} vs {per_task(base.cost_per_task)}, "
        f"TFP {ratio_text(view.result_tfp)} vs {ratio_text(base.tfp)}: {(view.verdict or '').replace('_', ' ')}"
    )


def project_text(cell: ProjectCell) -> str:
    """'docs · /p/site · sonnet: 3 tasks, $2.00 ($0.67/task), worth $60.00 ($20.00/task), TFP 30.00x'."""
    figures = cell.figures
    count = len(figures.task_ids)
    cost, value = figures.known_cost_units, figures.value_units
    cost_each = per_task(None if cost is None or not count else cost / count)
    value_each = per_task(None if value is None or not count else value / count)
    return (
        f"{cell.category or 'uncategorized'} · {cell.project or '(no project)'} · {cell.model}: "
        f"{count} task{'' if count == 1 else 's'}, {format_cost(figures.cost, figures.usage.cost_complete)}"
        f" ({cost_each}/task), worth {format_usd(figures.value)} ({value_each}/task), TFP {ratio_text(figures.tfp)}"
    )
