"""Claude Code transcripts (`<config>/projects/**/*.jsonl`) into usage events.

Only assistant lines with `message.usage` carry tokens. Streaming writes several lines per API
response with the same (message.id, requestId): the importer keeps the fullest. `<synthetic>`
and API-error lines were never billed and carry no spend. Pre-1.0.9 lines carry `costUSD`,
which is the reported cost.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from tokenworth.core.timeutil import parse_timestamp
from tokenworth.sources.lines import (
    as_int,
    consumed_bytes,
    line_number,
    lines_containing,
    loads_object,
    torn_lines,
)
from tokenworth.sources.records import BrokenLine, ParseResult, UsageEvent

SOURCE = "claude-code"
PROVIDER = "anthropic"
_USAGE_MARKER = b'"usage":{'
_SYNTHETIC_MODEL = "<synthetic>"


def default_roots(env: Mapping[str, str] | None = None, home: Path | None = None) -> list[Path]:
    """The `projects/` folders to read: `CLAUDE_CONFIG_DIR` (comma-separated) or both defaults."""
    env = os.environ if env is None else env
    configured = env.get("CLAUDE_CONFIG_DIR", "").strip()
    if configured:
        return [projects_dir(Path(part.strip()).expanduser()) for part in configured.split(",") if part.strip()]
    home = Path.home() if home is None else home
    return [home / ".claude" / "projects", home / ".config" / "claude" / "projects"]


def projects_dir(folder: Path) -> Path:
    """A config folder holding `projects/`, or `projects/` itself, as the `projects/` folder."""
    if folder.name != "projects" and (folder / "projects").is_dir():
        return folder / "projects"
    return folder


def find_files(roots: Iterable[Path]) -> list[Path]:
    """Every transcript under the roots, subagent files included, each real file once."""
    seen: set[Path] = set()
    found: list[Path] = []
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*.jsonl")):
            real = path.resolve()
            if real not in seen and path.is_file():
                seen.add(real)
                found.append(path)
    return found


def project_from_path(path: str) -> str | None:
    """The transcript's folder under `projects/`: the project when a line has no `cwd`."""
    parts = Path(path).parts
    for index in range(len(parts) - 2, -1, -1):
        if parts[index] == "projects" and index + 1 < len(parts) - 1:
            return parts[index + 1]
    return Path(path).parent.name or None


def parse(data: bytes, *, path: str, state: dict[str, Any], final: bool) -> ParseResult:
    """Usage events from `data`, the bytes of `path` appended since the last read."""
    result = ParseResult()
    limit = consumed_bytes(data, final=final)
    first_line = int(state.get("line", 1))
    fallback_project = project_from_path(path)
    for offset, line in lines_containing(data, _USAGE_MARKER, limit):
        obj = loads_object(line)
        if obj is None:
            reason = "not valid JSON (torn or corrupt line)"
            result.broken.append(BrokenLine(path, line_number(data, offset, first_line), reason))
            continue
        try:
            event = _event_from_line(obj, fallback_project)
        except _BrokenLineError as exc:
            result.broken.append(BrokenLine(path, line_number(data, offset, first_line), str(exc)))
            continue
        if event is not None:
            result.events.append(event)
    for offset in torn_lines(data, limit, _USAGE_MARKER):
        line_no = line_number(data, offset, first_line)
        result.broken.append(BrokenLine(path, line_no, "not valid JSON (torn or corrupt line)"))
    state["line"] = first_line + data.count(b"\n", 0, limit)
    result.consumed = limit
    return result


class _BrokenLineError(ValueError):
    pass


def _event_from_line(obj: dict[str, Any], fallback_project: str | None) -> UsageEvent | None:
    message = obj.get("message")
    if not isinstance(message, dict):
        return None
    usage = message.get("usage")
    if not isinstance(usage, dict):
        return None  # a tool result that happens to mention usage: no spend of ours
    model = message.get("model")
    if model == _SYNTHETIC_MODEL or obj.get("isApiErrorMessage") is True:
        return None  # made locally, never billed
    if not isinstance(model, str) or not model:
        raise _BrokenLineError("assistant line without a model")
    stamp = obj.get("timestamp")
    if not isinstance(stamp, str):
        raise _BrokenLineError("line without a timestamp")
    try:
        timestamp = parse_timestamp(stamp)
    except ValueError:
        raise _BrokenLineError(f"unreadable timestamp {stamp[:40]!r}") from None

    cache_creation = usage.get("cache_creation")
    if isinstance(cache_creation, dict):
        write_5m = as_int(cache_creation.get("ephemeral_5m_input_tokens"))
        write_1h = as_int(cache_creation.get("ephemeral_1h_input_tokens"))
        if write_5m + write_1h == 0:
            write_5m = as_int(usage.get("cache_creation_input_tokens"))
    else:
        write_5m = as_int(usage.get("cache_creation_input_tokens"))
        write_1h = 0

    message_id = message.get("id") if isinstance(message.get("id"), str) else None
    request_id = obj.get("requestId") if isinstance(obj.get("requestId"), str) else None
    session_id = obj.get("sessionId") if isinstance(obj.get("sessionId"), str) else None
    if message_id and request_id:
        key = f"cc:{message_id}:{request_id}"
    else:
        line_id = obj.get("uuid") or f"{stamp}:{message_id}"
        key = f"cc:line:{session_id}:{line_id}"

    reported = None
    cost_usd = obj.get("costUSD")
    if isinstance(cost_usd, int | float) and not isinstance(cost_usd, bool):
        try:
            reported = Decimal(str(cost_usd))
        except InvalidOperation:
            reported = None

    cwd = obj.get("cwd")
    branch = obj.get("gitBranch")
    speed = usage.get("speed")
    return UsageEvent(
        source=SOURCE,
        provider=PROVIDER,
        model=model,
        timestamp=timestamp,
        dedupe_key=key,
        input_tokens=as_int(usage.get("input_tokens")),
        output_tokens=as_int(usage.get("output_tokens")),
        cache_read_tokens=as_int(usage.get("cache_read_input_tokens")),
        cache_write_5m_tokens=write_5m,
        cache_write_1h_tokens=write_1h,
        reported_cost=reported,
        project=cwd if isinstance(cwd, str) and cwd else fallback_project,
        session_id=session_id,
        git_branch=branch if isinstance(branch, str) and branch else None,
        message_id=message_id,
        request_id=request_id,
        is_sidechain=obj.get("isSidechain") is True,
        speed=speed if isinstance(speed, str) else None,
    )
