"""Which of two copies of one usage record to keep: one rule for events, rows and the database.

Claude Code streams a response as several lines with one id, the first ones partial; a subagent
transcript can replay its parent's lines. `fullest` keeps the copy that says the most; `latest`
(Gemini CLI re-appending a changed message, a provider restating a bucket) keeps the newest.
"""

from __future__ import annotations

from typing import Any, Literal

ConflictPolicy = Literal["fullest", "latest"]


def fuller_copy(
    old_sidechain: bool, old_total: int, old_speed: Any, new_sidechain: bool, new_total: int, new_speed: Any
) -> bool:
    """The `fullest` rule for two copies of one record (the same rule as `_upsert_sql`'s WHERE):
    a main-thread copy beats a sidechain replay, then more tokens win, then a known speed."""
    if old_sidechain and not new_sidechain:
        return True
    if new_total != old_total:
        return new_total > old_total
    return bool(new_speed) and not old_speed
