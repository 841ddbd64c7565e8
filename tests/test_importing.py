"""Incremental import: only appended bytes are read; rewritten files are read again exactly once;
nothing is double counted and nothing is lost when logs disappear."""

from __future__ import annotations

import json
import os
import shutil
import sys
from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import SAMPLES
from tokenworth.core.db import Database
from tokenworth.core.models import UsageRecord
from tokenworth.services import importing as importing_module
from tokenworth.services.importing import import_local_logs
from tokenworth.sources.records import UsageEvent


def _line(message_id: str, output: int, stamp: str = "2026-01-05T10:00:00.000Z") -> str:
    return json.dumps(
        {
            "cwd": "/work/app",
            "sessionId": "s1",
            "gitBranch": "main",
            "requestId": f"req_{message_id}",
            "type": "assistant",
            "timestamp": stamp,
            "message": {
                "id": message_id,
                "model": "claude-sonnet-4-5-20250929",
                "usage": {
                    "input_tokens": 10,
                    "output_tokens": output,
                    "cache_read_input_tokens": 100,
                    "cache_creation_input_tokens": 0,
                },
            },
        },
        separators=(",", ":"),
    )


def _count(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(UsageRecord.__table__)).scalar_one()


def _output_total(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.sum(UsageRecord.__table__.c.output_tokens))).scalar_one() or 0


def _session_file(claude_dir: Path) -> Path:
    folder = claude_dir / "projects" / "app"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "s1.jsonl"


def test_rerun_on_unchanged_logs_reads_nothing(db: Database, claude_dir: Path) -> None:
    target = claude_dir / "projects" / "p"
    target.mkdir()
    shutil.copy(SAMPLES / "claude-code.jsonl", target / "s.jsonl")
    first = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    second = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    assert first.records_added == 3
    assert (second.records_added, second.bytes_read, second.files_read, second.files_unchanged) == (
        0,
        0,
        0,
        1,
    )


@pytest.mark.parametrize("first_lines", [1, 10])  # a head shorter than the 1 kB fingerprint, and a longer one
def test_appended_lines_are_read_alone(db: Database, claude_dir: Path, first_lines: int) -> None:
    path = _session_file(claude_dir)
    path.write_text("".join(_line(f"m{n}", 5) + "\n" for n in range(first_lines)))
    import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    appended = _line("new", 7) + "\n"
    with path.open("a") as handle:
        handle.write(appended)
    summary = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    assert summary.bytes_read == len(appended.encode())  # the head's fingerprint matched: not re-read
    assert summary.records_added == 1
    assert _output_total(db) == 5 * first_lines + 7


def test_a_torn_last_line_waits_for_the_rest(db: Database, claude_dir: Path) -> None:
    path = _session_file(claude_dir)
    whole = _line("m1", 5) + "\n"
    path.write_text(whole[:40])  # the agent is mid-write
    summary = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    assert (summary.records_added, summary.broken_lines) == (0, 0)
    with path.open("a") as handle:
        handle.write(whole[40:])
    summary = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    assert (summary.records_added, summary.broken_lines) == (1, 0)


def test_streamed_response_split_across_runs_keeps_the_fullest(db: Database, claude_dir: Path) -> None:
    path = _session_file(claude_dir)
    path.write_text(_line("m1", 3) + "\n")
    import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    with path.open("a") as handle:
        handle.write(_line("m1", 300) + "\n")
    import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    assert (_count(db), _output_total(db)) == (1, 300)


def test_shrunk_or_replaced_file_is_read_again_without_double_counting(db: Database, claude_dir: Path) -> None:
    path = _session_file(claude_dir)
    path.write_text(_line("m1", 5) + "\n" + _line("m2", 7) + "\n")
    import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    path.write_text(_line("m3", 11) + "\n")  # truncated and rewritten
    summary = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    assert summary.files_read == 1
    assert (_count(db), _output_total(db)) == (3, 23)

    replacement = path.with_name("new.tmp")
    replacement.write_text(_line("m1", 5) + "\n" + _line("m2", 7) + "\n" + _line("m4", 13) + "\n")
    os.replace(replacement, path)  # same name, new inode, longer than before
    import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    assert (_count(db), _output_total(db)) == (4, 36)


def test_same_size_rewrite_with_a_different_head_is_detected(db: Database, claude_dir: Path) -> None:
    path = _session_file(claude_dir)
    path.write_text(_line("m1", 5) + "\n")
    import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    with path.open("r+") as handle:  # in place: same inode, then grows
        handle.write(_line("m9", 5) + "\n" + _line("m8", 1) + "\n")
    import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    with db.engine.connect() as conn:
        ids = {row[0] for row in conn.execute(select(UsageRecord.__table__.c.message_id))}
    assert ids == {"m1", "m9", "m8"}


def test_deleted_logs_stay_in_the_ledger(db: Database, claude_dir: Path) -> None:
    path = _session_file(claude_dir)
    path.write_text(_line("m1", 5) + "\n")
    import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    path.unlink()  # Claude Code's 30-day clean-up
    summary = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    assert summary.files_found == 0
    assert _count(db) == 1


def test_auto_detects_every_source_in_the_default_places(db: Database, home: Path, tmp_path: Path) -> None:
    claude = tmp_path / "claude" / "projects" / "p"
    claude.mkdir(parents=True)
    shutil.copy(SAMPLES / "claude-code.jsonl", claude / "s.jsonl")
    codex = tmp_path / "codex" / "sessions" / "2026" / "01" / "05"
    codex.mkdir(parents=True)
    shutil.copy(SAMPLES / "codex-rollout.jsonl", codex / "rollout-2026-01-05T09-10-00-x.jsonl")
    gemini = tmp_path / "gemini" / "tmp" / "proj" / "chats"
    gemini.mkdir(parents=True)
    shutil.copy(SAMPLES / "gemini-cli-session.jsonl", gemini / "session-1.jsonl")
    summary = import_local_logs(db)
    assert summary.files_found == 3
    with db.engine.connect() as conn:
        by_source = dict(
            conn.execute(
                select(UsageRecord.__table__.c.source, func.count()).group_by(UsageRecord.__table__.c.source)
            ).all()
        )
    assert by_source == {"claude-code": 3, "codex": 2, "gemini-cli": 1}


def test_path_option_sniffs_which_agent_wrote_a_folder(db: Database, tmp_path: Path) -> None:
    codex_home = tmp_path / "somewhere" / "codex-copy"
    folder = codex_home / "sessions"
    folder.mkdir(parents=True)
    shutil.copy(SAMPLES / "codex-rollout.jsonl", folder / "rollout-x.jsonl")
    projects = tmp_path / "somewhere" / "projects" / "p"
    projects.mkdir(parents=True)
    shutil.copy(SAMPLES / "claude-code.jsonl", projects / "s.jsonl")
    summary = import_local_logs(db, paths=[codex_home, projects.parent])
    assert summary.records_added == 5


def test_parallel_parse_gives_the_same_ledger_as_one_process(
    tmp_path: Path, claude_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tokenworth.core.config import sqlite_url
    from tokenworth.core.db import open_database
    from tokenworth.services import importing

    for index in range(6):
        folder = claude_dir / "projects" / f"p{index}"
        folder.mkdir(parents=True)
        lines = [_line(f"m{index}-{n}", n + 1, f"2026-01-0{1 + n % 5}T10:00:00.000Z") for n in range(20)]
        lines.insert(5, lines[4][: len(lines[4]) // 2])  # a torn line
        (folder / "s.jsonl").write_text("\n".join(lines) + "\n")
    shutil.copy(SAMPLES / "claude-code.jsonl", claude_dir / "projects" / "p0" / "sample.jsonl")

    def ledger(workers: int) -> tuple[list[tuple[object, ...]], int, int, str]:
        db = open_database(sqlite_url(tmp_path / f"w{workers}.db"))
        summary = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"], workers=workers)
        rows = db.fetch(
            "SELECT dedupe_key, output_tokens, cost, cost_provenance, price_version, is_sidechain"
            " FROM usage_records ORDER BY dedupe_key"
        )
        # Workers price the rows; the writing process still keeps the price schedules for next time.
        kept = db.fetch("SELECT value FROM meta WHERE key = 'price_schedules'")
        db.dispose()
        return rows, summary.broken_lines, summary.events_read, kept[0][0] if kept else ""

    monkeypatch.setattr(importing, "PARALLEL_MIN_BYTES", 0)
    parallel, single = ledger(2), ledger(1)
    assert parallel == single
    rows, broken, events_read, kept = single
    assert len(rows) == 6 * 20 + 3
    assert all(row[2] is not None and row[3] in ("computed", "reported") for row in rows)
    assert broken == 6
    assert events_read > len(rows)  # the sample streams responses over several lines
    assert "claude-sonnet-4-5-20250929" in kept


def test_a_first_import_written_in_many_flushes_keeps_the_fullest_copy_across_them(
    tmp_path: Path, claude_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first import knows which keys it has written (no lookups): a copy in a later flush
    must still update the row an earlier flush wrote, by the `fullest` rule."""
    from tokenworth.core import ledger
    from tokenworth.core.config import sqlite_url
    from tokenworth.core.db import open_database
    from tokenworth.services import importing
    from tokenworth.services.reports import usage_report

    folder = claude_dir / "projects" / "app"
    folder.mkdir(parents=True)
    stamp = "2026-01-05T10:00:00.000Z"
    (folder / "a.jsonl").write_text("".join(_line(f"m{n}", 1, stamp) + "\n" for n in range(40)))
    (folder / "b.jsonl").write_text("".join(_line(f"m{n}", 100 + n, stamp) + "\n" for n in range(0, 40, 2)))
    (folder / "c.jsonl").write_text("".join(_line(f"m{n}", 1, stamp) + "\n" for n in range(0, 40, 2)))

    def ledger_of(name: str) -> tuple[list[tuple[object, ...]], int]:
        db = open_database(sqlite_url(tmp_path / name))
        import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
        rows = db.fetch("SELECT dedupe_key, output_tokens, cost FROM usage_records ORDER BY dedupe_key")
        output = usage_report(db, "daily", zone=UTC).totals.output_tokens
        db.dispose()
        return rows, output

    one_flush = ledger_of("one.db")
    monkeypatch.setattr(importing, "FLUSH_ROWS", 1)  # a flush after every file
    monkeypatch.setattr(ledger, "BULK_MIN_ROWS", 1)  # every batch by the bulk path
    many_flushes = ledger_of("many.db")
    assert many_flushes == one_flush
    rows, output = many_flushes
    assert len(rows) == 40
    assert output == sum(100 + n for n in range(0, 40, 2)) + 20  # the rollup agrees with the rows


def test_a_first_import_notices_another_process_writing_meanwhile(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer of a first import stops trusting its own list of written keys once records
    appear that it did not write: a fuller copy still replaces the other process's row."""
    from tokenworth.core import ledger
    from tokenworth.core.pricing import PriceBook
    from tokenworth.services.ledger_writer import LedgerWriter
    from tokenworth.services.record_rows import event_row
    from tokenworth.sources.claude_code import parse

    monkeypatch.setattr(ledger, "BULK_MIN_ROWS", 1)  # the bulk path, where the list is used

    def events(output: int) -> list[UsageEvent]:
        data = (_line("m1", output) + "\n").encode()
        return parse(data, path="/x/projects/app/s.jsonl", state={}, final=True).events

    writer = LedgerWriter(db, PriceBook(), ledger_empty=True)
    with db.transaction() as tx:  # another import, between our count and our first write
        ledger.upsert_rows(tx, [event_row(event, PriceBook(), 1) for event in events(3)], "fullest")
    writer.add("claude-code", "fullest", events(300), track_messages=True)
    writer.finish()
    assert db.fetch("SELECT COUNT(*), SUM(output_tokens) FROM usage_records") == [(1, 300)]
    assert db.fetch("SELECT SUM(output_tokens), SUM(records) FROM usage_rollup") == [(300, 1)]


def test_report_totals_follow_a_streamed_response_finished_after_an_import(db: Database, claude_dir: Path) -> None:
    from datetime import UTC

    from tokenworth.services.reports import usage_report

    def line(message_id: str, output: int) -> str:
        obj = json.loads(_line(message_id, output))
        obj["message"]["usage"].update(
            cache_creation_input_tokens=1000,
            cache_creation={"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 1000},
        )
        return json.dumps(obj, separators=(",", ":"))

    path = _session_file(claude_dir)
    path.write_text(line("m1", 3) + "\n" + line("m2", 5) + "\n")  # same 15 minutes, one still streaming
    import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    with path.open("a") as handle:
        handle.write(line("m1", 300) + "\n")
    import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    totals = usage_report(db, "daily", zone=UTC).totals
    assert (totals.cache_write_tokens, totals.output_tokens) == (2000, 305)


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "worker-processes"])
def test_an_import_asked_to_stop_keeps_what_it_read_and_the_next_one_reads_the_rest(
    tmp_path: Path, claude_dir: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """The app quitting mid-import: the file under way is committed with its position, no
    further file is started, and the next import reads exactly the rest."""
    import threading

    from tokenworth.core.config import sqlite_url
    from tokenworth.core.db import open_database
    from tokenworth.services import importing

    monkeypatch.setattr(importing, "PARALLEL_MIN_BYTES", 0)
    for index in range(6):
        folder = claude_dir / "projects" / f"p{index}"
        folder.mkdir(parents=True)
        lines = [_line(f"m{index}-{n}", n + 1) for n in range(20)]
        (folder / "s.jsonl").write_text("\n".join(lines) + "\n")
    stop = threading.Event()

    def stop_after_the_first_file(done: int, total: int) -> None:
        if done > 0:
            stop.set()

    db = open_database(sqlite_url(tmp_path / "stopped.db"))
    stopped = import_local_logs(db, paths=[claude_dir], workers=workers, progress=stop_after_the_first_file, stop=stop)
    assert stopped.stopped
    assert (stopped.files_found, stopped.files_read, stopped.records_added) == (6, 1, 20)
    assert stopped.as_json()["stopped"] is True

    rest = import_local_logs(db, paths=[claude_dir], workers=workers)
    assert not rest.stopped
    assert (rest.files_unchanged, rest.files_read, rest.records_added, rest.records_after) == (1, 5, 100, 120)
    clean = open_database(sqlite_url(tmp_path / "clean.db"))
    import_local_logs(clean, paths=[claude_dir], workers=workers)
    query = "SELECT dedupe_key, output_tokens, cost FROM usage_records ORDER BY dedupe_key"
    assert db.fetch(query) == clean.fetch(query)
    db.dispose()
    clean.dispose()


_PARSE_FILE_JOB = importing_module._parse_file_job


def _dies_on_p3(job: tuple[str, str, int, int, dict[str, object]]) -> object:
    """A parse worker's job that dies on project p3's file, as a SIGKILL would (no reply)."""
    if "/p3/" in job[1]:
        os._exit(9)
    return _PARSE_FILE_JOB(job)


@pytest.mark.skipif(sys.platform != "linux", reason="parse workers are forked on Linux only")
def test_a_worker_killed_mid_import_is_said_plainly_and_the_next_import_completes(
    tmp_path: Path, claude_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The OOM killer takes a parse worker: a plain error (not a pool traceback), what was read is
    kept, and the next import reads the rest to the same ledger as an undisturbed one."""
    from tokenworth.core.config import sqlite_url
    from tokenworth.core.db import open_database
    from tokenworth.services import importing

    for index in range(6):
        folder = claude_dir / "projects" / f"p{index}"
        folder.mkdir(parents=True)
        lines = [_line(f"m{index}-{n}", n + 1, f"2026-01-0{1 + n % 5}T10:00:00.000Z") for n in range(20)]
        (folder / "s.jsonl").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(importing, "PARALLEL_MIN_BYTES", 0)
    parse = importing._parse_file_job
    monkeypatch.setattr(importing, "_parse_file_job", _dies_on_p3)
    db = open_database(sqlite_url(tmp_path / "l.db"))
    with pytest.raises(importing.ImportWorkerDied, match="run the import again"):
        import_local_logs(db, paths=[claude_dir], source_names=["claude-code"], workers=2)
    monkeypatch.setattr(importing, "_parse_file_job", parse)
    import_local_logs(db, paths=[claude_dir], source_names=["claude-code"], workers=2)
    assert db.fetch("SELECT COUNT(*), SUM(output_tokens) FROM usage_records") == [(6 * 20, 6 * sum(range(1, 21)))]
    db.dispose()


def test_two_imports_at_once_each_count_only_the_records_they_added(db: Database, claude_dir: Path) -> None:
    """The tray's import and a terminal's `tokenworth import` may run together: the records are
    stored once, and the two summaries do not both claim the same ones as new."""
    first = claude_dir / "projects" / "first"
    second = claude_dir / "projects" / "second"
    for folder, names in ((first, ("a1", "a2")), (second, ("b1", "b2", "b3"))):
        folder.mkdir(parents=True)
        (folder / "s.jsonl").write_text("".join(_line(name, 5) + "\n" for name in names))
    other: list[int] = []

    def meanwhile(done: int, total: int) -> None:
        if not other:  # once the outer import has planned its files: another import runs
            inner = import_local_logs(db, paths=[second], source_names=["claude-code"])
            other.append(inner.records_added)

    outer = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"], progress=meanwhile)
    assert other == [3]
    assert (outer.records_added, outer.records_after, _count(db)) == (2, 5, 5)


def _stat_with_ids(path: str, device: int, inode: int) -> os.stat_result:
    """`path`'s stat as another system reports it: different file ids, the rest as it is."""
    real = os.stat(path)
    fields = list(real)
    fields[1], fields[2] = inode, device
    extra = ("st_atime", "st_mtime", "st_ctime", "st_atime_ns", "st_mtime_ns", "st_ctime_ns")
    return os.stat_result(fields, {name: getattr(real, name) for name in extra})


def _files_reported_with_ids(monkeypatch: pytest.MonkeyPatch, device: int, inode: int) -> None:
    from tokenworth.sources import claude_code
    from tokenworth.sources.files import LogFile, walk_files

    def walk(root: Path, suffixes: tuple[str, ...]):
        for item in walk_files(root, suffixes):
            yield LogFile(item.path, _stat_with_ids(item.path, device, inode))

    monkeypatch.setattr(claude_code, "walk_files", walk)


def test_files_listed_without_ids_are_each_read(
    db: Database, claude_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Windows directory listing gives every file device and inode 0: they are still different
    files, not one file under many names."""
    for session in ("a", "b", "c"):
        folder = claude_dir / "projects" / session
        folder.mkdir(parents=True)
        (folder / "s.jsonl").write_text(_line(f"m_{session}", 5) + "\n")
    _files_reported_with_ids(monkeypatch, device=0, inode=0)
    summary = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    assert (summary.files_found, summary.records_added) == (3, 3)
    again = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    assert (again.files_unchanged, again.records_added) == (3, 0)


def test_a_file_id_beyond_a_signed_64_bit_number_is_stored(
    db: Database, claude_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows file ids are unsigned 64-bit numbers, which the database's BIGINT cannot hold."""
    _session_file(claude_dir).write_text(_line("m1", 5) + "\n")
    _files_reported_with_ids(monkeypatch, device=2**40 + 7, inode=2**64 - 5)
    assert import_local_logs(db, paths=[claude_dir], source_names=["claude-code"]).records_added == 1
    again = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    assert (again.files_unchanged, again.bytes_read) == (1, 0)


def test_large_file_ids_that_share_their_low_bits_stay_different() -> None:
    from tokenworth.sources.files import file_identity

    def stat(inode: int) -> os.stat_result:
        return os.stat_result((0o100644, inode, 5, 1, 0, 0, 10, 0, 0, 0))

    small, large, larger = (file_identity(stat(inode)) for inode in (7, 2**63 + 7, 2**127 + 7))
    assert len({small, large, larger}) == 3
    assert all(0 <= part < 2**63 for ids in (small, large, larger) if ids for part in ids)
    assert small == (5, 7)  # ids that fit are stored as they are
