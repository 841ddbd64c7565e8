"""Migration 0002_providers: the same schema as the models, and it upgrades and downgrades cleanly."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tokenworth.core.config import sqlite_url
from tokenworth.core.db import HEAD_REVISION, current_revision, open_database, upgrade
from tokenworth.core.models import Base


def test_migrations_and_models_agree(tmp_path: Path) -> None:
    db = open_database(sqlite_url(tmp_path / "t.db"))
    try:
        assert current_revision(db.engine) == HEAD_REVISION == "0002_providers"
        with db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        db.dispose()


def test_a_ledger_database_upgrades_and_downgrades(tmp_path: Path) -> None:
    db = open_database(sqlite_url(tmp_path / "t.db"), migrate=False)
    try:
        upgrade(db.engine, "0001_ledger")
        upgrade(db.engine)
        tables = set(inspect(db.engine).get_table_names())
        assert {"provider_accounts", "poll_progress", "billed_costs"} <= tables
        from alembic import command
        from alembic.config import Config

        from tokenworth.core.db import MIGRATIONS_DIR

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with db.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0001_ledger")
        inspector = inspect(db.engine)
        assert "billed_costs" not in inspector.get_table_names()
        assert "web_search_requests" not in {c["name"] for c in inspector.get_columns("usage_records")}
    finally:
        db.dispose()
