"""`tokenworth prices` (show, set and remove per-model overrides) and `tokenworth reprice`."""

from __future__ import annotations

import argparse
from datetime import UTC

from tokenworth.cli.base import CliContext, Command, CommandError, zone_argument
from tokenworth.cli.output import render_table, write_json
from tokenworth.core.money import decimal_str, format_cost
from tokenworth.core.timeutil import parse_day_or_time, parse_until_day_or_time
from tokenworth.services.prices import (
    OVERRIDE_PROVIDERS,
    OverrideInput,
    cache_defaults_note,
    delete_override,
    list_overrides,
    override_providers,
    parse_price,
    providers_of_model,
    reprice,
    set_override,
    similar_models,
)

PROVIDERS = OVERRIDE_PROVIDERS


def configure_prices(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="the overrides as JSON (as `prices list --json`)")
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    show = sub.add_parser("list", help="the overrides in force (what `tokenworth prices` alone shows)")
    show.add_argument("--json", action="store_true", default=argparse.SUPPRESS)  # `prices --json list` too
    setp = sub.add_parser("set", help="set a model's price (USD per million tokens); wins over the database")
    setp.add_argument("model", help="the model name exactly as the logs write it")
    setp.add_argument(
        "--provider",
        default=None,
        help=f"e.g. {', '.join(PROVIDERS)} (default: the provider the model's records are under,"
        " else guessed from its name)",
    )
    setp.add_argument("--input", required=True, help="uncached input, $ per million tokens")
    setp.add_argument("--output", required=True, help="output, $ per million tokens")
    setp.add_argument("--cache-read", help="cache reads (default: the input price)")
    setp.add_argument("--cache-write", help="5-minute cache writes (default: the input price)")
    setp.add_argument("--cache-write-1h", help="1-hour cache writes (default: the 5-minute price)")
    rm = sub.add_parser("delete", help="remove an override")
    rm.add_argument("model")
    rm.add_argument("--provider", default=None)


def guess_provider(model: str) -> str:
    """The provider a model name belongs to, for overrides given without --provider."""
    name = model.lower()
    if "/" in name:
        return "openrouter"
    for prefix, provider in (
        ("claude", "anthropic"),
        ("gpt", "openai"),
        ("o1", "openai"),
        ("o3", "openai"),
        ("o4", "openai"),
        ("codex", "openai"),
        ("gemini", "google"),
        ("deepseek", "deepseek"),
        ("mistral", "mistral"),
        ("grok", "x-ai"),
    ):
        if name.startswith(prefix):
            return provider
    raise CommandError(f"cannot tell which provider {model!r} belongs to; add --provider", 2)


def _provider(ctx: CliContext, args: argparse.Namespace) -> str:
    """The provider an override is for: `--provider` (any case), else the one the ledger's records
    of the model carry, else a guess from the name. An override under a provider none of the
    records carry would never apply, so that is said."""
    stored = providers_of_model(ctx.db(), args.model)
    if args.action == "delete" and not args.provider:
        overridden = override_providers(ctx.db(), args.model)
        if len(overridden) == 1:  # the one override of that name: no need to say where
            return overridden[0]
    if args.provider:
        provider = args.provider.strip().lower()
        if stored and provider not in stored and args.action != "delete":
            ctx.err(
                f"note: the records of {args.model} are under {', '.join(stored)}, not {provider}: this"
                f" override will not apply to them (use --provider {stored[0]})"
            )
        return provider
    if len(stored) > 1:
        raise CommandError(f"{args.model} has records under {', '.join(stored)}; say which with --provider", 2)
    return stored[0] if stored else guess_provider(args.model)


def run_prices(ctx: CliContext, args: argparse.Namespace) -> int:
    if getattr(args, "json", False) and args.action not in (None, "list"):
        raise CommandError(f"--json shows the list; `prices {args.action}` has no JSON output", 2)
    db = ctx.db()
    if args.action in (None, "list"):  # `tokenworth prices` alone shows the list
        rows = list_overrides(db)
        if getattr(args, "json", False):
            write_json(
                ctx.stdout,
                [
                    {
                        "provider": r.provider,
                        "model": r.model,
                        "input_mtok": r.input_mtok,
                        "output_mtok": r.output_mtok,
                        "cache_read_mtok": r.cache_read_mtok,
                        "cache_write_5m_mtok": r.cache_write_5m_mtok,
                        "cache_write_1h_mtok": r.cache_write_1h_mtok,
                    }
                    for r in rows
                ],
            )
        elif not rows:
            ctx.out("No price overrides; every price comes from the price database.")
        else:
            table = [
                [
                    r.provider,
                    r.model,
                    r.input_mtok,
                    r.output_mtok,
                    r.cache_read_mtok or "=input",
                    r.cache_write_5m_mtok or "=input",
                    r.cache_write_1h_mtok or "=5m",
                ]
                for r in rows
            ]
            ctx.out(
                render_table(
                    [
                        "Provider",
                        "Model",
                        "Input",
                        "Output",
                        "Cache read",
                        "Cache write 5m",
                        "Cache write 1h",
                    ],
                    table,
                    [False, False, True, True, True, True, True],
                )
            )
            ctx.out("(USD per million tokens)")
        return 0
    provider = _provider(ctx, args)
    if args.action == "delete":
        if not delete_override(db, provider, args.model):
            raise CommandError(f"no override for {args.model} ({provider})")
        ctx.out(
            f"Removed the override for {args.model} ({provider}). Existing records keep their cost; "
            f"run `tokenworth reprice --since DATE --model {args.model}` to apply the database price."
        )
        return 0
    try:
        price = OverrideInput(
            provider=provider,
            model=args.model,
            input_mtok=parse_price(args.input, "--input"),
            output_mtok=parse_price(args.output, "--output"),
            cache_read_mtok=parse_price(args.cache_read, "--cache-read"),
            cache_write_5m_mtok=parse_price(args.cache_write, "--cache-write"),
            cache_write_1h_mtok=parse_price(args.cache_write_1h, "--cache-write-1h"),
        )
        set_override(db, price)
    except ValueError as exc:
        raise CommandError(str(exc), 2) from exc
    _warn_about_cache_defaults(ctx, price)
    similar = [] if providers_of_model(db, args.model) else similar_models(db, args.model)
    if similar:  # no record carries the name, and some look like it: a typo, likely
        warn_unknown_model(ctx, args.model, "it applies to records of that exact name imported from now on", similar)
    ctx.out(
        f"Price set for {args.model} ({provider}). New records use it; to re-price existing ones run "
        f"`tokenworth reprice --since YYYY-MM-DD --model {args.model}`."
    )
    return 0


def warn_unknown_model(ctx: CliContext, model: str, consequence: str, similar: list[str] | None = None) -> None:
    """No record carries `model`: say so, with the names in the ledger it may have meant."""
    similar = similar_models(ctx.db(), model) if similar is None else similar
    meant = f"; did you mean {' or '.join(similar)}?" if similar else ""
    ctx.err(f"note: no record in the ledger is for {model!r} ({consequence}){meant}")


def _warn_about_cache_defaults(ctx: CliContext, price: OverrideInput) -> None:
    note = cache_defaults_note(price, ("--cache-read", "--cache-write"))
    if note is not None:
        ctx.err(f"note: {note}")


PRICES = Command(
    name="prices",
    help="show or override model prices (USD per million tokens)",
    configure=configure_prices,
    run=run_prices,
    description="Show or override model prices (USD per million tokens). Without an ACTION, lists the "
    "overrides in force, as `prices list` does.",
)


def configure_reprice(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", required=True, metavar="DATE", help="re-price records from this day (local)")
    parser.add_argument(
        "--until",
        metavar="DATE",
        help="up to and including this local day (YYYY-MM-DD), or up to an ISO time (exclusive)",
    )
    parser.add_argument("--model", help="only this model")
    parser.add_argument("--tz", metavar="ZONE")
    parser.add_argument("--json", action="store_true")


def run_reprice(ctx: CliContext, args: argparse.Namespace) -> int:
    zone = zone_argument(ctx, args.tz)
    try:
        since = parse_day_or_time(args.since, zone)
        until = parse_until_day_or_time(args.until, zone) if args.until else None
    except ValueError as exc:
        raise CommandError(str(exc), 2) from exc
    if until is not None and until <= since:
        raise CommandError(f"--until {args.until} is not after --since {args.since}: nothing to re-price", 2)
    summary = reprice(ctx.db(), since=since, until=until, model=args.model)
    if args.model and not summary.records and not providers_of_model(ctx.db(), args.model):
        warn_unknown_model(ctx, args.model, "records are matched by their exact model name")
    if args.json:
        write_json(
            ctx.stdout,
            {
                "records": summary.records,
                "changed": summary.changed,
                "now_unpriced": summary.now_unpriced,
                "was_unpriced": summary.was_unpriced,
                "cost_before_usd": decimal_str(summary.cost_before),
                "cost_before_complete": summary.before_complete,
                "cost_after_usd": decimal_str(summary.cost_after),
                "cost_after_complete": summary.after_complete,
            },
        )
    else:
        before = format_cost(summary.cost_before, summary.before_complete, 4)
        after = format_cost(summary.cost_after, summary.after_complete, 4)
        ctx.out(
            f"Re-priced {summary.records:,} records since {since.astimezone(UTC):%Y-%m-%d %H:%M} UTC: "
            f"{summary.changed:,} changed, computed cost {before} -> {after}."
        )
        if summary.was_unpriced and summary.cost_before is not None:
            ctx.out(f"The cost marked + before leaves out {summary.was_unpriced:,} records that had no price.")
        if summary.now_unpriced:
            ctx.err(f"warning: {summary.now_unpriced:,} records have no price.")
    return 0


REPRICE = Command(
    name="reprice",
    help="recompute stored costs with current prices (closed months never change on their own)",
    configure=configure_reprice,
    run=run_reprice,
)
