"""Tasks as the user sees them: start, stop, log, edit, delete, assign, preview; shared by CLI and UI.

Every change is validated before anything is written (bad input changes nothing) and
re-attributes the affected usage in the same transaction (services.attribution). The rules:

- At most one task runs at a time; a running task's span is open-ended.
- A running task's span may not overlap the span of another task attributed by time. Logged
  (past) tasks may overlap each other: core.attribution says who gets the shared time.
- A task with a session or (project, branch) assignment is attributed by its assignments only.
- A value is dollars, zero or more; None until the user gives one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from sqlalchemy import BigInteger, Connection, and_, false, func, or_, select, text, type_coerce
from sqlalchemy.orm import Session

from tokenworth.core.analytics import Tfp, exceeds, tfp, units_to_money
from tokenworth.core.db import META_UPSERT_SQL, Database
from tokenworth.core.models import UsageRecord
from tokenworth.core.money import decimal_str, quantize_money, to_units, typed_dollars
from tokenworth.core.task_models import NO_BRANCH, Task, TaskAttribution, TaskBranch, TaskSession
from tokenworth.core.timeutil import from_epoch_ms, month_bounds, to_epoch_ms, utc_now
from tokenworth.services.attribution import (
    UsageCell,
    attributed_usage,
    claim_clause,
    lock_attribution,
    reattribute_task,
    sync_attribution,
    task_claim_clause,
)

DEFAULT_CATEGORIES = ("coding", "docs", "extraction", "legal", "research")
"""Offered after the user's own categories, for a first task."""

MAX_AMOUNT = Decimal("100000000")
"""Values and fees must stay below this (the money column holds up to about $900 million)."""
MAX_TITLE = 200
MAX_CATEGORY = 64


class TaskInputError(ValueError):
    """Bad input for a task (a usage error): the message says what to fix; nothing was changed."""


class TaskConflictError(TaskInputError):
    """The change would break a rule (two running tasks, overlapping spans, a taken session)."""


class TaskNotFoundError(LookupError):
    """No task with that id (or no running task to stop)."""


# --- input parsing ----------------------------------------------------------------------------


def parse_amount(text: str | Decimal | int | None, what: str = "value") -> Decimal | None:
    """Dollars from user input ('120', '$1,200.50'); a clear error for anything else."""
    if text is None:
        return None
    if isinstance(text, Decimal | int) and not isinstance(text, bool):
        amount = Decimal(text)
    else:
        try:
            amount = typed_dollars(str(text))
        except ValueError as exc:
            raise TaskInputError(f"{what}: {exc}") from None
        except InvalidOperation:
            raise TaskInputError(f"{what} must be a number of dollars like 150 or 99.50, got {text!r}") from None
    if not amount.is_finite():
        raise TaskInputError(f"{what} must be a number of dollars, got {text!r}")
    if amount < 0:
        raise TaskInputError(f"{what} must be zero or more, got {text!r}")
    if amount >= MAX_AMOUNT:
        raise TaskInputError(f"{what} must be below ${MAX_AMOUNT:,}, got {text!r}")
    return quantize_money(amount)


def _title(text: str) -> str:
    title = " ".join(text.split())
    if not title:
        raise TaskInputError("a task needs a title")
    if len(title) > MAX_TITLE:
        raise TaskInputError(f"a title is at most {MAX_TITLE} characters")
    return title


def _category(text: str | None) -> str | None:
    if text is None:
        return None
    category = " ".join(text.split())
    if len(category) > MAX_CATEGORY:
        raise TaskInputError(f"a category is at most {MAX_CATEGORY} characters")
    return category or None


def _spelling_in_use(session: Session, category: str | None, task_id: int | None = None) -> str | None:
    """`category` as the other tasks already spell it, ignoring case ('coding' typed, 'Coding' in
    use): one category is one row in the reports and one history for routing, however it is
    typed. The task being edited does not count, so its own category can still be re-cased."""
    if category is None:
        return None
    folded = category.casefold()
    in_use = session.execute(
        select(Task.category, func.count(), func.max(Task.id))
        .where(Task.category.is_not(None), Task.id != (task_id or 0))
        .group_by(Task.category)
    ).all()
    matches = sorted((row for row in in_use if str(row[0]).casefold() == folded), key=lambda row: (-row[1], -row[2]))
    return str(matches[0][0]) if matches else category


def _url(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    url = text.strip()
    if not url.startswith(("http://", "https://")) or len(url) > 2048:
        raise TaskInputError(f"a link must be an http(s) URL, got {text!r}")
    return url


def _optional_text(text: str | None, limit: int | None = None, what: str = "text") -> str | None:
    if text is None or not text.strip():
        return None
    value = text.strip()
    if limit is not None and len(value) > limit:
        raise TaskInputError(f"{what} is at most {limit} characters")
    return value


def _to_ms_precision(moment: datetime) -> datetime:
    """Times are stored to the millisecond: compare what will be stored."""
    if moment.tzinfo is None:
        raise TaskInputError("times must carry a time zone")
    return from_epoch_ms(to_epoch_ms(moment))


def _check_span(start: datetime, end: datetime | None) -> None:
    if end is not None and end <= start:
        if end < start:
            raise TaskInputError(f"the end ({end:%Y-%m-%d %H:%M} UTC) is before the start ({start:%Y-%m-%d %H:%M} UTC)")
        raise TaskInputError("a task must end after it starts")


def _check_logged_span(start: datetime, end: datetime | None, now: datetime) -> None:
    """A logged task is work done: one starting or ending later than now would claim usage not
    made yet and block `task start` until then (a running task may overlap no other), so it is
    refused."""
    if start > now + LOGGED_START_SLACK:
        raise TaskInputError(
            f"the start ({start:%Y-%m-%d %H:%M} UTC) is in the future; log work once it has begun"
            " (or `tokenworth task start` it then)"
        )
    if end is not None and end > now + LOGGED_START_SLACK:
        raise TaskInputError(
            f"the end ({end:%Y-%m-%d %H:%M} UTC) is in the future; log work once it is done"
            " (or `tokenworth task start` it now and stop it when it is)"
        )


REQUEST_SPAN_MS = 1000
"""The time a single request (no bucket) covers in a span taken from usage: its end is exclusive."""

LOGGED_START_SLACK = timedelta(minutes=5)
"""A typed start a little ahead of this machine's clock (another device's clock, a rounded
minute) is still accepted."""


# --- what callers get back --------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    """An agent session, or all usage on a (project, git branch), given wholesale to a task.

    `branch` None with a project means that project's usage recorded without a git branch.
    """

    session_id: str | None = None
    project: str | None = None
    branch: str | None = None

    def __post_init__(self) -> None:
        if (self.session_id is None) == (self.project is None):
            raise TaskInputError("assign either a session, or a project (with its branch)")

    @property
    def label(self) -> str:
        if self.session_id is not None:
            return f"session {self.session_id}"
        branch = self.branch or "(no branch)"
        return f"branch {branch} in {self.project}"


class ValuedUsage:
    """Cost, TFP and the cost-over-value flag of a task's value and usage (saved or previewed)."""

    value: Decimal | None
    usage: UsageCell

    @property
    def cost(self) -> Decimal | None:
        """API-equivalent cost of the attributed usage; None when all of it is unpriced."""
        return None if self.usage.all_unpriced else units_to_money(self.usage.cost_units)

    @property
    def tfp(self) -> Tfp:
        return tfp(
            None if self.value is None else Fraction(to_units(self.value)),
            None if self.usage.all_unpriced else self.usage.cost_units,
            cost_complete=self.usage.cost_complete,
        )

    @property
    def flagged(self) -> bool:
        """Cost is more than the value."""
        value = None if self.value is None else Fraction(to_units(self.value))
        return exceeds(None if self.usage.all_unpriced else self.usage.cost_units, value)


@dataclass(frozen=True)
class TaskView(ValuedUsage):
    """A task with the usage attributed to it (all time) and its TFP on the API basis."""

    id: int
    title: str
    category: str | None
    value: Decimal | None
    started_at: datetime
    ended_at: datetime | None
    active: bool
    notes: str | None
    link_url: str | None
    git_branch: str | None
    created_at: datetime
    updated_at: datetime
    sessions: tuple[str, ...] = ()
    branches: tuple[tuple[str, str | None], ...] = ()
    usage: UsageCell = field(default_factory=UsageCell)

    @property
    def attributed_by(self) -> str:
        """'assignments' (sessions / branches) or 'time' (the span)."""
        return "assignments" if self.sessions or self.branches else "time"

    def as_json(self, zone: tzinfo) -> dict[str, Any]:
        def when(moment: datetime | None) -> str | None:
            return None if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")

        figure = self.tfp
        return {
            "id": self.id,
            "title": self.title,
            "category": self.category,
            "value_usd": decimal_str(self.value),
            "start": when(self.started_at),
            "end": when(self.ended_at),
            "active": self.active,
            "notes": self.notes,
            "link_url": self.link_url,
            "git_branch": self.git_branch,
            "attributed_by": self.attributed_by,
            "sessions": list(self.sessions),
            "branches": [{"project": p, "branch": b} for p, b in self.branches],
            "tokens": round(self.usage.tokens),
            "cost_usd": decimal_str(self.cost),
            "cost_complete": self.usage.cost_complete,
            "tfp": decimal_str(figure.ratio),
            "tfp_note": figure.note,
            "tfp_complete": figure.complete,
            "flagged": self.flagged,
            "created_at": when(self.created_at),
            "updated_at": when(self.updated_at),
        }


def _assignments(
    session: Session, task_ids: Sequence[int]
) -> tuple[dict[int, list[str]], dict[int, list[tuple[str, str | None]]]]:
    sessions: dict[int, list[str]] = {}
    branches: dict[int, list[tuple[str, str | None]]] = {}
    if not task_ids:
        return sessions, branches
    # sorted here, not by ORDER BY: by code point whatever the database's collation
    for task_id, session_id in sorted(
        session.execute(select(TaskSession.task_id, TaskSession.session_id).where(TaskSession.task_id.in_(task_ids)))
    ):
        sessions.setdefault(task_id, []).append(session_id)
    for task_id, project, branch in sorted(
        session.execute(
            select(TaskBranch.task_id, TaskBranch.project, TaskBranch.git_branch).where(
                TaskBranch.task_id.in_(task_ids)
            )
        ),
        key=lambda row: (row[0], row[1], row[2] or ""),
    ):
        branches.setdefault(task_id, []).append((project, branch or None))
    return sessions, branches


def task_views(session: Session, tasks: Sequence[Task]) -> list[TaskView]:
    """Views of these tasks with their attributed usage (inside the caller's session)."""
    ids = [task.id for task in tasks]
    sessions, branches = _assignments(session, ids)
    usage: dict[int, UsageCell] = {}
    if ids:
        for key, cell in attributed_usage(session.connection(), task_ids=ids).items():
            usage.setdefault(key[0], UsageCell()).add(cell)
    return [
        TaskView(
            id=task.id,
            title=task.title,
            category=task.category,
            value=task.value,
            started_at=task.started_at,
            ended_at=task.ended_at,
            active=task.active,
            notes=task.notes,
            link_url=task.link_url,
            git_branch=task.git_branch,
            created_at=task.created_at,
            updated_at=task.updated_at,
            sessions=tuple(sessions.get(task.id, ())),
            branches=tuple(branches.get(task.id, ())),
            usage=usage.get(task.id, UsageCell()),
        )
        for task in tasks
    ]


def _view(session: Session, task: Task) -> TaskView:
    return task_views(session, [task])[0]


def _get(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise TaskNotFoundError(f"no task #{task_id} (see `tokenworth task list`)")
    return task


# --- rules checked before writing -------------------------------------------------------------


def _has_assignments(session: Session, task_id: int) -> bool:
    return (
        session.scalar(select(func.count()).select_from(TaskSession).where(TaskSession.task_id == task_id))
        or session.scalar(select(func.count()).select_from(TaskBranch).where(TaskBranch.task_id == task_id))
        or 0
    ) > 0


def _time_attributed_ids(session: Session) -> set[int]:
    assigned = set(session.scalars(select(TaskSession.task_id))) | set(session.scalars(select(TaskBranch.task_id)))
    return set(session.scalars(select(Task.id))) - assigned


def _spans_overlap(a_start: datetime, a_end: datetime | None, b_start: datetime, b_end: datetime | None) -> bool:
    return (b_end is None or a_start < b_end) and (a_end is None or b_start < a_end)


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _check_rules(
    session: Session,
    *,
    task_id: int | None,
    start: datetime,
    end: datetime | None,
    active: bool,
    by_time: bool,
) -> None:
    """Refuse a second running task, and a running task's span overlapping a time-attributed one."""
    others = [task for task in session.scalars(select(Task).order_by(Task.id)) if task.id != task_id]
    if active:
        for other in others:
            if other.active:
                raise TaskConflictError(
                    f"task #{other.id} {other.title!r} is running (since {_when(other.started_at)}); "
                    "stop it first with `tokenworth task stop`"
                )
    time_ids = _time_attributed_ids(session)
    for other in others:
        if not (by_time and other.id in time_ids):
            continue
        if not (active or other.active):
            continue
        if _spans_overlap(start, end, other.started_at, other.ended_at):
            if other.active:
                raise TaskConflictError(
                    f"that span overlaps the running task #{other.id} {other.title!r} (since "
                    f"{_when(other.started_at)}); stop it first or choose a span that ends before it started"
                )
            other_end = "open" if other.ended_at is None else _when(other.ended_at)
            raise TaskConflictError(
                f"a running task may not overlap task #{other.id} {other.title!r} "
                f"({_when(other.started_at)} to {other_end}); edit that task's span first"
            )


def _usage_span(conn: Connection, assignments: Sequence[Assignment]) -> tuple[datetime, datetime] | None:
    """First to last activity of the usage these assignments cover (a bucket counts to its end)."""
    clause = claim_clause(
        conn,
        sessions=[a.session_id for a in assignments if a.session_id is not None],
        branches=[(a.project, a.branch) for a in assignments if a.project is not None],
    )
    if clause is None:
        return None
    c = UsageRecord.__table__.c
    ts = type_coerce(c.ts, BigInteger)
    row = conn.execute(select(func.min(ts), func.max(ts), func.max(ts + c.bucket_seconds * 1000)).where(clause)).first()
    if row is None or row[0] is None:
        return None
    # A span's end is exclusive: the last request gets a second of its own, as a lone one does,
    # or the task, once attributed by this span again (unassigned), would lose it.
    end = max(int(row[2]), int(row[1]) + REQUEST_SPAN_MS)
    return from_epoch_ms(int(row[0])), from_epoch_ms(end)


def _check_assignment_free(session: Session, assignment: Assignment, task_id: int | None) -> None:
    if assignment.session_id is not None:
        owner = session.scalar(select(TaskSession.task_id).where(TaskSession.session_id == assignment.session_id))
    else:
        owner = session.scalar(
            select(TaskBranch.task_id).where(
                TaskBranch.project == assignment.project,
                TaskBranch.git_branch == (assignment.branch or NO_BRANCH),
            )
        )
    if owner is not None and owner != task_id:
        title = session.scalar(select(Task.title).where(Task.id == owner))
        raise TaskConflictError(
            f"{assignment.label} is already assigned to task #{owner} {title!r}; "
            f"unassign it there first (`tokenworth task unassign {owner} ...`)"
        )


def _check_assignment_known(conn: Connection, assignment: Assignment) -> None:
    if _usage_span(conn, [assignment]) is None:
        raise TaskInputError(f"no usage recorded for {assignment.label} (run `tokenworth import` first?)")


def _add_assignment(session: Session, task_id: int, assignment: Assignment, now: datetime) -> None:
    if assignment.session_id is not None:
        session.add(TaskSession(task_id=task_id, session_id=assignment.session_id, assigned_at=now))
    else:
        assert assignment.project is not None
        session.add(
            TaskBranch(
                task_id=task_id,
                project=assignment.project,
                git_branch=assignment.branch or NO_BRANCH,
                assigned_at=now,
            )
        )


# --- use cases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskDraft:
    """A task before it is saved: for `log_task` and for previews.

    Without start/end, the span is taken from the usage of the given assignments (first to last
    activity). `end` None with `start` set means "still running" (previews only).
    """

    title: str
    value: Decimal | None = None
    start: datetime | None = None
    end: datetime | None = None
    category: str | None = None
    notes: str | None = None
    link_url: str | None = None
    git_branch: str | None = None
    assignments: tuple[Assignment, ...] = ()


@dataclass(frozen=True)
class CleanDraft:
    """A draft that passed the checks: times to the millisecond, span known."""

    title: str
    value: Decimal | None
    start: datetime
    end: datetime | None
    category: str | None
    notes: str | None
    link_url: str | None
    git_branch: str | None
    assignments: tuple[Assignment, ...]


def clean_draft(conn: Connection, draft: TaskDraft, *, allow_running: bool = False) -> CleanDraft:
    """A draft checked and completed (span taken from its assignments' usage); raises TaskInputError."""
    title = _title(draft.title)
    value = parse_amount(draft.value)
    start = None if draft.start is None else _to_ms_precision(draft.start)
    end = None if draft.end is None else _to_ms_precision(draft.end)
    assignments = tuple(dict.fromkeys(draft.assignments))
    if start is None and end is None and assignments:
        for assignment in assignments:
            _check_assignment_known(conn, assignment)
        span = _usage_span(conn, assignments)
        assert span is not None
        start, end = span
    if start is None:
        raise TaskInputError("give the task's --start and --end, or a session / project and branch to take them from")
    if end is None and not allow_running:
        raise TaskInputError("give the task's --end too (or use `tokenworth task start` for work in progress)")
    _check_span(start, end)
    return CleanDraft(
        title=title,
        value=value,
        start=start,
        end=end,
        category=_category(draft.category),
        notes=_optional_text(draft.notes, what="notes"),
        link_url=_url(draft.link_url),
        git_branch=_optional_text(draft.git_branch, 256, "a branch name"),
        assignments=assignments,
    )


_HIGHEST_ID_KEY = "tasks_highest_id"


@contextmanager
def _writing(db: Database) -> Iterator[Session]:
    """A session holding the database's write lock from its first statement, before it reads what
    a change is checked against: two commands at once (two `task start`s in two terminals) run one
    after the other, and the second sees the first's task."""
    with db.session() as session:
        lock_attribution(session)
        yield session


def _new_task_id(session: Session) -> int | None:
    """The id of a new task, never one a deleted task had: SQLite would hand the newest task's id
    to the next one, and an experiment that counted the deleted task would take the newcomer for
    it. None on other databases, whose sequences never reuse an id."""
    if session.get_bind().dialect.name != "sqlite":
        return None
    top = session.execute(text("SELECT COALESCE(MAX(id), 0) FROM tasks")).scalar_one()
    return max(int(top), _highest_deleted_id(session)) + 1


def _highest_deleted_id(session: Session) -> int:
    kept = session.execute(text("SELECT value FROM meta WHERE key = :key"), {"key": _HIGHEST_ID_KEY}).scalar()
    return int(kept or 0)


def _keep_highest_id(session: Session, deleted_id: int) -> None:
    if deleted_id > _highest_deleted_id(session):
        session.execute(text(META_UPSERT_SQL), {"key": _HIGHEST_ID_KEY, "value": str(deleted_id)})


def start_task(
    db: Database,
    title: str,
    *,
    category: str | None = None,
    value: Decimal | str | None = None,
    notes: str | None = None,
    link_url: str | None = None,
    git_branch: str | None = None,
    now: datetime | None = None,
) -> TaskView:
    """Start a task now (it runs until `stop_task`); refused while another task runs."""
    moment = _to_ms_precision(now or utc_now())
    clean_title = _title(title)
    clean_value = parse_amount(value)
    clean_category = _category(category)
    clean_url = _url(link_url)
    clean_notes = _optional_text(notes, what="notes")
    clean_branch = _optional_text(git_branch, 256, "a branch name")
    with _writing(db) as session:
        _check_rules(session, task_id=None, start=moment, end=None, active=True, by_time=True)
        task = Task(
            id=_new_task_id(session),
            title=clean_title,
            category=_spelling_in_use(session, clean_category),
            value=clean_value,
            started_at=moment,
            ended_at=None,
            active=True,
            notes=clean_notes,
            link_url=clean_url,
            git_branch=clean_branch,
            created_at=moment,
            updated_at=moment,
        )
        session.add(task)
        session.flush()
        reattribute_task(session.connection(), false(), task.id)
        return _view(session, task)


def running_task(db: Database) -> TaskView | None:
    """The task running now, if any."""
    sync_attribution(db)
    with db.session() as session:
        task = session.scalars(select(Task).where(Task.active.is_(True))).first()
        return None if task is None else _view(session, task)


def stop_task(db: Database, *, value: Decimal | str | None = None, now: datetime | None = None) -> TaskView:
    """End the running task now, optionally giving its value."""
    moment = _to_ms_precision(now or utc_now())
    clean_value = parse_amount(value)
    with _writing(db) as session:
        task = session.scalars(select(Task).where(Task.active.is_(True))).first()
        if task is None:
            raise TaskNotFoundError("no task is running (start one with `tokenworth task start TITLE`)")
        if moment <= task.started_at:
            raise TaskInputError(
                f"task #{task.id} started at {_when(task.started_at)}, after now; edit its start first"
            )
        before = task_claim_clause(session.connection(), task.id)
        task.ended_at = moment
        task.active = False
        if clean_value is not None:
            task.value = clean_value
        task.updated_at = moment
        session.flush()
        reattribute_task(session.connection(), before, task.id)
        return _view(session, task)


def log_task(db: Database, draft: TaskDraft, *, now: datetime | None = None) -> TaskView:
    """Record work done earlier: a span (or assignments to take the span from) and a value."""
    moment = _to_ms_precision(now or utc_now())
    with _writing(db) as session:
        conn = session.connection()
        clean = clean_draft(conn, draft)
        _check_logged_span(clean.start, clean.end, moment)
        for assignment in clean.assignments:
            _check_assignment_free(session, assignment, None)
            _check_assignment_known(conn, assignment)
        _check_rules(
            session,
            task_id=None,
            start=clean.start,
            end=clean.end,
            active=False,
            by_time=not clean.assignments,
        )
        task = Task(
            id=_new_task_id(session),
            title=clean.title,
            category=_spelling_in_use(session, clean.category),
            value=clean.value,
            started_at=clean.start,
            ended_at=clean.end,
            active=False,
            notes=clean.notes,
            link_url=clean.link_url,
            git_branch=clean.git_branch,
            created_at=moment,
            updated_at=moment,
        )
        session.add(task)
        session.flush()
        for assignment in clean.assignments:
            _add_assignment(session, task.id, assignment, moment)
        session.flush()
        reattribute_task(conn, false(), task.id)
        return _view(session, task)


def check_draft(db: Database, draft: TaskDraft, *, task_id: int | None = None) -> None:
    """Raise what saving `draft` would raise, writing nothing: bad input, a session or branch taken
    by another task, a span overlapping the running task. With `task_id`, the draft is that task's
    new span (as `edit_task` would check it); else a new task (as `log_task` would)."""
    with db.session() as session:
        conn = session.connection()
        clean = clean_draft(conn, draft)
        if task_id is None:
            _check_logged_span(clean.start, clean.end, utc_now())
            for assignment in clean.assignments:
                _check_assignment_free(session, assignment, None)
                _check_assignment_known(conn, assignment)
            by_time = not clean.assignments
        else:
            task = _get(session, task_id)
            if (clean.start, clean.end) != (task.started_at, task.ended_at):  # as `edit_task` checks it
                _check_logged_span(clean.start, clean.end, utc_now())
            by_time = not _has_assignments(session, task_id)
        _check_rules(session, task_id=task_id, start=clean.start, end=clean.end, active=False, by_time=by_time)


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()
"""Marks a field `edit_task` leaves as it is."""


@dataclass(frozen=True)
class TaskChanges:
    """What to change in a task; fields left as KEEP stay. None clears an optional field."""

    title: Any = KEEP
    category: Any = KEEP
    value: Any = KEEP
    start: Any = KEEP
    end: Any = KEEP
    notes: Any = KEEP
    link_url: Any = KEEP
    git_branch: Any = KEEP

    @property
    def empty(self) -> bool:
        return all(getattr(self, name) is KEEP for name in self.__dataclass_fields__)


def edit_task(db: Database, task_id: int, changes: TaskChanges, *, now: datetime | None = None) -> TaskView:
    """Change a task; its usage is re-attributed when its span changes. Setting an end on the
    running task stops it."""
    moment = _to_ms_precision(now or utc_now())
    if changes.empty:
        raise TaskInputError(
            "nothing to change: give --title, --category, --value, --start, --end, --notes, --url or --link-branch"
        )
    with _writing(db) as session:
        task = _get(session, task_id)
        title = task.title if changes.title is KEEP else _title(changes.title)
        category = task.category
        if changes.category is not KEEP:
            category = _spelling_in_use(session, _category(changes.category), task.id)
        value = task.value if changes.value is KEEP else parse_amount(changes.value)
        start = task.started_at if changes.start is KEEP else _to_ms_precision(changes.start)
        end = task.ended_at if changes.end is KEEP else (None if changes.end is None else _to_ms_precision(changes.end))
        if changes.end is None and not task.active:
            raise TaskInputError("a finished task keeps an end (use `tokenworth task start` for work in progress)")
        notes = task.notes if changes.notes is KEEP else _optional_text(changes.notes, what="notes")
        link_url = task.link_url if changes.link_url is KEEP else _url(changes.link_url)
        git_branch = (
            task.git_branch if changes.git_branch is KEEP else _optional_text(changes.git_branch, 256, "a branch name")
        )
        _check_span(start, end)
        if changes.start is not KEEP or changes.end is not KEEP:
            _check_logged_span(start, end, moment)  # a typo'd year would claim usage not made yet
        active = task.active and end is None
        _check_rules(
            session,
            task_id=task.id,
            start=start,
            end=end,
            active=active,
            by_time=not _has_assignments(session, task.id),
        )
        before = task_claim_clause(session.connection(), task.id)
        task.title, task.category, task.value = title, category, value
        task.started_at, task.ended_at, task.active = start, end, active
        task.notes, task.link_url, task.git_branch = notes, link_url, git_branch
        task.updated_at = moment
        session.flush()
        reattribute_task(session.connection(), before, task.id)
        return _view(session, task)


def delete_task(db: Database, task_id: int) -> TaskView:
    """Delete a task; the usage it held becomes unattributed again (or goes to an overlapping task
    by the usual rules). No usage record is touched. Returns the task as it was."""
    with _writing(db) as session:
        task = _get(session, task_id)
        as_it_was = _view(session, task)
        conn = session.connection()
        before = task_claim_clause(conn, task.id)
        session.delete(task)
        session.flush()
        _keep_highest_id(session, task_id)
        reattribute_task(conn, before, task_id)
        return as_it_was


def assign(db: Database, task_id: int, assignment: Assignment, *, now: datetime | None = None) -> TaskView:
    """Give a session, or all usage on a (project, branch), to a task wholesale. From then on the
    task is attributed by its assignments only. A session or branch belongs to one task."""
    moment = _to_ms_precision(now or utc_now())
    with _writing(db) as session:
        task = _get(session, task_id)
        conn = session.connection()
        _check_assignment_free(session, assignment, task.id)
        _check_assignment_known(conn, assignment)
        existing = task_views(session, [task])[0]
        if (assignment.session_id is not None and assignment.session_id in existing.sessions) or (
            assignment.project is not None and (assignment.project, assignment.branch) in existing.branches
        ):
            return existing
        before = task_claim_clause(conn, task.id)
        _add_assignment(session, task.id, assignment, moment)
        task.updated_at = moment
        session.flush()
        reattribute_task(conn, before, task.id)
        return _view(session, task)


def unassign(db: Database, task_id: int, assignment: Assignment, *, now: datetime | None = None) -> TaskView:
    """Take an assignment back; a task left without any is attributed by its span again."""
    moment = _to_ms_precision(now or utc_now())
    with _writing(db) as session:
        task = _get(session, task_id)
        if assignment.session_id is not None:
            row: TaskSession | TaskBranch | None = session.scalars(
                select(TaskSession).where(
                    TaskSession.task_id == task.id, TaskSession.session_id == assignment.session_id
                )
            ).first()
        else:
            row = session.scalars(
                select(TaskBranch).where(
                    TaskBranch.task_id == task.id,
                    TaskBranch.project == assignment.project,
                    TaskBranch.git_branch == (assignment.branch or NO_BRANCH),
                )
            ).first()
        if row is None:
            raise TaskNotFoundError(f"task #{task.id} has no assignment of {assignment.label}")
        conn = session.connection()
        before = task_claim_clause(conn, task.id)
        session.delete(row)
        session.flush()
        if not _has_assignments(session, task.id):
            _check_rules(
                session,
                task_id=task.id,
                start=task.started_at,
                end=task.ended_at,
                active=task.active,
                by_time=True,
            )
        task.updated_at = moment
        session.flush()
        reattribute_task(conn, before, task.id)
        return _view(session, task)


def get_task(db: Database, task_id: int) -> TaskView:
    """One task with its attributed usage; TaskNotFoundError when there is none."""
    sync_attribution(db)
    with db.session() as session:
        return _view(session, _get(session, task_id))


def list_tasks(db: Database, *, month: tuple[int, int] | None = None, zone: tzinfo | None = None) -> list[TaskView]:
    """Tasks newest first; with `month` (year, month cut in `zone`), those whose span touches it
    or holding spend from it (a task attributed by its session keeps that spend whatever its span
    says, as `report value` counts it)."""
    sync_attribution(db)
    with db.session() as session:
        query = select(Task).order_by(Task.started_at.desc(), Task.id.desc())
        if month is not None:
            if zone is None:
                raise ValueError("a month needs a time zone")
            start, end = month_bounds(month[0], month[1], zone)
            spent_in_month = (
                select(TaskAttribution.task_id)
                .join(UsageRecord, UsageRecord.id == TaskAttribution.record_id)
                .where(UsageRecord.ts >= start, UsageRecord.ts < end)
            )
            query = query.where(
                or_(
                    and_(Task.started_at < end, or_(Task.ended_at.is_(None), Task.ended_at > start)),
                    Task.id.in_(spent_in_month),
                )
            )
        return task_views(session, list(session.scalars(query)))


@dataclass(frozen=True)
class CategoryUse:
    """A category, how many tasks use it, and when it was last used (None: a default)."""

    name: str
    tasks: int
    last_used: datetime | None


def category_history(db: Database) -> list[CategoryUse]:
    """The user's categories, most recently used first, then the defaults not used yet."""
    with db.session() as session:
        found = session.execute(
            select(Task.category, func.count(), func.max(type_coerce(Task.started_at, BigInteger)))
            .where(Task.category.is_not(None))
            .group_by(Task.category)
        ).all()
    rows = sorted(found, key=lambda row: (-int(row[2]), str(row[0])))  # newest first, then by code point
    used = [CategoryUse(str(name), int(count), from_epoch_ms(int(last_ms))) for name, count, last_ms in rows]
    seen = {use.name.casefold() for use in used}
    return used + [CategoryUse(name, 0, None) for name in DEFAULT_CATEGORIES if name not in seen]


def list_categories(db: Database) -> list[str]:
    """Category names to offer for completion, most recently used first."""
    return [use.name for use in category_history(db)]


__all__ = [
    "DEFAULT_CATEGORIES",
    "KEEP",
    "Assignment",
    "CategoryUse",
    "TaskChanges",
    "TaskConflictError",
    "TaskDraft",
    "TaskInputError",
    "TaskNotFoundError",
    "TaskView",
    "ValuedUsage",
    "assign",
    "category_history",
    "check_draft",
    "clean_draft",
    "delete_task",
    "edit_task",
    "get_task",
    "list_categories",
    "list_tasks",
    "log_task",
    "parse_amount",
    "running_task",
    "start_task",
    "stop_task",
    "unassign",
]
