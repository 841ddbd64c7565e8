"""Tables for provider accounts, poll progress and billed costs (the keys themselves live in the keyring).

Usage buckets from the providers' usage endpoints are ordinary ledger rows (`usage_records`,
priced from tokens). Billed money from their cost endpoints is kept apart in `billed_costs`: a
bill's line items do not map one-to-one onto usage buckets (OpenAI bills per line item and
project, Anthropic per description and workspace; neither carries an api key), so matching them
onto usage rows would mean inventing an allocation. Keeping them apart means every report over
`usage_records` counts each token once, and `report reconcile` sets estimate against bill per
day and model.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tokenworth.core.dbtypes import Money, UTCDateTime
from tokenworth.core.models import Base


class ProviderAccount(Base):
    """One stored provider key: which provider, its label, and how its last poll went. Not secret."""

    __tablename__ = "provider_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(64))
    key_last4: Mapped[str] = mapped_column(String(4), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    """JSON of non-secret facts the provider reported (e.g. OpenRouter's limit and balance)."""

    __table_args__ = (UniqueConstraint("provider", "label", name="uq_provider_accounts_provider_label"),)

    @property
    def account(self) -> str:
        return f"{self.provider}:{self.label}"


class PollProgress(Base):
    """Where the next poll of one account's endpoint starts: the end of the last committed page."""

    __tablename__ = "poll_progress"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("provider_accounts.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(64))
    next_start: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("account_id", "endpoint", name="uq_poll_progress_account_endpoint"),)


class BilledCost(Base):
    """One line of a provider's cost report: billed money for a day, as the bill says it."""

    __tablename__ = "billed_costs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(128))
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    bucket_seconds: Mapped[int] = mapped_column(Integer)
    model: Mapped[str | None] = mapped_column(String(128))
    line_item: Mapped[str | None] = mapped_column(String(256))
    cost_type: Mapped[str | None] = mapped_column(String(32))
    token_type: Mapped[str | None] = mapped_column(String(64))
    service_tier: Mapped[str | None] = mapped_column(String(32))
    context_window: Mapped[str | None] = mapped_column(String(32))
    project: Mapped[str | None] = mapped_column(String(512))
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[str | None] = mapped_column(String(40))
    quantity_unit: Mapped[str | None] = mapped_column(String(32))
    polled_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_billed_costs_dedupe_key"),
        Index("ix_billed_costs_ts", "ts"),
    )
