"""`tokenworth report reconcile`: estimated (logs, usage APIs) versus billed, per day and model."""

from __future__ import annotations

import argparse

from tokenworth.cli.base import CliContext, CommandError, zone_argument
from tokenworth.cli.output import render_table, write_json
from tokenworth.core.money import format_cost, format_signed_usd
from tokenworth.services.reconcile import Figure, ReconcileReport, reconcile_report


def run_reconcile(ctx: CliContext, args: argparse.Namespace) -> int:
    """Called by `report` for the kind `reconcile`; days are UTC unless --tz says otherwise."""
    if getattr(args, "project", None):
        raise CommandError("--project does not apply to `report reconcile` (bills have no projects)", 2)
    zone = zone_argument(ctx, "UTC" if args.tz is None else args.tz)
    sources = [s.strip() for s in args.source.split(",") if s.strip()] if args.source else None
    report = reconcile_report(ctx.db(), zone=zone, since=args.since, until=args.until, sources=sources)
    if args.json:
        write_json(ctx.stdout, report.as_json())
    else:
        ctx.out(render_reconcile(report))
    return 0


def _money(figure: Figure) -> str:
    return format_cost(figure.amount, figure.complete) if figure.present else "-"


def render_reconcile(report: ReconcileReport) -> str:
    if not report.rows:
        return "Nothing to reconcile in this range: no usage and no billed costs."
    headers = ["Date", "Provider", "Model", "Est. (logs)", "Est. (usage API)", "Billed", "Billed - est."]
    right = [False, False, False, True, True, True, True]
    rows = []
    for row in report.rows:
        diff = row.difference
        rows.append(
            [
                row.day.isoformat(),
                row.provider,
                row.model,
                _money(row.logs),
                _money(row.usage_api),
                _money(row.billed),
                format_signed_usd(diff),
            ]
        )
    totals = report.totals()
    rows.append(["Total", "", "", _money(totals.logs), _money(totals.usage_api), _money(totals.billed), ""])
    lines = [
        f"Estimated versus billed, per day (in {report.zone}) and model",
        "",
        render_table(headers, rows, right),
        "",
        "The difference is billed minus the usage-API estimate (or the log estimate where no usage API "
        "is polled); + marks estimates with unpriced models left out.",
    ]
    return "\n".join(lines)
