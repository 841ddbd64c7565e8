"""`--db URL` for a server database: which driver a plain `postgresql://` URL uses, and a clear
way forward (never a traceback, never the password) when that driver is not installed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conftest import CliRunner
from tokenworth.core.db import MissingDriverError, create_db_engine, open_database

URL = "postgresql://me:hunter2secret@127.0.0.1:9/ledger"


@pytest.fixture
def no_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if no PostgreSQL driver were installed: importing one fails."""
    for name in ("psycopg", "psycopg2"):
        monkeypatch.setitem(sys.modules, name, None)


def test_a_plain_postgresql_url_uses_psycopg_3() -> None:
    pytest.importorskip("psycopg")
    engine = create_db_engine(URL)  # connects lazily: no server needed
    try:
        assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    finally:
        engine.dispose()


@pytest.mark.usefixtures("no_driver")
def test_a_missing_driver_says_what_to_install() -> None:
    with pytest.raises(MissingDriverError) as raised:
        open_database(URL)
    message = str(raised.value)
    assert "pip install 'tokenworth[postgres]'" in message
    assert "psycopg" in message
    assert "hunter2secret" not in message
    assert "postgresql://me:***@127.0.0.1:9/ledger" in message


@pytest.mark.usefixtures("no_driver")
def test_commands_and_doctor_say_it_without_a_traceback(cli: CliRunner) -> None:
    report = cli("--db", URL, "report", "daily", "--no-import")
    assert report.code == 1
    assert "Traceback" not in report.err
    assert "pip install 'tokenworth[postgres]'" in report.err
    assert "hunter2secret" not in report.out + report.err

    doctor = cli("--db", URL, "doctor", "--json", "--no-tray")
    database = json.loads(doctor.out)["checks"]["database"]
    assert database["status"] == "error"
    assert "driver is not installed" in database["summary"]
    assert database["hint"] == "pip install 'tokenworth[postgres]' (the psycopg driver)"
    assert "hunter2secret" not in doctor.out + doctor.err


def test_a_ledger_file_deleted_while_open_is_said_not_silently_made_anew(tmp_path: Path) -> None:
    """A running app whose ledger file is deleted (or moved) must not confirm writes into the
    deleted file, nor make an empty ledger in its place behind the user's back."""
    from sqlalchemy import text

    from tokenworth.core.config import sqlite_url
    from tokenworth.core.db import LedgerFileGone

    file = tmp_path / "tokenworth.db"
    db = open_database(sqlite_url(file))
    try:
        assert db.fetch("SELECT COUNT(*) FROM tasks") == [(0,)]
        with db.session() as session:
            session.execute(text("SELECT 1"))  # the pooled connection is open on the file
        for path in tmp_path.iterdir():
            path.unlink()
        with pytest.raises(LedgerFileGone, match="is gone"):
            db.fetch("SELECT COUNT(*) FROM tasks")
        with pytest.raises(LedgerFileGone), db.session() as session:
            session.execute(text("INSERT INTO meta (key, value) VALUES ('k', 'v')"))
        with pytest.raises(LedgerFileGone), db.transaction() as tx:
            tx.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
        assert not file.exists()
    finally:
        db.dispose()


def test_a_command_whose_ledger_file_goes_away_midway_says_so(
    cli: CliRunner, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tokenworth.cli import task_cmd
    from tokenworth.services.tasks import list_tasks

    assert cli("task", "list", "--no-import").code == 0  # the ledger exists and was used

    def list_after_the_file_went(db, **kwargs):  # type: ignore[no-untyped-def]
        db.fetch("SELECT 1")
        for path in home.glob("tokenworth.db*"):
            path.unlink()  # another program (or the user) removes it while the command runs
        return list_tasks(db, **kwargs)

    monkeypatch.setattr(task_cmd, "list_tasks", list_after_the_file_went)
    result = cli("task", "list", "--no-import")
    assert result.code == 1
    assert "Traceback" not in result.err
    assert "is gone (deleted or moved while Tokenworth was running)" in result.err
    assert not (home / "tokenworth.db").exists()
