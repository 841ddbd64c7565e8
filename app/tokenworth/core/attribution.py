"""The attribution rules: which task a usage record (or a share of it) belongs to. Pure, no DB.

Precedence, most specific first, so the answer never depends on the order anything was saved:

1. The record's agent session is assigned to a task: the whole record is that task's.
2. Its (project, git branch) is assigned to a task: the whole record is that task's.
3. Otherwise by time, among tasks *without* assignments (a task with assignments is attributed
   by them only; its span is then just information). A moment covered by several such spans
   belongs to the span that started latest (nested work claims its part of the outer task), ties
   to the highest task id. A per-request record goes to the span holding its timestamp; a
   bucketed provider record (bucket_seconds > 0) is split pro rata by how much of its bucket
   each span covers, exactly (overlap ms / bucket ms); the rest stays unattributed.

A running task's span is open-ended. Each record gets at most one task (buckets: shares that sum
to at most one), so attributed spend is never counted twice.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

from tokenworth.core.analytics import overlap

OPEN_END_MS = 2**62
"""The end of a running task's span: later than any record."""

ONE = Fraction(1)

Share = tuple[int, Fraction]
"""(task id, fraction of the record that belongs to it)."""


@dataclass(frozen=True, slots=True)
class SpanRule:
    """A task's time span in epoch ms, [start_ms, end_ms); end None while the task runs."""

    task_id: int
    start_ms: int
    end_ms: int | None

    @property
    def end_or_open(self) -> int:
        return OPEN_END_MS if self.end_ms is None else self.end_ms


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of time claimed by one task: [start_ms, end_ms)."""

    start_ms: int
    end_ms: int
    task_id: int


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """What attribution looks at in a usage record."""

    ts_ms: int
    bucket_seconds: int = 0
    session_id: str | None = None
    project: str | None = None
    git_branch: str | None = None


def claimed_segments(spans: Iterable[SpanRule]) -> list[Segment]:
    """The time line cut into disjoint segments, each claimed by the winning span (see module doc)."""
    rules = [span for span in spans if span.end_or_open > span.start_ms]
    if not rules:
        return []
    points = sorted({span.start_ms for span in rules} | {span.end_or_open for span in rules})
    segments: list[Segment] = []
    for start, end in pairwise(points):
        covering = [span for span in rules if span.start_ms <= start and span.end_or_open >= end]
        if not covering:
            continue
        winner = max(covering, key=lambda span: (span.start_ms, span.task_id)).task_id
        last = segments[-1] if segments else None
        if last is not None and last.task_id == winner and last.end_ms == start:
            segments[-1] = Segment(last.start_ms, end, winner)
        else:
            segments.append(Segment(start, end, winner))
    return segments


class AttributionRules:
    """Every task's claim on usage, ready to answer "whose is this record?" quickly."""

    def __init__(
        self,
        spans: Iterable[SpanRule] = (),
        sessions: Mapping[str, int] | None = None,
        branches: Mapping[tuple[str, str | None], int] | None = None,
    ) -> None:
        self.sessions: dict[str, int] = dict(sessions or {})
        self.branches: dict[tuple[str, str | None], int] = dict(branches or {})
        assigned = set(self.sessions.values()) | set(self.branches.values())
        self.all_spans: tuple[SpanRule, ...] = tuple(sorted(spans, key=lambda s: (s.start_ms, s.task_id)))
        """Every task's span, including those of tasks attributed by assignments."""
        self.spans: tuple[SpanRule, ...] = tuple(s for s in self.all_spans if s.task_id not in assigned)
        """The spans that claim usage by time."""
        self.segments = claimed_segments(self.spans)
        self._starts = [segment.start_ms for segment in self.segments]

    @property
    def empty(self) -> bool:
        return not (self.sessions or self.branches or self.segments)

    def task_at(self, ts_ms: int) -> int | None:
        """The task whose span claims this moment, if any."""
        index = bisect_right(self._starts, ts_ms) - 1
        if index >= 0 and ts_ms < self.segments[index].end_ms:
            return self.segments[index].task_id
        return None

    def bucket_shares(self, start_ms: int, end_ms: int) -> tuple[Share, ...]:
        """Each task's exact share of the bucket [start_ms, end_ms) by overlap with its segments."""
        length = end_ms - start_ms
        if length <= 0:
            return ()
        covered: dict[int, int] = {}
        index = max(0, bisect_right(self._starts, start_ms) - 1)
        while index < len(self.segments) and self.segments[index].start_ms < end_ms:
            segment = self.segments[index]
            part = overlap(start_ms, end_ms, segment.start_ms, segment.end_ms)
            if part:
                covered[segment.task_id] = covered.get(segment.task_id, 0) + part
            index += 1
        return tuple((task_id, Fraction(part, length)) for task_id, part in sorted(covered.items()))

    def attribute(self, record: RecordFacts) -> tuple[Share, ...]:
        """The shares of `record` by task (empty: unattributed). Shares sum to at most one."""
        return self.shares(record.ts_ms, record.bucket_seconds, record.session_id, record.project, record.git_branch)

    def shares(
        self,
        ts_ms: int,
        bucket_seconds: int,
        session_id: str | None,
        project: str | None,
        git_branch: str | None,
    ) -> tuple[Share, ...]:
        """`attribute` on plain fields (what the database hands over, without building objects)."""
        if session_id is not None:
            task_id = self.sessions.get(session_id)
            if task_id is not None:
                return ((task_id, ONE),)
        if project is not None:
            task_id = self.branches.get((project, git_branch or None))
            if task_id is not None:
                return ((task_id, ONE),)
        if bucket_seconds > 0:
            return self.bucket_shares(ts_ms, ts_ms + bucket_seconds * 1000)
        task_id = self.task_at(ts_ms)
        return () if task_id is None else ((task_id, ONE),)

    def claimed_intervals(self) -> list[tuple[int, int]]:
        """The time claimed by spans, merged into disjoint [start, end) intervals."""
        merged: list[tuple[int, int]] = []
        for segment in self.segments:
            if merged and merged[-1][1] == segment.start_ms:
                merged[-1] = (merged[-1][0], segment.end_ms)
            else:
                merged.append((segment.start_ms, segment.end_ms))
        return merged
