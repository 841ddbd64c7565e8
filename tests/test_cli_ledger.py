"""The ledger from the command line: import, report (a drop-in for ccusage daily), prices, reprice."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLES, CliRunner, subprocess_env, write_unknown_model_log


def _claude_sample(claude_dir: Path) -> None:
    folder = claude_dir / "projects" / "p"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLES / "claude-code.jsonl", folder / "s.jsonl")


def test_import_then_report_daily_json(cli: CliRunner, claude_dir: Path) -> None:
    _claude_sample(claude_dir)
    result = cli("import", "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert (summary["records_added"], summary["files_found"], summary["broken_lines"]) == (3, 1, 0)

    report = cli("report", "daily", "--tz", "UTC", "--json", "--no-import")
    assert report.code == 0, report.err
    doc = json.loads(report.out)
    assert [row["date"] for row in doc["rows"]] == ["2025-05-20", "2026-01-05"]
    jan = doc["rows"][1]
    assert (
        jan["input_tokens"],
        jan["output_tokens"],
        jan["cache_read_tokens"],
        jan["cache_write_tokens"],
    ) == (
        10,
        507,
        37200,
        4200,
    )
    assert jan["cost_usd"] == "0.058097"
    assert {m["model"] for m in jan["by_model"]} == {"claude-opus-4-5-20251101", "claude-sonnet-4-5-20250929"}


def test_report_brings_the_ledger_up_to_date_first(cli: CliRunner, claude_dir: Path) -> None:
    _claude_sample(claude_dir)
    doc = json.loads(cli("report", "monthly", "--tz", "UTC", "--json").out)
    assert [row["month"] for row in doc["rows"]] == ["2025-05", "2026-01"]
    empty = json.loads(cli("report", "monthly", "--json", "--no-import", "--source", "codex").out)
    assert empty["rows"] == []
    as_typed = ("report", "monthly", "--tz", "UTC", "--json", "--no-import", "--project")
    plain = json.loads(cli(*as_typed, "/home/dev/tokenworth").out)
    assert plain["rows"]
    assert json.loads(cli(*as_typed, "/home/dev/tokenworth/").out) == plain  # as tab completion leaves it


def test_table_output_and_unpriced_warning(cli: CliRunner, claude_dir: Path) -> None:
    folder = claude_dir / "projects" / "p"
    folder.mkdir(parents=True)
    (folder / "s.jsonl").write_text(
        '{"cwd":"/w","sessionId":"s","requestId":"r1","type":"assistant","timestamp":"2026-01-05T10:00:00Z",'
        '"message":{"id":"m1","model":"claude-imaginary-9","usage":{"input_tokens":10,"output_tokens":5}}}\n'
    )
    imported = cli("import")
    assert "UNPRICED" in imported.err
    assert "claude-imaginary-9" in imported.err
    table = cli("report", "daily", "--tz", "UTC", "--no-import")
    assert table.code == 0
    assert "2026-01-05" in table.out
    assert "unpriced" in table.out
    assert "UNPRICED: claude-imaginary-9" in table.out


def test_price_override_then_reprice(cli: CliRunner, claude_dir: Path) -> None:
    write_unknown_model_log(claude_dir)
    cli("import")
    assert cli("prices", "set", "claude-imaginary-9", "--input", "2", "--output", "8").code == 0
    listed = json.loads(cli("prices", "list", "--json").out)
    assert listed[0]["provider"] == "anthropic"
    assert listed[0]["input_mtok"] == "2"
    before = json.loads(cli("report", "models", "--json", "--no-import").out)
    assert before["rows"][0]["cost_usd"] is None  # frozen until asked
    repriced = cli("reprice", "--since", "2026-01-01", "--model", "claude-imaginary-9", "--json")
    assert json.loads(repriced.out)["changed"] == 1
    after = json.loads(cli("report", "models", "--json", "--no-import").out)
    assert after["rows"][0]["cost_usd"] == "2"


def test_a_model_name_no_record_carries_is_said_with_the_names_meant(cli: CliRunner, claude_dir: Path) -> None:
    """`claude-sonnet-4.5` for `claude-sonnet-4-5-20250929`: the override and the reprice would
    change nothing, silently."""
    _claude_sample(claude_dir)
    assert cli("import").code == 0
    models = [row["model"] for row in json.loads(cli("report", "models", "--json", "--no-import").out)["rows"]]
    typo = models[0].replace("-4-5", "-4.5").rsplit("-", 1)[0]
    assert typo not in models
    override = cli("prices", "set", typo, "--input", "1", "--output", "2")
    assert override.code == 0, override.err
    assert f"note: no record in the ledger is for {typo!r}" in override.err
    assert f"did you mean {models[0]}" in override.err
    repriced = cli("reprice", "--since", "2026-01-01", "--model", typo)
    assert "Re-priced 0 records" in repriced.out
    assert f"did you mean {models[0]}" in repriced.err
    exact = cli("prices", "set", models[0], "--input", "1", "--output", "2")
    assert "no record in the ledger" not in exact.err
    removed = cli("prices", "delete", typo)  # its one override: no --provider needed
    assert removed.code == 0, removed.err


def test_prices_without_an_action_shows_the_list(cli: CliRunner) -> None:
    empty = cli("prices")
    assert (empty.code, empty.err) == (0, "")
    assert empty.out == cli("prices", "list").out
    assert "No price overrides" in empty.out
    assert cli("prices", "set", "claude-imaginary-9", "--input", "2", "--output", "8").code == 0
    listed = cli("prices")
    assert listed.code == 0, listed.err
    assert "claude-imaginary-9" in listed.out
    assert listed.out == cli("prices", "list").out
    as_json = cli("prices", "--json")  # as `prices list --json`, as its help says
    assert as_json.code == 0, as_json.err
    assert as_json.out == cli("prices", "list", "--json").out == cli("prices", "--json", "list").out
    assert json.loads(as_json.out)[0]["model"] == "claude-imaginary-9"
    assert cli("prices", "--json", "delete", "claude-imaginary-9").code == 2  # said, not ignored
    not_a_price = cli("prices", "set", "claude-imaginary-9", "--input", "inf", "--output", "8")
    assert not_a_price.code == 2
    assert "must be a number of dollars per million tokens, got 'inf'" in not_a_price.err
    removed = cli("prices", "delete", "claude-imaginary-9")
    assert "tokenworth reprice --since DATE --model claude-imaginary-9" in removed.out


def test_bad_input_gives_a_clear_message_and_exit_2(cli: CliRunner) -> None:
    bad_zone = cli("report", "daily", "--tz", "Mars/Olympus", "--no-import")
    assert bad_zone.code == 2
    assert "unknown time zone" in bad_zone.err
    bad_date = cli("report", "daily", "--since", "last tuesday")
    assert bad_date.code == 2
    assert "expected a date" in bad_date.err
    backwards = cli("report", "daily", "--since", "2026-02-01", "--until", "2026-01-01", "--no-import")
    assert backwards.code == 2
    assert "before" in backwards.err
    bad_price = cli("prices", "set", "gpt-x", "--input", "-1", "--output", "2")
    assert bad_price.code == 2
    assert "zero or more" in bad_price.err
    assert "Traceback" not in bad_zone.err + bad_date.err + bad_price.err


def test_db_flag_and_home_keep_state_where_asked(cli: CliRunner, home: Path, tmp_path: Path) -> None:
    assert cli("import").code == 0
    assert (home / "tokenworth.db").exists()
    other = tmp_path / "other.db"
    assert cli("--db", f"sqlite:///{other}", "import").code == 0
    assert other.exists()


def test_an_unusable_db_url_is_one_clear_line_with_no_password(cli: CliRunner) -> None:
    garbled = cli("--db", "not a database url", "report", "daily", "--no-import")
    assert garbled.code == 1
    assert garbled.err.startswith("tokenworth: cannot read the database URL")
    assert "Traceback" not in garbled.err
    unencoded = cli("--db", "postgresql://alice:p@ss:w/rd@127.0.0.1:9/team", "report", "daily", "--no-import")
    assert unencoded.code == 1
    assert "percent-encode special characters" in unencoded.err
    assert "ss:w" not in unencoded.err  # no piece of the password, as the URL parser would quote it
    in_query = cli("--db", "postgresql://me@127.0.0.1:9/ledger?password=hunter2", "report", "daily", "--no-import")
    assert "hunter2" not in in_query.err
    assert "password=***" in in_query.err
    after_command = cli("report", "daily", "--db", "postgresql://me:hunter2@127.0.0.1:9/ledger")
    assert after_command.code == 2
    assert "hunter2" not in after_command.err
    assert "--db goes before the command" in after_command.err
    missing_driver = cli("--db", "postgresql://me:hunter2@127.0.0.1:9/ledger", "report", "daily", "--no-import")
    assert missing_driver.code == 1
    assert "postgresql://me:***@127.0.0.1:9/ledger" in missing_driver.err
    assert "hunter2" not in missing_driver.err


def test_python_dash_m_runs_the_cli(home: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tokenworth", "--version"],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("tokenworth ")


def test_starting_the_app_without_a_display_says_what_to_do_instead(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("only Linux desktops can lack a display")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    for argv in ((), ("dashboard",)):
        result = cli(*argv)
        assert result.code == 1
        assert "no display" in result.err
        assert "tokenworth report daily" in result.err
        assert "Traceback" not in result.err


def test_price_override_without_cache_prices_warns_with_the_database_figures(cli: CliRunner) -> None:
    result = cli("prices", "set", "claude-opus-4-5", "--input", "5", "--output", "25")
    assert result.code == 0
    assert "note: without --cache-read and --cache-write" in result.err
    assert "$0.5/M" in result.err
    quiet = cli(
        "prices",
        "set",
        "claude-opus-4-5",
        "--input",
        "5",
        "--output",
        "25",
        "--cache-read",
        "0.5",
        "--cache-write",
        "6.25",
    )
    assert "note:" not in quiet.err


def test_an_override_goes_to_the_provider_the_models_records_are_under(cli: CliRunner, claude_dir: Path) -> None:
    """Claude Code through DeepSeek's Anthropic-compatible endpoint logs `deepseek-chat`: those
    records are Anthropic's, so following the import's own advice must price them."""
    folder = claude_dir / "projects" / "p"
    folder.mkdir(parents=True)
    (folder / "s.jsonl").write_text(
        '{"cwd":"/w","sessionId":"s","requestId":"r1","type":"assistant","timestamp":"2026-01-05T10:00:00Z",'
        '"message":{"id":"m1","model":"deepseek-chat-x9","usage":{"input_tokens":1000000,"output_tokens":0}}}\n'
    )
    assert "deepseek-chat-x9" in cli("import").err
    assert cli("prices", "set", "deepseek-chat-x9", "--input", "0.5", "--output", "2").code == 0
    assert json.loads(cli("prices", "list", "--json").out)[0]["provider"] == "anthropic"
    assert json.loads(cli("reprice", "--since", "2026-01-01", "--json").out)["changed"] == 1
    assert json.loads(cli("report", "models", "--json", "--no-import").out)["rows"][0]["cost_usd"] == "0.5"
    elsewhere = cli("prices", "set", "deepseek-chat-x9", "--provider", "DeepSeek", "--input", "1", "--output", "2")
    assert elsewhere.code == 0
    assert "the records of deepseek-chat-x9 are under anthropic, not deepseek" in elsewhere.err


def test_a_database_failing_after_it_opened_is_one_line_not_a_traceback(cli: CliRunner, home: Path) -> None:
    """The server stops mid-command, a role may only read, a table is gone: said in one line."""
    import sqlite3

    from tokenworth.core.config import resolve_paths
    from tokenworth.core.db import sqlite_file

    assert cli("report", "daily", "--no-import").code == 0  # the database exists, at its head revision
    with sqlite3.connect(sqlite_file(resolve_paths().db_url)) as conn:  # type: ignore[arg-type]
        conn.execute("DROP TABLE tasks")
    broken = cli("task", "list", "--no-import")
    assert broken.code == 1
    assert broken.err.startswith("tokenworth: database error: no such table: tasks")
    assert "Traceback" not in broken.err
    assert len(broken.err.strip().splitlines()) == 1


def test_a_damaged_ledger_file_says_what_to_do(cli: CliRunner, home: Path) -> None:
    (home / "tokenworth.db").write_bytes(b"x" * 4096)
    result = cli("report", "daily", "--no-import")
    assert result.code == 1
    assert "Traceback" not in result.err
    assert f"The ledger file {home / 'tokenworth.db'} is damaged" in result.err
    assert "tokenworth import" in result.err


def test_an_import_on_a_full_disk_says_so_and_what_to_do_and_the_next_one_finishes(
    cli: CliRunner, claude_dir: Path, home: Path
) -> None:
    """SQLite rolls back on its own when a write fails: the import said "cannot rollback - no
    transaction is active" instead (a limit on file size stands in for a full disk here)."""
    import resource
    import signal
    import subprocess
    import sys

    sample = (SAMPLES / "claude-code.jsonl").read_text()
    (claude_dir / "projects" / "p").mkdir()
    for number in range(300):
        session = sample.replace("0000000000aa", f"{number:012d}").replace("EXAMPLEAAAA", f"EX{number:09d}")
        (claude_dir / "projects" / "p" / f"s{number}.jsonl").write_text(session)

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))

    full = subprocess.run(
        [sys.executable, "-m", "tokenworth", "import"],
        preexec_fn=small_disk,
        capture_output=True,
        text=True,
        env=subprocess_env(),
    )
    assert full.returncode == 1, full.stdout + full.stderr
    assert "is full (or failing): free some space on it" in full.stderr
    assert "rollback" not in full.stderr
    assert "Traceback" not in full.stderr
    assert cli("import").code == 0  # space again: the rest comes in, nothing twice
    clean = ("--db", f"sqlite:///{home / 'clean.db'}")
    assert cli(*clean, "import").code == 0
    report = ("report", "sessions", "--json", "--no-import", "--tz", "UTC")
    assert json.loads(cli(*report).out) == json.loads(cli(*clean, *report).out)


def test_a_psycopg2_url_without_psycopg2_says_to_drop_the_driver_name(cli: CliRunner) -> None:
    import importlib.util

    if importlib.util.find_spec("psycopg2") is not None:
        pytest.skip("psycopg2 is installed here: the URL would open")
    result = cli("--db", "postgresql+psycopg2://me:hunter2@127.0.0.1:9/ledger", "report", "daily", "--no-import")
    assert result.code == 1
    assert "write the URL as postgresql://... (psycopg 3)" in result.err
    assert "tokenworth[postgres]" not in result.err  # installs psycopg 3, which cannot serve +psycopg2


def test_only_the_databases_own_failures_are_told_as_database_errors() -> None:
    """A driver's failure is one line; SQLAlchemy errors that mean a bug of ours keep their traceback."""
    import sqlite3

    from sqlalchemy.exc import NoResultFound, OperationalError
    from sqlalchemy.orm.exc import DetachedInstanceError

    from tokenworth.core.db import from_database as _from_database

    assert _from_database(OperationalError("SELECT 1", {}, sqlite3.OperationalError("disk I/O error")))
    assert _from_database(sqlite3.OperationalError("no such table: tasks"))
    assert not _from_database(DetachedInstanceError("Instance is not bound to a Session"))
    assert not _from_database(NoResultFound("No row was found"))
    assert not _from_database(ValueError("a bug"))


def test_a_password_with_an_unencoded_at_sign_is_never_shown(cli: CliRunner) -> None:
    result = cli("--db", "postgresql://u:p@ss@127.0.0.1:9/d", "report", "daily", "--no-import")
    assert result.code == 1
    assert "ss@127" not in result.err
    assert "percent-encode special characters" in result.err
    path_only = cli("--db", "/tmp/ledger.db", "report", "daily", "--no-import")
    assert "give a URL like sqlite:///PATH" in path_only.err
