"""Previews: the usage, cost and TFP a task would get if saved, computed under the saving rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import BigInteger, Connection, select, type_coerce

from tokenworth.core.attribution import AttributionRules, RecordFacts, SpanRule
from tokenworth.core.db import Database
from tokenworth.core.models import UsageRecord
from tokenworth.core.task_models import TaskAttribution
from tokenworth.core.timeutil import to_epoch_ms
from tokenworth.services.attribution import UsageCell, claim_clause, load_rules, sync_attribution
from tokenworth.services.tasks import CleanDraft, TaskDraft, ValuedUsage, clean_draft

PREVIEW_TASK_ID = 0
"""The id a draft task takes while previewing (real ids start at 1)."""


@dataclass(frozen=True)
class TaskPreview(ValuedUsage):
    """What a draft task would hold if saved, before anything is written."""

    start: datetime
    end: datetime | None
    value: Decimal | None
    usage: UsageCell
    taken_from: dict[int, UsageCell]
    """Of that usage, the part other tasks hold now (by task id)."""


def _rules_with_draft(
    rules: AttributionRules, draft: CleanDraft, replacing: int | None, draft_id: int
) -> AttributionRules:
    spans = [span for span in rules.all_spans if span.task_id != replacing]
    spans.append(SpanRule(draft_id, to_epoch_ms(draft.start), None if draft.end is None else to_epoch_ms(draft.end)))
    sessions = {key: task for key, task in rules.sessions.items() if task != replacing}
    branches = {key: task for key, task in rules.branches.items() if task != replacing}
    for assignment in draft.assignments:
        if assignment.session_id is not None:
            sessions[assignment.session_id] = draft_id
        elif assignment.project is not None:
            branches[(assignment.project, assignment.branch)] = draft_id
    return AttributionRules(spans, sessions, branches)


def preview_task(db: Database, draft: TaskDraft, *, task_id: int | None = None) -> TaskPreview:
    """The usage, cost and TFP a draft would get if saved (as a new task, or replacing `task_id`),
    under the same rules as saving it. A draft with a start and no end previews a running task."""
    sync_attribution(db)
    with db.engine.connect() as conn:
        clean = clean_draft(conn, draft, allow_running=True)
        draft_id = PREVIEW_TASK_ID if task_id is None else task_id
        rules = _rules_with_draft(load_rules(conn), clean, task_id, draft_id)
        if clean.assignments:
            clause = claim_clause(
                conn,
                sessions=[a.session_id for a in clean.assignments if a.session_id is not None],
                branches=[(a.project, a.branch) for a in clean.assignments if a.project is not None],
            )
        else:
            end_ms = None if clean.end is None else to_epoch_ms(clean.end)
            rule = SpanRule(draft_id, to_epoch_ms(clean.start), end_ms)
            clause = claim_clause(conn, [(rule.start_ms, rule.end_or_open)])
        usage = UsageCell()
        taken: dict[int, UsageCell] = {}
        if clause is not None:
            c = UsageRecord.__table__.c
            rows = conn.execute(
                select(
                    c.id,
                    type_coerce(c.ts, BigInteger),
                    c.bucket_seconds,
                    c.session_id,
                    c.project,
                    c.git_branch,
                    c.model,
                    c.input_tokens
                    + c.output_tokens
                    + c.cache_read_tokens
                    + c.cache_write_5m_tokens
                    + c.cache_write_1h_tokens,
                    type_coerce(c.cost, BigInteger),
                ).where(clause)
            ).all()
            current = _current_shares(conn, [int(row[0]) for row in rows])
            for row in rows:
                facts = RecordFacts(int(row[1]), int(row[2] or 0), row[3], row[4], row[5])
                after = dict(rules.attribute(facts))
                share = after.get(draft_id, Fraction(0))
                if not share:
                    continue
                record = _record_cell(int(row[1]), row[6], int(row[7] or 0), row[8])
                usage.add(record.scaled(share))
                for other, held in current.get(int(row[0]), ()):
                    lost = held - after.get(other, Fraction(0))
                    if other != task_id and lost > 0:
                        taken.setdefault(other, UsageCell()).add(record.scaled(lost))
    return TaskPreview(start=clean.start, end=clean.end, value=clean.value, usage=usage, taken_from=taken)


def _record_cell(ts_ms: int, model: str, tokens: int, cost_units: int | None) -> UsageCell:
    return UsageCell(
        tokens=Fraction(tokens),
        cost_units=Fraction(cost_units or 0),
        records=Fraction(1),
        unpriced_records=Fraction(1 if cost_units is None else 0),
        unpriced_models={model} if cost_units is None else set(),
        first_ms=ts_ms,
        last_ms=ts_ms,
    )


def _current_shares(conn: Connection, record_ids: Iterable[int]) -> dict[int, list[tuple[int, Fraction]]]:
    shares: dict[int, list[tuple[int, Fraction]]] = {}
    ids = sorted(set(record_ids))
    table = TaskAttribution.__table__.c
    for index in range(0, len(ids), 500):
        chunk = ids[index : index + 500]
        for row in conn.execute(
            select(table.record_id, table.task_id, table.share_num, table.share_den).where(table.record_id.in_(chunk))
        ):
            shares.setdefault(int(row[0]), []).append((int(row[1]), Fraction(int(row[2]), int(row[3]))))
    return shares
