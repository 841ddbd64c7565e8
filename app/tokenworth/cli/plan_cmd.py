"""`tokenworth plan set|list|delete`: flat-fee plans and their leverage."""

from __future__ import annotations

import argparse
from decimal import Decimal

from tokenworth.cli.base import CliContext, Command, user_errors, zone_argument
from tokenworth.cli.output import render_table, write_json
from tokenworth.cli.value_cmd import month_argument
from tokenworth.core.money import decimal_str, format_cost, format_usd
from tokenworth.core.timeutil import month_key
from tokenworth.services.plans import (
    PlanInputError,
    PlanNotFoundError,
    delete_plan,
    recorded_sources,
    set_plan,
)
from tokenworth.services.value_report import value_report


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    setp = sub.add_parser("set", help="add or change a plan")
    setp.add_argument("name", help="e.g. 'Claude Max'")
    setp.add_argument("--monthly-fee", required=True, metavar="DOLLARS", help="what the plan costs a month")
    setp.add_argument("--covers", required=True, metavar="SOURCES", help="sources it pays for, e.g. claude-code,codex")
    setp.add_argument("--from", dest="first_month", metavar="YYYY-MM", help="first month paid (default: always)")
    setp.add_argument("--until", dest="last_month", metavar="YYYY-MM", help="last month paid (default: ongoing)")
    listing = sub.add_parser("list", help="plans, with a month's API-equivalent usage and leverage")
    listing.add_argument("--month", metavar="YYYY-MM", help="the month to measure (default: this month)")
    listing.add_argument("--tz", metavar="ZONE")
    listing.add_argument("--json", action="store_true")
    delete = sub.add_parser("delete", help="remove a plan")
    delete.add_argument("name")


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    with user_errors(not_found=(PlanNotFoundError,), bad_input=(PlanInputError,)):
        if args.action == "set":
            return _set(ctx, args)
        if args.action == "delete":
            view = delete_plan(ctx.db(), args.name)
            ctx.out(f"Deleted plan {view.name!r}; its usage is at API prices again.")
            return 0
        return _list(ctx, args)


def _set(ctx: CliContext, args: argparse.Namespace) -> int:
    covers = [part for part in args.covers.split(",") if part.strip()]
    db = ctx.db()
    view = set_plan(
        db,
        args.name,
        monthly_fee=args.monthly_fee,
        covers=covers,
        first_month=args.first_month,
        last_month=args.last_month,
    )
    months = f"from {view.first_month or 'always'} until {view.last_month or 'ongoing'}"
    ctx.out(f"Plan {view.name!r}: {format_usd(view.monthly_fee)} a month for {', '.join(view.covers)} ({months}).")
    unseen = sorted(set(view.covers) - recorded_sources(db))
    if unseen:
        ctx.err(f"note: no usage recorded from {', '.join(unseen)} yet (check the source name).")
    return 0


def _list(ctx: CliContext, args: argparse.Namespace) -> int:
    zone = zone_argument(ctx, args.tz)
    year, month = month_argument(args.month, zone)
    report = value_report(ctx.db(), month=(year, month), zone=zone, by="task", basis="plan")
    from tokenworth.services.plans import list_plans

    plans = list_plans(ctx.db())
    uses = {use.plan.id: use for use in report.plans}
    key = month_key(year, month)
    if args.json:
        items = []
        for plan in plans:
            use = uses.get(plan.id)
            items.append(
                {
                    **plan.as_json(),
                    "month": key,
                    "active": use is not None,
                    "api_equivalent_usd": None if use is None else decimal_str(use.api_equivalent),
                    "leverage": None if use is None else decimal_str(use.leverage),
                }
            )
        write_json(ctx.stdout, {"plans": items})
        return 0
    if not plans:
        ctx.out("No plans. Add one with `tokenworth plan set NAME --monthly-fee 200 --covers claude-code`.")
        return 0
    rows = []
    for plan in plans:
        use = uses.get(plan.id)
        rows.append(
            [
                plan.name,
                format_usd(plan.monthly_fee),
                ", ".join(plan.covers),
                _months(plan.first_month, plan.last_month),
                "not paid" if use is None else format_cost(use.api_equivalent, use.covered.cost_complete),
                "-" if use is None or use.leverage is None else f"{use.leverage.quantize(Decimal('0.01')):,}x",
            ]
        )
    headers = ["Plan", "Monthly fee", "Covers", "Months", f"API-equivalent {key}", "Leverage"]
    ctx.out(render_table(headers, rows, [False, True, False, False, True, True]))
    return 0


def _months(first: str | None, last: str | None) -> str:
    if first is None and last is None:
        return "every month"
    return f"{first or 'always'} to {last or 'ongoing'}"


PLAN = Command(
    name="plan",
    help="flat-fee plans (Claude Max, ChatGPT Pro): the fee, what it covers, its leverage",
    configure=configure,
    run=run,
)
