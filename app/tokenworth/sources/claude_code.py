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
from typing import TYPE_CHECKING, Any

from tokenworth.core.timeutil import parse_timestamp
from tokenworth.sources.files import LogFile, file_identity, walk_files
from tokenworth.sources.lines import TORN_LINE, as_int, consumed_bytes, loads_object, scan_lines
from tokenworth.sources.records import BrokenLine, ParseResult, UsageEvent

if TYPE_CHECKING:
    from tokenworth.sources.claude_code_lines import TranscriptLine

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
    if folder.name != "projects" and os.path.isdir(folder / "projects"):  # False, not an error, if unopenable
        return folder / "projects"
    return folder


def find_files(roots: Iterable[Path]) -> list[LogFile]:
    """Every transcript under the roots, subagent files included, each real file once."""
    seen: set[tuple[int, int]] = set()
    found: list[LogFile] = []
    for root in roots:
        for item in walk_files(root, (".jsonl",)):
            assert item.stat is not None
            identity = file_identity(item.stat)
            if identity is None:  # no id to tell a second path to the same file by
                found.append(item)
            elif identity not in seen:
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
    marked, torn, newlines = scan_lines(data, _USAGE_MARKER, limit)
    from tokenworth.sources.claude_code_lines import UnreadableLine
    from tokenworth.sources.claude_code_lines import decode_line as decode

    for index, line in marked:
        try:
            decoded: TranscriptLine | None = decode(line)
        except UnreadableLine:
            decoded = None  # not the usual shape (or not JSON): the generic reading decides
        try:
            if decoded is not None:
                event = _event_from_struct(decoded, fallback_project)
            else:
                obj = loads_object(line)
                if obj is None:
                    broken.append(BrokenLine(path, first_line + index, TORN_LINE))
                    continue
                event = _event_from_line(obj, fallback_project)
        except _BrokenLineError as exc:
            broken.append(BrokenLine(path, first_line + index, str(exc)))
            continue
        if event is not None:
            events.append(event)
    broken.extend(BrokenLine(path, first_line + index, TORN_LINE) for index in torn)
    state["line"] = first_line + newlines
    result.consumed = limit
    return result


def _event_from_struct(line: TranscriptLine, fallback_project: str | None) -> UsageEvent | None:
    message = line.message
    if message is None:
        return None
    return _event(
        usage=message.usage,
        model=message.model,
        message_id=message.id,
        stamp=line.timestamp,
        request_id=line.request_id,
        session_id=line.session_id,
        cwd=line.cwd,
        git_branch=line.git_branch,
        is_sidechain=line.is_sidechain,
        is_api_error=line.is_api_error,
        cost_usd=line.cost_usd,
        line_uuid=line.uuid,
        fallback_project=fallback_project,
    )


class _BrokenLineError(ValueError):
    pass


def _text(value: Any) -> str | None:
    return value if type(value) is str and value else None


def _event_from_line(obj: dict[str, Any], fallback_project: str | None) -> UsageEvent | None:
    """The event of a line decoded generically (a line whose shape the fast reading refused)."""
    message = obj.get("message")
    if type(message) is not dict:
        return None
    get = obj.get
    return _event(
        usage=message.get("usage"),
        model=message.get("model"),
        message_id=message.get("id"),
        stamp=get("timestamp"),
        request_id=get("requestId"),
        session_id=get("sessionId"),
        cwd=get("cwd"),
        git_branch=get("gitBranch"),
        is_sidechain=get("isSidechain"),
        is_api_error=get("isApiErrorMessage"),
        cost_usd=get("costUSD"),
        line_uuid=get("uuid"),
        fallback_project=fallback_project,
    )


def _event(
    *,
    usage: Any,
    model: Any,
    message_id: Any,
    stamp: Any,
    request_id: Any,
    session_id: Any,
    cwd: Any,
    git_branch: Any,
    is_sidechain: Any,
    is_api_error: Any,
    cost_usd: Any,
    line_uuid: Any,
    fallback_project: str | None,
) -> UsageEvent | None:
    """One line's usage event from its raw JSON values; None when the line carries no spend."""
    if type(usage) is not dict:
        return None  # a tool result that happens to mention usage: no spend of ours
    if model == _SYNTHETIC_MODEL or is_api_error is True:
        return None  # made locally, never billed
    if type(model) is not str or not model:
        raise _BrokenLineError("assistant line without a model")
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

    message_id = _text(message_id)
    request_id = _text(request_id)
    session_id = _text(session_id)
    if message_id and request_id:
        key = f"cc:{message_id}:{request_id}"
    else:
        line_id = line_uuid or f"{stamp}:{message_id}"
        key = f"cc:line:{session_id}:{line_id}"

    reported = None
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
        _text(cwd) or fallback_project,
        session_id,
        _text(git_branch),
        message_id,
        request_id,
        is_sidechain is True,
        speed if type(speed) is str else None,
    )
