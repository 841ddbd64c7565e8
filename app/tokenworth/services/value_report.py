"""The value report: tokens, cost, value and TFP per task, category, model or project for a month.

Rules, so every figure can be checked by hand:

- A task's value is spread over its usage in proportion to API-equivalent cost (tokens when
  none of it is priced): a task's usage in a month or on a model carries that share of its value,
  so a task spanning two months counts in each by its spend there. A task with no usage counts
  whole in the month it ended (a running one: the month it started).
- Cost basis `api`: every record's API-equivalent cost. Basis `plan`: usage of sources a plan
  covers costs that plan's monthly fee, split over the month's covered usage by API-equivalent
  cost; other usage keeps its API cost; a fee with no covered usage is unattributed spend.
- TFP = value / cost of the group; the month's total TFP divides by all spend including
  unattributed spend. Zero cost is "no spend", never infinity; unpriced usage makes a TFP
  incomplete (the known cost is a lower bound); unvalued tasks likewise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import exists, select

from tokenworth.core.analytics import (
    BASIS_LABELS,
    COST_BASES,
    UNCATEGORIZED,
    VALUE_GROUPINGS,
    CostBasis,
    Tfp,
    ValueGrouping,
    exceeds,
    leverage,
    tfp,
    units_to_money,
)
from tokenworth.core.db import Database
from tokenworth.core.money import decimal_str, to_units
from tokenworth.core.task_models import Task, TaskAttribution
from tokenworth.core.timeutil import month_bounds, month_key, to_epoch_ms, zone_name
from tokenworth.services.attribution import UsageCell, attributed_usage, sync_attribution
from tokenworth.services.plans import PlanView, list_plans


@dataclass
class ValueFigures:
    """Usage, cost on the report's basis, value and the TFP they give."""

    usage: UsageCell = field(default_factory=UsageCell)
    cost_units: Fraction = Fraction(0)
    value_units: Fraction | None = None
    unvalued_tasks: int = 0
    task_ids: set[int] = field(default_factory=set)

    def add(self, other: ValueFigures) -> None:
        self.usage.add(other.usage)
        self.cost_units += other.cost_units
        if other.value_units is not None:
            self.value_units = (self.value_units or Fraction(0)) + other.value_units
        self.task_ids |= other.task_ids

    @property
    def tokens(self) -> int:
        return round(self.usage.tokens)

    @property
    def known_cost_units(self) -> Fraction | None:
        """None when there is usage, none of it priced, and no fee on it."""
        if self.usage.all_unpriced and self.cost_units == 0:
            return None
        return self.cost_units

    @property
    def cost(self) -> Decimal | None:
        known = self.known_cost_units
        return None if known is None else units_to_money(known)

    @property
    def api_cost(self) -> Decimal | None:
        return None if self.usage.all_unpriced else units_to_money(self.usage.cost_units)

    @property
    def value(self) -> Decimal | None:
        return None if self.value_units is None else units_to_money(self.value_units)

    @property
    def value_complete(self) -> bool:
        return self.unvalued_tasks == 0

    @property
    def tfp(self) -> Tfp:
        return tfp(
            self.value_units,
            self.known_cost_units,
            cost_complete=self.usage.cost_complete,
            value_complete=self.value_complete,
        )

    @property
    def flagged(self) -> bool:
        """Cost exceeds value (only said when every task in the group has a value)."""
        return self.value_complete and exceeds(self.known_cost_units, self.value_units)

    def as_json(self) -> dict[str, Any]:
        figure = self.tfp
        return {
            "tokens": self.tokens,
            "cost_usd": decimal_str(self.cost),
            "api_equivalent_usd": decimal_str(self.api_cost),
            "value_usd": decimal_str(self.value),
            "tfp": decimal_str(figure.ratio),
            "tfp_note": figure.note,
            "tfp_complete": figure.complete,
            "cost_complete": self.usage.cost_complete,
            "flagged": self.flagged,
        }


@dataclass
class ValueRow:
    """One group: its key as JSON fields (e.g. {"task": {...}}), a label for tables, its figures."""

    key: dict[str, Any]
    label: str
    figures: ValueFigures
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {**self.key, **self.figures.as_json(), **self.extra}


@dataclass
class PlanUse:
    """A plan in the report's month: its fee and what the covered usage would cost at API prices."""

    plan: PlanView
    covered: UsageCell

    @property
    def fee_units(self) -> int:
        return to_units(self.plan.monthly_fee)

    @property
    def api_equivalent(self) -> Decimal:
        return units_to_money(self.covered.cost_units)

    @property
    def leverage(self) -> Decimal | None:
        return leverage(self.covered.cost_units, self.fee_units)

    def as_json(self) -> dict[str, Any]:
        return {
            **self.plan.as_json(),
            "api_equivalent_usd": decimal_str(self.api_equivalent),
            "leverage": decimal_str(self.leverage),
            "cost_complete": self.covered.cost_complete,
        }


@dataclass
class ValueReport:
    """A month's value report: rows per group, attributed / unattributed / total figures, plans."""

    month: str
    zone: str
    by: ValueGrouping
    basis: CostBasis
    rows: list[ValueRow]
    attributed: ValueFigures
    unattributed: ValueFigures
    total: ValueFigures
    plans: list[PlanUse]

    @property
    def attributed_tfp(self) -> Tfp:
        return self.attributed.tfp

    @property
    def unpriced_models(self) -> list[str]:
        return sorted(self.total.usage.unpriced_models)

    def as_json(self) -> dict[str, Any]:
        attributed_tfp = self.attributed.tfp
        totals = {
            **self.total.as_json(),
            "attributed_tokens": self.attributed.tokens,
            "attributed_cost_usd": decimal_str(self.attributed.cost),
            "attributed_tfp": decimal_str(attributed_tfp.ratio),
            "unattributed_tokens": self.unattributed.tokens,
            "unattributed_cost_usd": decimal_str(self.unattributed.cost),
            "flagged_rows": sum(1 for row in self.rows if row.figures.flagged),
        }
        return {
            "report": "value",
            "month": self.month,
            "time_zone": self.zone,
            "by": self.by,
            "basis": self.basis,
            "basis_label": BASIS_LABELS[self.basis],
            "rows": [row.as_json() for row in self.rows],
            "unattributed": {
                "tokens": self.unattributed.tokens,
                "cost_usd": decimal_str(self.unattributed.cost),
                "api_equivalent_usd": decimal_str(self.unattributed.api_cost),
                "cost_complete": self.unattributed.usage.cost_complete,
            },
            "totals": totals,
            "plans": [use.as_json() for use in self.plans],
            "unpriced_models": self.unpriced_models,
        }


CellKey = tuple[int | None, str | None, str | None, str | None]
"""(task id or None, model, project, source); model None is a task with no usage."""


def _weight_mode(total: UsageCell) -> str:
    if total.cost_units > 0:
        return "cost"
    if total.tokens > 0:
        return "tokens"
    return "records"


def _weight(cell: UsageCell, mode: str) -> Fraction:
    if mode == "cost":
        return cell.cost_units
    if mode == "tokens":
        return cell.tokens
    return cell.records


def _anchor_month(task: Task, zone: tzinfo) -> str:
    """The month a task without usage counts in: the one it ended in (its last millisecond), or
    for a running task the one it started in."""
    moment = task.started_at if task.ended_at is None else task.ended_at - timedelta(milliseconds=1)
    local = max(moment, task.started_at).astimezone(zone)
    return month_key(local.year, local.month)


@dataclass
class _MonthFigures:
    key: str
    figures: dict[CellKey, ValueFigures]
    tasks: dict[int, Task]
    cells: dict[CellKey, UsageCell]
    plans: list[PlanView]
    plan_of_source: dict[str, PlanView]
    covered: dict[int, UsageCell]


def _month_figures(db: Database, *, month: tuple[int, int], zone: tzinfo, basis: CostBasis) -> _MonthFigures:
    """Cost and value per (task or None, model, project, source) for a month, on `basis`."""
    sync_attribution(db)
    year, month_number = month
    key = month_key(year, month_number)
    start, end = month_bounds(year, month_number, zone)
    with db.session() as session:
        conn = session.connection()
        raw = attributed_usage(conn, group=("project", "source"), start_ms=to_epoch_ms(start), end_ms=to_epoch_ms(end))
        cells: dict[CellKey, UsageCell] = {(k[0], k[1], k[2], k[3]): cell for k, cell in raw.items()}
        used_ids = sorted({k[0] for k in cells if k[0] is not None})
        idle = [
            task
            for task in session.scalars(select(Task).where(~exists().where(TaskAttribution.task_id == Task.id)))
            if _anchor_month(task, zone) == key
        ]
        tasks = {task.id: task for task in session.scalars(select(Task).where(Task.id.in_(used_ids)))}
        tasks.update({task.id: task for task in idle})
        totals: dict[int, UsageCell] = {}
        for task_key, cell in attributed_usage(conn, task_ids=used_ids).items():
            totals.setdefault(task_key[0], UsageCell()).add(cell)
    for task in idle:
        cells[(task.id, None, None, None)] = UsageCell()

    plans = [plan for plan in list_plans(db) if plan.active_in(key)]
    plan_of_source = {source: plan for plan in plans for source in plan.covers}
    covered: dict[int, UsageCell] = {plan.id: UsageCell() for plan in plans}
    for (_task, _model, _project, source), cell in cells.items():
        if source in plan_of_source:
            covered[plan_of_source[source].id].add(cell)

    def basis_cost(source: str | None, cell: UsageCell) -> Fraction:
        plan = plan_of_source.get(source or "") if basis == "plan" else None
        if plan is None:
            return cell.cost_units
        pool = covered[plan.id]
        mode = _weight_mode(pool)
        pool_weight = _weight(pool, mode)
        if pool_weight == 0:
            return Fraction(0)
        return Fraction(to_units(plan.monthly_fee)) * _weight(cell, mode) / pool_weight

    figures: dict[CellKey, ValueFigures] = {}
    for cell_key, cell in cells.items():
        task_id, _model, _project, source = cell_key
        item = ValueFigures(usage=cell, cost_units=basis_cost(source, cell))
        if task_id is not None:
            task = tasks[task_id]
            item.task_ids = {task_id}
            if task.value is None:
                item.unvalued_tasks = 1
            else:
                task_usage = totals.get(task_id)
                if task_usage is None or not task_usage.has_usage:
                    share = Fraction(1)
                else:
                    mode = _weight_mode(task_usage)
                    share = _weight(cell, mode) / _weight(task_usage, mode)
                item.value_units = Fraction(to_units(task.value)) * share
        figures[cell_key] = item

    return _MonthFigures(key, figures, tasks, cells, plans, plan_of_source, covered)


def value_cells(
    db: Database, *, month: tuple[int, int], zone: tzinfo
) -> tuple[dict[CellKey, ValueFigures], dict[int, Task]]:
    """The month's API-cost and value per (task or None, model, project, source) cell, with the
    tasks: the same figures `value_report` groups, for callers that group them otherwise."""
    computed = _month_figures(db, month=month, zone=zone, basis="api")
    return computed.figures, computed.tasks


def value_report(
    db: Database,
    *,
    month: tuple[int, int],
    zone: tzinfo,
    by: ValueGrouping = "task",
    basis: CostBasis = "api",
) -> ValueReport:
    """Tokens, cost, value and TFP per group for one month (cut in `zone`); see the module doc."""
    if by not in VALUE_GROUPINGS:
        raise ValueError(f"cannot group the value report by {by!r}")
    if basis not in COST_BASES:
        raise ValueError(f"unknown cost basis {basis!r} (api or plan)")
    computed = _month_figures(db, month=month, zone=zone, basis=basis)
    key, figures, tasks, cells = computed.key, computed.figures, computed.tasks, computed.cells
    plans, plan_of_source, covered = computed.plans, computed.plan_of_source, computed.covered
    rows = _group(figures, tasks, by, zone)
    attributed = ValueFigures()
    unattributed = ValueFigures()
    for cell_key, item in figures.items():
        (attributed if cell_key[0] is not None else unattributed).add(item)
    attributed.unvalued_tasks = sum(1 for task in tasks.values() if task.value is None)
    if attributed.value_units is None:
        attributed.value_units = Fraction(0)  # the month's value is what tasks were worth: none yet
    fees = sum((Fraction(to_units(plan.monthly_fee)) for plan in plans), Fraction(0)) if basis == "plan" else 0
    total = ValueFigures()
    total.add(attributed)
    total.add(unattributed)
    total.unvalued_tasks = attributed.unvalued_tasks
    if basis == "plan":
        uncovered = sum(
            (cell.cost_units for k, cell in cells.items() if (k[3] or "") not in plan_of_source), Fraction(0)
        )
        total.cost_units = Fraction(fees) + uncovered
        unattributed.cost_units = total.cost_units - attributed.cost_units
    return ValueReport(
        month=key,
        zone=zone_name(zone),
        by=by,
        basis=basis,
        rows=rows,
        attributed=attributed,
        unattributed=unattributed,
        total=total,
        plans=[PlanUse(plan, covered[plan.id]) for plan in plans],
    )


def _group(
    figures: dict[CellKey, ValueFigures], tasks: dict[int, Task], by: ValueGrouping, zone: tzinfo
) -> list[ValueRow]:
    rows: dict[Any, ValueRow] = {}
    for (task_id, model, project, _source), item in figures.items():
        if task_id is None:
            continue
        task = tasks[task_id]
        group_key: Any
        if by == "task":
            group_key = task_id
            key = {"task": {"id": task.id, "title": task.title}, "category": task.category}
            label = f"#{task.id} {task.title}"
        elif by == "category":
            group_key = task.category
            key = {"category": task.category}
            label = task.category or UNCATEGORIZED
        elif by == "model":
            group_key = model
            key = {"model": model}
            label = model or "(no usage)"
        else:
            group_key = project
            key = {"project": project}
            label = project or "(no project)"
        row = rows.get(group_key)
        if row is None:
            row = rows[group_key] = ValueRow(key=key, label=label, figures=ValueFigures())
        row.figures.add(item)
    for row in rows.values():
        row.figures.unvalued_tasks = sum(1 for tid in row.figures.task_ids if tasks[tid].value is None)
        if by == "task":
            task = tasks[next(iter(row.figures.task_ids))]
            row.extra = {
                "start": task.started_at.astimezone(zone).isoformat(timespec="seconds"),
                "end": None if task.ended_at is None else task.ended_at.astimezone(zone).isoformat(timespec="seconds"),
                "active": task.active,
            }
        elif by == "category":
            row.extra = {"tasks": len(row.figures.task_ids)}
    if by == "task":  # ties in task order: by the label, #100 would come before #2
        return sorted(rows.values(), key=lambda row: (-row.figures.cost_units, row.key["task"]["id"]))
    return sorted(rows.values(), key=lambda row: (-row.figures.cost_units, row.label))


@dataclass(frozen=True)
class MonthValue:
    """A month at a glance (for the tray popup): value, spend and TFP on one basis."""

    month: str
    basis: CostBasis
    value: Decimal | None
    cost: Decimal | None
    tfp: Tfp
    attributed_cost: Decimal | None
    attributed_tfp: Tfp
    unattributed_cost: Decimal | None
    flagged_tasks: int


def month_value(db: Database, *, month: tuple[int, int], zone: tzinfo, basis: CostBasis = "api") -> MonthValue:
    """The month's total value, spend (including unattributed) and TFP."""
    report = value_report(db, month=month, zone=zone, by="task", basis=basis)
    return MonthValue(
        month=report.month,
        basis=basis,
        value=report.total.value,
        cost=report.total.cost,
        tfp=report.total.tfp,
        attributed_cost=report.attributed.cost,
        attributed_tfp=report.attributed.tfp,
        unattributed_cost=report.unattributed.cost,
        flagged_tasks=sum(1 for row in report.rows if row.figures.flagged),
    )
