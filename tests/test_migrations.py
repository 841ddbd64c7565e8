"""Migrations: an empty database and one at every older revision both reach head; the ORM models
and the migrations describe the same schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from tokenworth.core.config import sqlite_url
from tokenworth.core.db import HEAD_REVISION, MIGRATIONS_DIR, Database, current_revision, open_database, upgrade
from tokenworth.core.models import Base


def _revisions() -> list[str]:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_head_constant_is_the_newest_migration() -> None:
    assert _revisions()[-1] == HEAD_REVISION


def test_empty_database_reaches_head(tmp_path: Path) -> None:
    db = open_database(sqlite_url(tmp_path / "new.db"))
    try:
        assert current_revision(db) == HEAD_REVISION
        assert "usage_records" in inspect(db.engine).get_table_names()
    finally:
        db.dispose()


@pytest.mark.parametrize("start", _revisions()[:-1] or ["(only one revision)"])
def test_database_at_an_older_revision_reaches_head(tmp_path: Path, start: str) -> None:
    if start == "(only one revision)":
        pytest.skip("only one revision so far: nothing older to upgrade from")
    url = sqlite_url(tmp_path / "old.db")
    old = Database(url)
    upgrade(old, start)
    assert current_revision(old) == start
    old.dispose()
    db = open_database(url)
    try:
        assert current_revision(db) == HEAD_REVISION
    finally:
        db.dispose()


def test_models_match_migrations(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "cmp.db"))
    upgrade(db)
    try:
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
    finally:
        db.dispose()


def test_sqlite_file_uses_wal(db) -> None:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_every_migration_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    from alembic import command

    db = open_database(sqlite_url(tmp_path / "down.db"))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with db.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        assert current_revision(db) is None
        assert "usage_records" not in inspect(db.engine).get_table_names()
        upgrade(db)
        assert current_revision(db) == HEAD_REVISION
    finally:
        db.dispose()


def test_records_written_at_the_first_revision_survive_every_upgrade(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "kept.db")
    old = Database(url)
    upgrade(old, _revisions()[0])
    with old.transaction() as tx:
        for index in range(3):
            tx.execute(
                "INSERT INTO usage_records (dedupe_key, source, provider, model, ts, cost, cost_provenance,"
                " imported_at) VALUES (:key, 'claude-code', 'anthropic', 'm', 1767607800000, 12345, 'computed', 0)",
                {"key": f"k{index}"},
            )
    old.dispose()
    db = open_database(url)
    try:
        assert db.fetch("SELECT COUNT(*), SUM(cost) FROM usage_records") == [(3, 3 * 12345)]
    finally:
        db.dispose()


def _schema_of(path: Path) -> list[tuple[str, str, str]]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        return sorted((kind, name, " ".join((sql or "").split())) for kind, name, sql in rows)


def test_packaged_schema_script_is_what_the_migrations_write() -> None:
    from tokenworth.core.schema import SCHEMA_FILE, render_sqlite_schema

    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_sqlite_schema(), (
        "core/schema_sqlite.sql is stale: run `python -m tokenworth.core.schema` after adding a migration"
    )


def test_a_fresh_file_gets_the_same_schema_as_running_every_migration(tmp_path: Path) -> None:
    fresh = open_database(sqlite_url(tmp_path / "fresh.db"))  # made from the packaged script
    assert current_revision(fresh) == HEAD_REVISION
    fresh.dispose()
    migrated = Database(sqlite_url(tmp_path / "migrated.db"))
    upgrade(migrated)
    migrated.dispose()
    assert _schema_of(tmp_path / "fresh.db") == _schema_of(tmp_path / "migrated.db")
