"""A small ledger with known times and prices, for the task, attribution and value tests.

January 2026, all UTC. Prices (user overrides, USD per million tokens): `alpha` $10, `beta` $20
input; `mystery` has no price anywhere; provider buckets carry a reported cost.

    id  source       model    session  project / branch       ts                       cost
    r1  claude-code  alpha    S1       /p/app  feat-a         01-05 10:10              $1.00  (100k)
    r2  claude-code  alpha    S1       /p/app  feat-a         01-05 10:50              $2.00  (200k)
    r3  codex        beta     S2       /p/app  feat-b         01-05 11:30              $2.00  (100k)
    r4  claude-code  mystery  S3       /p/docs main           01-05 10:20              unpriced (50k)
    r5  openai       gamma    -        -                      01-05 10:00 hourly       $3.60  (36k)
    r6  anthropic    alpha    -        -                      01-05 00:00 daily        $24.00 (240k)
    r7  claude-code  alpha    S1       /p/app  feat-a         01-20 09:00              $1.00  (100k)
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tokenworth.core.db import Database
from tokenworth.core.ledger import upsert_rows
from tokenworth.core.pricing import PriceBook, rates_from_override
from tokenworth.core.timeutil import to_epoch_ms
from tokenworth.services.record_rows import event_row
from tokenworth.sources.records import UsageEvent


def at(day: int, hour: int, minute: int = 0, month: int = 1) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def price_book() -> PriceBook:
    def flat(price: str) -> object:
        return rates_from_override(
            input_mtok=Decimal(price),
            output_mtok=Decimal(price),
            cache_read_mtok=None,
            cache_write_5m_mtok=None,
            cache_write_1h_mtok=None,
            version="test",
        )

    return PriceBook({("anthropic", "alpha"): flat("10"), ("openai", "beta"): flat("20")})  # type: ignore[dict-item]


def event(
    key: str,
    ts: datetime,
    *,
    model: str = "alpha",
    source: str = "claude-code",
    provider: str = "anthropic",
    tokens: int = 100_000,
    session: str | None = "S1",
    project: str | None = "/p/app",
    branch: str | None = "feat-a",
    bucket_seconds: int = 0,
    reported_cost: Decimal | None = None,
) -> UsageEvent:
    return UsageEvent(
        source=source,
        provider=provider,
        model=model,
        timestamp=ts,
        dedupe_key=key,
        input_tokens=tokens,
        session_id=session,
        project=project,
        git_branch=branch,
        bucket_seconds=bucket_seconds,
        reported_cost=reported_cost,
    )


def known_events() -> list[UsageEvent]:
    return [
        event("r1", at(5, 10, 10)),
        event("r2", at(5, 10, 50), tokens=200_000),
        event(
            "r3",
            at(5, 11, 30),
            model="beta",
            source="codex",
            provider="openai",
            session="S2",
            branch="feat-b",
        ),
        event(
            "r4",
            at(5, 10, 20),
            model="mystery",
            tokens=50_000,
            session="S3",
            project="/p/docs",
            branch="main",
        ),
        event(
            "r5",
            at(5, 10),
            model="gamma",
            source="openai",
            provider="openai",
            tokens=36_000,
            session=None,
            project=None,
            branch=None,
            bucket_seconds=3600,
            reported_cost=Decimal("3.60"),
        ),
        event(
            "r6",
            at(5, 0),
            source="anthropic",
            tokens=240_000,
            session=None,
            project=None,
            branch=None,
            bucket_seconds=86_400,
            reported_cost=Decimal("24.00"),
        ),
        event("r7", at(20, 9)),
    ]


def write_events(db: Database, events: list[UsageEvent], imported_at: datetime | None = None) -> int:
    """Write events as an importer would; returns the imported_at stamp (epoch ms) used."""
    stamp = to_epoch_ms(imported_at or datetime.now(UTC))
    book = price_book()
    rows = [event_row(item, book, stamp) for item in events]
    with db.engine.begin() as conn:
        upsert_rows(conn, rows, "latest")
    return stamp


def record_ids(db: Database) -> dict[str, int]:
    from sqlalchemy import select

    from tokenworth.core.models import UsageRecord

    with db.session() as session:
        return {key: rid for key, rid in session.execute(select(UsageRecord.dedupe_key, UsageRecord.id))}
