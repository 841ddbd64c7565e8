"""Claude Code transcripts: the reference sample, streaming duplicates, sidechains, broken lines."""

from __future__ import annotations

import json
import os
import shutil
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import SAMPLES
from tokenworth.core import ledger
from tokenworth.core.db import Database
from tokenworth.core.models import UsageRecord
from tokenworth.services.importing import import_local_logs
from tokenworth.sources import claude_code


def _records(db: Database) -> dict[str, UsageRecord]:
    with db.session() as session:
        return {r.model: r for r in session.scalars(select(UsageRecord).where(UsageRecord.source == "claude-code"))}


def test_parse_sample_keeps_billed_lines_and_skips_synthetic() -> None:
    data = (SAMPLES / "claude-code.jsonl").read_bytes()
    result = claude_code.parse(data, path="/x/projects/p/s.jsonl", state={}, final=True)
    assert result.broken == []
    assert result.consumed == len(data)
    models = [e.model for e in result.events]
    assert "<synthetic>" not in models
    # lines 3, 4 (one streamed response), 5 (sidechain replay), 6 and 8
    assert len(result.events) == 5
    first = result.events[0]
    assert first.dedupe_key == "cc:msg_01EXAMPLEAAAAAAAAAAAAAAAA:req_01EXAMPLEAAAAAAAAAAAAAAAA"
    assert first.project == "/home/dev/tokenworth"
    assert first.git_branch == "main"
    assert first.session_id == "00000000-0000-4000-8000-0000000000aa"


def test_import_of_sample_matches_the_reference_result(db: Database, claude_dir: Path) -> None:
    target = claude_dir / "projects" / "-home-dev-tokenworth"
    target.mkdir()
    shutil.copy(SAMPLES / "claude-code.jsonl", target / "session.jsonl")
    summary = import_local_logs(db, source_names=["claude-code"], paths=[claude_dir])
    assert summary.records_added == 3
    records = _records(db)
    assert set(records) == {
        "claude-sonnet-4-5-20250929",
        "claude-opus-4-5-20251101",
        "claude-sonnet-4-20250514",
    }

    sonnet = records["claude-sonnet-4-5-20250929"]
    assert (sonnet.input_tokens, sonnet.output_tokens) == (4, 412)  # the final streamed line wins
    assert (sonnet.cache_read_tokens, sonnet.cache_write_5m_tokens, sonnet.cache_write_1h_tokens) == (
        18000,
        1200,
        0,
    )
    assert sonnet.is_sidechain is False  # the sidechain replay was dropped
    assert sonnet.cost == Decimal("0.016092")
    assert sonnet.cost_provenance == "computed"

    opus = records["claude-opus-4-5-20251101"]
    assert (opus.cache_write_5m_tokens, opus.cache_write_1h_tokens) == (0, 3000)
    assert opus.cost == Decimal("0.042005")  # 1h writes at 2x input: 3000 * $10/MTok

    legacy = records["claude-sonnet-4-20250514"]
    assert legacy.cost == Decimal("0.003855")
    assert legacy.cost_provenance == "reported"
    assert legacy.estimated_cost is not None


@pytest.mark.parametrize("lookup", ["by id", "one pass"])
def test_sidechain_replay_in_a_later_file_is_not_counted_twice(
    db: Database, claude_dir: Path, monkeypatch: pytest.MonkeyPatch, lookup: str
) -> None:
    if lookup == "one pass":  # as for an import with more message ids than are looked up one by one
        monkeypatch.setattr(ledger, "REPLAY_LOOKUP_MAX", 0)
    lines = (SAMPLES / "claude-code.jsonl").read_text().splitlines()
    project = claude_dir / "projects" / "p"
    (project / "sess" / "subagents").mkdir(parents=True)
    (project / "sess.jsonl").write_text(lines[3] + "\n")
    import_local_logs(db, source_names=["claude-code"], paths=[claude_dir])
    (project / "sess" / "subagents" / "agent-1.jsonl").write_text(lines[4] + "\n")  # the sidechain copy
    import_local_logs(db, source_names=["claude-code"], paths=[claude_dir])
    with db.session() as session:
        rows = session.scalars(select(UsageRecord)).all()
    assert len(rows) == 1
    assert rows[0].is_sidechain is False


@pytest.mark.parametrize("lookup", ["by id", "one pass"])
def test_parent_arriving_after_its_sidechain_copy_replaces_it(
    db: Database, claude_dir: Path, monkeypatch: pytest.MonkeyPatch, lookup: str
) -> None:
    if lookup == "one pass":
        monkeypatch.setattr(ledger, "REPLAY_LOOKUP_MAX", 0)
    lines = (SAMPLES / "claude-code.jsonl").read_text().splitlines()
    project = claude_dir / "projects" / "p"
    (project / "sess" / "subagents").mkdir(parents=True)
    (project / "sess" / "subagents" / "agent-1.jsonl").write_text(lines[4] + "\n")
    import_local_logs(db, source_names=["claude-code"], paths=[claude_dir])
    (project / "sess.jsonl").write_text(lines[3] + "\n")
    import_local_logs(db, source_names=["claude-code"], paths=[claude_dir])
    with db.session() as session:
        rows = session.scalars(select(UsageRecord)).all()
    assert [(r.is_sidechain, r.request_id) for r in rows] == [(False, "req_01EXAMPLEAAAAAAAAAAAAAAAA")]


def _killed_after_committing(url: str, claude_dir: Path) -> None:
    """An import in a forked process, killed between its last commit and its replay clean-up."""
    from tokenworth.core.db import open_database
    from tokenworth.services.ledger_writer import LedgerWriter

    def killed(writer: LedgerWriter) -> None:
        writer.flush()
        os._exit(9)

    LedgerWriter.finish = killed  # type: ignore[method-assign]  (this process dies right here)
    import_local_logs(open_database(url), source_names=["claude-code"], paths=[claude_dir])


def _sample_with_a_replay(claude_dir: Path) -> tuple[Path, list[str]]:
    lines = (SAMPLES / "claude-code.jsonl").read_text().splitlines()
    project = claude_dir / "projects" / "p"
    (project / "sess" / "subagents").mkdir(parents=True)
    (project / "sess.jsonl").write_text(lines[3] + "\n")
    (project / "sess" / "subagents" / "agent-1.jsonl").write_text(lines[4] + "\n")  # replays lines[3]
    return project, lines


@pytest.mark.skipif(sys.platform == "win32", reason="forks the import that is killed")
@pytest.mark.parametrize("next_import", ["nothing new", "new lines too"])
def test_an_import_killed_after_its_last_commit_never_leaves_a_replay_counted(
    db: Database, claude_dir: Path, next_import: str
) -> None:
    """Replays are dropped in the transaction that writes them: whatever a reader (a report with
    --no-import, the dashboard) or a crash sees is counted once, and the next import, which reads
    no file again, has nothing to make good."""
    import multiprocessing

    project, lines = _sample_with_a_replay(claude_dir)
    db.dispose()
    killed = multiprocessing.get_context("fork").Process(target=_killed_after_committing, args=(db.url, claude_dir))
    killed.start()
    killed.join(60)
    assert killed.exitcode == 9
    assert db.fetch("SELECT COUNT(*), SUM(is_sidechain) FROM usage_records") == [(1, 0)]

    if next_import == "new lines too":
        (project / "other.jsonl").write_text(lines[5] + "\n")
    summary = import_local_logs(db, source_names=["claude-code"], paths=[claude_dir])

    assert summary.files_read == (0 if next_import == "nothing new" else 1)
    assert summary.replays_removed == 0
    assert summary.records_added == (0 if next_import == "nothing new" else 1)
    assert db.fetch("SELECT COUNT(*), SUM(is_sidechain) FROM usage_records") == [
        (1 if next_import == "nothing new" else 2, 0)
    ]
    assert db.fetch("SELECT key FROM meta WHERE key LIKE 'replay%'") == []


def test_a_clean_up_an_older_version_left_is_finished(db: Database, claude_dir: Path) -> None:
    """Versions up to 2026-12-03 dropped replays in a transaction of their own, after a marker; one
    killed in between left both. The next import finishes that clean-up over the whole source."""
    from tokenworth.core.db import META_UPSERT_SQL
    from tokenworth.services.importing import CLEANUP_PENDING_PREFIX
    from tokenworth.services.ledger_writer import LedgerWriter

    _sample_with_a_replay(claude_dir)
    original = LedgerWriter.flush
    try:  # the old order: records committed with their replays still in
        LedgerWriter.flush = lambda self: (setattr(self, "message_ids", {}), original(self))[-1]  # type: ignore[method-assign]
        import_local_logs(db, source_names=["claude-code"], paths=[claude_dir])
    finally:
        LedgerWriter.flush = original  # type: ignore[method-assign]
    assert db.fetch("SELECT COUNT(*) FROM usage_records") == [(2,)]
    with db.transaction() as tx:
        tx.execute(META_UPSERT_SQL, {"key": f"{CLEANUP_PENDING_PREFIX}claude-code:old", "value": "gone-host|1|0"})

    summary = import_local_logs(db, source_names=["claude-code"], paths=[claude_dir])

    assert summary.replays_removed == 1
    assert db.fetch("SELECT COUNT(*), SUM(is_sidechain) FROM usage_records") == [(1, 0)]
    assert db.fetch("SELECT key FROM meta WHERE key LIKE 'replay%'") == []


def test_an_import_under_way_elsewhere_keeps_its_clean_up_marker(db: Database, claude_dir: Path) -> None:
    """Imports run side by side (a report while the app imports; a team's shared database): one
    never takes another's clean-up, unless that one stopped committing long ago."""
    from tokenworth.core.db import META_UPSERT_SQL
    from tokenworth.core.timeutil import to_epoch_ms, utc_now
    from tokenworth.services.importing import CLEANUP_LEASE_MS, CLEANUP_PENDING_PREFIX, cleanup_owner

    _sample_with_a_replay(claude_dir)
    import_local_logs(db, source_names=["claude-code"], paths=[claude_dir])
    now = to_epoch_ms(utc_now())
    markers = {
        f"{CLEANUP_PENDING_PREFIX}claude-code:alive": cleanup_owner(now),  # this process: under way
        f"{CLEANUP_PENDING_PREFIX}claude-code:far": f"other-host|1|{now - 60_000}",  # elsewhere, recent
        f"{CLEANUP_PENDING_PREFIX}claude-code:lapsed": f"other-host|1|{now - CLEANUP_LEASE_MS - 1}",
    }
    with db.transaction() as tx:
        for key, value in markers.items():
            tx.execute(META_UPSERT_SQL, {"key": key, "value": value})

    summary = import_local_logs(db, source_names=["claude-code"], paths=[claude_dir])

    assert summary.files_read == 0
    kept = {key for (key,) in db.fetch("SELECT key FROM meta WHERE key LIKE 'replay%'")}
    assert kept == {f"{CLEANUP_PENDING_PREFIX}claude-code:alive", f"{CLEANUP_PENDING_PREFIX}claude-code:far"}


def test_broken_lines_are_counted_and_skipped(db: Database, claude_dir: Path) -> None:
    good = (SAMPLES / "claude-code.jsonl").read_text().splitlines()[5]
    obj = json.loads(good)
    no_model = dict(obj, message=dict(obj["message"], model=None, id="msg_x"))
    bad_time = dict(obj, timestamp="yesterday", message=dict(obj["message"], id="msg_y"))
    content = "\n".join(
        [
            good[: len(good) // 2],  # a torn write
            '{not json, "usage":{',
            json.dumps(no_model, separators=(",", ":")),
            json.dumps(bad_time, separators=(",", ":")),
            good,
        ]
    )
    project = claude_dir / "projects" / "p"
    project.mkdir()
    path = project / "s.jsonl"
    path.write_text(content + "\n")
    summary = import_local_logs(db, source_names=["claude-code"], paths=[claude_dir])
    assert summary.records_added == 1
    assert summary.broken_by_file == {str(path): 4}
    reasons = " | ".join(f"{b.line}:{b.reason}" for b in summary.broken_examples)
    assert "1:not valid JSON" in reasons
    assert "3:assistant line without a model" in reasons
    assert "4:unreadable timestamp" in reasons


def test_project_falls_back_to_the_folder_name_without_cwd(db: Database, claude_dir: Path) -> None:
    obj = json.loads((SAMPLES / "claude-code.jsonl").read_text().splitlines()[5])
    del obj["cwd"]
    del obj["gitBranch"]
    project = claude_dir / "projects" / "-home-dev-other"
    project.mkdir()
    (project / "s.jsonl").write_text(json.dumps(obj, separators=(",", ":")) + "\n")
    import_local_logs(db, source_names=["claude-code"], paths=[claude_dir])
    with db.session() as session:
        record = session.scalars(select(UsageRecord)).one()
    assert record.project == "-home-dev-other"
    assert record.git_branch is None


def test_default_roots_read_both_config_dirs_or_the_env_list(tmp_path: Path) -> None:
    assert claude_code.default_roots({}, tmp_path) == [
        tmp_path / ".claude" / "projects",
        tmp_path / ".config" / "claude" / "projects",
    ]
    (tmp_path / "a" / "projects").mkdir(parents=True)
    roots = claude_code.default_roots({"CLAUDE_CONFIG_DIR": f"{tmp_path / 'a'}, {tmp_path / 'b' / 'projects'}"})
    assert roots == [tmp_path / "a" / "projects", tmp_path / "b" / "projects"]


def _sample_line(**changes: object) -> dict[str, object]:
    obj: dict[str, object] = json.loads((SAMPLES / "claude-code.jsonl").read_text().splitlines()[5])
    obj.update(changes)
    return obj


def _compact(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def test_odd_lines_are_judged_as_before_the_fast_reading() -> None:
    """Lines the fast (msgspec) reading refuses go to the generic one: the same verdicts."""
    good = _sample_line()
    message = dict(good["message"])  # type: ignore[call-overload]
    not_utf8_in_content = _compact(dict(good, message=dict(message, content=[{"type": "text", "text": "@@"}])))
    not_utf8_in_content = not_utf8_in_content.replace(b"@@", b"\xed\xb2\xb2")  # bytes no UTF-8 decoder takes
    not_utf8_in_cwd = _compact(dict(good, cwd="/w@@", message=dict(message, id="msg_cwd"))).replace(b"@@", b"\xff")
    lines = [
        not_utf8_in_content,  # 1: spend intact, in a field never read: counted (as ccusage does)
        not_utf8_in_cwd,  # 2: in a field we keep: broken
        _compact(dict(good, message='text mentioning "usage":{')),  # 3: JSON, but no usage of ours
        _compact([good]),  # 4: JSON, not an object: broken
        b'{"message":{"usage":{"input_tokens":1}',  # 5: torn
    ]
    result = claude_code.parse(b"\n".join(lines) + b"\n", path="/x/projects/p/s.jsonl", state={}, final=True)
    assert [event.dedupe_key.split(":")[1] for event in result.events] == [message["id"]]
    assert [(item.line, item.reason) for item in result.broken] == [
        (2, claude_code.TORN_LINE),
        (4, claude_code.TORN_LINE),
        (5, claude_code.TORN_LINE),
    ]


def test_broken_lines_keep_their_numbers_across_appends_and_line_endings() -> None:
    good = _compact(_sample_line())
    state: dict[str, object] = {}
    first = b"\r\n".join([b"{}", b"", good, b"not json"]) + b"\r\n"
    result = claude_code.parse(first, path="/x/projects/p/s.jsonl", state=state, final=False)
    assert result.consumed == len(first)
    assert [(item.line, item.reason) for item in result.broken] == [(4, claude_code.TORN_LINE)]
    # The next read starts at line 5; a last line without a newline is read only once whole.
    second = b"torn {\n" + good + b"\n" + good[:40]
    result = claude_code.parse(second, path="/x/projects/p/s.jsonl", state=state, final=False)
    assert [item.line for item in result.broken] == [5]
    assert result.consumed == len(second) - 40
    assert len(result.events) == 1
    rest = good
    result = claude_code.parse(rest, path="/x/projects/p/s.jsonl", state=state, final=True)
    assert result.consumed == len(rest)
    assert len(result.events) == 1
    assert result.broken == []
    assert state["line"] == 7  # six newlines read, the seventh line ended the file


def test_a_lone_surrogate_escape_node_writes_keeps_the_line_and_stores(db: Database, claude_dir: Path) -> None:
    """Claude Code (Node) writes half of an emoji cut mid-character as `\\ud83d`: valid JSON that
    msgspec and orjson refuse. The line's spend counts, and the odd text is stored as U+FFFD."""
    good = _sample_line()
    message = dict(good["message"])  # type: ignore[call-overload]
    line = _compact(
        dict(good, cwd="/home/dev/caf@@", message=dict(message, content=[{"type": "text", "text": "cut @@"}]))
    )
    line = line.replace(b"@@", b"\\ud83d")
    path = claude_dir / "projects" / "p" / "s.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(line + b"\n")
    summary = import_local_logs(db, source_names=["claude-code"], paths=[claude_dir])
    assert (summary.broken_lines, summary.records_added) == (0, 1)
    (record,) = _records(db).values()
    assert record.output_tokens == message["usage"]["output_tokens"]
    assert record.project == "/home/dev/caf\ufffd"


def test_a_file_saved_with_a_byte_order_mark_keeps_its_first_line(db: Database, claude_dir: Path) -> None:
    """A transcript copied through an editor that writes a UTF-8 BOM keeps its first response."""
    first, second = _sample_line(), _sample_line(requestId="req_second")
    second["message"] = dict(second["message"], id="msg_second")  # type: ignore[call-overload]
    path = claude_dir / "projects" / "p" / "s.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xef\xbb\xbf" + _compact(first) + b"\n" + _compact(second) + b"\n")
    summary = import_local_logs(db, source_names=["claude-code"], paths=[claude_dir])
    assert (summary.broken_lines, summary.records_added) == (0, 2)


def test_an_unpriced_record_read_again_with_a_price_known_takes_it(db: Database, claude_dir: Path) -> None:
    """Only a price is frozen; a record stored unpriced is priced when its line is read again
    (a rewritten file) once a price is known, not left unpriced while the import says none is."""
    from tokenworth.services.prices import OverrideInput, set_override

    line = _compact(_sample_line(message=dict(_sample_line()["message"], model="claude-imaginary-9")))  # type: ignore[call-overload]
    path = claude_dir / "projects" / "p" / "s.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(line + b"\n")
    first = import_local_logs(db, source_names=["claude-code"], paths=[claude_dir])
    assert first.unpriced_models == {"claude-imaginary-9": 1}
    set_override(db, OverrideInput("anthropic", "claude-imaginary-9", Decimal(1), Decimal(1)))
    path.write_bytes(b"\n" + line + b"\n")  # rewritten: read again from the start
    again = import_local_logs(db, source_names=["claude-code"], paths=[claude_dir])
    assert again.files_read == 1
    (record,) = _records(db).values()
    assert record.cost_provenance == "computed"
    assert record.cost is not None
    assert record.cost > 0
