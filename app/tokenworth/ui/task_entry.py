"""What the value popup edits, without Qt: the usage a value can cover (the running task, a
proposed session or branch, an unvalued task, a time span), the checks on what was typed, and the
service calls that preview and save it (run in the DB worker)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from decimal import Decimal
from enum import StrEnum
from pathlib import PurePath

from tokenworth.core.analytics import Tfp
from tokenworth.core.db import Database
from tokenworth.core.money import format_usd
from tokenworth.services.proposals import Proposal, list_proposals
from tokenworth.services.task_preview import TaskPreview, preview_task
from tokenworth.services.tasks import (
    KEEP,
    MAX_CATEGORY,
    MAX_TITLE,
    Assignment,
    TaskChanges,
    TaskDraft,
    TaskInputError,
    TaskView,
    check_draft,
    edit_task,
    get_task,
    list_categories,
    log_task,
    parse_amount,
    running_task,
    start_task,
)

MAX_PROPOSALS = 40
"""Proposals offered in the popup (most recent activity first)."""


class CoverKind(StrEnum):
    RUNNING = "running"
    SESSION = "session"
    BRANCH = "branch"
    UNVALUED = "unvalued"
    SPAN = "span"


@dataclass(frozen=True)
class Cover:
    """One choice of "what usage does this value cover"."""

    kind: CoverKind
    label: str
    title: str = ""
    """The title it suggests."""
    category: str | None = None
    task_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    assignments: tuple[Assignment, ...] = ()


SPAN_COVER = Cover(CoverKind.SPAN, "A time span…")


@dataclass(frozen=True)
class PopupData:
    """What the popup offers, read in one DB job when it opens."""

    running: TaskView | None
    proposals: tuple[Proposal, ...]
    categories: tuple[str, ...]


def load_popup_data(db: Database) -> PopupData:
    """Running task, proposals (most recent first) and category history."""
    return PopupData(
        running=running_task(db),
        proposals=tuple(list_proposals(db)[:MAX_PROPOSALS]),
        categories=tuple(list_categories(db)),
    )


def _assignments_of(task: TaskView) -> tuple[Assignment, ...]:
    return tuple(Assignment(session_id=s) for s in task.sessions) + tuple(
        Assignment(project=p, branch=b) for p, b in task.branches
    )


def _when(moment: datetime | None, zone: tzinfo, today: datetime) -> str:
    if moment is None:
        return "?"
    local = moment.astimezone(zone)
    return f"{local:%H:%M}" if local.date() == today.astimezone(zone).date() else f"{local:%b %d %H:%M}"


def covers_for(data: PopupData, zone: tzinfo, now: datetime) -> list[Cover]:
    """The choices in the order offered: the running task, the proposals, then a time span."""
    covers: list[Cover] = []
    task = data.running
    if task is not None:
        covers.append(
            Cover(
                CoverKind.RUNNING,
                f"The running task “{task.title}” (since {_when(task.started_at, zone, now)})",
                title=task.title,
                category=task.category,
                task_id=task.id,
                start=task.started_at,
                assignments=_assignments_of(task),
            )
        )
    for proposal in data.proposals:
        cost = format_usd(proposal.cost)
        if proposal.kind == "session" and proposal.assignment is not None:
            covers.append(
                Cover(
                    CoverKind.SESSION,
                    f"Last session: {proposal.title} · {proposal.source or 'agent'} · {cost} · "
                    f"until {_when(proposal.last_activity, zone, now)}",
                    title=proposal.title,
                    assignments=(proposal.assignment,),
                )
            )
        elif proposal.kind == "branch" and proposal.assignment is not None:
            branch = proposal.branch or "(no branch)"
            name = PurePath(proposal.project or "").name
            plural = "" if proposal.sessions == 1 else "s"
            covers.append(
                Cover(
                    CoverKind.BRANCH,
                    f"Branch {branch} in {name} · {proposal.sessions} session{plural} · {cost}",
                    title=proposal.title,
                    assignments=(proposal.assignment,),
                )
            )
        elif proposal.kind == "unvalued_task" and proposal.task is not None:
            view = proposal.task
            covers.append(
                Cover(
                    CoverKind.UNVALUED,
                    f"Task #{view.id} “{view.title}” (no value yet) · {format_usd(view.cost)}",
                    title=view.title,
                    category=view.category,
                    task_id=view.id,
                    start=view.started_at,
                    end=view.ended_at,
                    assignments=_assignments_of(view),
                )
            )
    covers.append(SPAN_COVER)
    return covers


def default_cover(covers: list[Cover]) -> int:
    """The active task, else the last unvalued session, else the first proposal, else a span."""
    for kind in (CoverKind.RUNNING, CoverKind.SESSION):
        for index, cover in enumerate(covers):
            if cover.kind is kind:
                return index
    return 0


# --- checks on what was typed (messages for the field; never raised to the user) ---------------


def check_title(text: str) -> str:
    """The title, cleaned; TaskInputError when empty or too long."""
    title = " ".join(text.split())
    if not title:
        raise TaskInputError("give the task a title")
    if len(title) > MAX_TITLE:
        raise TaskInputError(f"a title is at most {MAX_TITLE} characters")
    return title


def check_category(text: str) -> str | None:
    category = " ".join(text.split())
    if len(category) > MAX_CATEGORY:
        raise TaskInputError(f"a category is at most {MAX_CATEGORY} characters")
    return category or None


def check_value(text: str, *, required: bool = True) -> Decimal | None:
    """Dollars (>= 0); TaskInputError for text that is not, or for nothing when required."""
    if not text.strip():
        if required:
            raise TaskInputError("what was the work worth? (dollars, e.g. 150)")
        return None
    return parse_amount(text)


def check_span(start: datetime, end: datetime) -> None:
    if end < start:
        raise TaskInputError("the end is before the start")
    if end == start:
        raise TaskInputError("the span must end after it starts")


@dataclass(frozen=True)
class Entry:
    """What the user typed, checked (value may be None for a preview or "value later")."""

    cover: Cover
    title: str
    category: str | None
    value: Decimal | None
    start: datetime | None = None
    end: datetime | None = None
    """For a time span."""


def draft_of(entry: Entry, now: datetime) -> tuple[TaskDraft, int | None]:
    """The task draft the entry stands for, and the id of the task it replaces (if any)."""
    cover = entry.cover
    if cover.kind is CoverKind.SPAN:
        draft = TaskDraft(entry.title, entry.value, entry.start, entry.end, entry.category)
        return draft, None
    if cover.kind is CoverKind.RUNNING:
        draft = TaskDraft(entry.title, entry.value, cover.start, now, entry.category, assignments=cover.assignments)
        return draft, cover.task_id
    if cover.kind is CoverKind.UNVALUED:
        draft = TaskDraft(
            entry.title, entry.value, cover.start, cover.end, entry.category, assignments=cover.assignments
        )
        return draft, cover.task_id
    return TaskDraft(entry.title, entry.value, category=entry.category, assignments=cover.assignments), None


def preview_entry(db: Database, entry: Entry, now: datetime) -> TaskPreview:
    """The cost the entry would be given and its TFP, under the saving rules (DB worker); raises
    what saving would raise (an overlap, a taken session), so the popup says so before Save."""
    draft, task_id = draft_of(entry, now)
    if entry.cover.kind is CoverKind.RUNNING and task_id is not None:
        task = get_task(db, task_id)
        if not task.active and task.ended_at is not None:  # stopped elsewhere: saving keeps its end
            draft = replace(draft, end=task.ended_at)
    check_draft(db, draft, task_id=task_id)
    return preview_task(db, draft, task_id=task_id)


def save_entry(db: Database, entry: Entry, now: datetime) -> TaskView:
    """Save the entry: stop the running task, value an existing task, or log a new one (DB worker)."""
    cover = entry.cover
    if cover.kind is CoverKind.RUNNING:
        assert cover.task_id is not None
        value = KEEP if entry.value is None else entry.value  # "stop, value later" keeps any value given
        # Stopped elsewhere since the popup opened (`tokenworth task stop`): its recorded end stays,
        # or it would take the usage of everything done since.
        end = now if get_task(db, cover.task_id).active else KEEP
        changes = TaskChanges(title=entry.title, category=entry.category, value=value, end=end)
        return edit_task(db, cover.task_id, changes, now=now)
    if cover.kind is CoverKind.UNVALUED:
        assert cover.task_id is not None
        return edit_task(db, cover.task_id, TaskChanges(title=entry.title, category=entry.category, value=entry.value))
    draft, _ = draft_of(entry, now)
    return log_task(db, draft, now=now)


def start_new_task(db: Database, title: str, category: str | None, now: datetime) -> TaskView:
    """Start a task now (DB worker)."""
    return start_task(db, title, category=category, now=now)


def tfp_text(figure: Tfp) -> str:
    """'12.50×', or why there is none ('no spend', 'unvalued', 'unpriced'); '*' when incomplete."""
    if figure.ratio is None:
        return figure.note or "—"
    text = f"{figure.ratio:.2f}×"
    return text if figure.complete else text + "*"
