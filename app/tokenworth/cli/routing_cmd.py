"""`tokenworth report routing`: which work would have cost less on which model, with the evidence.

Imported by the report command for its options; the services (and SQLAlchemy) load only when
the routing report runs, so the everyday `report daily` stays on its fast path.
"""

from __future__ import annotations

import argparse
from datetime import tzinfo
from typing import TYPE_CHECKING

from tokenworth.cli.base import CliContext, CommandError
from tokenworth.cli.output import render_table, tokens, write_json
from tokenworth.cli.value_cmd import month_argument
from tokenworth.core.analytics import UNCATEGORIZED, units_to_money
from tokenworth.core.money import format_cost, format_usd
from tokenworth.services.routing_text import (
    caching_text,
    evidence_text,
    experiment_text,
    project_text,
    tfp_flag_text,
)
from tokenworth.services.routing_text import per_task as _per_task
from tokenworth.services.routing_text import ratio_text as _ratio

if TYPE_CHECKING:
    from tokenworth.services.routing import RoutingReport

__all__ = ["caching_text", "evidence_text", "experiment_text", "tfp_flag_text"]


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


def warn_skipped_candidates(ctx: CliContext, skipped: list[tuple[str, str]]) -> None:
    """Name each `--candidates` model that was left out, and where the usable names come from."""
    if not skipped:
        return
    for name, why in skipped:
        ctx.err(f"warning: --candidates {name} left out: {why}")
    from tokenworth.core.routing import CANDIDATE_MODELS

    ctx.err(
        "note: candidates are model names as the price database writes them ('provider/model' picks a provider), "
        f"e.g. the default ones: {', '.join(CANDIDATE_MODELS)}; `tokenworth price` prices them, "
        "`tokenworth prices list` shows your overrides."
    )


def run_routing_report(ctx: CliContext, args: argparse.Namespace, zone: tzinfo) -> int:
    """`report routing` after the report command's own import step."""
    if args.since or args.until or args.source or args.project:
        raise CommandError("report routing takes --month (not --since/--until/--source/--project)", 2)
    month = month_argument(args.month, zone)
    curated = candidate_names(args.candidates)
    from tokenworth.services.routing import routing_report

    report = routing_report(ctx.db(), month=month, zone=zone, curated=curated)
    warn_skipped_candidates(ctx, report.skipped_candidates)
    if args.json:
        write_json(ctx.stdout, report.as_json(zone))
    else:
        ctx.out(render_routing_report(report))
    return 0


def _cells_table(report: RoutingReport) -> str:
    headers = ["Category", "Model", "Tasks", "Cost", "Tokens", "Cache read", "Valued", "Value/task", "Cost/task", "TFP"]
    right = [False, False, True, True, True, True, True, True, True, True]
    rows = []
    for view in report.cells:
        cell, sample = view.cell, view.sample
        share = cell.all_tokens.cache_read_share
        rows.append(
            [
                cell.category or UNCATEGORIZED,
                cell.model.model,
                str(cell.tasks),
                format_cost(None if cell.all_unpriced else units_to_money(cell.cost_units), cell.cost_complete),
                tokens(round(cell.all_tokens.total)),
                "-" if share is None else f"{float(share) * 100:.0f}%",
                str(sample.tasks),
                _per_task(sample.value_per_task),
                "unpriced" if sample.cost_unknown else _per_task(sample.cost_per_task),
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
                item.category or UNCATEGORIZED,
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
    if report.projects:
        lines += ["", "Categories whose work spans projects, this month by project and model:"]
        lines += [f"  {project_text(cell)}" for cell in report.projects]
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
