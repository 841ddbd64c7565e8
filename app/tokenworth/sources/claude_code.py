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
from tokenworth.sources.files import LogFile, walk_files
from tokenworth.sources.lines import (
    TORN_LINE,
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


def find_files(roots: Iterable[Path]) -> list[LogFile]:
    """Every transcript under the roots, subagent files included, each real file once."""
    seen: set[tuple[int, int]] = set()
    found: list[LogFile] = []
    for root in roots:
        for item in walk_files(root, (".jsonl",)):
            assert item.stat is not None
            identity = (item.stat.st_dev, item.stat.st_ino)
            if identity not in seen:
                seen.add(identity)
                found.append(item)
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
    events, broken = result.events, result.broken
    for offset, line in lines_containing(data, _USAGE_MARKER, limit):
        obj = loads_object(line)
        if obj is None:
            broken.append(BrokenLine(path, line_number(data, offset, first_line), TORN_LINE))
            continue
        try:
            event = _event_from_line(obj, fallback_project)
        except _BrokenLineError as exc:
            broken.append(BrokenLine(path, line_number(data, offset, first_line), str(exc)))
            continue
        if event is not None:
            events.append(event)
    newlines = data.count(b"\n", 0, limit)
    for offset in torn_lines(data, limit, _USAGE_MARKER, newlines):
        line_no = line_number(data, offset, first_line)
        broken.append(BrokenLine(path, line_no, TORN_LINE))
    state["line"] = first_line + newlines
    result.consumed = limit
    return result


class _BrokenLineError(ValueError):
    pass


def _text(value: Any) -> str | None:
    return value if type(value) is str and value else None


def _event_from_line(obj: dict[str, Any], fallback_project: str | None) -> UsageEvent | None:
    message = obj.get("message")
    if type(message) is not dict:
        return None
    usage = message.get("usage")
    if type(usage) is not dict:
        return None  # a tool result that happens to mention usage: no spend of ours
    model = message.get("model")
    if model == _SYNTHETIC_MODEL or obj.get("isApiErrorMessage") is True:
        return None  # made locally, never billed
    if type(model) is not str or not model:
        raise _BrokenLineError("assistant line without a model")
    stamp = obj.get("timestamp")
    if type(stamp) is not str:
        raise _BrokenLineError("line without a timestamp")
    try:
        timestamp = parse_timestamp(stamp)
    except ValueError:
        raise _BrokenLineError(f"unreadable timestamp {stamp[:40]!r}") from None

    cache_creation = usage.get("cache_creation")
    if type(cache_creation) is dict:
        write_5m = as_int(cache_creation.get("ephemeral_5m_input_tokens"))
        write_1h = as_int(cache_creation.get("ephemeral_1h_input_tokens"))
        if write_5m + write_1h == 0:
            write_5m = as_int(usage.get("cache_creation_input_tokens"))
    else:
        write_5m = as_int(usage.get("cache_creation_input_tokens"))
        write_1h = 0

    message_id = _text(message.get("id"))
    request_id = _text(obj.get("requestId"))
    session_id = _text(obj.get("sessionId"))
    if message_id and request_id:
        key = f"cc:{message_id}:{request_id}"
    else:
        line_id = obj.get("uuid") or f"{stamp}:{message_id}"
        key = f"cc:line:{session_id}:{line_id}"

    reported = None
    cost_usd = obj.get("costUSD")
    if cost_usd is not None and type(cost_usd) in (int, float):
        try:
            reported = Decimal(str(cost_usd))
        except InvalidOperation:
            reported = None

    speed = usage.get("speed")
    # Positional, in UsageEvent's field order: this runs once per line of multi-GB logs.
    return UsageEvent(
        SOURCE,
        PROVIDER,
        model,
        timestamp,
        key,
        as_int(usage.get("input_tokens")),
        as_int(usage.get("output_tokens")),
        as_int(usage.get("cache_read_input_tokens")),
        write_5m,
        write_1h,
        0,
        1,
        reported,
        0,
        None,
        _text(obj.get("cwd")) or fallback_project,
        session_id,
        _text(obj.get("gitBranch")),
        message_id,
        request_id,
        obj.get("isSidechain") is True,
        speed if type(speed) is str else None,
    )
