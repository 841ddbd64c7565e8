"""Tasks Tokenworth proposes itself: spend that no task holds yet, offered to be valued.

- Every (project, git branch) with unattributed spend and no task assigned to it.
- The most recent agent session with unattributed spend (what the tray popup asks about first).
- Finished tasks still without a value.

Accepting one is `log_task` with the proposal's assignment (its span is taken from the usage).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from pathlib import PurePath
from typing import Any, Literal

from sqlalchemy import select

from tokenworth.core.analytics import units_to_money
from tokenworth.core.db import Database
from tokenworth.core.money import decimal_str
from tokenworth.core.task_models import Task
from tokenworth.core.timeutil import from_epoch_ms, month_bounds, to_epoch_ms
from tokenworth.services.attribution import UsageCell, attributed_usage, sync_attribution
from tokenworth.services.tasks import Assignment, TaskView, task_views

ProposalKind = Literal["branch", "session", "unvalued_task"]
_MAIN_BRANCHES = {"main", "master", "trunk", "develop", "HEAD"}


@dataclass(frozen=True)
class Proposal:
    """Spend to put a value on: a (project, branch), a session, or an existing unvalued task."""

    kind: ProposalKind
    title: str
    """A suggested title (the branch name, or the project folder's name)."""
    usage: UsageCell
    project: str | None = None
    branch: str | None = None
    session_id: str | None = None
    source: str | None = None
    task: TaskView | None = None
    sessions: int = 0
    models: tuple[str, ...] = field(default_factory=tuple)

    @property
    def assignment(self) -> Assignment | None:
        """What `log_task` / `assign` should be given to accept this proposal."""
        if self.kind == "session" and self.session_id is not None:
            return Assignment(session_id=self.session_id)
        if self.kind == "branch" and self.project is not None:
            return Assignment(project=self.project, branch=self.branch)
        return None

    @property
    def cost(self) -> Decimal | None:
        return None if self.usage.all_unpriced else units_to_money(self.usage.cost_units)

    @property
    def first_activity(self) -> datetime | None:
        return None if self.usage.first_ms is None else from_epoch_ms(self.usage.first_ms)

    @property
    def last_activity(self) -> datetime | None:
        return None if self.usage.last_ms is None else from_epoch_ms(self.usage.last_ms)

    def as_json(self, zone: tzinfo) -> dict[str, Any]:
        def when(moment: datetime | None) -> str | None:
            return None if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")

        return {
            "kind": self.kind,
            "title": self.title,
            "project": self.project,
            "branch": self.branch,
            "session_id": self.session_id,
            "source": self.source,
            "task": None if self.task is None else {"id": self.task.id, "title": self.task.title},
            "sessions": self.sessions,
            "models": list(self.models),
            "tokens": round(self.usage.tokens),
            "cost_usd": decimal_str(self.cost),
            "cost_complete": self.usage.cost_complete,
            "first_activity": when(self.first_activity),
            "last_activity": when(self.last_activity),
        }


def suggested_title(project: str | None, branch: str | None) -> str:
    """The branch name, or the project folder's name on a main branch or none."""
    name = PurePath(project).name if project else "usage"
    if branch and branch not in _MAIN_BRANCHES:
        return f"{branch} ({name})"
    return name or "usage"


def list_proposals(db: Database, *, month: tuple[int, int] | None = None, zone: tzinfo | None = None) -> list[Proposal]:
    """Proposals, most recent activity first: the last unattributed session, every (project,
    branch) with unattributed spend, then finished tasks without a value. With `month`, only
    spend in that month (cut in `zone`)."""
    sync_attribution(db)
    start_ms = end_ms = None
    if month is not None:
        if zone is None:
            raise ValueError("a month needs a time zone")
        start, end = month_bounds(month[0], month[1], zone)
        start_ms, end_ms = to_epoch_ms(start), to_epoch_ms(end)
    with db.session() as session:
        conn = session.connection()
        by_branch = attributed_usage(
            conn, group=("project", "git_branch", "session_id", "source"), start_ms=start_ms, end_ms=end_ms
        )
        unvalued = list(
            session.scalars(
                select(Task)
                .where(Task.value.is_(None), Task.active.is_(False))
                .order_by(Task.ended_at.desc(), Task.id.desc())
            )
        )
        unvalued_views = task_views(session, unvalued)

    branches: dict[tuple[str, str | None], tuple[UsageCell, set[str], set[str]]] = {}
    sessions: dict[str, tuple[UsageCell, str | None, str | None, str | None, set[str]]] = {}
    for (task_id, model, project, branch, session_id, source), cell in by_branch.items():
        if task_id is not None or (cell.tokens == 0 and cell.cost_units == 0):
            continue
        branch = branch or None
        if project is not None:
            usage, ids, models = branches.setdefault((project, branch), (UsageCell(), set(), set()))
            usage.add(cell)
            models.add(model)
            if session_id:
                ids.add(session_id)
        if session_id:
            entry = sessions.setdefault(session_id, (UsageCell(), project, branch, source, set()))
            entry[0].add(cell)
            entry[4].add(model)

    proposals: list[Proposal] = []
    if sessions:
        session_id, (usage, project, branch, source, models) = max(
            sessions.items(), key=lambda item: (item[1][0].last_ms or 0, item[0])
        )
        proposals.append(
            Proposal(
                kind="session",
                title=suggested_title(project, branch),
                usage=usage,
                project=project,
                branch=branch,
                session_id=session_id,
                source=source,
                sessions=1,
                models=tuple(sorted(models)),
            )
        )
    branch_proposals = [
        Proposal(
            kind="branch",
            title=suggested_title(project, branch),
            usage=usage,
            project=project,
            branch=branch,
            sessions=len(ids),
            models=tuple(sorted(models)),
        )
        for (project, branch), (usage, ids, models) in branches.items()
    ]
    branch_proposals.sort(key=lambda p: (-(p.usage.last_ms or 0), p.project or "", p.branch or ""))
    proposals.extend(branch_proposals)
    proposals.extend(
        Proposal(kind="unvalued_task", title=view.title, usage=view.usage, task=view) for view in unvalued_views
    )
    return proposals
