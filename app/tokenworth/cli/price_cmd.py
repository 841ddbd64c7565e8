"""`tokenworth price [FILE|-]`: what a prompt would cost on each model, cheapest first."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tokenworth.cli.base import CliContext, Command, CommandError
from tokenworth.cli.output import render_table, tokens, write_json
from tokenworth.core.money import decimal_str, format_usd
from tokenworth.core.timeutil import utc_now
from tokenworth.core.tokens import ESTIMATE_ENCODING, EncodingUnavailable
from tokenworth.services.prices import load_price_book
from tokenworth.services.prompt_pricing import (
    DEFAULT_OUTPUT_RATIO,
    OutputAssumption,
    PromptCost,
    PromptInputError,
    decode_prompt,
    parse_output_ratio,
    parse_output_tokens,
    price_prompt,
    split_model_list,
)

COST_PLACES = 6


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", nargs="?", metavar="FILE", help="a UTF-8 text file; '-' or nothing reads standard input"
    )
    parser.add_argument(
        "--output-tokens", metavar="N", help="assume the answer is N tokens long (not with --output-ratio)"
    )
    parser.add_argument(
        "--output-ratio",
        metavar="R",
        help=f"assume the answer is R x the prompt's tokens (default {DEFAULT_OUTPUT_RATIO})",
    )
    parser.add_argument(
        "--models",
        action="append",
        metavar="M1,M2",
        help="price on these models (comma-separated; repeatable; 'provider/model' picks a provider); "
        "default: popular models of every provider",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="JSON rows: model, input_tokens, output_tokens, cost_usd, estimate",
    )


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    output = _output_assumption(args)
    models = split_model_list(args.models) if args.models else None
    if models is not None and not models:
        raise CommandError("--models names no model", 2)
    text = _read_text(args.file)
    book = load_price_book(ctx.db())
    try:
        rows = price_prompt(text, models=models, output=output, book=book)
    except EncodingUnavailable as exc:
        raise CommandError(str(exc)) from exc
    if args.json:
        write_json(
            ctx.stdout,
            {
                "rows": [row.as_json() for row in rows],
                "output_assumption": {
                    "tokens": output.tokens,
                    "ratio": None if output.tokens is not None else decimal_str(output.effective_ratio),
                },
            },
        )
    else:
        ctx.out(render_prices(rows, output))
    return 0


def _output_assumption(args: argparse.Namespace) -> OutputAssumption:
    if args.output_tokens is not None and args.output_ratio is not None:
        raise CommandError("give --output-tokens or --output-ratio, not both", 2)
    try:
        if args.output_tokens is not None:
            return OutputAssumption(tokens=parse_output_tokens(args.output_tokens))
        if args.output_ratio is not None:
            return OutputAssumption(ratio=parse_output_ratio(args.output_ratio))
    except ValueError as exc:
        raise CommandError(str(exc), 2) from exc
    return OutputAssumption()


def _read_text(file: str | None) -> str:
    """The prompt from FILE, or from standard input for '-' or no FILE (never waits on a terminal)."""
    if file is None or file == "-":
        stdin = sys.stdin
        if stdin is None or stdin.isatty():
            raise CommandError(
                "no text to price: give a FILE, or pipe text in (e.g. `cat prompt.md | tokenworth price`)", 2
            )
        binary = getattr(stdin, "buffer", None)
        if binary is None:  # an already-decoded text stream
            return stdin.read()
        data, source = binary.read(), "standard input"
    else:
        path = Path(file)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file", 2) from None
        except IsADirectoryError:
            raise CommandError(f"{file}: is a folder, not a text file", 2) from None
        except OSError as exc:
            raise CommandError(f"{file}: cannot read it ({exc.strerror or exc})", 2) from None
        source = file
    try:
        return decode_prompt(data, source)
    except PromptInputError as exc:
        raise CommandError(str(exc), 2) from exc


def render_prices(rows: list[PromptCost], output: OutputAssumption) -> str:
    """The table, then what the figures assume: output length, estimates, unpriced models."""
    if not rows:
        return "No model to price: the price database knows none of the default models; name some with --models."
    table = [
        [
            row.model,
            row.provider or "?",
            tokens(row.input_tokens),
            tokens(row.output_tokens),
            format_usd(row.cost, COST_PLACES),
            f"{row.encoding} (estimate)" if row.estimate else row.encoding,
        ]
        for row in rows
    ]
    lines = [
        render_table(
            ["Model", "Provider", "Input", "Output", "Cost", "Tokenizer"],
            table,
            [False, False, True, True, True, False],
        ),
        "",
        f"Assumed: {output.describe()}; input priced as uncached. Change with --output-tokens N or --output-ratio R.",
    ]
    if any(row.estimate for row in rows):
        lines.append(
            f"(estimate): the model's own tokenizer is not public; counted with OpenAI's "
            f"{ESTIMATE_ENCODING}, so its real count differs."
        )
    unpriced = [row.model for row in rows if row.cost is None]
    if unpriced:
        lines.append(
            f"Unpriced (no price known, not $0): {', '.join(unpriced)}. "
            "Set one with `tokenworth prices set MODEL --provider P --input $ --output $`."
        )
    hourly = [row.model for row in rows if row.hourly and row.cost is not None]
    if hourly:
        lines.append(
            f"Priced by the hour: {', '.join(hourly)} cost what they cost now, at {utc_now():%H:%M} UTC; "
            "at another hour the same prompt may cost several times as much (or less)."
        )
    for row in rows:
        if row.exceeds_context:
            lines.append(
                f"Too long for {row.model}: {row.input_tokens:,} tokens exceed its "
                f"{row.context_window:,}-token context window."
            )
    return "\n".join(lines)


PRICE = Command(
    name="price",
    help="what a prompt (a file or standard input) would cost on each model, cheapest first",
    configure=configure,
    run=run,
)
