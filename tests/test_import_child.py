"""The first import in a child `tokenworth import` process (the tray app's first run): the same
records and summary as importing in this process, progress read back as it goes, and a child
that cannot run leaves the import to this process."""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import SAMPLES
from tokenworth.core.config import sqlite_url
from tokenworth.core.db import Database, open_database
from tokenworth.services.import_child import (
    PROGRESS_FLAG,
    PROGRESS_LINE_PREFIX,
    STOPPED_EXIT,
    ChildImportError,
    import_in_child,
)
from tokenworth.services.importing import ImportSummary, import_local_logs
from tokenworth.services.local_sync import import_all


def _assistant_line(number: int, model: str) -> str:
    return json.dumps(
        {
            "cwd": "/work/app",
            "sessionId": f"s{number}",
            "requestId": f"req_{number}",
            "type": "assistant",
            "timestamp": "2026-01-05T10:00:00.000Z",
            "message": {
                "id": f"msg_{number}",
                "model": model,
                "usage": {"input_tokens": 10, "output_tokens": 100 + number, "cache_read_input_tokens": 1000},
            },
        },
        separators=(",", ":"),
    )


RECORDS_IN_TREE = 3 * 3 + 2
"""What `_log_tree` holds: three responses in each sample session, two in odd.jsonl."""


def _log_tree(root: Path) -> dict[str, str]:
    """Claude Code logs in `root` (sample sessions, a torn line, an unknown model); the agent
    variables that point the import at them and nowhere else."""
    projects = root / "claude" / "projects"
    for number in range(3):
        folder = projects / f"-home-dev-app{number}"
        folder.mkdir(parents=True)
        text = (SAMPLES / "claude-code.jsonl").read_text()
        text = text.replace('"msg_', f'"msg_{number}').replace('"req_', f'"req_{number}')  # other responses
        (folder / f"session-{number}.jsonl").write_text(text)
    odd = projects / "-home-dev-odd" / "odd.jsonl"
    odd.parent.mkdir(parents=True)
    odd.write_text(
        _assistant_line(1, "claude-sonnet-4-5-20250929")
        + "\n"
        + '{"type":"assistant","message":{"id":"msg_torn"\n'
        + _assistant_line(2, "house-model-x")
        + "\n"
    )
    return {
        "CLAUDE_CONFIG_DIR": str(root / "claude"),
        "CODEX_HOME": str(root / "codex"),
        "GEMINI_DATA_DIR": str(root / "gemini"),
        "HOME": str(root / "user"),
        "TZ": "UTC",
    }


def _records(db: Database) -> list[tuple[object, ...]]:
    return db.fetch(
        "SELECT dedupe_key, model, ts, input_tokens, output_tokens, cache_read_tokens, cost, cost_provenance"
        " FROM usage_records ORDER BY dedupe_key"
    )


def _without_timing(summary: ImportSummary) -> dict[str, object]:
    data = summary.as_json()
    del data["seconds"]
    return data


@pytest.fixture
def child_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = _log_tree(tmp_path / "logs")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TOKENWORTH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TOKENWORTH_DB_URL", raising=False)
    return dict(os.environ)


def test_a_child_import_stores_and_reports_what_an_import_here_does(tmp_path: Path, child_env) -> None:
    here = open_database(sqlite_url(tmp_path / "here.db"))
    there = open_database(sqlite_url(tmp_path / "there.db"))
    expected = import_local_logs(here, env=child_env)
    steps: list[tuple[int, int]] = []

    summary = import_in_child(there.url, env=child_env, progress=lambda done, total: steps.append((done, total)))

    assert _without_timing(summary) == _without_timing(expected)
    assert summary.records_added == RECORDS_IN_TREE
    assert summary.broken_lines == 1
    assert summary.unpriced_models == {"house-model-x": 1}
    assert _records(there) == _records(here)
    # progress came back as the child read: from nothing to every byte, never backwards
    total = steps[-1][1]
    assert total == summary.bytes_read
    assert steps[0] == (0, total)
    assert steps[-1] == (total, total)
    assert [done for done, _ in steps] == sorted(done for done, _ in steps)
    # the child's database was the one given (by URL), not the one its environment points at
    assert not (tmp_path / "home" / "tokenworth.db").exists()
    here.dispose()
    there.dispose()


def test_a_second_child_import_finds_nothing_new(tmp_path: Path, child_env) -> None:
    db = open_database(sqlite_url(tmp_path / "ledger.db"))
    import_in_child(db.url, env=child_env)
    again = import_in_child(db.url, env=child_env)
    assert again.records_added == 0
    assert again.files_unchanged == again.files_found == 4
    db.dispose()


def test_a_failing_child_says_why(tmp_path: Path, child_env) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    with pytest.raises(ChildImportError, match=r"failed \(exit 1\)"):
        import_in_child(sqlite_url(blocker / "ledger.db"), env=child_env)


def test_when_no_child_can_start_this_process_imports(
    tmp_path: Path, child_env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    db = open_database(sqlite_url(tmp_path / "ledger.db"))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python-removed-by-an-upgrade"))
    with pytest.raises(ChildImportError, match="cannot start"):
        import_in_child(db.url, env=child_env)

    summary = import_all(db, env=child_env, in_child=True)

    assert summary.records_added == RECORDS_IN_TREE
    assert "importing in this process instead" in caplog.text
    db.dispose()


def test_a_summary_survives_its_json_form(tmp_path: Path, child_env) -> None:
    db = open_database(sqlite_url(tmp_path / "ledger.db"))
    summary = import_local_logs(db, env=child_env)
    assert summary.broken_examples  # so that the round trip below covers them
    assert summary.searched_dirs
    again = ImportSummary.from_json(json.loads(json.dumps(summary.as_json())))
    assert again.as_json() == summary.as_json()
    assert again.records_added == summary.records_added
    db.dispose()


def test_the_progress_flag_stays_out_of_the_help(cli) -> None:
    result = cli("import", "--help")
    assert result.code == 0
    assert "--json" in result.out
    assert "--progress-lines" not in result.out


class _SigtermAfterTheFirstFile(io.StringIO):
    """The child's stderr, seen from inside: SIGTERM arrives (as when the app quits) right after
    the first file's progress line."""

    sent = False

    def write(self, text: str) -> int:
        if text.startswith(PROGRESS_LINE_PREFIX) and not text.startswith(f"{PROGRESS_LINE_PREFIX}0 ") and not self.sent:
            self.sent = True
            os.kill(os.getpid(), signal.SIGTERM)
        return super().write(text)


def test_sigterm_stops_an_import_after_the_file_under_way_and_the_next_one_reads_the_rest(child_env) -> None:
    from tokenworth.cli import main

    reached_the_test: list[int] = []

    def handler_of_the_test(signum: int, _frame: object) -> None:
        reached_the_test.append(signum)

    previous = signal.signal(signal.SIGTERM, handler_of_the_test)
    try:
        out, err = io.StringIO(), _SigtermAfterTheFirstFile()
        code = main(["import", "--json", PROGRESS_FLAG], stdout=out, stderr=err)
        # the import's own handler took the signal, and the test's is back afterwards
        assert err.sent
        assert reached_the_test == []
        assert signal.getsignal(signal.SIGTERM) is handler_of_the_test
    finally:
        signal.signal(signal.SIGTERM, previous)
    stopped = ImportSummary.from_json(json.loads(out.getvalue()))
    assert code == STOPPED_EXIT
    assert stopped.stopped
    assert (stopped.files_found, stopped.files_read) == (4, 1)
    assert 0 < stopped.records_after < RECORDS_IN_TREE

    out = io.StringIO()
    assert main(["import", "--json"], stdout=out, stderr=io.StringIO()) == 0
    rest = ImportSummary.from_json(json.loads(out.getvalue()))
    assert not rest.stopped
    assert (rest.files_unchanged, rest.files_read) == (1, 3)
    assert rest.records_after == RECORDS_IN_TREE


def test_a_stopped_child_import_is_not_redone_in_this_process(
    tmp_path: Path, child_env, caplog: pytest.LogCaptureFixture
) -> None:
    """Quitting the app while its first import runs in a child: the child is stopped, and this
    process does not start the import again on its way out; the next start imports it all."""
    db = open_database(sqlite_url(tmp_path / "ledger.db"))
    stop = threading.Event()
    stop.set()

    summary = import_all(db, env=child_env, in_child=True, stop=stop)

    assert summary.stopped
    assert _records(db) == []
    assert "importing in this process instead" not in caplog.text
    again = import_all(db, env=child_env, in_child=True)
    assert not again.stopped
    assert again.records_after == RECORDS_IN_TREE
    db.dispose()


def _processes_with(marker: str) -> list[int]:
    """Live processes whose environment holds `marker` (this user's, from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parse workers are forked on Linux only")
def test_a_child_killed_after_its_grace_takes_its_parse_workers_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child that does not stop in time is killed with its forked parse workers: none is left
    holding the pipes, so the app's quit never hangs on them."""
    import subprocess

    from tokenworth.services import import_child

    logs = tmp_path / "claude"
    generator = Path(__file__).parent / "bench" / "generate_logs.py"
    subprocess.run(
        [sys.executable, str(generator), "--size", "70MB", "--out", str(logs), "--seed", "5"],
        check=True,
        capture_output=True,
    )  # above PARALLEL_MIN_BYTES: the child parses in worker processes
    env = dict(
        os.environ,
        CLAUDE_CONFIG_DIR=str(logs),
        CODEX_HOME=str(tmp_path / "none"),
        GEMINI_DATA_DIR=str(tmp_path / "none"),
        HOME=str(tmp_path / "user"),
    )
    db_url = sqlite_url(tmp_path / "ledger.db")
    monkeypatch.setattr(import_child, "STOP_GRACE_S", 0.0)  # no time to stop: killed at once
    stop = threading.Event()
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(
                import_in_child(db_url, env=env, progress=lambda done, _total: done and stop.set(), stop=stop)
            )
        except ChildImportError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=run, daemon=True)
    reader.start()
    reader.join(60)
    assert not reader.is_alive(), "the child's pipes were never closed"
    [killed] = outcome
    assert isinstance(killed, ChildImportError)
    assert "exit -9" in str(killed)
    deadline = time.monotonic() + 10
    while _processes_with(f"TOKENWORTH_DB_URL={db_url}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_with(f"TOKENWORTH_DB_URL={db_url}") == []
