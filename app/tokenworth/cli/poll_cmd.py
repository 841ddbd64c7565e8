"""`tokenworth poll`: one poll of every stored provider key (usage and billed cost)."""

from __future__ import annotations

import argparse
from datetime import UTC

from tokenworth.cli.base import CliContext, Command, CommandError
from tokenworth.cli.output import write_json
from tokenworth.core.secrets import KeyringUnavailable, SecretStore
from tokenworth.core.timeutil import parse_day_or_time
from tokenworth.services import polling
from tokenworth.services.accounts import PROVIDERS


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provider", choices=list(PROVIDERS), help="only this provider's keys")
    parser.add_argument(
        "--since",
        metavar="DATE",
        help=f"fetch from this day (YYYY-MM-DD, UTC) instead of where the last poll stopped "
        f"(first poll: {polling.BACKFILL_DAYS} days back)",
    )
    parser.add_argument("--json", action="store_true", help="print what was polled as JSON")


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    since = None
    if args.since:
        try:
            since = parse_day_or_time(args.since, UTC)
        except ValueError as exc:
            raise CommandError(str(exc), 2) from None
    progress = None
    if ctx.stderr_is_tty and not args.json:

        def progress(account: str) -> None:
            ctx.err(f"polling {account} ...")

    try:
        summary = polling.poll_accounts(
            ctx.db(),
            SecretStore(),
            providers=[args.provider] if args.provider else None,
            since=since,
            env=ctx.env,
            progress=progress,
        )
    except KeyringUnavailable as exc:
        raise CommandError(str(exc), 1) from None
    except ValueError as exc:
        raise CommandError(str(exc), 2) from None
    if args.json:
        write_json(ctx.stdout, summary.as_json())
        return 0 if summary.ok else 1
    if not summary.accounts:
        if args.provider:
            ctx.out(f"No {args.provider} key stored. Add one with `tokenworth keys set {args.provider}`.")
        else:
            ctx.out("No provider keys stored. Add one with `tokenworth keys set openai` (or anthropic, openrouter).")
        return 0
    failed = sum(1 for account in summary.accounts if not account.ok)
    ctx.out(
        f"Polled {len(summary.accounts)} account(s) in {summary.seconds:.1f} s: "
        f"{len(summary.accounts) - failed} ok, {failed} with problems."
    )
    for account in summary.accounts:
        usage = sum(e.usage_rows for e in account.endpoints)
        billed = sum(e.billed_rows for e in account.endpoints)
        pages = sum(e.pages for e in account.endpoints)
        ctx.out(
            f"{account.provider} {account.label}: {account.status} "
            f"({pages} pages, {usage} usage rows, {billed} billed lines)"
        )
        facts = _details_line(account.details)
        if facts:
            ctx.out(f"  {facts}")
        for error in account.errors:
            ctx.err(f"  {error}")
    return 0 if summary.ok else 1


def _details_line(details: dict[str, object]) -> str:
    parts = []
    for name, title in (
        ("usage_daily", "used today"),
        ("usage_monthly", "this month"),
        ("limit", "limit"),
        ("limit_remaining", "left"),
        ("balance", "credit balance"),
    ):
        value = details.get(name)
        if value is not None:
            parts.append(f"{title} ${value}")
    return ", ".join(parts)


POLL = Command(
    name="poll",
    help="fetch usage and billed cost from every stored provider key",
    configure=configure,
    run=run,
)
