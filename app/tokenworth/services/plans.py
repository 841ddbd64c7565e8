"""Flat-fee plans (Claude Max, ChatGPT Pro...): what the user pays for the usage of some sources.

For covered usage the real cost is the monthly fee, not the API price; the API-equivalent cost
stays visible, with the leverage ratio (API-equivalent / fee). A source is covered by at most one
plan in any month, so a fee is never counted twice.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from tokenworth.core.db import Database
from tokenworth.core.models import UsageRecord
from tokenworth.core.money import decimal_str
from tokenworth.core.task_models import Plan
from tokenworth.core.timeutil import month_key as month_key  # re-exported: routing, auto_export use it
from tokenworth.core.timeutil import parse_month, utc_now
from tokenworth.services.source_names import UnknownSourceError, check_source_names
from tokenworth.services.tasks import TaskInputError, parse_amount

_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class PlanInputError(ValueError):
    """Bad input for a plan: the message says what to fix; nothing was changed."""


class PlanNotFoundError(LookupError):
    """No plan by that name."""


@dataclass(frozen=True)
class PlanView:
    """A plan as callers see it; `covers` lists source names."""

    id: int
    name: str
    monthly_fee: Decimal
    covers: tuple[str, ...]
    first_month: str | None
    last_month: str | None

    def active_in(self, month: str) -> bool:
        """Whether the fee is paid in `month` ('YYYY-MM')."""
        return (self.first_month is None or self.first_month <= month) and (
            self.last_month is None or month <= self.last_month
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "monthly_fee_usd": decimal_str(self.monthly_fee),
            "covers": list(self.covers),
            "first_month": self.first_month,
            "last_month": self.last_month,
        }


def _view(plan: Plan) -> PlanView:
    return PlanView(
        id=plan.id,
        name=plan.name,
        monthly_fee=plan.monthly_fee,
        covers=tuple(plan.covered_sources),
        first_month=plan.first_month,
        last_month=plan.last_month,
    )


def _month(text: str | None, what: str) -> str | None:
    if text is None or not text.strip():
        return None
    try:
        return month_key(*parse_month(text.strip()))
    except ValueError as exc:
        raise PlanInputError(f"{what}: {exc}") from None


def _months_overlap(a: PlanView, first: str | None, last: str | None) -> bool:
    return (a.last_month is None or first is None or first <= a.last_month) and (
        a.first_month is None or last is None or a.first_month <= last
    )


def plan_name(text: str) -> str:
    """A plan's name as stored and looked up: spaces collapsed, and one Unicode form (NFC), so
    'Café' typed with a combining accent is the same plan as 'Café' typed precomposed."""
    return unicodedata.normalize("NFC", " ".join(text.split()))


def set_plan(
    db: Database,
    name: str,
    *,
    monthly_fee: Decimal | str,
    covers: Sequence[str],
    first_month: str | None = None,
    last_month: str | None = None,
) -> PlanView:
    """Create or replace the plan called `name`. Refused when a covered source is already covered
    by another plan in an overlapping month."""
    clean_name = plan_name(name)
    if not clean_name or len(clean_name) > 128:
        raise PlanInputError("a plan needs a name of at most 128 characters")
    try:
        fee = parse_amount(monthly_fee, "the monthly fee")
    except TaskInputError as exc:
        raise PlanInputError(str(exc)) from None
    assert fee is not None
    if fee != fee.quantize(Decimal("0.01")):
        raise PlanInputError(f"the monthly fee {fee} has more than two decimal places: a fee is whole cents")
    sources = list(dict.fromkeys(part.strip().lower() for part in covers if part.strip()))
    if not sources:
        raise PlanInputError("say which sources the plan covers, e.g. --covers claude-code or claude-code,codex")
    for source in sources:
        if not _SOURCE_NAME.match(source):
            raise PlanInputError(f"{source!r} is not a source name (like claude-code, codex, gemini-cli)")
    try:
        check_source_names(db, sources)
    except UnknownSourceError as exc:
        raise PlanInputError(f"{exc} (a plan covers usage from these)") from None
    first = _month(first_month, "--from")
    last = _month(last_month, "--until")
    if first and last and last < first:
        raise PlanInputError(f"the plan's last month ({last}) is before its first ({first})")
    now = utc_now()
    with db.session() as session:
        existing = session.scalars(select(Plan).where(Plan.name == clean_name)).first()
        for other in session.scalars(select(Plan)):
            if existing is not None and other.id == existing.id:
                continue
            shared = set(other.covered_sources) & set(sources)
            if shared and _months_overlap(_view(other), first, last):
                raise PlanInputError(
                    f"plan {other.name!r} already covers {', '.join(sorted(shared))} in those months; "
                    f"change or delete it first (`tokenworth plan delete {other.name!r}`)"
                )
        plan = existing or Plan(name=clean_name, created_at=now)
        plan.monthly_fee = fee
        plan.covers = ",".join(sources)
        plan.first_month = first
        plan.last_month = last
        plan.updated_at = now
        session.add(plan)
        session.flush()
        return _view(plan)


def delete_plan(db: Database, name: str) -> PlanView:
    """Remove a plan; its usage is at API prices again. Returns the plan as it was."""
    with db.session() as session:
        plan = session.scalars(select(Plan).where(Plan.name == plan_name(name))).first()
        if plan is None:
            raise PlanNotFoundError(f"no plan called {name!r} (see `tokenworth plan list`)")
        view = _view(plan)
        session.delete(plan)
        return view


def list_plans(db: Database) -> list[PlanView]:
    """Every plan, by name."""
    with db.session() as session:
        plans = sorted(session.scalars(select(Plan)), key=lambda plan: plan.name)  # by code point, any database
        return [_view(plan) for plan in plans]


def recorded_sources(db: Database) -> set[str]:
    """Sources that have usage in the ledger (to warn about a plan covering none of them)."""
    with db.session() as session:
        return set(session.scalars(select(UsageRecord.source).distinct()))
