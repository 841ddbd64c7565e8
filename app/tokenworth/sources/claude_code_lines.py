"""Claude Code transcript lines decoded into just the fields the importer reads.

msgspec decodes straight into these structs and skips every other field in C, without building
Python objects for it: `message.content` (text, thinking, tool calls) is most of an assistant
line's bytes. It halves the decoding time of a cold import against a full `orjson.loads`. Only
the import loads this module (msgspec costs ~20 ms to import), not a report with nothing new.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Message(msgspec.Struct, gc=False):
    """The parts of `message` that matter; `content` (most of a line's bytes) is skipped unread."""

    id: Any = None
    model: Any = None
    usage: Any = None


class TranscriptLine(
    msgspec.Struct,
    gc=False,
    rename={
        "request_id": "requestId",
        "session_id": "sessionId",
        "git_branch": "gitBranch",
        "is_sidechain": "isSidechain",
        "is_api_error": "isApiErrorMessage",
        "cost_usd": "costUSD",
    },
):
    """One transcript line as the importer reads it. Fields are `Any` so that an odd value is
    judged by the same checks as in `_event_from_line`, never rejected by the decoder."""

    message: Message | None = None
    timestamp: Any = None
    request_id: Any = None
    session_id: Any = None
    cwd: Any = None
    git_branch: Any = None
    is_sidechain: Any = None
    is_api_error: Any = None
    cost_usd: Any = None
    uuid: Any = None


UnreadableLine = (msgspec.DecodeError, ValueError, RecursionError)
"""Raised for a line that is not JSON, not shaped like a transcript line (ValidationError is a
DecodeError), with bytes that are not UTF-8 in a field read here (UnicodeDecodeError), or nested
thousands deep (RecursionError)."""

decode_line = msgspec.json.Decoder(TranscriptLine).decode
