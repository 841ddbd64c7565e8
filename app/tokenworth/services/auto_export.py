"""Exporting last month automatically once a new month has begun (for the tray's scheduler).

From the first day of a month on, last month's export is due until it has been written once:
a missed first day (the computer was off) is caught up on the next check, and a month is never
exported twice automatically (the database remembers it, under `auto_export:YYYY-MM` in `meta`).
Only the month just ended is considered; a month with no usage and no tasks is skipped. The
clock is a parameter, so the scheduler (and tests) decide what "now" is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Literal

from sqlalchemy import select

from tokenworth.core.config import default_export_folder as default_export_folder  # also importable from here
from tokenworth.core.db import Database
from tokenworth.core.models import MetaEntry
from tokenworth.services.export import (
    ALL,
    ExportFormat,
    ExportHooks,
    ExportResult,
    PageSize,
    default_name,
    export_month,
)
from tokenworth.services.monthly_summary import Month, build_monthly_summary, month_days, previous_month
from tokenworth.services.plans import month_key
from tokenworth.services.reports import usage_report
from tokenworth.services.tasks import list_tasks

META_PREFIX = "auto_export:"


@dataclass(frozen=True)
class AutoExportDecision:
    """Whether last month's export is due now, where it would go, and why (not)."""

    due: bool
    month: Month
    target: Path
    reason: str

    @property
    def month_key(self) -> str:
        return month_key(*self.month)


@dataclass
class AutoExportOutcome:
    decision: AutoExportDecision
    results: list[ExportResult] = field(default_factory=list)

    @property
    def written(self) -> bool:
        return bool(self.results)


def exported_at(db: Database, month: Month) -> str | None:
    """When `month` was exported automatically (ISO time), or None."""
    with db.session() as session:
        return session.scalar(select(MetaEntry.value).where(MetaEntry.key == META_PREFIX + month_key(*month)))


def _mark_exported(db: Database, month: Month, now: datetime) -> None:
    with db.session() as session:
        session.merge(MetaEntry(key=META_PREFIX + month_key(*month), value=now.isoformat(timespec="seconds")))


def _month_has_data(db: Database, month: Month, zone: tzinfo) -> bool:
    days = month_days(month)
    usage = usage_report(db, "monthly", zone=zone, since=days[0], until=days[-1])
    return usage.totals.records > 0 or bool(list_tasks(db, month=month, zone=zone))


def auto_export_decision(
    db: Database, *, now: datetime, zone: tzinfo, folder: Path, enabled: bool = True
) -> AutoExportDecision:
    """Is last month's export due at `now` (an aware time; months are cut in `zone`)?"""
    local = now.astimezone(zone)
    month = previous_month((local.year, local.month))
    target = folder / default_name(month_key(*month), ALL)
    if not enabled:
        return AutoExportDecision(False, month, target, "automatic export is off")
    done = exported_at(db, month)
    if done is not None:
        return AutoExportDecision(False, month, target, f"{month_key(*month)} was exported on {done}")
    if not _month_has_data(db, month, zone):
        return AutoExportDecision(False, month, target, f"nothing was recorded in {month_key(*month)}")
    return AutoExportDecision(True, month, target, f"{month_key(*month)} has ended and is not exported yet")


def run_auto_export(
    db: Database,
    *,
    now: datetime,
    zone: tzinfo,
    folder: Path,
    hooks: ExportHooks,
    enabled: bool = True,
    budget: Decimal | None = None,
    page_size: PageSize = "a4",
    formats: Sequence[ExportFormat] | Literal["all"] = ALL,
) -> AutoExportOutcome:
    """Write last month's export (by default every format, into `folder/tokenworth-YYYY-MM/`) if it is due,
    and remember that it was written; otherwise do nothing. Safe to call as often as wanted."""
    decision = auto_export_decision(db, now=now, zone=zone, folder=folder, enabled=enabled)
    if not decision.due:
        return AutoExportOutcome(decision)
    summary = build_monthly_summary(db, month=decision.month, zone=zone, budget=budget, now=now)
    results = export_month(
        summary, db, formats, out=decision.target, cwd=folder, hooks=hooks, page_size=page_size, into_folder=True
    )
    _mark_exported(db, decision.month, now)
    return AutoExportOutcome(decision, results)
