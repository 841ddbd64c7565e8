"""Routing experiments: an accepted suggestion counts the next K tasks of its category on the new model.

Rules, so a result can be checked by hand:

- A task counts for an experiment when it has the experiment's category, started at or after
  the moment the suggestion was accepted, is finished (not running), and ran mostly on the
  experiment's model (`core.routing.primary_model`: more than half its known cost). A model
  counts as the experiment's under the same name, or when the price database knows both names
  as one model (e.g. `claude-haiku-4-5-20251001` is `claude-haiku-4-5`), same provider.
- The first K such tasks by start time are counted. When K are, the experiment is done: their
  ids are frozen, and the result (value per task, cost per task, TFP) is read from those tasks
  as they stand, against the baseline frozen at acceptance (the current model's valued tasks of
  the category). Running tasks on the model show as in progress.
- Verdict when done: `holds` (value per task within 10% of the baseline or better, and cheaper
  per task), `value_dropped`, `not_cheaper`, or `undecided` (a counted task or the baseline has
  no value).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import BigInteger, select, type_coerce
from sqlalchemy.orm import Session

from tokenworth.core.analytics import Tfp, tfp, units_to_money
from tokenworth.core.db import Database
from tokenworth.core.money import decimal_str, to_units
from tokenworth.core.pricing import PriceDatabase
from tokenworth.core.routing import ExperimentOutcome, ModelKey, Sample, Suggestion, TrackedTask, track_experiment
from tokenworth.core.routing_models import ExperimentStatus, RoutingExperiment
from tokenworth.core.task_models import Task
from tokenworth.core.timeutil import from_epoch_ms, to_epoch_ms, utc_now
from tokenworth.services.attribution import sync_attribution
from tokenworth.services.routing_stats import load_tasks, model_identity, task_model_use

MAX_EXPERIMENT_TASKS = 100
"""An experiment counts at most this many tasks (K)."""


class ExperimentInputError(ValueError):
    """Bad input for an experiment (a usage error): the message says what to fix; nothing changed."""


class ExperimentConflictError(ExperimentInputError):
    """The same switch is already being tried, or the experiment can no longer be changed."""


class ExperimentNotFoundError(LookupError):
    """No experiment with that id."""


def check_task_count(tasks: int) -> int:
    """K: a whole number of tasks from 1 to MAX_EXPERIMENT_TASKS."""
    if isinstance(tasks, bool) or not isinstance(tasks, int) or not 1 <= tasks <= MAX_EXPERIMENT_TASKS:
        raise ExperimentInputError(f"an experiment counts 1 to {MAX_EXPERIMENT_TASKS} tasks, got {tasks!r}")
    return tasks


@dataclass(frozen=True)
class ExperimentView:
    """An experiment with its progress: the tasks counted so far, those in progress, the result."""

    id: int
    suggestion_id: str
    month: str
    category: str | None
    from_model: ModelKey
    to_model: ModelKey
    evidence: str
    task_count: int
    status: str
    accepted_at: datetime
    ended_at: datetime | None
    baseline: Sample
    baseline_tfp: Decimal | None
    expected_savings: Decimal | None
    outcome: ExperimentOutcome
    titles: dict[int, str]

    @property
    def counted(self) -> int:
        return len(self.outcome.counted)

    @property
    def result_tfp(self) -> Tfp:
        sample = self.outcome.sample
        return tfp(sample.value_units if sample.tasks else None, sample.cost_units)

    @property
    def verdict(self) -> str | None:
        return self.outcome.verdict if self.status == ExperimentStatus.DONE else None

    def as_json(self, zone: tzinfo) -> dict[str, Any]:
        def when(moment: datetime | None) -> str | None:
            return None if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")

        def money(units: Fraction | None) -> str | None:
            return None if units is None else decimal_str(units_to_money(units))

        sample = self.outcome.sample
        result_tfp = self.result_tfp
        return {
            "id": self.id,
            "suggestion_id": self.suggestion_id,
            "month": self.month,
            "category": self.category,
            "from_provider": self.from_model.provider,
            "from_model": self.from_model.model,
            "to_provider": self.to_model.provider,
            "to_model": self.to_model.model,
            "evidence": self.evidence,
            "tasks": self.task_count,
            "status": self.status,
            "accepted_at": when(self.accepted_at),
            "ended_at": when(self.ended_at),
            "expected_savings_usd": decimal_str(self.expected_savings),
            "baseline": {
                "tasks": self.baseline.tasks,
                "value_per_task_usd": money(self.baseline.value_per_task),
                "cost_per_task_usd": money(self.baseline.cost_per_task),
                "tfp": decimal_str(self.baseline_tfp),
            },
            "progress": {
                "counted": self.counted,
                "task_ids": [task.task_id for task in self.outcome.counted],
                "running_task_ids": [task.task_id for task in self.outcome.running],
            },
            "result": {
                "tasks": self.counted,
                "valued_tasks": sample.tasks,
                "value_per_task_usd": money(sample.value_per_task),
                "cost_per_task_usd": money(self.outcome.cost_per_task),
                "tfp": decimal_str(result_tfp.ratio),
                "tfp_note": result_tfp.note,
                "verdict": self.verdict,
            },
        }


def _baseline(row: RoutingExperiment) -> Sample:
    count = row.baseline_tasks
    if count <= 0:
        return Sample()
    value = row.baseline_value_per_task
    cost = row.baseline_cost_per_task
    return Sample(
        count,
        Fraction(to_units(value)) * count if value is not None else Fraction(0),
        Fraction(to_units(cost)) * count if cost is not None else Fraction(0),
    )


def _frozen_ids(row: RoutingExperiment) -> list[int]:
    return [int(part) for part in (row.task_ids or "").split(",") if part]


def _track(session: Session, row: RoutingExperiment, prices: PriceDatabase, now: datetime) -> ExperimentView:
    """The experiment's progress; marks it done (freezing its tasks) once K tasks are counted."""
    conn = session.connection()
    baseline = _baseline(row)
    if row.status == ExperimentStatus.DONE:
        ids = _frozen_ids(row)
        switch = (ModelKey(row.from_provider, row.from_model), ModelKey(row.to_provider, row.to_model))
        if (
            len(load_tasks(conn, ids)) < len(ids)
            and _running_switch(session, row.category, *switch, besides=row.id) is None
        ):
            # A counted task was deleted: the verdict no longer rests on K tasks. The experiment
            # runs again and counts the next task of the category in its place (unless a newer
            # experiment tries the same switch: then that one is the measure, and this keeps its
            # surviving tasks, with no verdict).
            row.status, row.ended_at, row.task_ids = ExperimentStatus.RUNNING, None, None
    if row.status != ExperimentStatus.DONE:
        started = type_coerce(Task.__table__.c.started_at, BigInteger)
        category = Task.__table__.c.category
        query = select(Task.__table__.c.id).where(started >= to_epoch_ms(row.accepted_at))
        query = query.where(category.is_(None) if row.category is None else category == row.category)
        ids = [int(value) for value in conn.execute(query).scalars()]
    facts = load_tasks(conn, ids)
    use = task_model_use(conn, facts)
    target = model_identity(prices, ModelKey(row.to_provider, row.to_model))
    tracked: list[TrackedTask] = []
    for task_id in ids:
        task = facts.get(task_id)
        found = use.get(task_id)
        if task is None:
            continue  # deleted since it was counted
        if row.status != ExperimentStatus.DONE and (
            found is None or found.primary is None or model_identity(prices, found.primary) != target
        ):
            continue
        tracked.append(
            TrackedTask(
                task_id=task.id,
                started_ms=task.started_ms,
                finished=not task.active,
                value_units=task.value_units,
                cost_units=found.cost_units if found is not None else Fraction(0),
            )
        )
    if row.status == ExperimentStatus.DONE:
        outcome = track_experiment(tracked, row.task_count, baseline)
    else:
        outcome = track_experiment(tracked, row.task_count, baseline)
        if row.status == ExperimentStatus.RUNNING and outcome.done:
            row.status = ExperimentStatus.DONE
            row.ended_at = now
            row.task_ids = ",".join(str(task.task_id) for task in outcome.counted)
    return ExperimentView(
        id=row.id,
        suggestion_id=row.suggestion_id,
        month=row.month,
        category=row.category,
        from_model=ModelKey(row.from_provider, row.from_model),
        to_model=ModelKey(row.to_provider, row.to_model),
        evidence=row.evidence,
        task_count=row.task_count,
        status=row.status,
        accepted_at=row.accepted_at,
        ended_at=row.ended_at,
        baseline=baseline,
        baseline_tfp=None if row.baseline_tfp is None else Decimal(row.baseline_tfp),
        expected_savings=row.expected_savings,
        outcome=outcome,
        titles={task.task_id: facts[task.task_id].title for task in (*outcome.counted, *outcome.running)},
    )


def _to_ms(moment: datetime) -> datetime:
    return from_epoch_ms(to_epoch_ms(moment))


def _running_switch(
    session: Session, category: str | None, from_model: ModelKey, to_model: ModelKey, *, besides: int | None = None
) -> RoutingExperiment | None:
    """The running experiment (other than `besides`) trying the same switch for the category: the
    same models by their price-database identity, whatever name each was given."""
    prices = PriceDatabase()
    wanted = (model_identity(prices, from_model), model_identity(prices, to_model))
    for row in session.scalars(select(RoutingExperiment).where(RoutingExperiment.status == ExperimentStatus.RUNNING)):
        if row.id == besides or row.category != category:
            continue
        switch = (
            model_identity(prices, ModelKey(row.from_provider, row.from_model)),
            model_identity(prices, ModelKey(row.to_provider, row.to_model)),
        )
        if switch == wanted:
            return row
    return None


def start_experiment(
    db: Database, suggestion: Suggestion, *, tasks: int | None = None, now: datetime | None = None
) -> ExperimentView:
    """Accept a suggestion: from now on the next K tasks of its category on its model are counted.

    Refused (ExperimentConflictError) while the same switch is already being tried.
    """
    count = check_task_count(suggestion.experiment_tasks if tasks is None else tasks)
    moment = _to_ms(now or utc_now())
    baseline = suggestion.from_sample
    with db.session() as session:
        other = _running_switch(session, suggestion.category, suggestion.from_model, suggestion.to_model)
        if other is not None:
            raise ExperimentConflictError(
                f"experiment #{other.id} already tries {other.to_model} for {_category_words(other.category)} "
                f"(see `tokenworth experiment show {other.id}`)"
            )
        value_per_task = baseline.value_per_task
        cost_per_task = baseline.cost_per_task
        ratio = tfp(baseline.value_units if baseline.tasks else None, baseline.cost_units).ratio
        row = RoutingExperiment(
            suggestion_id=suggestion.id,
            month=suggestion.month,
            category=suggestion.category,
            from_provider=suggestion.from_model.provider,
            from_model=suggestion.from_model.model,
            to_provider=suggestion.to_model.provider,
            to_model=suggestion.to_model.model,
            evidence=suggestion.evidence,
            task_count=count,
            baseline_tasks=baseline.tasks,
            baseline_value_per_task=None if value_per_task is None else units_to_money(value_per_task),
            baseline_cost_per_task=None if cost_per_task is None else units_to_money(cost_per_task),
            baseline_tfp=None if ratio is None else format(ratio, "f"),
            expected_savings=suggestion.savings,
            status=ExperimentStatus.RUNNING,
            accepted_at=moment,
            ended_at=None,
            task_ids=None,
        )
        session.add(row)
        session.flush()
        return _track(session, row, PriceDatabase(), moment)


def _category_words(category: str | None) -> str:
    return "uncategorized tasks" if category is None else f"{category} tasks"


def list_experiments(db: Database, *, now: datetime | None = None) -> list[ExperimentView]:
    """Every experiment, newest first, with its progress (a running one that reached K is marked done)."""
    sync_attribution(db)
    moment = _to_ms(now or utc_now())
    prices = PriceDatabase()
    with db.session() as session:
        rows = session.scalars(select(RoutingExperiment).order_by(RoutingExperiment.id.desc())).all()
        return [_track(session, row, prices, moment) for row in rows]


def get_experiment(db: Database, experiment_id: int, *, now: datetime | None = None) -> ExperimentView:
    """One experiment with its progress; ExperimentNotFoundError when there is none."""
    sync_attribution(db)
    with db.session() as session:
        row = session.get(RoutingExperiment, experiment_id)
        if row is None:
            raise ExperimentNotFoundError(f"no experiment #{experiment_id} (see `tokenworth experiment list`)")
        return _track(session, row, PriceDatabase(), _to_ms(now or utc_now()))


def cancel_experiment(db: Database, experiment_id: int, *, now: datetime | None = None) -> ExperimentView:
    """Stop counting tasks for a running experiment; it stays listed as cancelled."""
    sync_attribution(db)
    moment = _to_ms(now or utc_now())
    with db.session() as session:
        row = session.get(RoutingExperiment, experiment_id)
        if row is None:
            raise ExperimentNotFoundError(f"no experiment #{experiment_id} (see `tokenworth experiment list`)")
        view = _track(session, row, PriceDatabase(), moment)
        if row.status != ExperimentStatus.RUNNING:
            raise ExperimentConflictError(f"experiment #{row.id} is already {row.status}; only a running one can stop")
        row.status = ExperimentStatus.CANCELLED
        row.ended_at = moment
        return replace(view, status=row.status, ended_at=moment)
