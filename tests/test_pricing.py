"""Prices: exact costs per kind of token, tiers, overrides, unpriced models, frozen prices."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from conftest import write_unknown_model_log
from tokenworth.core.db import Database
from tokenworth.core.models import UsageRecord
from tokenworth.core.pricing import PriceBook, Rate, cost_usd, rates_from_override
from tokenworth.services.importing import import_local_logs
from tokenworth.services.prices import OverrideInput, reprice, set_override

AT = datetime(2026, 1, 5, tzinfo=UTC)


def test_each_kind_of_token_has_its_own_price() -> None:
    rates = PriceBook().rates("anthropic", "claude-sonnet-4-5-20250929", AT)
    assert rates is not None
    # $3 in, $15 out, $0.30 cache read, $3.75 5m write, $6 1h write per million tokens
    assert cost_usd(rates, 100_000, 0) == Decimal("0.3")
    assert cost_usd(rates, 0, 1_000_000) == Decimal("15")
    assert cost_usd(rates, 0, 0, 100_000) == Decimal("0.03")
    assert cost_usd(rates, 0, 0, 0, 100_000) == Decimal("0.375")
    assert cost_usd(rates, 0, 0, 0, 0, 100_000) == Decimal("0.6")


def test_long_context_tier_prices_every_token_above_the_threshold() -> None:
    rates = PriceBook().rates("anthropic", "claude-sonnet-4-5-20250929", AT)
    assert rates is not None
    assert cost_usd(rates, 200_000, 1000) == Decimal("0.6") + Decimal("0.015")
    # 200,001 input tokens cross the 200k tier: $6 in and $22.50 out for the whole request
    assert cost_usd(rates, 200_001, 1000) == Decimal("1.200006") + Decimal("0.0225")


def test_openai_cached_input_is_cheaper_than_fresh_input() -> None:
    rates = PriceBook().rates("openai", "gpt-5-codex", AT)
    assert rates is not None
    assert cost_usd(rates, 12043, 216, 2432) == Decimal("0.01751775")


def test_unknown_model_has_no_price() -> None:
    assert PriceBook().rates("anthropic", "claude-imaginary-9", AT) is None


def test_an_override_wins_exactly_for_its_provider_and_model() -> None:
    override = rates_from_override(
        input_mtok=Decimal("1"),
        output_mtok=Decimal("2"),
        cache_read_mtok=None,
        cache_write_5m_mtok=None,
        cache_write_1h_mtok=None,
        version="override",
    )
    book = PriceBook({("anthropic", "claude-sonnet-4-5-20250929"): override})
    assert book.rates("anthropic", "claude-sonnet-4-5-20250929", AT) is override
    assert book.rates("openrouter", "claude-sonnet-4-5-20250929", AT) is not override
    assert override.cache_read == Rate(Decimal("1"))  # missing cache prices fall back to input


def test_unpriced_usage_is_flagged_then_priced_on_request(db: Database, claude_dir: Path) -> None:
    write_unknown_model_log(claude_dir)
    summary = import_local_logs(db, paths=[claude_dir])
    assert dict(summary.unpriced_models) == {"claude-imaginary-9": 1}
    with db.session() as session:
        record = session.scalars(select(UsageRecord)).one()
        assert (record.cost, record.cost_provenance) == (None, "unpriced")

    set_override(db, OverrideInput("anthropic", "claude-imaginary-9", Decimal("2.5"), Decimal("10")))
    with db.session() as session:  # a price change never rewrites stored records by itself
        assert session.scalars(select(UsageRecord)).one().cost is None

    result = reprice(db, since=datetime(2026, 1, 1, tzinfo=UTC), model="claude-imaginary-9")
    assert (result.records, result.changed) == (1, 1)
    with db.session() as session:
        record = session.scalars(select(UsageRecord)).one()
        assert (record.cost, record.cost_provenance) == (Decimal("2.5"), "computed")
        assert record.price_version is not None
        assert record.price_version.startswith("override")


def test_reprice_leaves_records_before_since_alone(db: Database, claude_dir: Path) -> None:
    write_unknown_model_log(claude_dir)
    import_local_logs(db, paths=[claude_dir])
    set_override(db, OverrideInput("anthropic", "claude-imaginary-9", Decimal("2.5"), Decimal("10")))
    result = reprice(db, since=datetime(2026, 2, 1, tzinfo=UTC))
    assert result.records == 0
    with db.session() as session:
        assert session.scalars(select(UsageRecord)).one().cost is None


def test_embeddings_are_priced_by_input_alone() -> None:
    rates = PriceBook().rates("openai", "text-embedding-3-small", AT)
    assert rates is not None
    assert rates.prices(0)
    assert not rates.prices(10)  # output tokens on an input-only price: unknown, never $0
    assert cost_usd(rates, 1_000_000, 0) == Decimal("0.02")


def test_polled_embedding_usage_is_priced(db: Database) -> None:
    from tokenworth.core.ledger import upsert_rows
    from tokenworth.services.record_rows import event_row
    from tokenworth.sources.records import UsageEvent

    embedding = UsageEvent(
        "openai", "openai", "text-embedding-3-small", AT, "e1", input_tokens=120_000, bucket_seconds=86400
    )
    with db.transaction() as tx:
        upsert_rows(tx, [event_row(embedding, PriceBook(), 0)], "latest")
    assert db.fetch("SELECT cost, cost_provenance FROM usage_records") == [(24_000_000, "computed")]  # $0.0024


def test_a_model_priced_by_the_hour_is_priced_at_each_hour_not_the_days_first() -> None:
    """DeepSeek's peak hours cost twice its off-peak ones: one lookup per day must not fix the
    whole day at whichever hour was asked first."""
    book = PriceBook()
    peak = book.rates("deepseek", "deepseek-chat", datetime(2026, 11, 10, 3, tzinfo=UTC))
    off_peak = book.rates("deepseek", "deepseek-chat", datetime(2026, 11, 10, 18, tzinfo=UTC))
    assert peak is not None
    assert off_peak is not None
    assert peak.input.base == 2 * off_peak.input.base
    assert book.rates("deepseek", "deepseek-chat", datetime(2026, 11, 10, 3, 30, tzinfo=UTC)) == peak


def test_a_days_work_on_a_model_priced_by_the_hour_counts_its_dearest_hour() -> None:
    """Routing projects a month's work onto a candidate: whatever the hour it is asked, the
    projection is the same, and never counts on off-peak prices."""
    book = PriceBook()
    asked = [book.day_rates("deepseek", "deepseek-chat", datetime(2026, 11, 10, hour, tzinfo=UTC)) for hour in (3, 18)]
    peak = book.rates("deepseek", "deepseek-chat", datetime(2026, 11, 10, 3, tzinfo=UTC))
    assert asked == [peak, peak]
    steady = book.rates("anthropic", "claude-haiku-4-5", datetime(2026, 11, 10, 18, tzinfo=UTC))
    assert book.day_rates("anthropic", "claude-haiku-4-5", datetime(2026, 11, 10, 18, tzinfo=UTC)) == steady
