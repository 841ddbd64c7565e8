"""Codex CLI rollouts (`$CODEX_HOME/sessions/**/rollout-*.jsonl[.zst]`) into usage events.

Codex re-writes `token_count` events with an unchanged running total (UI refreshes, not API
calls), so an event counts only when the running total changes; a drop in the total (resume,
compaction) starts a new baseline. OpenAI-style input includes cached tokens; they are split
here so each kind is priced at its own rate.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tokenworth.core.timeutil import parse_timestamp, to_epoch_ms
from tokenworth.sources.files import walk_files
from tokenworth.sources.lines import as_int, parse_json_lines
from tokenworth.sources.records import ParseResult, UsageEvent

SOURCE = "codex"
PROVIDER = "openai"
FALLBACK_MODEL = "gpt-5"
"""Early Codex builds (Sept 2025) wrote no `turn_context`; they ran gpt-5 (as ccusage assumes)."""

_MARKERS = (b'"token_count"', b'"turn_context"', b'"session_meta"')
_SPAWN = "thread_spawn"
_UUID_IN_NAME = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
_TOTAL_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")


def default_root(env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    env = os.environ if env is None else env
    configured = env.get("CODEX_HOME", "").strip()
    if configured:
        return Path(configured).expanduser()
    return (Path.home() if home is None else home) / ".codex"


def find_files(root: Path) -> list[Path]:
    """Rollouts under `sessions/` and `archived_sessions/`; a plain `.jsonl` beats its `.zst`,
    and `sessions/` beats the same relative path in `archived_sessions/`."""
    chosen: dict[str, Path] = {}
    for folder in ("sessions", "archived_sessions"):
        base = root / folder
        if not os.path.isdir(base):  # a folder left root's by `sudo codex`: skipped, not a crash
            continue
        for item in walk_files(base, (".jsonl", ".jsonl.zst")):  # linked-in folders too
            path = Path(item.path)
            name = path.name
            relative = str(path.relative_to(base)).removesuffix(".zst")
            current = chosen.get(relative)
            if current is None or (current.name.endswith(".zst") and not name.endswith(".zst")):
                chosen[relative] = path
    return list(chosen.values())


def session_from_path(path: str) -> str | None:
    match = _UUID_IN_NAME.search(Path(path).name)
    return match.group(1) if match else None


def parse(data: bytes, *, path: str, state: dict[str, Any], final: bool) -> ParseResult:
    """Usage events from `data`, the bytes of `path` appended since the last read.

    `state` carries what a later chunk needs: the model in force, the last running total,
    the session's id, folder and branch.
    """
    return parse_json_lines(
        data, path=path, state=state, final=final, handle=lambda obj: _handle(obj, path, state), markers=_MARKERS
    )


def _spawned(source: Any) -> bool:
    """Whether a `session_meta` source names a spawned thread (`{"subagent": {"thread_spawn":
    {...}}}`), whose rollout starts by replaying its parent's calls.

    Read from the parsed first line, not by finding the word in the file's first bytes (as
    ccusage does): a user who writes "thread_spawn" in a prompt would lose a turn, and a first
    line read half-written would settle the question before it was known.
    """
    if isinstance(source, dict):
        return _SPAWN in source or any(_spawned(value) for value in source.values())
    return isinstance(source, str) and source == _SPAWN


def _meta_time(obj: dict[str, Any], payload: dict[str, Any]) -> int | None:
    """When the file's own session began (its `session_meta`'s time, epoch ms: the state is kept
    as JSON between imports), or None if unreadable."""
    for stamp in (payload.get("timestamp"), obj.get("timestamp")):
        if isinstance(stamp, str):
            try:
                return to_epoch_ms(parse_timestamp(stamp))
            except ValueError:
                continue
    return None


def _handle(obj: dict[str, Any], path: str, state: dict[str, Any]) -> UsageEvent | None:
    kind = obj.get("type")
    payload = obj.get("payload")
    if not isinstance(payload, dict):
        return None
    if kind == "session_meta":
        meta = state if not state.get("meta_seen") else state.setdefault("copied", {})
        if not state.get("meta_seen"):  # the file's own: a fork copies its parent's (and history) after it
            state["meta_seen"] = True
            state["spawn"] = _spawned(payload.get("source"))
            state["own_since"] = _meta_time(obj, payload)
        if isinstance(payload.get("id"), str):
            meta["session"] = payload["id"]
        if isinstance(payload.get("cwd"), str):
            meta["cwd"] = payload["cwd"]
        git = payload.get("git")
        if isinstance(git, dict) and isinstance(git.get("branch"), str):
            meta["branch"] = git["branch"]
        return None
    if kind == "turn_context":
        if isinstance(payload.get("model"), str) and payload["model"]:
            state["model"] = payload["model"]
        if "cwd" not in state and isinstance(payload.get("cwd"), str):
            state["cwd"] = payload["cwd"]
        return None
    if kind != "event_msg" or payload.get("type") != "token_count":
        return None
    info = payload.get("info")
    if not isinstance(info, dict):
        return None  # a rate-limit refresh, no tokens
    total = info.get("total_token_usage")
    last = info.get("last_token_usage")
    if not isinstance(total, dict):
        raise ValueError("token_count without total_token_usage")
    totals = [as_int(total.get(name)) for name in _TOTAL_FIELDS]
    previous = state.get("totals")
    if previous == totals:
        return None  # a re-emit: same running total, no new API call
    stamp = obj.get("timestamp")
    if not isinstance(stamp, str):
        raise ValueError("token_count without a timestamp")
    try:
        timestamp = parse_timestamp(stamp)
    except ValueError:
        raise ValueError(f"unreadable timestamp {stamp[:40]!r}") from None
    state["totals"] = totals
    if state.get("spawn"):
        second = stamp[:19]
        first_second = state.setdefault("spawn_second", second)
        if second == first_second:
            return None  # a spawned thread replaying its parent's history, counted there

    dropped = previous is not None and any(now < before for now, before in zip(totals, previous, strict=True))
    if isinstance(last, dict):
        delta = [as_int(last.get(name)) for name in _TOTAL_FIELDS]
        cache_write = as_int(last.get("cache_write_input_tokens"))
    elif previous is None or dropped:
        delta = totals
        cache_write = as_int(total.get("cache_write_input_tokens"))
    else:
        delta = [now - before for now, before in zip(totals, previous, strict=True)]
        cache_write = 0
    input_tokens, cached, output, reasoning = delta
    cached = min(cached, input_tokens)
    cache_write = min(cache_write, input_tokens - cached)
    if input_tokens == 0 and output == 0:
        return None
    model = state.get("model") or FALLBACK_MODEL
    # A fork's copy of its parent's history keeps its old times: those turns are the parent's
    # (and its own file counts them; the dedupe key collapses the copy). Turns from the fork's
    # start on are the fork's, though the parent's meta came later in the file.
    copied = state.get("copied")
    own_since = state.get("own_since")
    meta = copied if copied and own_since is not None and to_epoch_ms(timestamp) < own_since else state
    session = meta.get("session") or state.get("session") or session_from_path(path)
    return UsageEvent(
        source=SOURCE,
        provider=PROVIDER,
        model=model,
        timestamp=timestamp,
        dedupe_key=f"codex:{stamp}:{model}:{input_tokens}:{cached}:{output}:{reasoning}",
        input_tokens=input_tokens - cached - cache_write,
        output_tokens=output,
        cache_read_tokens=cached,
        cache_write_5m_tokens=cache_write,
        reasoning_tokens=reasoning,
        project=meta.get("cwd", state.get("cwd")),
        session_id=session,
        git_branch=meta.get("branch", state.get("branch")),
    )
