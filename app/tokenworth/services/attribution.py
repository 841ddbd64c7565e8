"""Task attribution kept up to date in the ledger, and usage summed by task.

The rules live in core.attribution; their result is stored as exact shares in
`task_attributions` (derived data, never edited by hand). It stays current three ways:

- every task change (create, edit, delete, assign, unassign) re-attributes the records it can
  affect, in the same transaction (`reattribute_task`);
- whoever writes usage records calls `sync_attribution(db, imported_since=<its imported_at>)`
  when done (`import_local_logs` does; a provider poller should too);
- every read (reports, proposals, task lists, the UI) calls `sync_attribution(db)` first, which
  catches any record imported or updated since the last sync (a watermark on `imported_at`).

Because a record's shares depend only on the record and the whole rule set, recomputing any set
of records gives what a full `rebuild_attribution` gives: attribution is deterministic.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    true,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from tokenworth.core.attribution import AttributionRules, SpanRule
from tokenworth.core.db import META_UPSERT_SQL, Database
from tokenworth.core.models import MetaEntry, UsageRecord
from tokenworth.core.task_models import NO_BRANCH, Task, TaskAttribution, TaskBranch, TaskSession
from tokenworth.core.timeutil import to_epoch_ms, utc_now

WATERMARK_KEY = "attribution:imported_through"
"""Meta key: records imported (epoch ms) up to this moment have been attributed."""
ATTRIBUTION_LOCK_KEY = "tasks_written_at"
"""The `meta` row written first by every change of tasks or shares (`lock_attribution`)."""

_CHUNK = 500
_INSERT_BATCH = 5000

_records = UsageRecord.__table__
_shares = TaskAttribution.__table__
_tasks = Task.__table__
_r = _records.c
_s = _shares.c
_ts = type_coerce(_r.ts, BigInteger)
_imported = type_coerce(_r.imported_at, BigInteger)
_TOKENS = (
    _r.input_tokens + _r.output_tokens + _r.cache_read_tokens + _r.cache_write_5m_tokens + _r.cache_write_1h_tokens
)

GROUP_COLUMNS = ("model", "project", "source", "provider", "git_branch", "session_id")
"""Record columns usage can be grouped by."""


def _ms(moment: datetime | int | None) -> int | None:
    if moment is None or isinstance(moment, int):
        return moment
    return to_epoch_ms(moment)


def load_rules(conn: Connection) -> AttributionRules:
    """The rules as they stand in the database (inside the caller's transaction)."""
    spans = [
        SpanRule(int(row.id), to_epoch_ms(row.started_at), _ms(row.ended_at))
        for row in conn.execute(select(_tasks.c.id, _tasks.c.started_at, _tasks.c.ended_at))
    ]
    sessions = {
        row.session_id: int(row.task_id)
        for row in conn.execute(select(TaskSession.__table__.c.session_id, TaskSession.__table__.c.task_id))
    }
    branch_table = TaskBranch.__table__.c
    branches = {
        (row.project, row.git_branch or None): int(row.task_id)
        for row in conn.execute(select(branch_table.project, branch_table.git_branch, branch_table.task_id))
    }
    return AttributionRules(spans, sessions, branches)


def _max_bucket_ms(conn: Connection) -> int:
    return int(conn.execute(select(func.max(_r.bucket_seconds))).scalar() or 0) * 1000


def _branch_match(project: str, branch: str | None) -> ColumnElement[bool]:
    if branch:
        return and_(_r.project == project, _r.git_branch == branch)
    return and_(_r.project == project, or_(_r.git_branch.is_(None), _r.git_branch == NO_BRANCH))


def _span_match(start_ms: int, end_ms: int, max_bucket_ms: int) -> ColumnElement[bool]:
    # A bucket [ts, ts + b) overlaps [start, end) when ts < end and ts > start - b.
    lower = _ts > start_ms - max_bucket_ms if max_bucket_ms else _ts >= start_ms
    return and_(lower, _ts < end_ms)


def claim_clause(
    conn: Connection,
    intervals: Iterable[tuple[int, int]] = (),
    sessions: Iterable[str] = (),
    branches: Iterable[tuple[str, str | None]] = (),
) -> ColumnElement[bool] | None:
    """Records that spans over `intervals`, these sessions or these branches may claim (a superset)."""
    parts: list[ColumnElement[bool]] = []
    intervals = list(intervals)
    if intervals:
        max_bucket = _max_bucket_ms(conn)
        parts.extend(_span_match(start, end, max_bucket) for start, end in intervals)
    session_list = sorted(set(sessions))
    for index in range(0, len(session_list), _CHUNK):
        parts.append(_r.session_id.in_(session_list[index : index + _CHUNK]))
    parts.extend(_branch_match(project, branch) for project, branch in branches)
    return or_(*parts) if parts else None


def rules_clause(conn: Connection, rules: AttributionRules) -> ColumnElement[bool] | None:
    """Records any rule may claim."""
    return claim_clause(conn, rules.claimed_intervals(), rules.sessions, rules.branches)


def reattribute_where(conn: Connection, rules: AttributionRules, where: ColumnElement[bool]) -> int:
    """Recompute and store the shares of the records matching `where`; returns how many records.

    One pass: read the records' facts, drop their shares, write the new ones (same transaction).
    """
    rows = conn.execute(
        select(_r.id, _ts, _r.bucket_seconds, _r.session_id, _r.project, _r.git_branch).where(where)
    ).all()
    if not rows:
        return 0
    conn.execute(delete(_shares).where(_s.record_id.in_(select(_r.id).where(where))))
    shares_of = rules.shares
    values: list[dict[str, int]] = []
    for record_id, ts, bucket_seconds, session_id, project, git_branch in rows:
        for task_id, share in shares_of(int(ts), int(bucket_seconds or 0), session_id, project, git_branch):
            values.append(
                {
                    "record_id": record_id,
                    "task_id": task_id,
                    "share_num": share.numerator,
                    "share_den": share.denominator,
                }
            )
    for index in range(0, len(values), _INSERT_BATCH):
        conn.execute(insert(_shares), values[index : index + _INSERT_BATCH])
    return len(rows)


def task_claim_clause(conn: Connection, task_id: int) -> ColumnElement[bool]:
    """Records the task holds now or may claim as it stands: take it before a change (or a
    delete) and again after; re-attributing both sets covers everything the change can move."""
    held = _r.id.in_(select(_s.record_id).where(_s.task_id == task_id))
    session_c = TaskSession.__table__.c
    sessions = [row[0] for row in conn.execute(select(session_c.session_id).where(session_c.task_id == task_id))]
    branch_c = TaskBranch.__table__.c
    branches = [
        (row.project, row.git_branch or None)
        for row in conn.execute(select(branch_c.project, branch_c.git_branch).where(branch_c.task_id == task_id))
    ]
    claim: ColumnElement[bool] | None = None
    if sessions or branches:
        claim = claim_clause(conn, sessions=sessions, branches=branches)
    else:
        task = conn.execute(select(_tasks.c.started_at, _tasks.c.ended_at).where(_tasks.c.id == task_id)).first()
        if task is not None:
            rule = SpanRule(task_id, to_epoch_ms(task.started_at), _ms(task.ended_at))
            if rule.end_or_open > rule.start_ms:
                claim = claim_clause(conn, [(rule.start_ms, rule.end_or_open)])
    return held if claim is None else or_(held, claim)


def reattribute_task(conn: Connection, before: ColumnElement[bool], task_id: int) -> int:
    """After a task changed (or was deleted): recompute what it held or claimed before (`before`,
    from `task_claim_clause` taken ahead of the change) and what it may claim now."""
    return reattribute_where(conn, load_rules(conn), or_(before, task_claim_clause(conn, task_id)))


def _read_watermark(conn: Connection) -> int | None:
    value = conn.execute(select(MetaEntry.__table__.c.value).where(MetaEntry.__table__.c.key == WATERMARK_KEY)).scalar()
    return None if value is None else int(value)


def _write_watermark(conn: Connection, value: int) -> None:
    meta = MetaEntry.__table__
    current = _read_watermark(conn)
    if current is None:
        conn.execute(insert(meta).values(key=WATERMARK_KEY, value=str(value)))
    elif value > current:
        conn.execute(update(meta).where(meta.c.key == WATERMARK_KEY).values(value=str(value)))


def sync_attribution_in(conn: Connection, *, imported_since: datetime | int | None = None) -> int:
    """`sync_attribution` inside the caller's transaction."""
    since = _ms(imported_since)
    newest: int | None = None
    if since is None:
        watermark, newest = _watermark_and_newest(conn)
        if newest is None or (watermark is not None and newest <= watermark):
            return 0
        fresh: ColumnElement[bool] = _imported > watermark if watermark is not None else true()
    else:
        fresh = _imported >= since
    rules = load_rules(conn)
    held = _r.id.in_(select(_s.record_id))
    claim = rules_clause(conn, rules)
    candidates = or_(claim, held) if claim is not None else held
    count = reattribute_where(conn, rules, and_(fresh, candidates))
    if newest is not None:
        _write_watermark(conn, newest)
    return count


def sync_attribution(db: Database, *, imported_since: datetime | int | None = None) -> int:
    """Attribute records written since the last sync; returns how many records were (re)done.

    With `imported_since` (a writer's own `imported_at` stamp), exactly the records written with
    that stamp or later are done, whatever other processes synced meanwhile: writers of usage
    records call this when they finish. Without it, the records imported after the stored
    watermark are done; cheap when nothing is new. Safe to call at any time, from any process:
    the work holds the lock task changes hold, so rules read here stay the rules until it commits.
    """
    if imported_since is None and not _has_fresh_records(db):
        return 0  # the common case on every read: no lock, no write
    with db.engine.begin() as conn:
        lock_attribution(conn)
        return sync_attribution_in(conn, imported_since=imported_since)


def lock_attribution(conn: Connection | Session) -> None:
    """Take the database's write lock before reading the rules, held until the commit: a task
    changed meanwhile (the tray and a terminal) waits, instead of its shares being overwritten
    by ones computed from the rules before it. SQLite locks the file at this first write;
    PostgreSQL, this row."""
    conn.execute(text(META_UPSERT_SQL), {"key": ATTRIBUTION_LOCK_KEY, "value": utc_now().isoformat()})


def _has_fresh_records(db: Database) -> bool:
    with db.engine.connect() as conn:
        watermark, newest = _watermark_and_newest(conn)
    return newest is not None and (watermark is None or newest > watermark)


def _watermark_and_newest(conn: Connection) -> tuple[int | None, int | None]:
    """Attributed through when, and the newest record's import time (None: no records)."""
    newest = conn.execute(select(func.max(_imported))).scalar()
    return _read_watermark(conn), None if newest is None else int(newest)


def rebuild_attribution(db: Database) -> int:
    """Recompute every share from the rules (a repair; normal use never needs it)."""
    with db.engine.begin() as conn:
        lock_attribution(conn)
        rules = load_rules(conn)
        conn.execute(delete(_shares))
        clause = rules_clause(conn, rules)
        count = reattribute_where(conn, rules, clause) if clause is not None else 0
        newest = conn.execute(select(func.max(_imported))).scalar()
        if newest is not None:
            _write_watermark(conn, int(newest))
        return count


# --- usage summed by task -------------------------------------------------------------------


@dataclass
class UsageCell:
    """Usage (or the attributed part of it) summed exactly: shares make everything a Fraction."""

    tokens: Fraction = Fraction(0)
    cost_units: Fraction = Fraction(0)
    """Known cost in storage units (1e-10 USD); unpriced records add nothing here."""
    records: Fraction = Fraction(0)
    unpriced_records: Fraction = Fraction(0)
    unpriced_models: set[str] = field(default_factory=set)
    first_ms: int | None = None
    last_ms: int | None = None

    @property
    def cost_complete(self) -> bool:
        return self.unpriced_records == 0

    @property
    def has_usage(self) -> bool:
        return self.records > 0

    @property
    def all_unpriced(self) -> bool:
        return self.records > 0 and self.unpriced_records == self.records

    def add(self, other: UsageCell) -> None:
        self.tokens += other.tokens
        self.cost_units += other.cost_units
        self.records += other.records
        self.unpriced_records += other.unpriced_records
        self.unpriced_models |= other.unpriced_models
        self.first_ms = _min(self.first_ms, other.first_ms)
        self.last_ms = _max(self.last_ms, other.last_ms)

    def scaled(self, share: Fraction) -> UsageCell:
        return UsageCell(
            tokens=self.tokens * share,
            cost_units=self.cost_units * share,
            records=self.records * share,
            unpriced_records=self.unpriced_records * share,
            unpriced_models=set(self.unpriced_models),
            first_ms=self.first_ms,
            last_ms=self.last_ms,
        )


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


CellKey = tuple[Any, ...]
"""(task id or None for unattributed, model, *the requested group columns)."""


def attributed_usage(
    conn: Connection,
    *,
    group: Sequence[str] = (),
    start_ms: int | None = None,
    end_ms: int | None = None,
    task_ids: Collection[int] | None = None,
    where: ColumnElement[bool] | None = None,
) -> dict[CellKey, UsageCell]:
    """Usage summed per (task id or None, model, *group), records' ts in [start_ms, end_ms).

    Whole shares are summed by the database; only bucketed records split between tasks are
    summed here, exactly. With `task_ids`, only those tasks' shares are returned (no
    unattributed cells). Call `sync_attribution` first.
    """
    for name in group:
        if name not in GROUP_COLUMNS:
            raise ValueError(f"cannot group usage by {name!r}")
    group_cols = [_r.model, *(_r[name] for name in group)]
    filters: list[ColumnElement[bool]] = []
    if start_ms is not None:
        filters.append(_ts >= start_ms)
    if end_ms is not None:
        filters.append(_ts < end_ms)
    if where is not None:
        filters.append(where)
    cost = type_coerce(_r.cost, BigInteger)
    unpriced = case((_r.cost.is_(None), 1), else_=0)
    cells: dict[CellKey, UsageCell] = {}

    if task_ids is not None:
        ids = sorted(set(task_ids))
        if not ids:
            return cells
        join = _records.join(_shares, _s.record_id == _r.id)
        whole: ColumnElement[bool] = and_(_s.task_id.in_(ids), _s.share_num == _s.share_den)
        split_filter: ColumnElement[bool] = _s.task_id.in_(ids)
    else:
        join = _records.outerjoin(_shares, _s.record_id == _r.id)
        whole = or_(_s.record_id.is_(None), _s.share_num == _s.share_den)
        split_filter = true()
    query = (
        select(
            _s.task_id,
            *group_cols,
            func.sum(_TOKENS),
            func.sum(cost),
            func.count(),
            func.sum(unpriced),
            func.min(_ts),
            func.max(_ts),
        )
        .select_from(join)
        .where(whole, *filters)
        .group_by(_s.task_id, *group_cols)
    )
    width = len(group_cols)
    for row in conn.execute(query):
        task_id = None if row[0] is None else int(row[0])
        key = (task_id, *row[1 : 1 + width])
        tokens, cost_units, records, unpriced_count, first, last = row[1 + width :]
        cell = UsageCell(
            tokens=Fraction(int(tokens or 0)),
            cost_units=Fraction(int(cost_units or 0)),
            records=Fraction(int(records)),
            unpriced_records=Fraction(int(unpriced_count or 0)),
            unpriced_models={row[1]} if unpriced_count else set(),
            first_ms=int(first),
            last_ms=int(last),
        )
        cells.setdefault(key, UsageCell()).add(cell)

    # Bucketed records split between tasks: each task's share, and the unclaimed rest.
    split_query = (
        select(_r.id, *group_cols, _TOKENS, cost, _ts, _s.task_id, _s.share_num, _s.share_den)
        .select_from(_records.join(_shares, _s.record_id == _r.id))
        .where(_s.share_num != _s.share_den, *filters)
        .order_by(_r.id)
    )
    claimed: dict[int, tuple[CellKey, UsageCell, Fraction]] = {}
    wanted = None if task_ids is None else set(task_ids)
    for row in conn.execute(split_query.where(split_filter)):
        record_id = int(row[0])
        group_values = tuple(row[1 : 1 + width])
        tokens, cost_units, ts, task_id, num, den = row[1 + width :]
        whole_record = UsageCell(
            tokens=Fraction(int(tokens or 0)),
            cost_units=Fraction(int(cost_units or 0)),
            records=Fraction(1),
            unpriced_records=Fraction(1 if cost_units is None else 0),
            unpriced_models={group_values[0]} if cost_units is None else set(),
            first_ms=int(ts),
            last_ms=int(ts),
        )
        share = Fraction(int(num), int(den))
        if wanted is None or int(task_id) in wanted:
            cells.setdefault((int(task_id), *group_values), UsageCell()).add(whole_record.scaled(share))
        _, _, taken = claimed.get(record_id, ((), whole_record, Fraction(0)))
        claimed[record_id] = ((None, *group_values), whole_record, taken + share)
    if task_ids is None:
        for key, whole_record, taken in claimed.values():
            if taken < 1:
                cells.setdefault(key, UsageCell()).add(whole_record.scaled(1 - taken))
    return cells
