"""The table of accepted routing experiments ("try model M for the next K tasks of category C").

Imported by `core.models` so the table is on the one metadata; schema changes go through migrations.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tokenworth.core.dbtypes import Money, UTCDateTime
from tokenworth.core.models import Base


class ExperimentStatus:
    """Where an experiment stands."""

    RUNNING = "running"  # counting the next K tasks of the category on the candidate model
    DONE = "done"  # K tasks counted: `task_ids` holds them, the result is read from them
    CANCELLED = "cancelled"  # stopped by the user; kept for the record


class RoutingExperiment(Base):
    """An accepted suggestion: the baseline at acceptance, and which tasks it counted once done.

    The baseline is the current model's figures for the category when the suggestion was
    accepted (its valued tasks: value and cost per task, TFP); None where it had none.
    """

    __tablename__ = "routing_experiments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suggestion_id: Mapped[str] = mapped_column(String(16))
    month: Mapped[str] = mapped_column(String(7))
    category: Mapped[str | None] = mapped_column(String(64))
    from_provider: Mapped[str] = mapped_column(String(32))
    from_model: Mapped[str] = mapped_column(String(128))
    to_provider: Mapped[str] = mapped_column(String(32))
    to_model: Mapped[str] = mapped_column(String(128))
    evidence: Mapped[str] = mapped_column(String(16))
    task_count: Mapped[int] = mapped_column(Integer)
    baseline_tasks: Mapped[int] = mapped_column(Integer, default=0)
    baseline_value_per_task: Mapped[Decimal | None] = mapped_column(Money())
    baseline_cost_per_task: Mapped[Decimal | None] = mapped_column(Money())
    baseline_tfp: Mapped[str | None] = mapped_column(String(32))
    expected_savings: Mapped[Decimal | None] = mapped_column(Money())
    status: Mapped[str] = mapped_column(String(16))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    task_ids: Mapped[str | None] = mapped_column(Text)
    """Comma-separated ids of the K tasks counted, frozen when the experiment is done."""

    __table_args__ = (Index("ix_routing_experiments_status", "status"),)
