"""Tokenworth on a shared PostgreSQL database, against a real server: the schema is migrated from
empty, and every flow a user runs (import, poll, tasks, every report, export, doctor) gives the
same answers as on the local SQLite file fed the same data."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import routing_ledger
from conftest import SAMPLES, CliRunner
from export_ledger import build_export_ledger
from pg_server import PASSWORD
from provider_fakes import FAKE_KEY, NOW
from tokenworth.core.config import sqlite_url
from tokenworth.core.db import HEAD_REVISION, Database, current_revision, open_database
from tokenworth.core.models import Base
from tokenworth.core.secrets import SecretStore
from tokenworth.services.accounts import store_key
from tokenworth.services.polling import poll_accounts
from tokenworth.sources.provider_http import RetryPolicy

pytestmark = pytest.mark.system

TIME_ZONES = ("UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns")
"""Whole-hour and half-hour offsets, east and west: reports slot time by the hour or quarter hour."""


@pytest.fixture
def twins(tmp_path: Path, pg_url: str) -> Iterator[dict[str, Database]]:
    """The same empty ledger twice: a SQLite file and a PostgreSQL database."""
    opened = {"sqlite": open_database(sqlite_url(tmp_path / "ledger.db")), "postgresql": open_database(pg_url)}
    yield opened
    for db in opened.values():
        db.dispose()


def _json(cli: CliRunner, db: Database, *argv: str) -> Any:
    result = cli("--db", db.url, *argv)
    assert result.code == 0, f"{argv} on {db.dialect}: {result.err}"
    return json.loads(result.out)


def assert_same(cli: CliRunner, twins: dict[str, Database], *argv: str) -> Any:
    """Run one command against both ledgers; the JSON answers must be equal. Returns it."""
    on_sqlite = _json(cli, twins["sqlite"], *argv)
    on_postgres = _json(cli, twins["postgresql"], *argv)
    assert on_postgres == on_sqlite, f"`tokenworth {' '.join(argv)}` differs on PostgreSQL"
    return on_sqlite


def _sample_logs(tmp_path: Path) -> None:
    """Every sample agent log where the `home` fixture points each agent."""
    claude = tmp_path / "claude" / "projects" / "-home-dev-tokenworth"
    claude.mkdir(parents=True)
    shutil.copy(SAMPLES / "claude-code.jsonl", claude / "session.jsonl")
    codex = tmp_path / "codex" / "sessions" / "2026" / "01" / "05"
    codex.mkdir(parents=True)
    shutil.copy(SAMPLES / "codex-rollout.jsonl", codex / "rollout-2026-01-05T10-00-00-x.jsonl")
    gemini = tmp_path / "gemini" / "tmp" / "abc" / "chats"
    gemini.mkdir(parents=True)
    shutil.copy(SAMPLES / "gemini-cli-session.jsonl", gemini / "session-1.jsonl")
    shutil.copy(SAMPLES / "gemini-cli-session-legacy.json", gemini / "session-2.json")


def test_an_empty_database_is_migrated_to_head_and_matches_the_models(pg_url: str) -> None:
    db = open_database(pg_url)
    try:
        assert db.dialect == "postgresql"
        assert current_revision(db) == HEAD_REVISION
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
        assert diff == []
    finally:
        db.dispose()
    again = open_database(pg_url)  # at head: opening again changes nothing
    assert current_revision(again) == HEAD_REVISION
    again.dispose()


def test_import_and_every_usage_report_match_sqlite(
    cli: CliRunner, twins: dict[str, Database], tmp_path: Path, home: Path
) -> None:
    _sample_logs(tmp_path)
    for db in twins.values():
        summary = _json(cli, db, "import", "--json")
        assert summary["records_added"] > 0
        again = _json(cli, db, "import", "--json")  # incremental: nothing new, nothing counted twice
        assert again["records_added"] == 0
    for zone in TIME_ZONES:
        for kind in ("daily", "weekly", "monthly", "models", "projects", "sessions"):
            doc = assert_same(cli, twins, "report", kind, "--json", "--no-import", "--tz", zone)
            assert doc["rows"]
    filtered = assert_same(
        cli, twins, "report", "daily", "--json", "--no-import", "--tz", "UTC", "--source", "claude-code,codex",
        "--since", "2026-01-05", "--until", "2026-01-05",
    )  # fmt: skip
    assert [row["date"] for row in filtered["rows"]] == ["2026-01-05"]
    assert_same(cli, twins, "report", "projects", "--json", "--no-import", "--project", "/home/dev/tokenworth")
