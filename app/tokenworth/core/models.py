"""The ledger's tables as SQLAlchemy 2.0 typed models. Schema changes go through migrations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tokenworth.core.dbtypes import Money, UTCDateTime


class Base(DeclarativeBase):
    __table__: ClassVar[Table]  # declarative mapping always makes a Table (typed FromClause upstream)


class CostProvenance:
    """Where a record's cost comes from."""

    REPORTED = "reported"  # the source said what it cost (a bill, or an old log's costUSD)
    COMPUTED = "computed"  # tokens x a price from the price database or a user override
    UNPRICED = "unpriced"  # no price known: shown loudly, never counted as $0


class UsageRecord(Base):
    """Tokens and cost of one request or one time bucket, from one source."""

    __tablename__ = "usage_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(32))
    account: Mapped[str | None] = mapped_column(String(128))
    model: Mapped[str] = mapped_column(String(128))
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    bucket_seconds: Mapped[int] = mapped_column(Integer, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_write_5m_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_write_1h_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    reasoning_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    request_count: Mapped[int] = mapped_column(Integer, default=1)
    cost: Mapped[Decimal | None] = mapped_column(Money())
    cost_provenance: Mapped[str] = mapped_column(String(16))
    estimated_cost: Mapped[Decimal | None] = mapped_column(Money())
    price_version: Mapped[str | None] = mapped_column(String(64))
    speed: Mapped[str | None] = mapped_column(String(16))
    project: Mapped[str | None] = mapped_column(String(512))
    session_id: Mapped[str | None] = mapped_column(String(128))
    git_branch: Mapped[str | None] = mapped_column(String(256))
    message_id: Mapped[str | None] = mapped_column(String(128))
    request_id: Mapped[str | None] = mapped_column(String(128))
    is_sidechain: Mapped[bool] = mapped_column(Boolean, default=False)
    web_search_requests: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_usage_records_dedupe_key"),
        Index("ix_usage_records_ts", "ts"),
        Index("ix_usage_records_source_ts", "source", "ts"),
        Index("ix_usage_records_message_id", "message_id"),
        Index("ix_usage_records_session", "session_id"),
    )

    @property
    def cache_write_tokens(self) -> int:
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens


class ImportedFile(Base):
    """How far each local log file has been read, so the next import reads only what is new."""

    __tablename__ = "imported_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(2048))
    device: Mapped[int] = mapped_column(BigInteger, default=0)
    inode: Mapped[int] = mapped_column(BigInteger, default=0)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    mtime_ns: Mapped[int] = mapped_column(BigInteger, default=0)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[str | None] = mapped_column(String(64))
    parser_state: Mapped[str | None] = mapped_column(Text)
    broken_lines: Mapped[int] = mapped_column(Integer, default=0)
    records: Mapped[int] = mapped_column(Integer, default=0)
    last_read_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("source", "path", name="uq_imported_files_source_path"),)


class PriceOverride(Base):
    """A user's own price for a model (USD per million tokens); wins over the price database."""

    __tablename__ = "price_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(128))
    input_mtok: Mapped[str] = mapped_column(String(32))
    output_mtok: Mapped[str] = mapped_column(String(32))
    cache_read_mtok: Mapped[str | None] = mapped_column(String(32))
    cache_write_5m_mtok: Mapped[str | None] = mapped_column(String(32))
    cache_write_1h_mtok: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("provider", "model", name="uq_price_overrides_provider_model"),)


class MetaEntry(Base):
    """Small app-wide facts (last import time, first-run flags): a key and a text value."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# Provider accounts, billed costs, tasks, attribution, plans and routing experiments live in their own modules;
# importing them here puts their tables on Base.metadata with the rest.
from tokenworth.core import provider_models, rollup_models, routing_models, task_models  # noqa: E402, F401
