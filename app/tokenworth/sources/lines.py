"""Splitting appended bytes into complete JSON lines, leaving a torn tail for the next read."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from tokenworth.sources.records import BrokenLine, ParseResult, UsageEvent

TORN_LINE = "not valid JSON (torn or corrupt line)"


def consumed_bytes(data: bytes, *, final: bool) -> int:
    """How many bytes of `data` are complete lines.

    A last line without a newline counts only when `final` is set (the read reached the end of
    the file) and it parses as JSON: otherwise it may still be being written, and is left for
    the next read.
    """
    consumed = data.rfind(b"\n") + 1
    if final and consumed < len(data):
        tail = data[consumed:]
        if not tail.strip():
            return len(data)
        try:
            loads_json(tail)
        except ValueError:
            return consumed
        return len(data)
    return consumed


def iter_lines(data: bytes, limit: int) -> Iterator[tuple[int, bytes]]:
    """(byte offset, content) of every line in `data[:limit]`."""
    find = data.find
    start = 0
    while start < limit:
        end = find(b"\n", start, limit)
        if end < 0:
            end = limit
        yield start, data[start:end]
        start = end + 1


_CLOSING_BRACE = ord("}")


def scan_lines(data: bytes, marker: bytes, limit: int) -> tuple[list[tuple[int, bytes]], list[int], int]:
    """One pass over the complete lines of `data[:limit]`.

    Returns (line index, content) of every line holding `marker`, the indexes of the other
    lines that are not JSON objects (torn or corrupt writes), and the number of newlines.
    Lines are found with `bytes.find` (memchr speed) and a well-formed line is recognised by its
    last byte, `}`, without copying it: the other lines are only ever sliced when suspect. This
    runs over every byte of multi-gigabyte transcripts, where most lines are large tool results.
    """
    find = data.find
    marked: list[tuple[int, bytes]] = []
    torn: list[int] = []
    start = index = 0
    while start < limit:
        end = find(b"\n", start, limit)
        if end < 0:
            end = limit
        if find(marker, start, end) >= 0:
            marked.append((index, data[start:end]))
        elif (end == start or data[end - 1] != _CLOSING_BRACE) and _torn(data[start:end]):
            torn.append(index)
        index += 1
        start = end + 1
    newlines = index if limit and data[limit - 1] == 10 else max(index - 1, 0)
    return marked, torn, newlines


def line_number(data: bytes, offset: int, first_line: int) -> int:
    """The 1-based line number of byte `offset`, for messages about broken lines."""
    return first_line + data.count(b"\n", 0, offset)


def loads_json(data: bytes) -> Any:
    """JSON as the agents (Node) write it; ValueError when it is not JSON.

    Node's `JSON.stringify` writes half of a split emoji as a lone `\\ud83d` escape (a tool output
    cut mid-character): valid JSON that orjson and msgspec refuse. Such text is read by the
    standard library instead, with each lone surrogate made U+FFFD, so the line's usage counts
    and no string that cannot be stored as UTF-8 gets further.

    A file some editor or tool saved with a UTF-8 byte-order mark has it before its first line;
    that line is read without it rather than lost. After a crash, a file can hold a run of NUL
    bytes where its last writes were, and the agent's next line follows them on the same line:
    that line is read without them too.
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        if data.startswith(_BOM):
            return loads_json(data[len(_BOM) :])
        if data.startswith(b"\0") and data.strip(b"\0"):
            return loads_json(data.lstrip(b"\0"))
        if b"\\u" not in data:
            raise
    try:
        return _without_lone_surrogates(json.loads(data))
    except RecursionError:  # nested thousands deep: no agent writes that, it is no usage line
        raise ValueError("JSON nested too deep") from None


_BOM = b"\xef\xbb\xbf"


_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_without_lone_surrogates(key): _without_lone_surrogates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    return value


def loads_object(line: bytes) -> dict[str, Any] | None:
    """A JSON object from one line, or None when the line is not one."""
    try:
        value = loads_json(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _torn(line: bytes) -> bool:
    """Whether a line skipped by its markers is no JSON object: only a line that does not end
    in `}` is decoded to find out (as `scan_lines` does)."""
    stripped = line.rstrip()
    return bool(stripped) and not stripped.endswith(b"}") and loads_object(stripped) is None


def parse_json_lines(
    data: bytes,
    *,
    path: str,
    state: dict[str, Any],
    final: bool,
    handle: Callable[[dict[str, Any]], UsageEvent | None],
    markers: tuple[bytes, ...] = (),
) -> ParseResult:
    """Usage events from the complete lines of `data` (the bytes of `path` appended since the last
    read): each JSON object goes to `handle`, which returns an event or None, or raises ValueError
    for a line it cannot read. With `markers`, only lines holding one of them are parsed at all.
    `state["line"]` keeps the line count across reads, for the messages about broken lines."""
    result = ParseResult()
    limit = consumed_bytes(data, final=final)
    first_line = int(state.get("line", 1))
    for offset, line in iter_lines(data, limit):
        if not (any(marker in line for marker in markers) if markers else line.strip()):
            if _torn(line):  # not read for its fields, but a torn write is still counted
                result.broken.append(BrokenLine(path, line_number(data, offset, first_line), TORN_LINE))
            continue
        obj = loads_object(line)
        if obj is None:
            result.broken.append(BrokenLine(path, line_number(data, offset, first_line), TORN_LINE))
            continue
        try:
            event = handle(obj)
        except ValueError as exc:
            result.broken.append(BrokenLine(path, line_number(data, offset, first_line), str(exc)))
            continue
        if event is not None:
            result.events.append(event)
    state["line"] = first_line + data.count(b"\n", 0, limit)
    result.consumed = limit
    return result


def as_int(value: Any) -> int:
    """A token count from JSON: ints as they are, anything else (null, missing, bad) as 0."""
    if type(value) is int:
        return value if value > 0 else 0
    if isinstance(value, float) and value.is_integer() and value > 0:
        return int(value)
    return 0
