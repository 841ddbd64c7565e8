"""`tokenworth report value`: tokens, cost, value and TFP per task, category, model or project."""

from __future__ import annotations

import argparse
from datetime import tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING

from tokenworth.cli.base import CliContext, CommandError, refuse_future_month
from tokenworth.cli.output import render_table, tokens, unpriced_note, write_json
from tokenworth.core.analytics import BASIS_LABELS, COST_BASES, VALUE_GROUPINGS, format_tfp
from tokenworth.core.money import format_cost, format_usd
from tokenworth.core.timeutil import parse_month, utc_now

if TYPE_CHECKING:
    from tokenworth.services.value_report import ValueFigures, ValueReport


def add_value_arguments(parser: argparse.ArgumentParser) -> None:
    """Options only `report value` takes (the report command routes `value` here)."""
    group = parser.add_argument_group("report value")
    group.add_argument("--month", metavar="YYYY-MM", help="value, routing: the month to report (default: this month)")
    group.add_argument(
        "--by", choices=VALUE_GROUPINGS, help="value: group by task (default), category, model or project"
    )
    group.add_argument(
        "--basis",
        choices=COST_BASES,
        help="value: cost basis, api (default) or plan (flat fees for covered usage)",
    )


def month_argument(text: str | None, zone: tzinfo) -> tuple[int, int]:
    """'YYYY-MM' (or this month in `zone`) as (year, month); exit 2 with a clear message if wrong."""
    if text is None:
        now = utc_now().astimezone(zone)
        return now.year, now.month
    try:
        return parse_month(text)
    except ValueError as exc:
        raise CommandError(str(exc), 2) from exc


def run_value_report(ctx: CliContext, args: argparse.Namespace, zone: tzinfo) -> int:
    """`report value` after the report command's own import step."""
    if args.since or args.until or args.source or args.project:
        raise CommandError("report value takes --month (not --since/--until/--source/--project)", 2)
    month = month_argument(args.month, zone)
    refuse_future_month(month, zone)
    from tokenworth.services.value_report import value_report

    report = value_report(ctx.db(), month=month, zone=zone, by=args.by or "task", basis=args.basis or "api")
    if args.json:
        write_json(ctx.stdout, report.as_json())
    else:
        ctx.out(render_value_report(report))
    return 0


def _cells(figures: ValueFigures) -> list[str]:
    return [
        tokens(figures.tokens),
        format_cost(figures.cost, figures.usage.cost_complete),
        "-" if figures.value is None else format_usd(figures.value),
        format_tfp(figures.tfp),
    ]


def render_value_report(report: ValueReport) -> str:
    """The report as a table: one line per group, the unattributed line, the total, then plans."""
    title = {"task": "Task", "category": "Category", "model": "Model", "project": "Project"}[report.by]
    headers = [title, "Tokens", "Cost", "Value", "TFP", "Flag"]
    right = [False, True, True, True, True, False]
    if report.by == "task":
        headers.insert(1, "Category")
        right.insert(1, False)
    rows: list[list[str]] = []
    for row in report.rows:
        figures = row.figures
        line = [row.label, *_cells(figures), "COST > VALUE" if figures.flagged else ""]
        if report.by == "task":
            line.insert(1, row.key.get("category") or "")
        rows.append(line)
    unattributed = report.unattributed
    line = [
        "(unattributed)",
        tokens(unattributed.tokens),
        format_cost(unattributed.cost, unattributed.usage.cost_complete),
        "",
        "",
        "",
    ]
    if report.by == "task":
        line.insert(1, "")
    rows.append(line)
    total = report.total
    line = ["Total", *_cells(total), ""]
    if report.by == "task":
        line.insert(1, "")
    rows.append(line)
    lines = [
        f"Value and TFP by {report.by}, {report.month} (months in {report.zone}); "
        f"cost basis: {BASIS_LABELS[report.basis]}",
        "",
        render_table(headers, rows, right),
        "",
        f"TFP of attributed spend: {format_tfp(report.attributed.tfp)} "
        f"({format_cost(report.attributed.cost, report.attributed.usage.cost_complete)} attributed, "
        f"{format_cost(unattributed.cost, unattributed.usage.cost_complete)} unattributed). "
        "Total TFP divides the value by all spend.",
    ]
    if not report.rows:
        lines.append("No tasks in this month: `tokenworth task proposals` offers the spend to value.")
    flagged = [row.label for row in report.rows if row.figures.flagged]
    if flagged:
        lines.append(f"Cost exceeds value: {', '.join(flagged)}.")
    if any(not row.figures.tfp.complete and row.figures.tfp.ratio is not None for row in report.rows) or (
        total.tfp.ratio is not None and not total.tfp.complete
    ):
        lines.append("* incomplete: unpriced usage (its cost is unknown, not $0) or tasks without a value.")
    if report.unpriced_models:
        lines.append(unpriced_note(report.unpriced_models))
    for use in report.plans:
        leverage = "-" if use.leverage is None else f"{use.leverage.quantize(Decimal('0.01')):,}x"
        api = format_cost(use.api_equivalent, use.covered.cost_complete)
        lines.append(
            f"Plan {use.plan.name}: fee {format_usd(use.plan.monthly_fee)}/month covers "
            f"{', '.join(use.plan.covers)}; API-equivalent {api}, leverage {leverage}."
        )
    if report.plans and report.basis == "api":
        lines.append("Plans apply: `--basis plan` shows what you actually pay.")
    if not report.plans and report.basis == "plan":
        lines.append("No plan covers this month: every cost is API-equivalent (`tokenworth plan set` adds one).")
    return "\n".join(lines)
