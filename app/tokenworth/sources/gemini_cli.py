"""Gemini CLI chat recordings (`~/.gemini/tmp/<project>/chats/`) into usage events.

A message is re-appended whenever it changes (first without tokens, later with them), so the
last record per message id wins. Gemini's input includes cached tokens and its output excludes
thoughts: both are normalised here (thoughts are billed as output).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tokenworth.core.timeutil import parse_timestamp
from tokenworth.sources.files import walk_files
from tokenworth.sources.lines import as_int, loads_json, parse_json_lines
from tokenworth.sources.records import BrokenLine, ParseResult, UsageEvent

SOURCE = "gemini-cli"
PROVIDER = "google"


def default_root(env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    env = os.environ if env is None else env
    configured = env.get("GEMINI_DATA_DIR", "").strip()
    if configured:
        return Path(configured).expanduser()
    return (Path.home() if home is None else home) / ".gemini" / "tmp"


def find_files(root: Path) -> list[Path]:
    """Every chat recording (`*.json`, `*.jsonl`) inside a `chats/` folder under the root."""
    if not os.path.isdir(root):  # also for a folder that cannot be opened: skipped, not a crash
        return []
    found = (Path(item.path) for item in walk_files(root, (".json", ".jsonl")))  # linked-in folders too
    return [path for path in found if "chats" in path.parts]


def project_from_path(path: str) -> str | None:
    parts = Path(path).parts
    if "chats" in parts:
        index = parts.index("chats")
        if index > 0:
            return parts[index - 1]
    return None


def parse(data: bytes, *, path: str, state: dict[str, Any], final: bool) -> ParseResult:
    """Usage events from a JSONL recording's appended bytes, or a whole legacy JSON file."""
    if path.endswith(".json"):
        return _parse_legacy(data, path)

    def handle(obj: dict[str, Any]) -> UsageEvent | None:
        if "sessionId" in obj and "id" not in obj:  # the recording's header
            state["session"] = obj.get("sessionId")
            dirs = obj.get("directories")
            if isinstance(dirs, list) and dirs and isinstance(dirs[0], str):
                state["project"] = dirs[0]
            return None
        return _event(obj, path, state.get("session"), state.get("project"))

    return parse_json_lines(data, path=path, state=state, final=final, handle=handle)


def _parse_legacy(data: bytes, path: str) -> ParseResult:
    result = ParseResult(consumed=len(data))
    try:
        doc = loads_json(data)
    except ValueError:
        result.consumed = 0  # maybe mid-write: read again next time
        result.broken.append(BrokenLine(path, 1, "not valid JSON (torn or corrupt file)"))
        return result
    if not isinstance(doc, dict) or not isinstance(doc.get("messages"), list):
        result.broken.append(BrokenLine(path, 1, "no messages list"))
        return result
    session = doc.get("sessionId") if isinstance(doc.get("sessionId"), str) else None
    dirs = doc.get("directories")
    project = dirs[0] if isinstance(dirs, list) and dirs and isinstance(dirs[0], str) else None
    for index, message in enumerate(doc["messages"], start=1):
        if not isinstance(message, dict):
            continue
        try:
            event = _event(message, path, session, project)
        except ValueError as exc:
            result.broken.append(BrokenLine(path, index, f"message {index}: {exc}"))
            continue
        if event is not None:
            result.events.append(event)
    return result


def _event(obj: dict[str, Any], path: str, session: Any, project: Any) -> UsageEvent | None:
    if obj.get("type") != "gemini":
        return None
    tokens = obj.get("tokens")
    if not isinstance(tokens, dict):
        return None  # not yet answered; a later record of the same id carries the tokens
    message_id = obj.get("id")
    if not isinstance(message_id, str) or not message_id:
        raise ValueError("gemini message without an id")
    model = obj.get("model")
    if not isinstance(model, str) or not model:
        raise ValueError("gemini message without a model")
    stamp = obj.get("timestamp")
    if not isinstance(stamp, str):
        raise ValueError("message without a timestamp")
    try:
        timestamp = parse_timestamp(stamp)
    except ValueError:
        raise ValueError(f"unreadable timestamp {stamp[:40]!r}") from None
    prompt = as_int(tokens.get("input")) + as_int(tokens.get("tool"))
    cached = min(as_int(tokens.get("cached")), prompt)
    thoughts = as_int(tokens.get("thoughts"))
    output = as_int(tokens.get("output")) + thoughts
    if prompt == 0 and output == 0:
        return None
    session_id = session if isinstance(session, str) else None
    return UsageEvent(
        source=SOURCE,
        provider=PROVIDER,
        model=model,
        timestamp=timestamp,
        dedupe_key=f"gemini:{session_id}:{message_id}",
        input_tokens=prompt - cached,
        output_tokens=output,
        cache_read_tokens=cached,
        reasoning_tokens=thoughts,
        project=project if isinstance(project, str) else project_from_path(path),
        session_id=session_id,
        message_id=message_id,
    )
