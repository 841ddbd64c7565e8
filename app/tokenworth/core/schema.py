"""The SQLite schema at head as one SQL script, so a new database is made without Alembic.

Alembic itself writes the script (offline mode, from the same migrations), and a test keeps the
packaged copy equal to what the migrations produce. Creating a fresh ledger this way skips
loading Alembic and SQLAlchemy on a first run; existing databases still upgrade with Alembic.
Regenerate after adding a migration: `python -m tokenworth.core.schema`.
"""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path

SCHEMA_FILE = Path(__file__).with_name("schema_sqlite.sql")


def render_sqlite_schema() -> str:
    """Every migration, base to head, as SQLite SQL (Alembic offline mode)."""
    from alembic import command
    from alembic.config import Config

    from tokenworth.core.db import MIGRATIONS_DIR

    buffer = io.StringIO()
    config = Config(output_buffer=buffer)
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    command.upgrade(config, "head", sql=True)
    return buffer.getvalue()


def packaged_schema(head_revision: str) -> str | None:
    """The packaged script if it ends at `head_revision`, else None (stale: use Alembic)."""
    try:
        script = SCHEMA_FILE.read_text(encoding="utf-8")
    except OSError:
        return None
    stamps = re.findall(r"(?:SET version_num=|VALUES \()'([^']+)'", script)
    return script if stamps and stamps[-1] == head_revision else None


def create_fresh(path: Path, script: str) -> None:
    """Run `script` on a new, empty SQLite file in one transaction."""
    conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(f"BEGIN;\n{script}\nCOMMIT;")
    except BaseException:
        conn.close()
        path.unlink(missing_ok=True)
        raise
    conn.close()


if __name__ == "__main__":
    SCHEMA_FILE.write_text(render_sqlite_schema(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
