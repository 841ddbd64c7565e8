"""The plain records every source returns: no database, no Qt, cheap to build by the million."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from tokenworth.core.dedupe import ConflictPolicy, fuller_copy


@dataclass(slots=True)
class UsageEvent:
    """Tokens of one request (or one provider time bucket), as a source saw them.

    Token fields are disjoint except `reasoning_tokens`, which is the part of `output_tokens`
    spent thinking (informational; output is already priced in full).
    """

    source: str
    provider: str
    model: str
    timestamp: datetime
    dedupe_key: str
    input_tokens: int = 0
    """Uncached input only."""
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0
    request_count: int = 1
    reported_cost: Decimal | None = None
    bucket_seconds: int = 0
    account: str | None = None
    project: str | None = None
    session_id: str | None = None
    git_branch: str | None = None
    message_id: str | None = None
    request_id: str | None = None
    is_sidechain: bool = False
    speed: str | None = None
    web_search_requests: int = 0
    """Server-side web searches (Anthropic's usage report counts them; priced per search)."""

    @property
    def total_tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_5m_tokens
            + self.cache_write_1h_tokens
        )


def fuller(old: UsageEvent, new: UsageEvent) -> bool:
    """Whether `new` is the fuller of two events with one dedupe key (`core.ledger.fuller_copy`)."""
    return fuller_copy(old.is_sidechain, old.total_tokens, old.speed, new.is_sidechain, new.total_tokens, new.speed)


def collapse_events(events: Iterable[UsageEvent], policy: ConflictPolicy) -> list[UsageEvent]:
    """One event per dedupe key, in first-seen order, kept by `policy` (`latest`: the last one).

    Collapsing a file's events chunk by chunk, then across chunks (and the database across
    flushes), keeps the same copy as one pass would: copies of one response in one file share
    their sidechain flag, and with it `fuller` simply compares token totals, then speed.
    """
    kept: dict[str, UsageEvent] = {}
    fullest = policy == "fullest"
    for event in events:
        key = event.dedupe_key
        old = kept.get(key)
        if old is None or not fullest or fuller(old, event):
            kept[key] = event
    return list(kept.values())


@dataclass(slots=True)
class BrokenLine:
    """A line that could not be read: where, and why. Counted and skipped, never fatal."""

    path: str
    line: int
    reason: str


@dataclass(slots=True)
class ParseResult:
    """What one read of one file produced."""

    events: list[UsageEvent] = field(default_factory=list)
    broken: list[BrokenLine] = field(default_factory=list)
    consumed: int = 0
    """Bytes of the input fully handled; a trailing partial line is left for the next read."""
