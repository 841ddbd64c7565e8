"""Realistic Claude Code log trees of a chosen size, for the import benchmark and the ccusage parity test.

Writes `<out>/projects/<project-dir>/<session>.jsonl` (plus `<session>/subagents/agent-*.jsonl`)
as compact JSON lines, the way Claude Code writes them: many projects and sessions over 60-90
days, user lines carrying large tool results, each API response streamed as several lines that
share one message.id + requestId with growing output_tokens, subagent (sidechain) files, one of
which replays a parent message under another requestId, resumed sessions that copy earlier lines,
Task results whose `toolUseResult` holds a `"usage":{` object that is not spend, three models,
5-minute and 1-hour cache writes, `<synthetic>` API-error lines, a legacy session with `costUSD`
and a few torn (truncated) lines.

Beside `projects/` it writes `expected-daily-utc.json`: the token totals per UTC day and model
that a correct reader must report (deduplicated by the rules in usage-apis.md 5.1), a third
opinion next to Tokenworth and ccusage.

    python tests/bench/generate_logs.py --size 200MB --out /work/bench-data/200mb --seed 7
    python tests/bench/generate_logs.py --append-session --out /work/bench-data/200mb --seed 99
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

SONNET = "claude-sonnet-4-5-20250929"
OPUS = "claude-opus-4-5-20251101"
HAIKU = "claude-haiku-4-5-20251001"
LEGACY_MODEL = "claude-sonnet-4-20250514"
MAIN_MODELS = ((SONNET, 0.55), (OPUS, 0.32), (HAIKU, 0.13))
VERSIONS = ("2.0.62", "2.0.76", "2.1.3", "2.1.14", "2.1.27")
TOOLS = ("Read", "Bash", "Edit", "Grep", "Glob", "Write", "TodoWrite", "WebFetch")
TOOL_WEIGHTS = (30, 25, 15, 10, 6, 5, 5, 4)
PROJECT_NAMES = (  # noqa: SIM905 (a word list reads better as words)
    "tokenworth api-gateway billing-service web-dashboard infra-terraform ml-pipeline docs-site "
    "mobile-app auth-service data-warehouse cli-tools search-indexer payments notification-hub "
    "design-system etl-jobs k8s-manifests chat-backend analytics-sdk video-transcoder "
    "recommendation-engine admin-portal edge-proxy feature-flags crash-reporter image-resizer "
    "ledger-core scheduler geo-service email-templates load-tester config-server audit-log "
    "sandbox-runner webhooks rate-limiter i18n-bundles perf-lab release-bot"
).split()
BRANCHES = ("main", "main", "main", "develop", "feature/usage-report", "fix/timezone-cut", "refactor/db")
EXPECTED_FILE = "expected-daily-utc.json"
LONG_CONTEXT_TOKENS = 200_000
"""Above this much input in one request, Sonnet's long-context prices apply."""
DEFAULT_END = date(2026, 11, 20)
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_WORDS = (  # noqa: SIM905 (a word list reads better as words)
    "def class return import from self value result error config session token usage cost model "
    "request response parser import_file offset cursor ledger record price rate cache input output "
    "if else for while try except raise await async yield lambda None True False len dict list "
    "str int bytes path open read write json orjson loads dumps daily monthly report zone day "
    "café naïve über 日本語 données → ✅ ⚠️ — “quoted” 'single' \\escaped\\ tab here"
).split()


def dumps(obj: Any) -> str:
    """One line exactly as Claude Code writes it: compact separators, raw UTF-8."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def parse_size(text: str) -> int:
    """'200MB', '1GB', '512KB' or a byte count; decimal units (1 MB = 10^6 bytes)."""
    units = {"KB": 10**3, "MB": 10**6, "GB": 10**9, "B": 1}
    upper = text.strip().upper()
    for suffix, factor in units.items():
        if upper.endswith(suffix):
            return int(float(upper[: -len(suffix)]) * factor)
    return int(upper)


def _iso(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


@dataclass
class Totals:
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    requests: int = 0
    long_context: int = 0


@dataclass
class _Session:
    """Running state of one transcript being written."""

    session_id: str
    cwd: str
    project_dir: Path
    version: str
    branch: str
    model: str
    ttl: str  # "5m", "1h" or "mixed"
    clock: int  # epoch ms
    context: int = 0
    pending: int = 0
    last_uuid: str | None = None
    last_request_at: int = 0
    compact_at: int = 155_000
    lines: list[str] = field(default_factory=list)
    last_final: dict[str, Any] | None = None


class TreeWriter:
    """Writes sessions into `<out>/projects`, keeping the deduplicated truth as it goes."""

    def __init__(self, out: Path, seed: int, *, end: date = DEFAULT_END, days: int = 75) -> None:
        self.out = out
        self.projects_root = out / "projects"
        self.rng = random.Random(seed)
        self.end = end
        self.days = days
        self.bytes_written = 0
        self.files_written = 0
        self.long_context_share = 0.0
        self.torn_share = 0.0004
        self.torn_tail: dict[str, str] | None = None
        self.force_torn = False
        # (message.id, requestId) -> (total, utc day, model, (input, output, cache_read, cache_write))
        self.truth: dict[tuple[str, str], tuple[int, str, str, tuple[int, int, int, int]]] = {}
        self.counts: dict[str, int] = {
            "sessions": 0,
            "subagent_files": 0,
            "sidechain_replays": 0,
            "resumed_copies": 0,
            "synthetic_lines": 0,
            "torn_lines": 0,
            "legacy_lines": 0,
            "task_usage_results": 0,
            "stream_lines": 0,
        }
        self._pool = self._text_pool(3_000_000)
        self._b64 = "".join(self.rng.choices(_B62 + "+/", k=200_000))

    # ---- ids and text -------------------------------------------------------------------------
    def _uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def _b62(self, n: int) -> str:
        return "".join(self.rng.choices(_B62, k=n))

    def _text_pool(self, size: int) -> str:
        rng = self.rng
        parts: list[str] = []
        total = 0
        while total < size:
            indent = "    " * rng.randint(0, 3)
            words = " ".join(rng.choices(_WORDS, k=rng.randint(2, 14)))
            line = f'{indent}{words} = "{rng.choice(_WORDS)}"  # {rng.randint(0, 99999)}\n'
            parts.append(line)
            total += len(line)
        return "".join(parts)

    def _text(self, length: int) -> str:
        start = self.rng.randrange(0, len(self._pool) - length - 1)
        return self._pool[start : start + length]

    def _result_size(self) -> int:
        # Median ~2.5 kB, long tail up to 120 kB (whole files, long command output).
        return int(min(120_000, max(40, self.rng.lognormvariate(7.8, 1.3))))

    # ---- lines ----------------------------------------------------------------------------------
    def _base(self, s: _Session, *, sidechain: bool, agent_id: str | None) -> dict[str, Any]:
        line: dict[str, Any] = {
            "parentUuid": s.last_uuid,
            "isSidechain": sidechain,
            "userType": "external",
            "cwd": s.cwd,
            "sessionId": s.session_id,
            "version": s.version,
            "gitBranch": s.branch,
        }
        if agent_id is not None:
            line["agentId"] = agent_id
        return line

    def _emit(self, s: _Session, obj: dict[str, Any]) -> None:
        s.lines.append(dumps(obj))
        if "uuid" in obj:
            s.last_uuid = obj["uuid"]

    def _user_prompt(self, s: _Session, *, sidechain: bool = False, agent_id: str | None = None) -> None:
        line = self._base(s, sidechain=sidechain, agent_id=agent_id)
        line["type"] = "user"
        line["message"] = {"role": "user", "content": self._text(self.rng.randint(40, 900))}
        line["uuid"] = self._uuid()
        line["timestamp"] = _iso(s.clock)
        self._emit(s, line)
        s.pending += self.rng.randint(20, 400)

    def _tool_use_block(self, tool: str, s: _Session) -> dict[str, Any]:
        if tool in ("Read", "Edit", "Write"):
            tool_input: dict[str, Any] = {"file_path": f"{s.cwd}/src/{self._b62(8).lower()}.py"}
            if tool != "Read":
                tool_input["old_string" if tool == "Edit" else "content"] = self._text(self.rng.randint(80, 3000))
                if tool == "Edit":
                    tool_input["new_string"] = self._text(self.rng.randint(80, 3000))
        elif tool == "Bash":
            tool_input = {"command": "pytest -q tests/ && ruff check .", "description": "Run the tests"}
        elif tool == "Task":
            tool_input = {
                "description": "Explore the code base",
                "prompt": self._text(self.rng.randint(200, 1500)),
                "subagent_type": "Explore",
            }
        else:
            tool_input = {"pattern": self._b62(6), "path": s.cwd}
        return {"type": "tool_use", "id": "toolu_01" + self._b62(22), "name": tool, "input": tool_input}

    def _usage(self, s: _Session, idle_ms: int) -> tuple[int, int, int, int, int]:
        """(input, cache_read, write_5m, write_1h, output) of the next request; updates the context."""
        rng = self.rng
        if s.context == 0 or (s.ttl == "5m" and idle_ms > 300_000) or idle_ms > 3_600_000:
            # New session or an expired cache: the shared system prompt is read, the rest written.
            prefix = rng.randint(10_000, 16_000)
            read = prefix if rng.random() < 0.8 else 0
            write = max(s.context, prefix + rng.randint(2_000, 9_000)) - read + s.pending
        else:
            read = s.context
            write = s.pending
        input_tokens = rng.randint(1, 12) if rng.random() < 0.97 else rng.randint(200, 6000)
        output = int(min(32_000, max(1, rng.lognormvariate(5.3, 1.1))))
        if s.ttl == "1h":
            w5, w1 = 0, write
        elif s.ttl == "mixed":
            w1 = min(write, rng.randint(0, 4000))
            w5 = write - w1
        else:
            w5, w1 = write, 0
        s.context = read + write + input_tokens + output
        s.pending = 0
        return input_tokens, read, w5, w1, output

    def _response(
        self,
        s: _Session,
        *,
        model: str,
        final: bool,
        tool: str | None,
        sidechain: bool = False,
        agent_id: str | None = None,
    ) -> tuple[dict[str, Any] | None, tuple[int, int, int, int]]:
        """One API response streamed as 1-4 lines; returns its tool_use block (if any) and the
        (input, output, cache_read, cache_write) a reader should count for it."""
        rng = self.rng
        limit = s.compact_at if model == SONNET else min(s.compact_at, 155_000)
        if s.context + s.pending > limit:
            self._compact(s, sidechain=sidechain, agent_id=agent_id)
        idle = s.clock - s.last_request_at if s.last_request_at else 0
        s.last_request_at = s.clock
        input_tokens, read, w5, w1, output = self._usage(s, idle)
        blocks: list[dict[str, Any]] = []
        if model != HAIKU and rng.random() < 0.55:
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": self._text(rng.randint(100, 2500)),
                    "signature": self._b64[: rng.randint(300, 900)],
                }
            )
        if final or rng.random() < 0.5:
            blocks.append({"type": "text", "text": self._text(rng.randint(30, 1800))})
        tool_block = None
        if not final and tool is not None:
            tool_block = self._tool_use_block(tool, s)
            blocks.append(tool_block)
        if not blocks:
            blocks.append({"type": "text", "text": self._text(rng.randint(30, 400))})
        message_id = "msg_01" + self._b62(22)
        request_id = "req_011C" + self._b62(20)
        parts = len(blocks)
        torn_at = rng.randrange(parts) if rng.random() < self.torn_share else -1
        if self.force_torn and parts >= 2:
            torn_at, self.force_torn = parts - 1, False  # the final line is lost: the partial counts
        final_tokens = (0, 0, 0, 0)
        for index, block in enumerate(blocks, start=1):
            last = index == parts
            out_now = output if last else max(1, output * index // (parts + 1))
            usage = {
                "input_tokens": input_tokens,
                "cache_creation_input_tokens": w5 + w1,
                "cache_read_input_tokens": read,
                "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1},
                "output_tokens": out_now,
                "service_tier": "standard",
            }
            line = self._base(s, sidechain=sidechain, agent_id=agent_id)
            line["message"] = {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [block],
                "stop_reason": ("tool_use" if tool_block else "end_turn") if last else None,
                "stop_sequence": None,
                "usage": usage,
            }
            line["requestId"] = request_id
            line["type"] = "assistant"
            line["uuid"] = self._uuid()
            line["timestamp"] = _iso(s.clock)
            self.counts["stream_lines"] += 1
            if index - 1 == torn_at:
                text = dumps(line)
                s.lines.append(text[: rng.randint(20, len(text) - 2)])
                self.counts["torn_lines"] += 1
            else:
                self._emit(s, line)
                tokens = (input_tokens, out_now, read, w5 + w1)
                self._count(message_id, request_id, s.clock, model, tokens)
                if sum(tokens) > sum(final_tokens):
                    final_tokens = tokens
                if last and not sidechain:
                    s.last_final = line
            s.clock += rng.randint(300, 9000)
        return tool_block, final_tokens

    def _count(self, mid: str, rid: str, ms: int, model: str, tokens: tuple[int, int, int, int]) -> None:
        total = sum(tokens)
        kept = self.truth.get((mid, rid))
        if kept is None or total > kept[0]:
            day = time.strftime("%Y-%m-%d", time.gmtime(ms // 1000))
            self.truth[(mid, rid)] = (total, day, model, tokens)

    def _tool_result(self, s: _Session, tool_block: dict[str, Any], *, sidechain: bool, agent_id: str | None) -> None:
        rng = self.rng
        tool = tool_block["name"]
        size = self._result_size() if tool in ("Read", "Bash", "Grep", "WebFetch") else rng.randint(60, 600)
        content = self._text(size)
        line = self._base(s, sidechain=sidechain, agent_id=agent_id)
        line["type"] = "user"
        line["message"] = {
            "role": "user",
            "content": [{"tool_use_id": tool_block["id"], "type": "tool_result", "content": content}],
        }
        line["uuid"] = self._uuid()
        line["timestamp"] = _iso(s.clock)
        if tool == "Read":
            line["toolUseResult"] = {
                "type": "text",
                "file": {
                    "filePath": tool_block["input"]["file_path"],
                    "content": content,
                    "numLines": content.count("\n") + 1,
                    "startLine": 1,
                    "totalLines": content.count("\n") + 1,
                },
            }
        elif tool == "Bash":
            line["toolUseResult"] = {
                "stdout": content,
                "stderr": "",
                "interrupted": False,
                "isImage": False,
            }
        else:
            line["toolUseResult"] = {"type": "update", "filePath": s.cwd}
        self._emit(s, line)
        s.pending += size // 4 + rng.randint(5, 60)

    def _task(self, s: _Session, tool_block: dict[str, Any], *, replay: bool) -> None:
        """A Task tool: a subagent transcript, then the parent's tool result with a usage object."""
        rng = self.rng
        agent_id = f"{rng.getrandbits(32):08x}"
        model = HAIKU if rng.random() < 0.6 else s.model
        sub = _Session(
            session_id=s.session_id,
            cwd=s.cwd,
            project_dir=s.project_dir,
            version=s.version,
            branch=s.branch,
            model=model,
            ttl="5m",
            clock=s.clock + rng.randint(200, 2000),
        )
        if replay and s.last_final is not None:
            # A sidechain replays the parent's last response: same message.id, another requestId.
            copy = json.loads(dumps(s.last_final))
            copy["isSidechain"] = True
            copy["agentId"] = agent_id
            copy["requestId"] = "req_011C" + self._b62(20)
            copy["uuid"] = self._uuid()
            copy["timestamp"] = _iso(sub.clock)
            self._emit(sub, copy)
            self.counts["sidechain_replays"] += 1
        self._user_prompt(sub, sidechain=True, agent_id=agent_id)
        totals = [0, 0, 0, 0]
        steps = rng.randint(2, 14)
        for step in range(steps):
            final = step == steps - 1
            tool = None if final else rng.choices(("Read", "Grep", "Glob", "Bash"), (5, 3, 2, 2))[0]
            block, tokens = self._response(sub, model=model, final=final, tool=tool, sidechain=True, agent_id=agent_id)
            for i, value in enumerate(tokens):
                totals[i] += value
            if block is not None:
                sub.clock += rng.randint(100, 4000)
                self._tool_result(sub, block, sidechain=True, agent_id=agent_id)
        path = s.project_dir / s.session_id / "subagents" / f"agent-{agent_id}.jsonl"
        self._write(path, sub.lines)
        self.counts["subagent_files"] += 1
        s.clock = sub.clock + rng.randint(200, 2000)
        line = self._base(s, sidechain=False, agent_id=None)
        line["type"] = "user"
        text = self._text(rng.randint(300, 4000))
        line["message"] = {
            "role": "user",
            "content": [
                {
                    "tool_use_id": tool_block["id"],
                    "type": "tool_result",
                    "content": [{"type": "text", "text": text}],
                }
            ],
        }
        line["uuid"] = self._uuid()
        line["timestamp"] = _iso(s.clock)
        line["toolUseResult"] = {
            "status": "completed",
            "prompt": tool_block["input"]["prompt"][:200],
            "agentId": agent_id,
            "content": [{"type": "text", "text": text}],
            "totalDurationMs": rng.randint(5_000, 300_000),
            "totalTokens": sum(totals),
            "totalToolUseCount": steps - 1,
            "usage": {
                "input_tokens": totals[0],
                "cache_creation_input_tokens": totals[3],
                "cache_read_input_tokens": totals[2],
                "cache_creation": {"ephemeral_5m_input_tokens": totals[3], "ephemeral_1h_input_tokens": 0},
                "output_tokens": totals[1],
                "service_tier": "standard",
            },
        }
        self._emit(s, line)
        self.counts["task_usage_results"] += 1
        s.pending += len(text) // 4

    def _synthetic(self, s: _Session) -> None:
        line = self._base(s, sidechain=False, agent_id=None)
        line["message"] = {
            "id": self._uuid(),
            "type": "message",
            "role": "assistant",
            "model": "<synthetic>",
            "content": [
                {
                    "type": "text",
                    "text": 'API Error: 529 {"type":"error","error":{"type":"overloaded_error"}}',
                }
            ],
            "stop_reason": "stop_sequence",
            "stop_sequence": "",
            "usage": {
                "input_tokens": 0,
                "output_tokens": 0,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "server_tool_use": {"web_search_requests": 0},
                "service_tier": None,
            },
        }
        line["type"] = "assistant"
        line["uuid"] = self._uuid()
        line["timestamp"] = _iso(s.clock)
        line["isApiErrorMessage"] = True
        self._emit(s, line)
        self.counts["synthetic_lines"] += 1

    def _compact(self, s: _Session, *, sidechain: bool, agent_id: str | None) -> None:
        """Claude Code's auto-compact: a boundary, a summary, and a fresh (smaller) context."""
        line = self._base(s, sidechain=sidechain, agent_id=agent_id)
        line.update(
            {
                "type": "system",
                "subtype": "compact_boundary",
                "content": "Conversation compacted",
                "isMeta": False,
                "timestamp": _iso(s.clock),
                "uuid": self._uuid(),
                "level": "info",
                "compactMetadata": {"trigger": "auto", "preTokens": s.context},
            }
        )
        self._emit(s, line)
        summary = self._base(s, sidechain=sidechain, agent_id=agent_id)
        summary["type"] = "user"
        summary["message"] = {"role": "user", "content": self._text(self.rng.randint(2000, 9000))}
        summary["isCompactSummary"] = True
        summary["uuid"] = self._uuid()
        summary["timestamp"] = _iso(s.clock)
        self._emit(s, summary)
        s.context = 0
        s.pending = self.rng.randint(2_000, 6_000)

    # ---- sessions -------------------------------------------------------------------------------
    def _write(self, path: Path, lines: list[str], *, torn_tail: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "\n".join(lines) + ("" if torn_tail else "\n")
        data = text.encode()
        with path.open("wb") as handle:
            handle.write(data)
        self.bytes_written += len(data)
        self.files_written += 1

    def session(
        self,
        project: tuple[str, Path],
        start_ms: int,
        requests: int,
        *,
        model: str | None = None,
        force_task: bool = False,
        force_replay: bool = False,
        force_synthetic: bool = False,
        resume_from: list[str] | None = None,
        torn_tail: bool = False,
    ) -> tuple[Path, list[str]]:
        """Write one transcript with about `requests` API calls; returns its path and lines."""
        rng = self.rng
        cwd, project_dir = project
        main_model = model or rng.choices([m for m, _ in MAIN_MODELS], [w for _, w in MAIN_MODELS])[0]
        s = _Session(
            session_id=self._uuid(),
            cwd=cwd,
            project_dir=project_dir,
            version=rng.choice(VERSIONS),
            branch=rng.choice(BRANCHES),
            model=main_model,
            ttl=rng.choices(("5m", "1h", "mixed"), (0.6, 0.25, 0.15))[0],
            clock=start_ms,
        )
        if main_model == SONNET and rng.random() < self.long_context_share:
            # A 1M-context session that starts by reading a large part of the code base.
            s.compact_at = 600_000
            s.pending = rng.randint(150_000, 260_000)
        if resume_from:
            s.lines.append(dumps({"type": "summary", "summary": "Resumed work", "leafUuid": self._uuid()}))
            s.lines.extend(resume_from)
            self.counts["resumed_copies"] += len(resume_from)
        s.lines.append(
            dumps(
                {
                    "type": "file-history-snapshot",
                    "messageId": self._uuid(),
                    "snapshot": {
                        "messageId": self._uuid(),
                        "trackedFileBackups": {},
                        "timestamp": _iso(start_ms),
                    },
                    "isSnapshotUpdate": False,
                }
            )
        )
        done = 0
        tasks_done = 0
        while done < requests:
            self._user_prompt(s)
            s.clock += rng.randint(500, 3000)
            loop = max(1, min(requests - done, int(rng.expovariate(1 / 7)) + 1))
            for step in range(loop):
                final = step == loop - 1
                if rng.random() < 0.04:
                    s.model = rng.choices([m for m, _ in MAIN_MODELS], [w for _, w in MAIN_MODELS])[0]
                want_task = (force_task and tasks_done == 0 and s.last_final is not None) or rng.random() < 0.02
                tool = None if final else ("Task" if want_task else rng.choices(TOOLS, TOOL_WEIGHTS)[0])
                block, _tokens = self._response(s, model=s.model, final=final, tool=tool)
                done += 1
                if block is not None:
                    s.clock += rng.randint(200, 20_000)
                    if block["name"] == "Task":
                        self._task(s, block, replay=(force_replay and tasks_done == 0) or rng.random() < 0.15)
                        tasks_done += 1
                    else:
                        self._tool_result(s, block, sidechain=False, agent_id=None)
                if (force_synthetic and done == 2) or rng.random() < 0.003:
                    self._synthetic(s)
                s.clock += rng.randint(1000, 15_000)
            # The user reads, thinks, types: sometimes long enough for the 5-minute cache to expire.
            s.clock += int(rng.lognormvariate(11.2, 1.1))
        if torn_tail:
            # Claude Code was writing a response when the file was copied: half a line, no newline.
            assert s.last_final is not None
            line = json.loads(dumps(s.last_final))
            line["message"]["id"] = "msg_01" + self._b62(22)
            line["requestId"] = "req_011C" + self._b62(20)
            line["uuid"] = self._uuid()
            line["timestamp"] = _iso(s.clock)
            text = dumps(line)
            cut = text.index('"usage":{') + 40
            s.lines.append(text[:cut])
            self.counts["torn_lines"] += 1
        path = project_dir / f"{s.session_id}.jsonl"
        if torn_tail:
            # What Claude Code writes next: a test appends it to see the finished line counted.
            self.torn_tail = {"path": str(path.relative_to(self.out)), "rest": text[cut:] + "\n"}
        self._write(path, s.lines, torn_tail=torn_tail)
        self.counts["sessions"] += 1
        return path, s.lines

    def legacy_session(self, project: tuple[str, Path]) -> None:
        """A pre-1.0.9 session (May 2025): no cache_creation split, and `costUSD` on each line."""
        cwd, project_dir = project
        session_id = self._uuid()
        lines = []
        clock = int(datetime(2025, 5, 20, 10, 0, tzinfo=UTC).timestamp() * 1000)
        parent = None
        for cost, (inp, cw, cr, out) in ((0.003855, (10, 500, 4000, 50)), (0.0241785, (4, 3200, 9100, 688))):
            uuid = self._uuid()
            line = {
                "parentUuid": parent,
                "isSidechain": False,
                "userType": "external",
                "cwd": cwd,
                "sessionId": session_id,
                "version": "1.0.8",
                "message": {
                    "id": "msg_01" + self._b62(22),
                    "type": "message",
                    "role": "assistant",
                    "model": LEGACY_MODEL,
                    "content": [{"type": "text", "text": "ok"}],
                    "stop_reason": "end_turn",
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": inp,
                        "cache_creation_input_tokens": cw,
                        "cache_read_input_tokens": cr,
                        "output_tokens": out,
                        "service_tier": "standard",
                    },
                },
                "costUSD": cost,
                "requestId": "req_011C" + self._b62(20),
                "type": "assistant",
                "uuid": uuid,
                "timestamp": _iso(clock),
            }
            lines.append(dumps(line))
            self._count(line["message"]["id"], line["requestId"], clock, LEGACY_MODEL, (inp, out, cr, cw))
            self.counts["legacy_lines"] += 1
            parent = uuid
            clock += 40_000
        self._write(project_dir / f"{session_id}.jsonl", lines)

    # ---- whole trees ----------------------------------------------------------------------------
    def projects(self, count: int) -> list[tuple[str, Path]]:
        found = []
        for index in range(count):
            name = PROJECT_NAMES[index % len(PROJECT_NAMES)] + ("" if index < len(PROJECT_NAMES) else f"-{index}")
            cwd = f"/home/dev/work/{name}"
            found.append((cwd, self.projects_root / cwd.replace("/", "-")))
        return found

    def _start_ms(self) -> int:
        """A session start: a random day of the range, in a developer's day (UTC-8, 08:00-23:00)."""
        day = self.end - timedelta(days=self.rng.randrange(self.days))
        local_minutes = self.rng.randint(8 * 60, 23 * 60)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=local_minutes + 8 * 60)
        return int(start.timestamp() * 1000) + self.rng.randrange(60_000)

    def tree(self, target_bytes: int, *, progress: bool = False) -> None:
        rng = self.rng
        small = target_bytes < 30 * 10**6
        project_count = max(4, min(40, target_bytes // (25 * 10**6)))
        projects = self.projects(project_count)
        weights = [1 / (i + 1) ** 0.9 for i in range(project_count)]
        self.legacy_session(projects[0])
        median = 18 if small else 70
        self.force_torn = True
        index = 0
        recent: list[list[str]] = []
        reported = 0
        while self.bytes_written < target_bytes:
            project = projects[0] if index < 3 else rng.choices(projects, weights)[0]
            requests = max(1, int(rng.lognormvariate(math.log(median), 1.0)))
            resume = None
            if recent and (index == 1 or rng.random() < 0.03):
                # Resuming copies earlier lines into the new file (same ids: a dedupe case).
                earlier = rng.choice(recent)
                resume = earlier[: max(1, len(earlier) // 3)]
            _path, lines = self.session(
                project,
                self._start_ms(),
                requests,
                model=(SONNET, OPUS, HAIKU)[index] if index < 3 else None,
                force_task=index == 0,
                force_replay=index == 0,
                force_synthetic=index == 0,
                resume_from=resume,
                torn_tail=index == 2,
            )
            recent = ([*recent, lines])[-5:]
            index += 1
            if progress and self.bytes_written - reported > 100 * 10**6:
                reported = self.bytes_written
                print(f"  {self.bytes_written / 1e6:,.0f} MB", file=sys.stderr)

    def expected(self) -> dict[str, Any]:
        """Token totals per UTC day and model after (message.id, requestId) dedupe."""
        days: dict[str, dict[str, Totals]] = {}
        for _total, day, model, (inp, out, read, write) in self.truth.values():
            t = days.setdefault(day, {}).setdefault(model, Totals())
            t.input += inp
            t.output += out
            t.cache_read += read
            t.cache_write += write
            t.requests += 1
            t.long_context += inp + read + write > LONG_CONTEXT_TOKENS
        return {
            "days": {
                day: {
                    model: {
                        "input_tokens": t.input,
                        "output_tokens": t.output,
                        "cache_read_tokens": t.cache_read,
                        "cache_write_tokens": t.cache_write,
                        "requests": t.requests,
                        "long_context_requests": t.long_context,
                    }
                    for model, t in sorted(models.items())
                }
                for day, models in sorted(days.items())
            },
            "counts": self.counts,
            "bytes": self.bytes_written,
            "files": self.files_written,
            "torn_tail": self.torn_tail,
        }


def generate(
    out: Path,
    size: int,
    seed: int = 7,
    *,
    end: date = DEFAULT_END,
    days: int = 75,
    long_context_share: float = 0.0,
    progress: bool = False,
) -> dict[str, Any]:
    """Write a fresh tree of about `size` bytes under `out`; returns the expected totals."""
    if (out / "projects").exists():
        shutil.rmtree(out / "projects")
    out.mkdir(parents=True, exist_ok=True)
    writer = TreeWriter(out, seed, end=end, days=days)
    writer.long_context_share = long_context_share
    writer.tree(size, progress=progress)
    expected = writer.expected()
    expected["seed"] = seed
    (out / EXPECTED_FILE).write_text(json.dumps(expected, indent=1, sort_keys=True))
    return expected


def append_session(out: Path, seed: int, *, requests: int = 150) -> list[Path]:
    """One new session (and any subagent files) in the tree's first project, on its last day.

    Returns every file written, so a benchmark can remove them again.
    """
    projects_root = out / "projects"
    project_dirs = sorted(p for p in projects_root.iterdir() if p.is_dir())
    if not project_dirs:
        raise SystemExit(f"{projects_root} has no project folder: generate a tree first")
    before = set(projects_root.rglob("*.jsonl"))
    writer = TreeWriter(out, seed)
    project_dir = project_dirs[0]
    cwd = project_dir.name.replace("-", "/", 4) if project_dir.name.startswith("-") else project_dir.name
    start = datetime(DEFAULT_END.year, DEFAULT_END.month, DEFAULT_END.day, 18, tzinfo=UTC)
    writer.session((cwd, project_dir), int(start.timestamp() * 1000), requests)
    return sorted(set(projects_root.rglob("*.jsonl")) - before)


def _iter_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="200MB", help="about this much log data (200MB, 1GB, 5MB...)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write (gets projects/ inside)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=75, help="spread sessions over this many days")
    parser.add_argument("--end", type=date.fromisoformat, default=DEFAULT_END, help="last day (UTC date)")
    parser.add_argument(
        "--long-context-share",
        type=float,
        default=0.0,
        help="share of Sonnet sessions with a 1M context (requests above 200k tokens: tiered prices)",
    )
    parser.add_argument("--append-session", action="store_true", help="add one new session to an existing tree")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _iter_args(argv)
    if args.append_session:
        for path in append_session(args.out, args.seed):
            print(path)
        return 0
    started = time.perf_counter()
    expected = generate(
        args.out,
        parse_size(args.size),
        args.seed,
        end=args.end,
        days=args.days,
        long_context_share=args.long_context_share,
        progress=True,
    )
    seconds = time.perf_counter() - started
    print(
        f"wrote {expected['bytes'] / 1e6:,.1f} MB in {expected['files']:,} files "
        f"({len(expected['days'])} days) to {args.out} in {seconds:.1f} s; counts: {expected['counts']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
