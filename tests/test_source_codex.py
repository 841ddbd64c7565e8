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


def _line(obj: dict[str, object]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def _meta(stamp: str, session: str, source: object = "cli", note: str = "") -> bytes:
    payload = {"id": session, "cwd": "/home/dev/app", "instructions": note, "source": source}
    return _line({"timestamp": stamp, "type": "session_meta", "payload": payload})


def _context(stamp: str) -> bytes:
    return _line({"timestamp": stamp, "type": "turn_context", "payload": {"model": "gpt-5"}})


def _count(stamp: str, total_input: int) -> bytes:
    usage = {"input_tokens": total_input, "cached_input_tokens": 0, "output_tokens": total_input // 10}
    info = {"total_token_usage": usage}
    return _line({"timestamp": stamp, "type": "event_msg", "payload": {"type": "token_count", "info": info}})


SPAWNED = {"subagent": {"thread_spawn": {"parent_thread_id": "p1", "depth": 1}}}


def _spawned_rollout() -> bytes:
    """A spawned thread: replays its parent's two calls in its first second, then makes its own."""
    return (
        _meta("2026-01-05T09:05:00.000Z", "c1", SPAWNED, note="x" * 3000)
        + _context("2026-01-05T09:05:00.100Z")
        + _count("2026-01-05T09:05:00.200Z", 1000)
        + _count("2026-01-05T09:05:00.300Z", 3000)
        + _count("2026-01-05T09:06:00.000Z", 4000)
    )


def test_a_spawned_thread_counts_only_its_own_calls() -> None:
    result = codex.parse(_spawned_rollout(), path="rollout-c.jsonl", state={}, final=True)
    assert [(e.input_tokens, e.output_tokens) for e in result.events] == [(1000, 100)]


def test_a_spawned_thread_first_read_half_written_still_skips_the_replay(db: Database, tmp_path: Path) -> None:
    root = tmp_path / "codex"
    whole = _spawned_rollout()
    path = _write(root, "rollout-2026-01-05T09-05-00-c1.jsonl", whole[:1000])  # session_meta cut short
    import_local_logs(db, source_names=["codex"], paths=[root])
    path.write_bytes(whole)
    import_local_logs(db, source_names=["codex"], paths=[root])
    with db.session() as session:
        inputs = session.scalars(select(UsageRecord.input_tokens).where(UsageRecord.source == "codex")).all()
    assert inputs == [1000]  # the thread's own call; the replayed two are its parent's


def test_the_word_thread_spawn_in_a_prompt_does_not_make_a_session_a_spawned_thread() -> None:
    prompt = _line(
        {
            "timestamp": "2026-01-05T10:00:00.050Z",
            "type": "response_item",
            "payload": {"type": "message", "content": "why does thread_spawn in codex-rs/core fail?"},
        }
    )
    data = (
        _meta("2026-01-05T10:00:00.000Z", "s1")
        + prompt
        + _context("2026-01-05T10:00:00.100Z")
        + _count("2026-01-05T10:00:00.200Z", 1000)
        + _count("2026-01-05T10:01:00.000Z", 3000)
    )
    result = codex.parse(data, path="rollout-s.jsonl", state={}, final=True)
    assert [e.input_tokens for e in result.events] == [1000, 2000]


def test_a_torn_last_line_in_a_compressed_rollout_is_reported(db: Database, tmp_path: Path) -> None:
    root = tmp_path / "codex"
    sample = (SAMPLES / "codex-rollout.jsonl").read_bytes().rstrip(b"\n")
    torn = sample[: sample.rfind(b"\n") + 40]  # the last token_count cut short, as a crash leaves it
    archived = root / "archived_sessions"
    archived.mkdir(parents=True)
    (archived / (ROLLOUT + ".zst")).write_bytes(zstandard.ZstdCompressor().compress(torn))
    summary = import_local_logs(db, source_names=["codex"], paths=[root])
    assert summary.broken_lines == 1
    assert summary.broken_examples[0].line == torn.count(b"\n") + 1
    assert set(_by_model(db)) == {"gpt-5-codex"}
    again = import_local_logs(db, source_names=["codex"], paths=[root])
    assert (again.files_unchanged, again.broken_lines) == (1, 0)


def test_corrupt_lines_without_a_marker_are_counted() -> None:
    data = _meta("2026-01-05T10:00:00.000Z", "s1") + b"\x00\x93garbage\xff\n" + _count("2026-01-05T10:00:01Z", 100)
    result = codex.parse(data, path="rollout-s.jsonl", state={}, final=True)
    assert [item.line for item in result.broken] == [2]
    assert len(result.events) == 1


def test_a_rollout_saved_with_a_byte_order_mark_keeps_its_session_meta() -> None:
    """The first line holds the session's metadata (here: a spawned thread, whose replayed calls
    are its parent's); a UTF-8 BOM before it must not lose it."""
    result = codex.parse(b"\xef\xbb\xbf" + _spawned_rollout(), path="rollout-c.jsonl", state={}, final=True)
    assert result.broken == []
    assert [(e.input_tokens, e.project) for e in result.events] == [(1000, "/home/dev/app")]


def _meta_in(stamp: str, session: str, cwd: str, branch: str) -> bytes:
    payload = {"id": session, "timestamp": stamp, "cwd": cwd, "source": "cli", "git": {"branch": branch}}
    return _line({"timestamp": stamp, "type": "session_meta", "payload": payload})


def test_a_forks_own_turns_are_its_own_though_its_parents_meta_comes_later() -> None:
    """A forked session writes its own `session_meta`, then a copy of its parent's history (the
    parent's meta included, with its old times), then its own turns: those are the fork's, in
    the fork's project and branch; the copied ones stay the parent's."""
    fork = (
        _meta_in("2026-01-08T11:00:00.000Z", "f1", "/home/dev/forkproj", "forkbranch")
        + _meta_in("2026-01-08T09:00:00.000Z", "e1", "/home/dev/parentproj", "main")
        + _context("2026-01-08T09:00:01.000Z")
        + _count("2026-01-08T09:00:05.000Z", 1000)
        + _count("2026-01-08T09:01:05.000Z", 3000)
        + _context("2026-01-08T11:00:02.000Z")
        + _count("2026-01-08T11:00:10.000Z", 7000)
    )
    events = codex.parse(fork, path="rollout-f1.jsonl", state={}, final=True).events
    assert [(e.session_id, e.project, e.git_branch, e.input_tokens) for e in events] == [
        ("e1", "/home/dev/parentproj", "main", 1000),
        ("e1", "/home/dev/parentproj", "main", 2000),
        ("f1", "/home/dev/forkproj", "forkbranch", 4000),
    ]
    # read in two imports, the state kept as JSON between them: the same
    state: dict[str, object] = {}
    cut = fork.index(b'{"timestamp":"2026-01-08T11:00:02')
    first = codex.parse(fork[:cut], path="rollout-f1.jsonl", state=state, final=False)
    state = json.loads(json.dumps(state))
    second = codex.parse(fork[cut:], path="rollout-f1.jsonl", state=state, final=True)
    assert [(e.session_id, e.input_tokens) for e in [*first.events, *second.events]] == [
        ("e1", 1000),
        ("e1", 2000),
        ("f1", 4000),
    ]
