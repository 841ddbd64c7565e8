"""Opening the database: engine, SQLite pragmas (WAL), sessions, and migrations to head at start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
HEAD_REVISION = "0003_tasks"
"""The newest migration; checked cheaply at start so Alembic loads only when work is due."""


class DatabaseError(RuntimeError):
    """The database cannot be opened or brought up to date; the message says why."""


@dataclass
class Database:
    """An engine plus a session factory. One short-lived session per unit of work."""

    engine: Engine
    session_factory: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    """An engine for any SQLAlchemy URL; a SQLite file gets its folder created and WAL mode."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10})
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    return create_engine(url, pool_pre_ping=True)


def current_revision(engine: Engine) -> str | None:
    """The revision stamped in the database, or None for an empty one."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        return None if row is None else str(row[0])


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` (Alembic), inside one connection."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Open `url`, bring its schema to head, and return the Database."""
    engine = create_db_engine(url)
    if migrate:
        try:
            if current_revision(engine) != HEAD_REVISION:
                upgrade(engine)
        except Exception as exc:
            engine.dispose()
            safe_url = make_url(url).render_as_string(hide_password=True)
            raise DatabaseError(f"cannot open or upgrade the database at {safe_url}: {exc}") from exc
    return Database(engine=engine, session_factory=sessionmaker(engine, expire_on_commit=False))
