"""Price overrides and re-pricing: the user's word on a model's price, applied on request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, overload

import orjson

from tokenworth.core.db import META_UPSERT_SQL, Database, RawTransaction
from tokenworth.core.money import ZERO, from_units, typed_dollars
from tokenworth.core.pricing import (
    ModelRates,
    PriceBook,
    PriceDatabase,
    bucket_marks,
    bucket_rates,
    cost_units,
    rates_from_override,
    unpriced_bucket_version,
)
from tokenworth.core.timeutil import from_epoch_ms, utc_now

if TYPE_CHECKING:
    from tokenworth.core.models import PriceOverride


@overload
def parse_price(text: str, what: str) -> Decimal: ...


@overload
def parse_price(text: None, what: str) -> None: ...


def parse_price(text: str | None, what: str) -> Decimal | None:
    """A price per million tokens from user input; a clear error for anything else."""
    if text is None:
        return None
    try:
        value = typed_dollars(text)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None
    except InvalidOperation:
        raise ValueError(f"{what} must be a number of dollars per million tokens, got {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"{what} must be a number of dollars per million tokens, got {text!r}")
    if value < 0:
        raise ValueError(f"{what} must be zero or more, got {text!r}")
    return value


_OVERRIDE_COLUMNS = (
    "provider",
    "model",
    "input_mtok",
    "output_mtok",
    "cache_read_mtok",
    "cache_write_5m_mtok",
    "cache_write_1h_mtok",
    "updated_at",
)


def _override_rates(row: dict[str, Any]) -> ModelRates:
    def dec(text: str | None) -> Decimal | None:
        return None if text is None else Decimal(text)

    updated = from_epoch_ms(int(row["updated_at"]))
    return rates_from_override(
        input_mtok=Decimal(row["input_mtok"]),
        output_mtok=Decimal(row["output_mtok"]),
        cache_read_mtok=dec(row["cache_read_mtok"]),
        cache_write_5m_mtok=dec(row["cache_write_5m_mtok"]),
        cache_write_1h_mtok=dec(row["cache_write_1h_mtok"]),
        version=f"override {updated:%Y-%m-%dT%H:%M:%SZ}",
    )


PRICE_SCHEDULES_KEY = "price_schedules"
"""The `meta` entry keeping the price schedules of the models seen so far (see PriceDatabase)."""


def load_price_book(db: Database) -> PriceBook:
    """A PriceBook with every stored override and the kept price schedules (plain SQL, no ORM)."""
    rows = db.fetch(f"SELECT {', '.join(_OVERRIDE_COLUMNS)} FROM price_overrides")
    overrides = [dict(zip(_OVERRIDE_COLUMNS, row, strict=True)) for row in rows]
    kept = db.fetch("SELECT value FROM meta WHERE key = :key", {"key": PRICE_SCHEDULES_KEY})
    schedules = None
    if kept:
        try:
            schedules = orjson.loads(kept[0][0])
        except orjson.JSONDecodeError:
            schedules = None  # unreadable: looked up again and rewritten
    database = PriceDatabase(schedules if isinstance(schedules, dict) else None)
    return PriceBook({(row["provider"], row["model"]): _override_rates(row) for row in overrides}, database)


def keep_learned_prices(tx: RawTransaction, book: PriceBook) -> None:
    """Store the price schedules `book` looked up (if it looked any up) in `meta`, so the next
    import or poll of the same models need not load the snapshot."""
    if book.database.learned:
        value = orjson.dumps(book.database.known_schedules()).decode()
        tx.execute(META_UPSERT_SQL, {"key": PRICE_SCHEDULES_KEY, "value": value})
        book.database.learned = False


@dataclass(frozen=True)
class OverrideInput:
    provider: str
    model: str
    input_mtok: Decimal
    output_mtok: Decimal
    cache_read_mtok: Decimal | None = None
    cache_write_5m_mtok: Decimal | None = None
    cache_write_1h_mtok: Decimal | None = None


OVERRIDE_PROVIDERS = ("anthropic", "openai", "google", "openrouter", "deepseek", "mistral", "x-ai")
"""The providers offered for a price override (the CLI's help, the Settings list)."""


def providers_of_model(db: Database, model: str) -> list[str]:
    """The providers the ledger holds records of `model` under: an override must name one of them
    to apply (Claude Code records are Anthropic's whatever the model, e.g. `deepseek-chat` through
    DeepSeek's Anthropic-compatible endpoint)."""
    rows = db.fetch("SELECT DISTINCT provider FROM usage_records WHERE model = :model", {"model": model})
    return sorted(str(provider) for (provider,) in rows)


def similar_models(db: Database, model: str, limit: int = 3) -> list[str]:
    """Models in the ledger whose names look like `model` (`claude-sonnet-4.5` for
    `claude-sonnet-4-5-20250929`): an override or a reprice under a name no record carries
    changes nothing, so the names meant are offered."""
    import difflib

    names = [str(name) for (name,) in db.fetch("SELECT DISTINCT model FROM usage_records")]
    wanted = model.lower()
    by_lower = {name.lower(): name for name in names}
    close = difflib.get_close_matches(wanted, list(by_lower), n=limit, cutoff=0.6)
    starting = [lower for lower in sorted(by_lower) if lower.startswith(wanted) and lower not in close]
    return [by_lower[lower] for lower in (*close, *starting)][:limit]


def override_providers(db: Database, model: str) -> list[str]:
    """The providers `model` has a price override under."""
    rows = db.fetch("SELECT provider FROM price_overrides WHERE model = :model", {"model": model})
    return sorted(str(provider) for (provider,) in rows)


def cache_defaults_note(price: OverrideInput, names: tuple[str, str]) -> str | None:
    """What leaving the cache prices out means (`names`: how the caller calls the read and write
    fields), with the price database's figures for the model: for most models cache reads cost a
    tenth of input, so the difference is large. None when both were given."""
    missing = [
        name
        for name, value in zip(names, (price.cache_read_mtok, price.cache_write_5m_mtok), strict=True)
        if value is None
    ]
    if not missing:
        return None
    from tokenworth.core.pricing import PriceDatabase
    from tokenworth.core.timeutil import utc_now

    known = PriceDatabase().rates(price.provider, price.model, utc_now())
    hint = ""
    if known is not None:
        hint = (
            f" The price database has cache reads at ${known.cache_read.base}/M and cache writes at"
            f" ${known.cache_write_5m.base}/M for this model."
        )
    return f"without {' and '.join(missing)}, those tokens are priced at the input price (${price.input_mtok}/M).{hint}"


def set_override(db: Database, price: OverrideInput) -> None:
    """Store (or replace) the price of one model at one provider. Existing records keep their
    frozen cost until `reprice` is asked for."""
    from sqlalchemy import select

    from tokenworth.core.models import PriceOverride

    if not price.model.strip():
        raise ValueError("model must not be empty")

    def text(value: Decimal | None) -> str | None:
        return None if value is None else format(value, "f")

    with db.session() as session:
        row = session.scalars(
            select(PriceOverride).where(PriceOverride.provider == price.provider, PriceOverride.model == price.model)
        ).first()
        if row is None:
            row = PriceOverride(provider=price.provider, model=price.model)
            session.add(row)
        row.input_mtok = text(price.input_mtok) or "0"
        row.output_mtok = text(price.output_mtok) or "0"
        row.cache_read_mtok = text(price.cache_read_mtok)
        row.cache_write_5m_mtok = text(price.cache_write_5m_mtok)
        row.cache_write_1h_mtok = text(price.cache_write_1h_mtok)
        row.updated_at = utc_now()


def delete_override(db: Database, provider: str, model: str) -> bool:
    from sqlalchemy import select

    from tokenworth.core.models import PriceOverride

    with db.session() as session:
        row = session.scalars(
            select(PriceOverride).where(PriceOverride.provider == provider, PriceOverride.model == model)
        ).first()
        if row is None:
            return False
        session.delete(row)
        return True


def list_overrides(db: Database) -> list[PriceOverride]:
    from sqlalchemy import select

    from tokenworth.core.models import PriceOverride

    with db.session() as session:
        rows = session.scalars(select(PriceOverride))
        return sorted(rows, key=lambda row: (row.provider, row.model))  # by code point, any collation


@dataclass
class RepriceSummary:
    """What a re-price did. Costs cover computed (not provider-reported) records only; a side
    where every such record had no price is None, never $0, like a report's `cost_usd`."""

    records: int = 0
    changed: int = 0
    now_unpriced: int = 0
    was_unpriced: int = 0
    computed: int = 0
    priced_before: Decimal = Decimal(0)
    priced_after: Decimal = Decimal(0)

    @property
    def cost_before(self) -> Decimal | None:
        return None if self.computed and self.was_unpriced == self.computed else self.priced_before

    @property
    def cost_after(self) -> Decimal | None:
        return None if self.computed and self.now_unpriced == self.computed else self.priced_after

    @property
    def before_complete(self) -> bool:
        return self.was_unpriced == 0

    @property
    def after_complete(self) -> bool:
        return self.now_unpriced == 0


def reprice(
    db: Database, *, since: datetime, until: datetime | None = None, model: str | None = None
) -> RepriceSummary:
    """Recompute token-based costs with today's prices and overrides, on request only.

    Reported costs (what a bill said) are never touched; their token estimate is refreshed.
    """
    from sqlalchemy import select, update

    from tokenworth.core.models import CostProvenance, UsageRecord

    summary = RepriceSummary()
    table = UsageRecord.__table__
    book = load_price_book(db)
    with db.session() as session:
        query = select(table).where(table.c.ts >= since)
        if until is not None:
            query = query.where(table.c.ts < until)
        if model:
            query = query.where(table.c.model == model)
        conn = session.connection()
        rows = conn.execute(query).mappings().all()
        for row in rows:
            summary.records += 1
            rates = book.rates(row["provider"], row["model"], row["ts"])
            unpriced_version = None
            if row["bucket_seconds"]:  # a provider's bucket: priced as polling does
                long_context, batch = bucket_marks(row["price_version"])
                unpriced_version = unpriced_bucket_version(long_context=long_context, batch=batch)
                if rates is not None:
                    rates = bucket_rates(rates, long_context=long_context, batch=batch)
            if rates is not None and not rates.prices(row["output_tokens"]):
                rates = None
            estimate = (
                None
                if rates is None
                else cost_units(
                    rates,
                    row["input_tokens"],
                    row["output_tokens"],
                    row["cache_read_tokens"],
                    row["cache_write_5m_tokens"],
                    row["cache_write_1h_tokens"],
                )
            )
            amount = None if estimate is None else from_units(estimate)
            values: dict[str, object]
            if row["cost_provenance"] == CostProvenance.REPORTED:
                values = {"estimated_cost": amount}
            else:
                version = unpriced_version if rates is None else rates.version
                provenance = CostProvenance.UNPRICED if rates is None else CostProvenance.COMPUTED
                values = {"cost": amount, "cost_provenance": provenance, "price_version": version}
                summary.computed += 1
                if rates is None:
                    summary.now_unpriced += 1
                if row["cost"] is None:
                    summary.was_unpriced += 1
                summary.priced_before += row["cost"] or ZERO
                summary.priced_after += amount or ZERO
                if amount != row["cost"] or version != row["price_version"]:
                    summary.changed += 1
            conn.execute(update(table).where(table.c.id == row["id"]).values(values))
    return summary
