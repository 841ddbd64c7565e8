"""Pricing a prompt: its tokens on each model (tiktoken, offline) times that model's price, cheapest first."""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from tokenworth.core.money import decimal_str, without_thousands_commas
from tokenworth.core.pricing import POPULAR_MODELS, PriceBook, cost_usd
from tokenworth.core.timeutil import utc_now
from tokenworth.core.tokens import count_tokens, tokenizer_for_model

DEFAULT_OUTPUT_RATIO = Decimal("0.25")
"""Without a flag, the answer is assumed to be a quarter of the prompt's length in tokens."""


class PromptInputError(ValueError):
    """Input that cannot be priced as text (binary, or in an encoding we cannot tell)."""


def decode_prompt(data: bytes, source: str) -> str:
    """Bytes from a file or stdin as text: UTF-8 (with or without BOM), or UTF-16 or UTF-32 with
    a BOM.

    Anything else is refused with a message naming `source`, never guessed at.
    """
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: FF FE starts both
        try:
            return data.decode("utf-32")
        except UnicodeDecodeError as exc:
            raise PromptInputError(f"{source} starts like UTF-32 text but is not valid UTF-32") from exc
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise PromptInputError(f"{source} starts like UTF-16 text but is not valid UTF-16") from exc
    if b"\x00" in data:
        raise PromptInputError(f"{source} looks like a binary file (it contains NUL bytes); give text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PromptInputError(
            f"{source} is not UTF-8 text (undecodable byte at offset {exc.start}); convert it to UTF-8 first"
        ) from exc


def parse_output_tokens(text: str) -> int:
    """`--output-tokens`: a whole number of tokens, zero or more."""
    try:
        value = int(without_thousands_commas(text.strip().replace("_", "")))
    except ValueError:
        raise ValueError(f"--output-tokens must be a whole number of tokens, got {text!r}") from None
    if value < 0:
        raise ValueError(f"--output-tokens must be zero or more, got {text!r}")
    return value


def parse_output_ratio(text: str) -> Decimal:
    """`--output-ratio`: output tokens per input token, zero or more (e.g. 0.5)."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ValueError(f"--output-ratio must be a number such as 0.5, got {text!r}")
    if value < 0:
        raise ValueError(f"--output-ratio must be zero or more, got {text!r}")
    return value


@dataclass(frozen=True, slots=True)
class OutputAssumption:
    """How long the answer is assumed to be: a fixed token count, or a ratio of the prompt."""

    tokens: int | None = None
    ratio: Decimal | None = None

    def __post_init__(self) -> None:
        if self.tokens is not None and self.ratio is not None:
            raise ValueError("give --output-tokens or --output-ratio, not both")
        if (self.tokens is not None and self.tokens < 0) or (self.ratio is not None and self.ratio < 0):
            raise ValueError("output tokens and output ratio must be zero or more")

    @property
    def effective_ratio(self) -> Decimal:
        return DEFAULT_OUTPUT_RATIO if self.ratio is None else self.ratio

    def for_input(self, input_tokens: int) -> int:
        """Output tokens for a prompt of `input_tokens` (a ratio rounds half up to whole tokens)."""
        if self.tokens is not None:
            return self.tokens
        return int((input_tokens * self.effective_ratio).to_integral_value(rounding=ROUND_HALF_UP))

    def describe(self) -> str:
        if self.tokens is not None:
            return f"{self.tokens:,} output tokens on every model"
        default = " (the default)" if self.ratio is None else ""
        return f"output = {self.effective_ratio} x input tokens{default}"


@dataclass(frozen=True, slots=True)
class PromptCost:
    """What one prompt costs on one model."""

    model: str
    """As the user named it (or as in POPULAR_MODELS)."""
    provider: str | None
    input_tokens: int
    output_tokens: int
    cost: Decimal | None
    """None when no price is known: shown as unpriced, never as $0."""
    estimate: bool
    """True when the count does not come from the model's own tokenizer."""
    encoding: str
    context_window: int | None = None
    price_version: str | None = None
    hourly: bool = False
    """The price depends on the hour (off-peak discounts): `cost` is this hour's."""

    @property
    def exceeds_context(self) -> bool:
        return self.context_window is not None and self.input_tokens > self.context_window

    def as_json(self) -> dict[str, Any]:
        """The stable JSON row: exactly these five keys; money as a decimal string."""
        return {
            "model": self.model,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": decimal_str(self.cost),
            "estimate": self.estimate,
        }


def default_models(book: PriceBook, at: datetime | None = None) -> list[str]:
    """The popular models that have a price right now."""
    moment = at or utc_now()
    found = []
    for name in POPULAR_MODELS:
        key = book.find(name)
        if key is not None and book.rates(*key, moment) is not None:
            found.append(name)
    return found


def split_model_list(values: Iterable[str]) -> list[str]:
    """`--models a,b --models c` as ['a', 'b', 'c'], blanks and repeats dropped, order kept."""
    names: list[str] = []
    for value in values:
        for part in value.split(","):
            name = part.strip()
            if name and name not in names:
                names.append(name)
    return names


def price_prompt(
    text: str,
    *,
    models: Sequence[str] | None = None,
    output: OutputAssumption | None = None,
    book: PriceBook | None = None,
    at: datetime | None = None,
) -> list[PromptCost]:
    """The cost of `text` as a prompt on each model, cheapest first; unpriced models last.

    Tokens are counted once per encoding; input is priced as uncached input.
    """
    book = book or PriceBook()
    output = output or OutputAssumption()
    moment = at or utc_now()
    names = list(models) if models is not None else default_models(book, moment)
    counts: dict[str, int] = {}
    rows: list[PromptCost] = []
    for name in names:
        tokenizer = tokenizer_for_model(name)
        if tokenizer.encoding not in counts:
            counts[tokenizer.encoding] = count_tokens(text, tokenizer.encoding)
        input_tokens = counts[tokenizer.encoding]
        output_tokens = output.for_input(input_tokens)
        key = book.find(name)
        rates = None if key is None else book.rates(*key, moment)
        if rates is not None and not rates.priced_output:
            output_tokens = 0  # an input-only model (embeddings) writes no tokens: none to price
        rows.append(
            PromptCost(
                model=name,
                provider=None if key is None else key[0],
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cost=None if rates is None else cost_usd(rates, input_tokens, output_tokens),
                estimate=tokenizer.estimate,
                encoding=tokenizer.encoding,
                context_window=None if rates is None else rates.context_window,
                price_version=None if rates is None else rates.version,
                hourly=key is not None and key not in book.overrides and key in book.database.hourly,
            )
        )
    rows.sort(key=lambda row: (row.cost is None, row.cost or Decimal(0), row.model))
    return rows
