"""`tokenworth report routing`: which work would have cost less on which model, with the evidence.

Imported by the report command for its options; the services (and SQLAlchemy) load only when
the routing report runs, so the everyday `report daily` stays on its fast path.
"""

from __future__ import annotations

import argparse
from datetime import tzinfo
from fractions import Fraction
from typing import TYPE_CHECKING

from tokenworth.cli.base import CliContext, CommandError
from tokenworth.cli.output import render_table, tokens, write_json
from tokenworth.cli.value_cmd import month_argument
from tokenworth.core.analytics import format_tfp, units_to_money
from tokenworth.core.money import format_cost, format_usd

if TYPE_CHECKING:
    from tokenworth.core.analytics import Tfp
    from tokenworth.core.routing import CachingFlag, Sample, Suggestion
    from tokenworth.services.experiments import ExperimentView
    from tokenworth.services.routing import RoutingReport, TfpFlag


def add_routing_arguments(parser: argparse.ArgumentParser) -> None:
    """Options only `report routing` takes (`--month` is shared with `report value`)."""
    group = parser.add_argument_group("report routing")
    group.add_argument(
        "--candidates",
        metavar="MODELS",
        action="append",
        help="routing: compare with these models (comma-separated) instead of the built-in list of "
        "well-known models; the models you have used always take part",
    )


def candidate_names(values: list[str] | None) -> list[str] | None:
    """`--candidates a,b --candidates c` as ['a', 'b', 'c']; None when not given."""
    if values is None:
        return None
    names = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if not names:
        raise CommandError("--candidates needs model names, e.g. --candidates gpt-5-mini,claude-haiku-4-5", 2)
    return list(dict.fromkeys(names))


def run_routing_report(ctx: CliContext, args: argparse.Namespace, zone: tzinfo) -> int:
    """`report routing` after the report command's own import step."""
    if args.since or args.until or args.source or args.project:
        raise CommandError("report routing takes --month (not --since/--until/--source/--project)", 2)
    month = month_argument(args.month, zone)
    curated = candidate_names(args.candidates)
    from tokenworth.services.routing import routing_report

    report = routing_report(ctx.db(), month=month, zone=zone, curated=curated)
    if args.json:
        write_json(ctx.stdout, report.as_json(zone))
    else:
        ctx.out(render_routing_report(report))
    return 0


def _per_task(units: Fraction | None) -> str:
    return "-" if units is None else format_usd(units_to_money(units))


def _ratio(figure: Tfp) -> str:
    return format_tfp(figure) if figure.ratio is not None else "-"


def _tasks_of(category: str | None) -> str:
    return "uncategorized tasks" if category is None else f"{category} tasks"


def evidence_text(item: Suggestion) -> str:
    """The evidence in words: measured on how many tasks, thin, or only priced (an experiment)."""
    sample: Sample = item.to_sample
    compare = (
        f"value/task {_per_task(sample.value_per_task)} vs {_per_task(item.from_sample.value_per_task)} "
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
        return (
            f"thin: only {sample.tasks} of your {_tasks_of(item.category)} so far ({compare}); "
            f"{item.min_tasks} make it measured"
        )
    return f"priced only: try {item.to_model.model} for the next {item.experiment_tasks} {_tasks_of(item.category)}"


def _cells_table(report: RoutingReport) -> str:
    headers = ["Category", "Model", "Tasks", "Cost", "Tokens", "Cache read", "Valued", "Value/task", "Cost/task", "TFP"]
    right = [False, False, True, True, True, True, True, True, True, True]
    rows = []
    for view in report.cells:
        cell, sample = view.cell, view.sample
        share = cell.mix.cache_read_share
        rows.append(
            [
                cell.category or "(uncategorized)",
                cell.model.model,
                str(cell.tasks),
                format_cost(None if cell.all_unpriced else units_to_money(cell.cost_units), cell.cost_complete),
                tokens(round(cell.mix.total)),
                "-" if share is None else f"{float(share) * 100:.0f}%",
                str(sample.tasks),
                _per_task(sample.value_per_task),
                _per_task(sample.cost_per_task),
                _ratio(sample.tfp),
            ]
        )
    return render_table(headers, rows, right)


def _suggestions_table(report: RoutingReport) -> str:
    headers = ["ID", "Category", "Now on", "Try", "Tasks", "Cost now", "Would cost", "Saves", "Evidence"]
    right = [False, False, False, False, True, True, True, True, False]
    rows = []
    for item in report.suggestions:
        experiment = report.experiment_for(item)
        evidence = evidence_text(item)
        if experiment is not None:
            evidence += f" [experiment #{experiment.id} {experiment.status}]"
        rows.append(
            [
                item.id,
                item.category or "(uncategorized)",
                item.from_model.model,
                item.to_model.model,
                str(item.tasks),
                format_cost(item.current_cost, item.cost_complete),
                format_usd(item.projected_cost),
                format_usd(item.savings),
                evidence,
            ]
        )
    return render_table(headers, rows, right)


def tfp_flag_text(flag: TfpFlag) -> str:
    """One TFP-below-1 line."""
    figures = f"cost {format_usd(flag.cost)}, value {format_usd(flag.value)}, TFP {format_tfp(flag.tfp)}"
    if flag.kind == "task":
        category = f" [{flag.category}]" if flag.category else ""
        return f"task #{flag.task_id} {flag.title}{category}: {figures}"
    return f"category {flag.category or '(uncategorized)'} ({flag.tasks} tasks): {figures}"


def caching_text(flag: CachingFlag) -> str:
    """One caching-opportunity line, with the dollars."""
    others = ", ".join(key.model for key in flag.others)
    category = flag.category or "uncategorized work"
    return (
        f"{category} on {flag.model.model} reads {float(flag.cache_read_share) * 100:.0f}% of its input from cache; "
        f"your other {category} models read {float(flag.others_median_share) * 100:.0f}% (median of {others}). "
        f"At that share {tokens(round(flag.tokens_to_cache))} input tokens would have been cache reads: "
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
        f"{head}, done: value/task {_per_task(sample.value_per_task)} vs {_per_task(base.value_per_task)}, "
        f"cost/task {_per_task(view.outcome.cost_per_task)} vs {_per_task(base.cost_per_task)}, "
        f"TFP {_ratio(view.result_tfp)} vs {_ratio(base.tfp)}: {(view.verdict or '').replace('_', ' ')}"
    )


def render_routing_report(report: RoutingReport) -> str:
    """The report as text: spend per category and model, suggestions, flags, experiments."""
    lines = [
        f"Routing for {report.month} (months in {report.zone}): task spend {format_usd(report.task_cost)}; "
        f"{format_usd(report.unattributed_cost)} in no task is not covered (`tokenworth task proposals`)."
    ]
    if not report.cells:
        lines.append("No task spend this month: suggestions come from the tasks you log and value.")
    else:
        lines += ["", "Your task spend by category and model (valued tasks: all history to the month's end)", ""]
        lines.append(_cells_table(report))
    lines.append("")
    if report.suggestions:
        lines.append("Suggestions (API-equivalent cost of the same tokens; measured first, then thin, then untried)")
        lines.append("")
        lines.append(_suggestions_table(report))
        lines.append("")
        lines.append(
            f"Measured: at least {report.rules.min_tasks} of your valued tasks of that category ran on it, worth at "
            f"least {100 - int(report.rules.value_tolerance * 100)}% as much per task. "
            f"Try one: `tokenworth experiment accept ID --month {report.month}`."
        )
    else:
        lines.append("No cheaper model fits this month's work.")
    if report.tfp_flags:
        lines += ["", "TFP below 1 (the work was worth less than its tokens):"]
        lines += [f"  {tfp_flag_text(flag)}" for flag in report.tfp_flags]
    if report.caching:
        lines += ["", "Caching opportunities:"]
        lines += [f"  {caching_text(flag)}" for flag in report.caching]
    shown = [view for view in report.experiments if view.status != "cancelled"]
    if shown:
        lines += ["", "Experiments:"]
        lines += [f"  {experiment_text(view)}" for view in shown]
    if report.plans:
        lines += [
            "",
            f"Plans apply ({', '.join(report.plans)}): their usage costs a flat fee, so a switch saves "
            "API-equivalent dollars, not the fee.",
        ]
    return "\n".join(lines)
