"""Migration 0003_tasks: matches the models, upgrades a ledger without loss, and goes back down."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select

from task_ledger import known_events, write_events
from tokenworth.core.config import sqlite_url
from tokenworth.core.db import HEAD_REVISION, MIGRATIONS_DIR, current_revision, open_database, upgrade
from tokenworth.core.models import Base, UsageRecord

TASK_TABLES = {"tasks", "task_sessions", "task_branches", "task_attributions", "plans"}


def test_head_is_0003_tasks_and_the_schema_matches_the_models(tmp_path: Path) -> None:
    assert HEAD_REVISION == "0003_tasks"
    db = open_database(sqlite_url(tmp_path / "x.db"))
    try:
        with db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
            assert set(inspect(conn).get_table_names()) >= TASK_TABLES
    finally:
        db.dispose()


def test_upgrade_from_the_ledger_keeps_records_and_downgrade_removes_only_task_tables(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "old.db")
    old = open_database(url, migrate=False)
    upgrade(old.engine, "0001_ledger")
    write_events(old, known_events())
    old.dispose()

    db = open_database(url)
    try:
        assert current_revision(db.engine) == HEAD_REVISION
        with db.session() as session:
            assert session.scalar(select(func.count()).select_from(UsageRecord)) == 7
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with db.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0001_ledger")
        with db.engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            assert not (TASK_TABLES & names)
            assert "usage_records" in names
            assert conn.execute(select(func.count()).select_from(UsageRecord.__table__)).scalar() == 7
    finally:
        db.dispose()
