"""ORM mapping of the usage rollup (see core.rollup); written only by database triggers."""

from __future__ import annotations

from sqlalchemy import BigInteger, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from tokenworth.core.models import Base


class UsageRollup(Base):
    """Sums of usage per 15-minute slot, source, provider, model and project ('' for none)."""

    __tablename__ = "usage_rollup"

    slot_ms: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(128))
    project: Mapped[str] = mapped_column(String(512), server_default="")
    input_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    output_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    cache_read_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    cache_write_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    reasoning_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    requests: Mapped[int] = mapped_column(BigInteger, server_default="0")
    records: Mapped[int] = mapped_column(BigInteger, server_default="0")
    cost: Mapped[int] = mapped_column(BigInteger, server_default="0")
    unpriced: Mapped[int] = mapped_column(BigInteger, server_default="0")

    __table_args__ = (
        PrimaryKeyConstraint("slot_ms", "source", "provider", "model", "project", name="pk_usage_rollup"),
    )
