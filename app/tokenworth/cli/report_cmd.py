"""`tokenworth report KIND`: tokens and cost per day, week, month, model, project or session."""

from __future__ import annotations

import argparse
import re
from datetime import date

from tokenworth.cli.base import ZONE_DEFAULT, CliContext, Command, CommandError, project_argument, zone_argument
from tokenworth.cli.import_cmd import import_first, print_summary
from tokenworth.cli.output import render_table, tokens, unpriced_note, write_json
from tokenworth.cli.routing_cmd import add_routing_arguments
from tokenworth.cli.value_cmd import add_value_arguments
from tokenworth.core.money import format_cost
from tokenworth.core.timeutil import check_year
from tokenworth.services.reports import REPORT_KINDS, UsageReport, usage_report
from tokenworth.services.source_names import UnknownSourceError, check_source_names


def _date(text: str) -> date:
    try:
        day = date.fromisoformat(text if "-" in text else f"{text[:4]}-{text[4:6]}-{text[6:]}")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-01-31, got {text!r}") from None
    try:
        check_year(day.year, text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return day


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "kind",
        choices=(*REPORT_KINDS, "reconcile", "value", "routing"),
        help="how to group the usage; `reconcile` sets estimated against billed spend per day and model;"
        " `value` shows TFP (dollars of value per dollar of tokens); `routing` which work would have cost"
        " less on which model",
    )
    add_range_arguments(parser)
    parser.add_argument("--source", help="only these sources (comma-separated, e.g. claude-code,codex)")
    parser.add_argument("--project", type=project_argument, help="only this project (as shown by `report projects`)")
    parser.add_argument("--json", action="store_true", help="a stable JSON document with `rows` and `totals`")
    parser.add_argument("--no-import", action="store_true", help="skip the incremental import of local logs")
    add_value_arguments(parser)
    add_routing_arguments(parser)


def add_range_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=_date, metavar="DATE", help="first day included (YYYY-MM-DD)")
    parser.add_argument("--until", type=_date, metavar="DATE", help="last day included (YYYY-MM-DD)")
    parser.add_argument(
        "--tz",
        metavar="ZONE",
        help=f"cut days in this IANA zone ({ZONE_DEFAULT}; for reconcile: UTC, as providers bill)",
    )


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    zone = zone_argument(ctx, args.tz)
    if args.since and args.until and args.until < args.since:
        raise CommandError("--until is before --since", 2)
    if args.kind not in ("value", "routing") and args.month:
        raise CommandError("--month applies to `report value` and `report routing` only", 2)
    if args.kind != "value" and (args.by or args.basis):
        raise CommandError("--by and --basis apply to `report value` only", 2)
    if args.kind != "routing" and args.candidates:
        raise CommandError("--candidates applies to `report routing` only", 2)
    sources = source_filter(ctx, args.source)
    if not args.no_import:
        summary = import_first(ctx)
        if summary.broken_lines or summary.unpriced_models or summary.unreadable_files:
            stdout, ctx.stdout = ctx.stdout, ctx.stderr
            try:
                print_summary(ctx, summary)
            finally:
                ctx.stdout = stdout
    if args.kind == "reconcile":
        from tokenworth.cli.reconcile_cmd import run_reconcile  # billed-vs-estimated needs the ORM

        return run_reconcile(ctx, args)
    if args.kind == "value":
        from tokenworth.cli.value_cmd import run_value_report  # tasks and attribution need the ORM

        return run_value_report(ctx, args, zone)
    if args.kind == "routing":
        from tokenworth.cli.routing_cmd import run_routing_report  # suggestions need the ORM and prices

        return run_routing_report(ctx, args, zone)
    report = usage_report(
        ctx.db(),
        args.kind,
        zone=zone,
        since=args.since,
        until=args.until,
        sources=sources,
        projects=[args.project] if args.project else None,
    )
    if args.json:
        write_json(ctx.stdout, report.as_json())
    else:
        ctx.out(render_report(report))
    return 0


def source_filter(ctx: CliContext, text: str | None) -> list[str] | None:
    """The sources a `--source a,b` flag names (None: every source); a name that is neither built in
    nor in the ledger is a usage error, not an empty report."""
    if not text:
        return None
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        return None
    try:
        return check_source_names(ctx.db(), names)
    except UnknownSourceError as exc:
        raise CommandError(str(exc), 2) from None


_DATE_SUFFIX = re.compile(r"-\d{8}$")


def short_model(model: str) -> str:
    """`claude-sonnet-4-5-20250929` as `sonnet-4-5`: enough to tell models apart in a cell."""
    return _DATE_SUFFIX.sub("", model).removeprefix("claude-")


def render_report(report: UsageReport) -> str:
    """The report as an aligned table with a total line and an unpriced warning."""
    if not report.rows:
        return "No usage in this range."
    key_title = {
        "date": "Date",
        "week": "Week of",
        "month": "Month",
        "model": "Model",
        "project": "Project",
        "session": "Session",
    }[report.key_name]
    headers = [key_title, "Models", "Input", "Output", "Cache read", "Cache write", "Total", "Cost"]
    right = [False, False, True, True, True, True, True, True]
    if report.kind == "models":
        headers[1] = "Provider"
    rows = []
    for row in report.rows:
        t = row.totals
        if report.kind == "models":
            second = row.extra.get("provider", "")
        else:
            second = ", ".join(sorted({short_model(m) for m in row.by_model}))
        rows.append(
            [
                row.key,
                second,
                tokens(t.input_tokens),
                tokens(t.output_tokens),
                tokens(t.cache_read_tokens),
                tokens(t.cache_write_tokens),
                tokens(t.total_tokens),
                format_cost(t.cost, t.cost_complete),
            ]
        )
    t = report.totals
    rows.append(
        [
            "Total",
            "",
            tokens(t.input_tokens),
            tokens(t.output_tokens),
            tokens(t.cache_read_tokens),
            tokens(t.cache_write_tokens),
            tokens(t.total_tokens),
            format_cost(t.cost, t.cost_complete),
        ]
    )
    text = render_table(headers, rows, right)
    header = f"Usage by {report.key_name} (days in {report.zone})"
    lines = [header, "", text]
    if t.unpriced_models:
        lines.append("")
        lines.append(unpriced_note(sorted(t.unpriced_models)))
    return "\n".join(lines)


REPORT = Command(
    name="report",
    help="tokens and cost per day, week, month, model, project or session",
    configure=configure,
    run=run,
)
