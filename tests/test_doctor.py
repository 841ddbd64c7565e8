"""`tokenworth doctor`: the facts a bug report needs, and never a key."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from conftest import SAMPLES, CliRunner
from tokenworth.core.db import HEAD_REVISION

FAKE_KEY = "sk-ant-api03-FAKEdoctorTESTkey0123456789abcdefABCDEF"


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in this process only (the tests' stand-in for the OS keyring)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def doctor_json(cli: CliRunner, *extra: str) -> dict:
    result = cli("doctor", "--json", "--no-tray", *extra)
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_no_key_appears_in_either_form(
    cli: CliRunner, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, claude_dir: Path
) -> None:
    memory_keyring.set_password("tokenworth", "anthropic", FAKE_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    # A project path holding a key-like string, as a careless folder name might.
    shutil.copy(SAMPLES / "claude-code.jsonl", claude_dir / "projects" / "session.jsonl")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{claude_dir},{claude_dir.parent / FAKE_KEY}")

    text = cli("doctor")
    as_json = cli("doctor", "--json")

    assert text.code == 0
    assert as_json.code == 0
    for output in (text.out, text.err, as_json.out, as_json.err):
        assert FAKE_KEY not in output
        assert "FAKEdoctorTESTkey" not in output
    assert "MemoryKeyring" in text.out  # the backend is named, its contents never read
    assert memory_keyring.store == {("tokenworth", "anthropic"): FAKE_KEY}


def test_database_password_is_hidden(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENWORTH_DB_URL", "postgresql://me:hunter2secret@127.0.0.1:9/ledger")

    report = doctor_json(cli)
    text = cli("doctor", "--no-tray")

    assert "hunter2secret" not in json.dumps(report) + text.out + text.err
    assert report["checks"]["database"]["facts"]["url"] == "postgresql://me:***@127.0.0.1:9/ledger"


def test_reports_revision_records_and_log_folders(cli: CliRunner, claude_dir: Path, home: Path) -> None:
    shutil.copy(SAMPLES / "claude-code.jsonl", claude_dir / "projects" / "session.jsonl")
    assert cli("import").code == 0

    report = doctor_json(cli)

    database = report["checks"]["database"]
    assert database["status"] == "ok"
    assert database["facts"]["revision"] == HEAD_REVISION
    assert database["facts"]["records"] > 0
    assert "claude-code" in database["facts"]["last_import"]
    assert report["checks"]["migrations"]["status"] == "ok"
    assert report["checks"]["migrations"]["facts"]["schema_script"] is True
    folders = report["checks"]["agent_logs"]["facts"]["folders"]
    claude = [f for f in folders if f["source"] == "claude-code"]
    assert claude == [{"source": "claude-code", "dir": str(claude_dir / "projects"), "exists": True, "files": 1}]
    assert report["checks"]["data_dir"]["facts"]["data_dir"] == str(home)
    assert report["checks"]["data_dir"]["facts"]["log_file"] == str(home / "logs" / "tokenworth.log")


def test_a_damaged_ledger_file_is_an_error_with_what_to_do(cli: CliRunner, claude_dir: Path, home: Path) -> None:
    """Reports may still read a damaged file while imports fail: doctor checks every page."""
    import sqlite3

    shutil.copy(SAMPLES / "claude-code.jsonl", claude_dir / "projects" / "session.jsonl")
    assert cli("import").code == 0
    ledger = home / "tokenworth.db"
    with sqlite3.connect(ledger) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'ix_usage_records_ts'").fetchone()
    assert doctor_json(cli)["checks"]["database"]["facts"]["integrity"] == "ok"
    with ledger.open("r+b") as handle:  # scribble over one index's root page, as a bad disk would
        handle.seek((pages[0] - 1) * page_size + 8)
        handle.write(b"\xff" * 64)

    database = doctor_json(cli)["checks"]["database"]
    assert database["status"] == "error"
    assert "damaged" in database["summary"]
    assert "Move it aside" in database["hint"]


def test_versions_prices_and_encodings(cli: CliRunner) -> None:
    report = doctor_json(cli)

    assert report["tokenworth"]
    for package in (
        "PySide6",
        "pyqtgraph",
        "SQLAlchemy",
        "Alembic",
        "keyring",
        "httpx",
        "tiktoken",
        "genai-prices",
    ):
        assert report["versions"][package], package
    prices = report["checks"]["prices"]
    assert prices["status"] == "ok"
    assert prices["facts"]["version"].startswith("genai-prices ")
    assert prices["facts"]["models"] > 100
    assert len(prices["facts"]["newest_price_change"]) == len("2026-01-01")
    assert report["checks"]["token_encodings"]["status"] == "ok"


def test_does_not_create_the_database(cli: CliRunner, home: Path) -> None:
    report = doctor_json(cli)

    assert report["checks"]["database"]["status"] == "info"
    assert "not created yet" in report["checks"]["database"]["summary"]
    assert not (home / "tokenworth.db").exists()


def test_unusable_keyring_says_how_to_fix(cli: CliRunner) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        text = cli("doctor", "--no-tray")
    finally:
        keyring.set_keyring(previous)

    line = next(line for line in text.out.splitlines() if "keyring" in line and "fail" in line)
    assert line.startswith("ERROR")
    assert "no usable keyring" in line.lower()
    assert "fix:" in text.out


def test_tray_check_is_headless_without_a_display(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)

    report = json.loads(cli("doctor", "--json").out)

    tray = report["checks"]["tray"]
    assert tray["status"] == "info", tray
    assert tray["summary"].startswith("no display")
    assert tray["facts"]["platform"] == "offscreen"
    assert tray["facts"]["tray"] is False


def test_a_home_that_cannot_be_made_is_an_error_and_no_command_crashes(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TOKENWORTH_HOME under a file: doctor says so (not "ok, not created yet"), and the commands
    that need the ledger say it in one line, not a traceback pointing at a log never written."""
    in_the_way = tmp_path / "notes.txt"
    in_the_way.write_text("a file, not a folder\n")
    monkeypatch.setenv("TOKENWORTH_HOME", str(in_the_way / "home"))
    doctor = cli("doctor", "--json", "--no-tray")
    checks = json.loads(doctor.out)["checks"]
    assert checks["data_dir"]["status"] == "error"
    assert f"{in_the_way} is a file, not a folder" in checks["data_dir"]["summary"]
    assert checks["database"]["status"] == "error"
    for command in (("report", "daily"), ("import",), ("prices",)):
        result = cli(*command)
        assert result.code == 1, command
        assert "cannot create the folder of the database" in result.err
        assert "Traceback" not in result.err


def test_settings_that_cannot_be_used_are_said_by_doctor_and_by_the_commands_that_cut_days(
    cli: CliRunner, home: Path
) -> None:
    """A trailing comma made every report cut days in TZ's zone, not the one chosen, without a
    word; `doctor` said "ok". Both say it now, and nothing is written beside the file."""
    settings = home / "settings.json"
    settings.write_text('{"time_zone": "Asia/Tokyo", "monthly_budget": "50",}')
    report = cli("report", "daily", "--no-import")
    assert report.code == 0
    assert "warning: settings: cannot read" in report.err
    assert "its time zone is not used" in report.err
    check = json.loads(cli("doctor", "--json", "--no-tray").out)["checks"]["data_dir"]
    assert check["status"] == "warn"
    assert any("is not valid settings JSON" in text for text in check["facts"]["settings_problems"])
    assert "is not valid settings JSON" in cli("doctor", "--no-tray").out
    settings.write_text('{"time_zone": 5}')
    assert "time_zone in" in cli("report", "daily", "--no-import").err
    assert not (home / "settings.json.bad").exists()  # doctor and reports only read
