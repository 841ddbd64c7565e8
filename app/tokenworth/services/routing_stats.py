"""The ledger read for routing: a month's spend per (category, model), the valued-task evidence, candidates.

Everything here turns stored rows into the plain inputs of core.routing (no decisions are made
here). Only usage attributed to tasks counts: a category is a property of a task. Call
`sync_attribution` first.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Connection, case, func, literal, select, type_coerce

from tokenworth.core.models import UsageRecord
from tokenworth.core.pricing import ModelRates, PriceBook, PriceDatabase
from tokenworth.core.routing import (
    Candidate,
    MixBand,
    ModelKey,
    Sample,
    SpendCell,
    TokenMix,
    is_chat_model,
    primary_model,
)
from tokenworth.core.task_models import Task, TaskAttribution
from tokenworth.services.attribution import attributed_usage

_r = UsageRecord.__table__.c
_s = TaskAttribution.__table__.c
_t = Task.__table__.c
_ts = type_coerce(_r.ts, BigInteger)
_cost = type_coerce(_r.cost, BigInteger)
_TOTAL_INPUT = _r.input_tokens + _r.cache_read_tokens + _r.cache_write_5m_tokens + _r.cache_write_1h_tokens
_REQUESTS = case((_r.request_count > 1, _r.request_count), else_=1)
_REQUEST_SIZE = case(
    (_r.request_count > 1, (_TOTAL_INPUT + _r.request_count - 1) // _r.request_count),
    else_=_TOTAL_INPUT,
)
"""A request's input tokens; for a bucket of several requests, their average (rounded up)."""
_PRICED = case((_r.cost.is_(None), 0), else_=1)


def _band(boundaries: Sequence[int]) -> ColumnElement[int]:
    """The size band of a record: how many tier starts its per-request input exceeds."""
    if not boundaries:
        return literal(0)
    whens = [(_REQUESTS * start < _TOTAL_INPUT, index + 1) for index, start in enumerate(boundaries)]
    return case(*reversed(whens), else_=0)


@dataclass(frozen=True, slots=True)
class TaskFacts:
    """What routing needs of a task."""

    id: int
    title: str
    category: str | None
    value_units: Fraction | None
    started_ms: int
    active: bool


def load_tasks(conn: Connection, task_ids: Collection[int] | None = None) -> dict[int, TaskFacts]:
    """Tasks by id (all of them, or these)."""
    value = type_coerce(_t.value, BigInteger)
    started = type_coerce(_t.started_at, BigInteger)
    query = select(_t.id, _t.title, _t.category, value, started, _t.active)
    if task_ids is not None:
        query = query.where(_t.id.in_(sorted(task_ids)))
    return {
        int(row[0]): TaskFacts(
            id=int(row[0]),
            title=row[1],
            category=row[2],
            value_units=None if row[3] is None else Fraction(int(row[3])),
            started_ms=int(row[4]),
            active=bool(row[5]),
        )
        for row in conn.execute(query)
    }


@dataclass
class _CellBuilder:
    tasks: set[int] = field(default_factory=set)
    cost_units: Fraction = Fraction(0)
    bands: dict[int, tuple[int, TokenMix]] = field(default_factory=dict)
    largest_request: int = 0
    unpriced_records: Fraction = Fraction(0)
    unpriced_mix: TokenMix = field(default_factory=TokenMix)

    def add(
        self, task_id: int, band: int, size: int, mix: TokenMix, cost: Fraction, priced: bool, records: Fraction
    ) -> None:
        self.tasks.add(task_id)
        self.largest_request = max(self.largest_request, size)
        if not priced:
            self.unpriced_records += records
            self.unpriced_mix = self.unpriced_mix + mix
            return
        self.cost_units += cost
        old_size, old_mix = self.bands.get(band, (0, TokenMix()))
        self.bands[band] = (max(old_size, size), old_mix + mix)


def _mix(row: Sequence[Any]) -> TokenMix:
    return TokenMix(*(Fraction(int(value or 0)) for value in row))


def spend_cells(
    conn: Connection,
    tasks: dict[int, TaskFacts],
    *,
    start_ms: int,
    end_ms: int,
    boundaries: Sequence[int] = (),
) -> list[SpendCell]:
    """The month's task spend per (category, model): tasks, known cost, token mix by size band."""
    band = _band(boundaries)
    in_month = (_ts >= start_ms, _ts < end_ms)
    token_sums = (
        func.sum(_r.input_tokens),
        func.sum(_r.output_tokens),
        func.sum(_r.cache_read_tokens),
        func.sum(_r.cache_write_5m_tokens),
        func.sum(_r.cache_write_1h_tokens),
    )
    builders: dict[tuple[str | None, ModelKey], _CellBuilder] = {}

    def builder(task_id: int, provider: str, model: str) -> _CellBuilder:
        category = tasks[task_id].category
        return builders.setdefault((category, ModelKey(provider, model)), _CellBuilder())

    whole = (
        select(
            _s.task_id,
            _r.provider,
            _r.model,
            band,
            _PRICED,
            *token_sums,
            func.sum(_cost),
            func.count(),
            func.max(_REQUEST_SIZE),
        )
        .select_from(UsageRecord.__table__.join(TaskAttribution.__table__, _s.record_id == _r.id))
        .where(_s.share_num == _s.share_den, *in_month)
        .group_by(_s.task_id, _r.provider, _r.model, band, _PRICED)
    )
    for row in conn.execute(whole):
        task_id, provider, model, band_index, priced = int(row[0]), row[1], row[2], int(row[3]), bool(row[4])
        builder(task_id, provider, model).add(
            task_id,
            band_index,
            int(row[12] or 0),
            _mix(row[5:10]),
            Fraction(int(row[10] or 0)),
            priced,
            Fraction(int(row[11])),
        )
    split = (
        select(
            _s.task_id,
            _r.provider,
            _r.model,
            band,
            _PRICED,
            _r.input_tokens,
            _r.output_tokens,
            _r.cache_read_tokens,
            _r.cache_write_5m_tokens,
            _r.cache_write_1h_tokens,
            _cost,
            _REQUEST_SIZE,
            _s.share_num,
            _s.share_den,
        )
        .select_from(UsageRecord.__table__.join(TaskAttribution.__table__, _s.record_id == _r.id))
        .where(_s.share_num != _s.share_den, *in_month)
    )
    for row in conn.execute(split):
        task_id, provider, model, band_index, priced = int(row[0]), row[1], row[2], int(row[3]), bool(row[4])
        share = Fraction(int(row[12]), int(row[13]))
        builder(task_id, provider, model).add(
            task_id,
            band_index,
            int(row[11] or 0),
            _mix(row[5:10]).scaled(share),
            Fraction(int(row[10] or 0)) * share,
            priced,
            share,
        )
    cells = [
        SpendCell(
            category=category,
            model=model,
            tasks=len(item.tasks),
            cost_units=item.cost_units,
            bands=tuple(MixBand(size, mix) for _index, (size, mix) in sorted(item.bands.items())),
            largest_request=item.largest_request,
            unpriced_records=item.unpriced_records,
            unpriced_mix=item.unpriced_mix,
        )
        for (category, model), item in builders.items()
    ]
    return sorted(cells, key=lambda cell: (cell.category is None, cell.category or "", cell.model))


@dataclass(frozen=True, slots=True)
class TaskModelUse:
    """A task's whole attributed usage (all time): its known cost, and the model it ran mostly on."""

    cost_units: Fraction
    primary: ModelKey | None
    complete: bool = True
    """Every record of the task has a known price."""


def task_model_use(conn: Connection, task_ids: Iterable[int]) -> dict[int, TaskModelUse]:
    """Each task's known cost and primary model (`core.routing.primary_model`); tasks without
    usage are left out."""
    ids = sorted(set(task_ids))
    costs: dict[int, dict[ModelKey, Fraction]] = {}
    tokens: dict[int, dict[ModelKey, Fraction]] = {}
    incomplete: set[int] = set()
    for (task_id, model, provider), cell in attributed_usage(conn, task_ids=ids, group=("provider",)).items():
        key = ModelKey(provider, model)
        if cell.unpriced_records:
            incomplete.add(task_id)
        costs.setdefault(task_id, {})[key] = costs.get(task_id, {}).get(key, Fraction(0)) + cell.cost_units
        tokens.setdefault(task_id, {})[key] = tokens.get(task_id, {}).get(key, Fraction(0)) + cell.tokens
    return {
        task_id: TaskModelUse(
            sum(by_model.values(), Fraction(0)), primary_model(by_model, tokens[task_id]), task_id not in incomplete
        )
        for task_id, by_model in costs.items()
    }


def evidence_samples(
    conn: Connection, tasks: dict[int, TaskFacts], *, until_ms: int
) -> dict[tuple[str | None, ModelKey], Sample]:
    """Finished, valued tasks started before `until_ms`, per (category, the model they ran mostly on)."""
    chosen = [
        task
        for task in tasks.values()
        if not task.active and task.value_units is not None and task.started_ms < until_ms
    ]
    use = task_model_use(conn, (task.id for task in chosen))
    samples: dict[tuple[str | None, ModelKey], Sample] = {}
    for task in chosen:
        found = use.get(task.id)
        if found is None or found.primary is None or task.value_units is None:
            continue
        key = (task.category, found.primary)
        samples[key] = samples.get(key, Sample()).plus(task.value_units, found.cost_units, complete=found.complete)
    return samples


def used_models(conn: Connection, *, until_ms: int) -> list[ModelKey]:
    """Every (provider, model) in the ledger before `until_ms`."""
    rows = conn.execute(select(_r.provider, _r.model).where(_ts < until_ms).distinct())
    return sorted(ModelKey(row[0], row[1]) for row in rows)


def model_identity(database: PriceDatabase, key: ModelKey) -> tuple[str, str]:
    """(provider, the price database's id) when it knows the model, else the name itself: so
    'claude-haiku-4-5-20251001' and 'claude-haiku-4-5' are one model."""
    return key.provider, database.model_id(key.provider, key.model) or key.model


def candidate_pool(
    book: PriceBook, used: Sequence[ModelKey], curated: Sequence[str], *, at: datetime
) -> list[Candidate]:
    """The user's own chat models plus the curated ones, each priced at `at`; unpriced ones are
    left out (`skipped_candidates` says which curated names and why). A curated model the user
    already uses under another name (same provider and price database id) is left out too: the
    user's own name keeps the evidence."""
    pool: list[Candidate] = []
    seen: set[tuple[str, str]] = set()
    for key in used:
        if not is_chat_model(key.model):
            continue
        rates = book.rates(key.provider, key.model, at)  # the user's own: its rates also price its cells
        identity = model_identity(book.database, key)
        seen.add(identity)
        if rates is not None:
            pool.append(Candidate(key, rates, used=True, identity=identity))
    for name in curated:
        found = _curated_candidate(book, name, at)
        if isinstance(found, str):
            continue
        key, rates = found
        identity = model_identity(book.database, key)
        if identity in seen:
            continue
        seen.add(identity)
        pool.append(Candidate(key, rates, used=False, identity=identity))
    return pool


def skipped_candidates(book: PriceBook, curated: Sequence[str], *, at: datetime) -> list[tuple[str, str]]:
    """(name, why) for each curated name that cannot take part: unknown, not a chat model, or
    without a price at `at`. (A model already used under another name takes part; not listed.)"""
    skipped: list[tuple[str, str]] = []
    for name in curated:
        found = _curated_candidate(book, name, at)
        if isinstance(found, str):
            skipped.append((name, found))
    return skipped


def _curated_candidate(book: PriceBook, name: str, at: datetime) -> tuple[ModelKey, ModelRates] | str:
    """A curated name's key and price at `at`, or why it cannot be a candidate. A name typed in
    another case (`GPT-5-NANO`) is the database's own (`gpt-5-nano`) unless an override is named
    exactly so: one model, one name, so one experiment per switch."""
    found = book.find(name)
    if found is None or found not in book.overrides:
        found = book.find(name.lower()) or found
    if found is None:
        return "neither the price database nor your price overrides know it"
    if not is_chat_model(found[1]):
        return "not a chat model"
    key = ModelKey(*found)
    rates = book.day_rates(key.provider, key.model, at)
    if rates is None:
        return f"no price for {key.provider} on {at:%Y-%m-%d}"
    return key, rates


def price_moment(end: datetime, now: datetime) -> datetime:
    """Candidates are priced as at the month's last moment (now, for the current month); a
    curated one priced by the hour at its dearest hour (`PriceBook.day_rates`): the work it would
    take over was spread over the day."""
    return min(now, end - timedelta(milliseconds=1))
