"""Tables for tasks, their explicit assignments, attributed usage shares and flat-fee plans.

Imported by `core.models` so every table is on one metadata; schema changes go through migrations.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tokenworth.core.dbtypes import Money, UTCDateTime
from tokenworth.core.models import Base, UsageRecord

NO_BRANCH = ""
"""How a (project, branch) assignment stores "usage recorded without a git branch"."""


class Task(Base):
    """A piece of work the user names, with a category, a self-reported value and a time span.

    `ended_at` is None and `active` True while the task runs (at most one at a time). `value` is
    None until the user says what the work was worth.
    """

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[Decimal | None] = mapped_column(Money())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    link_url: Mapped[str | None] = mapped_column(String(2048))
    git_branch: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_tasks_started_at", "started_at"),
        Index("ix_tasks_category", "category"),
    )


class TaskSession(Base):
    """An agent session assigned wholesale to a task (a session belongs to at most one task)."""

    __tablename__ = "task_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer, ForeignKey("tasks.id", ondelete="CASCADE"))
    session_id: Mapped[str] = mapped_column(String(128))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("session_id", name="uq_task_sessions_session_id"),
        Index("ix_task_sessions_task", "task_id"),
    )


class TaskBranch(Base):
    """All usage on a (project, git branch) assigned wholesale to a task; '' is "no branch"."""

    __tablename__ = "task_branches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer, ForeignKey("tasks.id", ondelete="CASCADE"))
    project: Mapped[str] = mapped_column(String(512))
    git_branch: Mapped[str] = mapped_column(String(256), default=NO_BRANCH)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("project", "git_branch", name="uq_task_branches_project_branch"),
        Index("ix_task_branches_task", "task_id"),
    )


class TaskAttribution(Base):
    """The share of one usage record that belongs to one task: exactly share_num / share_den.

    A per-request record has one row with 1/1; a bucketed provider record overlapping task spans
    has one row per task with its overlap / bucket length; what no row claims is unattributed.
    Derived data: recomputed from the rules (services.attribution), never edited by hand.
    """

    __tablename__ = "task_attributions"

    record_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("usage_records.id", ondelete="CASCADE"), primary_key=True
    )
    task_id: Mapped[int] = mapped_column(Integer, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    share_num: Mapped[int] = mapped_column(BigInteger)
    share_den: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_task_attributions_task", "task_id"),)


class Plan(Base):
    """A flat-fee subscription (e.g. Claude Max) covering the usage of some sources.

    `covers` is a comma-separated list of source names; `first_month`/`last_month` ('YYYY-MM',
    inclusive) bound when the fee is paid, None meaning open-ended.
    """

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    monthly_fee: Mapped[Decimal] = mapped_column(Money())
    covers: Mapped[str] = mapped_column(String(512))
    first_month: Mapped[str | None] = mapped_column(String(7))
    last_month: Mapped[str | None] = mapped_column(String(7))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("name", name="uq_plans_name"),)

    @property
    def covered_sources(self) -> list[str]:
        return [part for part in self.covers.split(",") if part]


# New and changed records are found by import time when attribution catches up (see
# services.attribution.sync_attribution); this index keeps that a lookup, not a scan.
Index("ix_usage_records_imported_at", UsageRecord.imported_at)
