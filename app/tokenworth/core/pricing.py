"""Prices per model: the user's overrides first, then the genai-prices database (offline).

Input, output, cache-read and cache-write (5 minute / 1 hour) tokens are priced separately, with
long-context tiers. A model with no price is unpriced: callers mark it, never count it as $0.
The arithmetic is exact: rates in micro-dollars per million tokens times token counts.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, Protocol

from tokenworth.core.money import from_units

MILLION = 1_000_000
_MICRO = Decimal(MILLION)
# A cost in storage units (1e-10 USD) is sum(tokens * micro-USD per MTok) / 100.
_UNIT_DIVISOR = 100


POPULAR_MODELS: tuple[str, ...] = (
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4o-mini",
    "o3",
    "o4-mini",
    "claude-opus-4-5",
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "deepseek-chat",
    "deepseek-reasoner",
    "grok-4",
    "grok-code-fast-1",
    "mistral-medium-latest",
    "mistral-small-latest",
)
"""Widely used chat and coding models of each major provider: what `tokenworth price` shows when
no model is named, and the candidates routing suggestions consider beside the user's own models.
Only those the price database (or an override) prices take part."""


@dataclass(frozen=True, slots=True)
class Rate:
    """USD per million tokens, with cliff tiers: above `start` total input, all tokens pay more."""

    base: Decimal
    tiers: tuple[tuple[int, Decimal], ...] = ()

    def at(self, total_input: int) -> Decimal:
        for start, price in reversed(self.tiers):
            if total_input > start:
                return price
        return self.base


@dataclass(frozen=True, slots=True)
class ModelRates:
    """What one model charges per kind of token, and where the figures come from."""

    input: Rate
    output: Rate
    cache_read: Rate
    cache_write_5m: Rate
    cache_write_1h: Rate
    version: str
    """E.g. 'genai-prices 0.2.3' or 'override 2026-01-05T10:00:00Z': frozen into each record."""
    context_window: int | None = None
    priced_output: bool = True
    """False for models the database prices by input only (embeddings): output is then unknown."""
    base_micro: tuple[int, int, int, int, int] | None = field(default=None, init=False, compare=False, repr=False)
    """The five base rates in integer micro-USD per MTok, when exact: the fast path."""
    tier_floor: int | None = field(default=None, init=False, compare=False, repr=False)
    """The lowest tier threshold; at or below it every token pays the base rate."""

    def prices(self, output_tokens: int) -> bool:
        """Whether these rates price usage with this many output tokens (never a silent $0)."""
        return self.priced_output or output_tokens == 0

    def __post_init__(self) -> None:
        rates = (self.input, self.output, self.cache_read, self.cache_write_5m, self.cache_write_1h)
        micro = tuple(_micro(rate.base) for rate in rates)
        exact = all(isinstance(value, int) for value in micro)
        object.__setattr__(self, "base_micro", micro if exact else None)
        starts = [start for rate in rates for start, _price in rate.tiers]
        object.__setattr__(self, "tier_floor", min(starts) if starts else None)


def cost_units(
    rates: ModelRates,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int = 0,
    cache_write_5m_tokens: int = 0,
    cache_write_1h_tokens: int = 0,
) -> int:
    """Exact cost in storage units (1e-10 USD), rounded half to even once per record."""
    total_input = input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens
    base = rates.base_micro
    if base is not None and (rates.tier_floor is None or total_input <= rates.tier_floor):
        micro = (
            input_tokens * base[0]
            + output_tokens * base[1]
            + cache_read_tokens * base[2]
            + cache_write_5m_tokens * base[3]
            + cache_write_1h_tokens * base[4]
        )
        return _round_div(micro, _UNIT_DIVISOR)
    micro = (
        input_tokens * _micro(rates.input.at(total_input))
        + output_tokens * _micro(rates.output.at(total_input))
        + cache_read_tokens * _micro(rates.cache_read.at(total_input))
        + cache_write_5m_tokens * _micro(rates.cache_write_5m.at(total_input))
        + cache_write_1h_tokens * _micro(rates.cache_write_1h.at(total_input))
    )
    return _round_div(micro, _UNIT_DIVISOR)


LONG_CONTEXT_INPUT = 200_001
"""The input of one request that pays a long-context tier (above 200k tokens)."""
BATCH_SHARE = Decimal("0.5")
"""What the batch APIs charge of the list price (Anthropic's Message Batches, OpenAI's Batch
API): every kind of token at half price."""
LONG_CONTEXT_MARK, BATCH_MARK = ", long context", ", batch"
"""Appended to a bucket record's price version: how it was priced, so `reprice` prices it alike."""


def bucket_rates(rates: ModelRates, *, long_context: bool, batch: bool) -> ModelRates:
    """Rates for a provider's usage bucket (many requests summed): each kind of token at the tier
    one request of it paid (the bucket's own total would cross a long-context threshold no
    request did), at half price for batch requests; the version says which."""
    size = LONG_CONTEXT_INPUT if long_context else 0
    share = BATCH_SHARE if batch else Decimal(1)
    marks = (LONG_CONTEXT_MARK if long_context else "") + (BATCH_MARK if batch else "")
    return ModelRates(
        input=Rate(rates.input.at(size) * share),
        output=Rate(rates.output.at(size) * share),
        cache_read=Rate(rates.cache_read.at(size) * share),
        cache_write_5m=Rate(rates.cache_write_5m.at(size) * share),
        cache_write_1h=Rate(rates.cache_write_1h.at(size) * share),
        version=rates.version[: 64 - len(marks)] + marks,
        context_window=rates.context_window,
        priced_output=rates.priced_output,
    )


UNPRICED_BUCKET = "unpriced"
"""The price version of a bucket record no price is known for, before its marks: which tier and
price it takes is kept for `reprice`, once a price is known."""


def unpriced_bucket_version(*, long_context: bool, batch: bool) -> str | None:
    """What a bucket record without a price keeps as its version: its marks, or None (none)."""
    marks = (LONG_CONTEXT_MARK if long_context else "") + (BATCH_MARK if batch else "")
    return UNPRICED_BUCKET + marks if marks else None


def bucket_marks(version: str | None) -> tuple[bool, bool]:
    """(long context, batch) as `bucket_rates` wrote them into a record's price version."""
    text = version or ""
    return LONG_CONTEXT_MARK in text, text.endswith(BATCH_MARK)


def cost_usd(
    rates: ModelRates,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int = 0,
    cache_write_5m_tokens: int = 0,
    cache_write_1h_tokens: int = 0,
) -> Decimal:
    """The same cost as Decimal dollars."""
    return from_units(
        cost_units(
            rates,
            input_tokens,
            output_tokens,
            cache_read_tokens,
            cache_write_5m_tokens,
            cache_write_1h_tokens,
        )
    )


@cache
def _micro(rate: Decimal) -> Any:
    """Rate in micro-USD per MTok: an int when exact (nearly always), else a Decimal."""
    scaled = rate * _MICRO
    integral = scaled.to_integral_value()
    return int(integral) if integral == scaled else scaled


def _round_div(numerator: Any, divisor: int) -> int:
    if isinstance(numerator, int):
        quotient, remainder = divmod(numerator, divisor)
        twice = remainder * 2
        if twice > divisor or (twice == divisor and quotient % 2 == 1):
            quotient += 1
        return quotient
    return int((Decimal(numerator) / divisor).to_integral_value())


def rates_from_override(
    *,
    input_mtok: Decimal,
    output_mtok: Decimal,
    cache_read_mtok: Decimal | None,
    cache_write_5m_mtok: Decimal | None,
    cache_write_1h_mtok: Decimal | None,
    version: str,
) -> ModelRates:
    """A user's flat prices. Missing cache prices fall back to the input price."""
    base_input = Rate(input_mtok)
    write_5m = Rate(cache_write_5m_mtok) if cache_write_5m_mtok is not None else base_input
    return ModelRates(
        input=base_input,
        output=Rate(output_mtok),
        cache_read=Rate(cache_read_mtok) if cache_read_mtok is not None else base_input,
        cache_write_5m=write_5m,
        cache_write_1h=Rate(cache_write_1h_mtok) if cache_write_1h_mtok is not None else write_5m,
        version=version,
    )


def price_database_version() -> str:
    from importlib.metadata import version

    return f"genai-prices {version('genai-prices')}"


def price_snapshot() -> Any:
    """genai-prices' bundled price data (a `DataSnapshot`), loaded without its online half.

    The package's top level also imports its price-update client (httpx2, asyncio: about 0.06 s
    of every import that prices new models) which Tokenworth never uses, as prices work
    offline. Nothing in Tokenworth imports the package's top level itself. So when nothing has
    imported the package yet, its data modules are loaded under a bare package object that is
    then taken away again: a later `import genai_prices` runs the real top level and finds these
    modules already loaded. Should that ever fail (a release that needs its top level), the
    package is imported the ordinary way.
    """
    loaded = sys.modules.get("genai_prices.data_snapshot")
    if loaded is not None and not getattr(getattr(loaded, "__spec__", None), "_initializing", False):
        return loaded.get_snapshot()
    with _SNAPSHOT_LOADING:  # two threads (the app's import and its poll) load it once, not half each
        loaded = sys.modules.get("genai_prices.data_snapshot")
        if loaded is not None:
            return loaded.get_snapshot()
        if "genai_prices" not in sys.modules:
            snapshot = _snapshot_without_package_top()
            if snapshot is not None:
                return snapshot
        from genai_prices.data_snapshot import get_snapshot

        return get_snapshot()


_SNAPSHOT_LOADING = threading.Lock()


def _snapshot_without_package_top() -> Any:
    """The snapshot loaded under a bare `genai_prices` package object, or None if that fails."""
    spec = importlib.util.find_spec("genai_prices")
    if spec is None or not spec.submodule_search_locations:
        return None
    bare = types.ModuleType("genai_prices")
    bare.__path__ = list(spec.submodule_search_locations)
    bare.__spec__ = spec
    sys.modules["genai_prices"] = bare
    try:
        return importlib.import_module("genai_prices.data_snapshot").get_snapshot()
    except Exception:  # the caller imports the package the ordinary way
        for name in [name for name in sys.modules if name.startswith("genai_prices.")]:
            del sys.modules[name]
        return None
    finally:
        if sys.modules.get("genai_prices") is bare:
            del sys.modules["genai_prices"]


_Schedule = tuple[tuple[int | None, "ModelRates | None"], ...]
"""A model's prices over time: (first UTC day as an ordinal or None, rates), later entries win."""


class PriceDatabase:
    """Lookups in the genai-prices snapshot bundled with the package (no network, ever).

    Loading the snapshot costs about 0.25 s and 25 MB, so each model's price schedule, once
    looked up, can be kept (`known_schedules`) and handed to the next PriceDatabase: an import
    of new lines from known models, the everyday case, then never loads the snapshot at all.
    """

    def __init__(self, known_schedules: Mapping[str, Any] | None = None) -> None:
        self._models: dict[tuple[str, str], Any] = {}
        self._version: str | None = None
        self._schedules: dict[tuple[str, str], _Schedule | None] = {}
        self.hourly: set[tuple[str, str]] = set()
        """Models whose price depends on the hour (off-peak discounts): no per-day caching."""
        self.learned = False
        """Whether a schedule was looked up in the snapshot since construction (worth keeping)."""
        if known_schedules and known_schedules.get("version") == self.version:
            try:
                for key, entries in (known_schedules.get("models") or {}).items():
                    provider, _tab, model = key.partition("\t")
                    self._schedules[(provider, model)] = _schedule_from_json(entries, self.version)
            except (ArithmeticError, AttributeError, KeyError, IndexError, TypeError, ValueError):
                self._schedules.clear()  # damaged: every model is looked up again, and rewritten

    def known_schedules(self) -> dict[str, Any]:
        """Every schedule looked up or handed in, as JSON-ready data for the next PriceDatabase."""
        models = {
            f"{provider}\t{model}": _schedule_to_json(schedule)
            for (provider, model), schedule in sorted(self._schedules.items())
        }
        return {"version": self.version, "models": models}

    @property
    def knows_schedules(self) -> bool:
        """Whether any schedule was handed in or looked up (else every lookup needs the snapshot)."""
        return bool(self._schedules)

    @property
    def version(self) -> str:
        if self._version is None:
            self._version = price_database_version()
        return self._version

    def preload(self) -> None:
        """Load the price data now (about a fifth of a second), e.g. before workers fork."""
        price_snapshot()

    def _model_info(self, provider: str, model: str) -> Any:
        key = (provider, model)
        if key not in self._models:
            snapshot = price_snapshot()
            found: Any = None
            for provider_id in _provider_candidates(provider):
                try:
                    _provider, found = snapshot.find_provider_model(model, None, provider_id, None)
                except LookupError:
                    found = None
                if found is not None:
                    break
            self._models[key] = found
        return self._models[key]

    def rates(self, provider: str, model: str, at: datetime) -> ModelRates | None:
        key = (provider, model)
        if key not in self._schedules:
            info = self._model_info(provider, model)
            schedule = _schedule_of(info, self.version)
            if schedule is _BY_TIME_OF_DAY:
                self.hourly.add(key)
                return _rates_from_model_price(info.get_prices(at), self.version, info.context_window)
            self._schedules[key] = schedule
            self.learned = True
        return _resolve(self._schedules[key], at)

    def day_rates(self, provider: str, model: str, at: datetime) -> ModelRates | None:
        """The rates for work spread over `at`'s (UTC) day: for a model priced by the hour, those
        of its dearest hour, so a projection of a month's work never counts on off-peak prices."""
        found = self.rates(provider, model, at)
        if (provider, model) not in self.hourly:
            return found
        midnight = (at if at.tzinfo is None else at.astimezone(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
        every_half_hour = (self.rates(provider, model, midnight + timedelta(minutes=30 * n)) for n in range(48))
        priced = [rates for rates in every_half_hour if rates is not None]
        return max(priced, key=lambda rates: rates.input.base + rates.output.base, default=found)

    def model_id(self, provider: str, model: str) -> str | None:
        """The price database's id for `model` (e.g. 'gpt-5' for 'gpt-5-codex'), or None."""
        info = self._model_info(provider, model)
        return None if info is None else str(info.id)

    def provider_ids(self) -> frozenset[str]:
        """Every provider id the database knows ('openai', 'google', 'openrouter', ...)."""
        return frozenset(str(provider.id) for provider in price_snapshot().providers)

    def find_provider(self, model: str) -> str | None:
        """The provider the database prices `model` under when none is given (e.g. 'google' for
        'gemini-2.5-pro'), or None. The database's own guess first, then the main providers."""
        snapshot = price_snapshot()
        for provider_id in (None, *_MAIN_PROVIDERS):
            try:
                provider, _info = snapshot.find_provider_model(model, None, provider_id, None)
            except LookupError:
                continue
            return str(provider.id)
        return None


_MAIN_PROVIDERS = ("openai", "anthropic", "google", "deepseek", "mistral", "x-ai", "openrouter")


def _provider_candidates(provider: str) -> tuple[str | None, ...]:
    if provider in ("anthropic", "openai", "google", "openrouter", "deepseek", "mistral", "x-ai"):
        return (provider,)
    return (provider, None)


def _rate(value: Any) -> Rate | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return Rate(value)
    base = getattr(value, "base", None)
    tiers = getattr(value, "tiers", None)
    if isinstance(base, Decimal) and tiers is not None:
        return Rate(base, tuple((int(tier.start), Decimal(tier.price)) for tier in tiers))
    return None


def _rates_from_model_price(price: Any, version: str, context_window: int | None) -> ModelRates | None:
    input_rate = _rate(getattr(price, "input_mtok", None))
    if input_rate is None:
        return None
    output_rate = _rate(getattr(price, "output_mtok", None))
    cache_read = _rate(getattr(price, "cache_read_mtok", None)) or input_rate
    write_5m = (
        _rate(getattr(price, "cache_write_5m_mtok", None))
        or _rate(getattr(price, "cache_write_mtok", None))
        or input_rate
    )
    write_1h = _rate(getattr(price, "cache_write_1h_mtok", None)) or write_5m
    return ModelRates(
        input=input_rate,
        output=output_rate or Rate(Decimal(0)),
        cache_read=cache_read,
        cache_write_5m=write_5m,
        cache_write_1h=write_1h,
        version=version,
        context_window=context_window,
        priced_output=output_rate is not None,
    )


_BY_TIME_OF_DAY: Any = object()
"""A model whose price depends on the hour (off-peak discounts): not kept as a schedule."""


def _schedule_of(info: Any, version: str) -> Any:
    """The price schedule of a snapshot model (None when the snapshot does not know it)."""
    if info is None:
        return None
    from genai_prices.types import ModelPrice, StartDateConstraint

    window = info.context_window
    if isinstance(info.prices, ModelPrice):
        return ((None, _rates_from_model_price(info.prices, version, window)),)
    entries: list[tuple[int | None, ModelRates | None]] = []
    for conditional in info.prices:
        constraint = conditional.constraint
        if constraint is not None and not isinstance(constraint, StartDateConstraint):
            return _BY_TIME_OF_DAY
        start = None if constraint is None else constraint.start_date.toordinal()
        entries.append((start, _rates_from_model_price(conditional.prices, version, window)))
    return tuple(entries) if entries else None


def _resolve(schedule: _Schedule | None, at: datetime) -> ModelRates | None:
    """The rates in force at `at`, as genai-prices chooses them (by UTC date, last match wins)."""
    if not schedule:
        return None
    day = (at.astimezone(UTC) if at.tzinfo is not None else at).date().toordinal()
    for start, rates in reversed(schedule):
        if start is None or day >= start:
            return rates
    return schedule[0][1]


def _rate_to_json(rate: Rate) -> list[Any]:
    return [str(rate.base), [[start, str(price)] for start, price in rate.tiers]]


def _rate_from_json(data: list[Any]) -> Rate:
    return Rate(Decimal(data[0]), tuple((int(start), Decimal(price)) for start, price in data[1]))


_RATE_FIELDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")


def _schedule_to_json(schedule: _Schedule | None) -> list[Any] | None:
    if schedule is None:
        return None
    return [
        [
            start,
            None
            if rates is None
            else {
                **{name: _rate_to_json(getattr(rates, name)) for name in _RATE_FIELDS},
                "context_window": rates.context_window,
                "priced_output": rates.priced_output,
            },
        ]
        for start, rates in schedule
    ]


def _schedule_from_json(data: list[Any] | None, version: str) -> _Schedule | None:
    if data is None:
        return None
    entries = []
    for start, rates in data:
        entries.append(
            (
                None if start is None else int(start),
                None
                if rates is None
                else ModelRates(
                    input=_rate_from_json(rates["input"]),
                    output=_rate_from_json(rates["output"]),
                    cache_read=_rate_from_json(rates["cache_read"]),
                    cache_write_5m=_rate_from_json(rates["cache_write_5m"]),
                    cache_write_1h=_rate_from_json(rates["cache_write_1h"]),
                    version=version,
                    context_window=rates["context_window"],
                    priced_output=bool(rates["priced_output"]),
                ),
            )
        )
    return tuple(entries)


class RatesLookup(Protocol):
    """Anything that gives a model's rates at a moment (a PriceBook, or a view of one at a tier)."""

    unpriced_version: str | None
    """The price version a record gets when `rates` has none (a tier's marks, or None)."""

    def rates(self, provider: str, model: str, at: datetime) -> ModelRates | None: ...


class PriceBook:
    """Rates for (provider, model) at a time: user overrides (exact match) win, then the database.

    Built once per unit of work; caches per model and day so pricing a million records costs
    a dictionary lookup each.
    """

    unpriced_version: str | None = None

    def __init__(
        self,
        overrides: dict[tuple[str, str], ModelRates] | None = None,
        database: PriceDatabase | None = None,
    ) -> None:
        self.overrides = overrides or {}
        self.database = database or PriceDatabase()
        self._cache: dict[tuple[str, str, int], ModelRates | None] = {}

    def rates(self, provider: str, model: str, at: datetime) -> ModelRates | None:
        override = self.overrides.get((provider, model))
        if override is not None:
            return override
        if (provider, model) in self.database.hourly:
            return self.database.rates(provider, model, at)  # by the hour: a day's first lookup is no answer
        key = (provider, model, at.toordinal())
        if key not in self._cache:
            found = self.database.rates(provider, model, at)
            if (provider, model) in self.database.hourly:
                return found
            self._cache[key] = found
        return self._cache[key]

    def day_rates(self, provider: str, model: str, at: datetime) -> ModelRates | None:
        """As `rates`, for work spread over the day (see `PriceDatabase.day_rates`)."""
        override = self.overrides.get((provider, model))
        if override is not None:
            return override
        return self.database.day_rates(provider, model, at)

    def find(self, name: str) -> tuple[str, str] | None:
        """The (provider, model) key a model name typed by the user is priced under, or None.

        An override for exactly `name` wins; `provider/model` names the provider (as routers
        write it, e.g. 'openai/gpt-4o'); otherwise the database guesses the provider from the name.
        """
        for provider, model in sorted(self.overrides):
            if model == name:
                return provider, model
        prefix, slash, rest = name.partition("/")
        named = slash and rest and prefix in self.database.provider_ids()
        if named and ((prefix, rest) in self.overrides or self.database.model_id(prefix, rest) is not None):
            return prefix, rest
        guessed = self.database.find_provider(name)
        if guessed is None:
            return None
        if named and self.database.model_id(guessed, name) != name:
            # The provider named does not sell it, and no router lists it under this very name
            # (`google/gemma-2-9b-it` at OpenRouter): another provider's price would be wrong.
            return None
        return guessed, name
