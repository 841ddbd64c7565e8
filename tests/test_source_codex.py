"""Codex rollouts: re-emitted token counts are not counted twice; cached input is split out."""

from __future__ import annotations

import json
from pathlib import Path

import zstandard
from sqlalchemy import select

from conftest import SAMPLES
from tokenworth.core.db import Database
from tokenworth.core.models import UsageRecord
from tokenworth.services.importing import import_local_logs
from tokenworth.sources import codex

ROLLOUT = "rollout-2026-01-05T09-10-00-01900000-0000-7000-8000-0000000000c1.jsonl"


def _by_model(db: Database) -> dict[str, UsageRecord]:
    with db.session() as session:
        return {r.model: r for r in session.scalars(select(UsageRecord).where(UsageRecord.source == "codex"))}


def _write(root: Path, name: str, data: bytes) -> Path:
    folder = root / "sessions" / "2026" / "01" / "05"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def test_sample_counts_each_turn_once_per_model(db: Database, tmp_path: Path) -> None:
    root = tmp_path / "codex"
    _write(root, ROLLOUT, (SAMPLES / "codex-rollout.jsonl").read_bytes())
    import_local_logs(db, source_names=["codex"], paths=[root])
    records = _by_model(db)
    codex_turn, gpt5_turn = records["gpt-5-codex"], records["gpt-5"]
    # 14475 in (2432 cached) / 216 out -- the re-emit 12 ms later is not a second call
    assert (codex_turn.input_tokens, codex_turn.cache_read_tokens, codex_turn.output_tokens) == (
        12043,
        2432,
        216,
    )
    assert codex_turn.reasoning_tokens == 64
    assert (gpt5_turn.input_tokens, gpt5_turn.cache_read_tokens, gpt5_turn.output_tokens) == (900, 14300, 540)
    assert codex_turn.session_id == "01900000-0000-7000-8000-0000000000c1"
    assert codex_turn.project == "/home/dev/tokenworth"
    assert codex_turn.git_branch == "main"
    assert codex_turn.cost_provenance == "computed"


def test_drop_in_running_total_starts_a_new_count() -> None:
    def event(stamp: str, total: int, last: int) -> bytes:
        usage = {
            "input_tokens": total,
            "cached_input_tokens": 0,
            "output_tokens": 10,
            "reasoning_output_tokens": 0,
        }
        last_usage = dict(usage, input_tokens=last)
        line = {
            "timestamp": stamp,
            "type": "event_msg",
            "payload": {
                "type": "token_count",
                "info": {"total_token_usage": usage, "last_token_usage": last_usage},
            },
        }
        return json.dumps(line, separators=(",", ":")).encode() + b"\n"

    data = (
        event("2026-01-05T10:00:00.000Z", 1000, 1000)
        + event("2026-01-05T10:01:00.000Z", 3000, 2000)
        + event("2026-01-05T10:02:00.000Z", 500, 500)  # resumed: total dropped, new baseline
        + event("2026-01-05T10:02:00.500Z", 500, 500)  # re-emit of the same total
    )
    result = codex.parse(data, path="rollout-x.jsonl", state={}, final=True)
    assert [e.input_tokens for e in result.events] == [1000, 2000, 500]
    assert all(e.model == codex.FALLBACK_MODEL for e in result.events)


def test_incremental_read_keeps_model_and_totals_between_runs(db: Database, tmp_path: Path) -> None:
    lines = (SAMPLES / "codex-rollout.jsonl").read_bytes().splitlines(keepends=True)
    root = tmp_path / "codex"
    path = _write(root, ROLLOUT, b"".join(lines[:7]))  # through the re-emit
    import_local_logs(db, source_names=["codex"], paths=[root])
    with path.open("ab") as handle:
        handle.write(b"".join(lines[7:]))
    summary = import_local_logs(db, source_names=["codex"], paths=[root])
    assert summary.bytes_read == sum(len(line) for line in lines[7:])
    assert set(_by_model(db)) == {"gpt-5-codex", "gpt-5"}
    assert _by_model(db)["gpt-5"].input_tokens == 900


def test_zstd_rollouts_and_archived_sessions_are_read(db: Database, tmp_path: Path) -> None:
    root = tmp_path / "codex"
    compressed = zstandard.ZstdCompressor().compress((SAMPLES / "codex-rollout.jsonl").read_bytes())
    archived = root / "archived_sessions"
    archived.mkdir(parents=True)
    (archived / (ROLLOUT + ".zst")).write_bytes(compressed)
    summary = import_local_logs(db, source_names=["codex"], paths=[root])
    assert summary.records_added == 2
    again = import_local_logs(db, source_names=["codex"], paths=[root])
    assert again.records_added == 0
    assert again.files_unchanged == 1


def test_plain_file_wins_over_its_zstd_sibling(tmp_path: Path) -> None:
    root = tmp_path / "codex"
    plain = _write(root, ROLLOUT, b"")
    _write(root, ROLLOUT + ".zst", b"")
    assert codex.find_files(root) == [plain]
