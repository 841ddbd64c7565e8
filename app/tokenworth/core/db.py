"""Opening the database: engine, SQLite pragmas (WAL), sessions, and migrations to head at start.

SQLAlchemy (and Alembic) are imported only when something writes or the schema needs work:
reading a report from a SQLite file goes through the standard library's `sqlite3`, so the
everyday `tokenworth report daily` starts in a fraction of the time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
HEAD_REVISION = "0005_rollup"
"""The newest migration; checked cheaply at start so Alembic loads only when work is due."""


class DatabaseError(RuntimeError):
    """The database cannot be opened or brought up to date; the message says why."""


class LedgerFileGone(DatabaseError):
    """The SQLite file was deleted or moved while Tokenworth had it open: nothing is written to a
    file nobody will see again, and no empty ledger is made in its place behind the user's back."""

    def __init__(self, file: Path) -> None:
        super().__init__(
            f"the ledger file {file} is gone (deleted or moved while Tokenworth was running); nothing"
            " was written. Put it back, or restart Tokenworth to start a new, empty ledger there"
        )


def sqlite_file(url: str) -> Path | None:
    """The file of a plain `sqlite:///PATH` URL, or None for anything else (memory, options)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = unquote(url[len(prefix) :])
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path).expanduser()


def safe_url(url: str) -> str:
    """A database URL fit to show: its password hidden, and a placeholder for one that does not parse
    (so an error message about a bad `--db` never fails itself)."""
    from sqlalchemy.engine import make_url

    from tokenworth.core.redact import redact_secrets

    try:
        return redact_secrets(make_url(url).render_as_string(hide_password=True))  # ?password= too
    except Exception:
        return "<unparseable database URL>"


def database_problem(exc: BaseException) -> str:
    """A database driver's error as one plain line: SQLAlchemy's wrapper name, the statement and
    parameters it appends, and its 'Background on this error' link left out; secrets masked."""
    from tokenworth.core.redact import redact_secrets

    text = str(getattr(exc, "orig", None) or exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    kept = [line for line in lines if not line.startswith(("[SQL:", "[parameters:", "(Background on this error"))]
    message = "; ".join(kept) or type(exc).__name__
    return redact_secrets(message if len(message) <= 300 else message[:297] + "...")


def ledger_error_text(exc: BaseException, url: str) -> str:
    """An error met reading or writing the ledger, in words for the app's status line and notice:
    the driver's message in one line, and for a SQLite file what to do (damaged, full, read-only)
    as the command line says it."""
    if not from_database(exc):
        return str(exc)
    problem = database_problem(exc)
    return problem + sqlite_file_advice(problem, url)


def from_database(exc: BaseException) -> bool:
    """A database's failure after it was opened (the server stopped, a read-only role, a missing
    table): the driver's own errors, as SQLAlchemy wraps them (DBAPIError). Its other errors
    (a detached instance, no row found) are bugs of ours, and keep their traceback."""
    for cls in type(exc).__mro__:
        if cls.__module__ == "sqlalchemy.exc" and cls.__name__ == "DBAPIError":
            return True
    return type(exc).__module__.split(".")[0] in ("psycopg", "psycopg2", "sqlite3")


def sqlite_file_advice(problem: str, url: str) -> str:
    """What to do about a SQLite file's failure (damaged, or not writable), as a sentence to add
    to `problem`; '' for anything else."""
    file = sqlite_file(url)
    if file is None:
        return ""
    text = problem.lower()
    if "malformed" in text or "not a database" in text:
        return (
            f" The ledger file {file} is damaged. Move it aside (keep it: `sqlite3 {file} .recover` may"
            " save its tasks), then `tokenworth import` rebuilds the usage from the agent logs; tasks,"
            " values and settings made in the app come back only from a backup."
        )
    if "full" in text or "disk i/o" in text:
        return (
            f" The disk holding {file} is full (or failing): free some space on it, or put the ledger"
            " elsewhere with TOKENWORTH_HOME, then run it again; what was imported before is kept."
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return (
            f" Check that you can write {file} and its folder: SQLite writes beside the file even to"
            " read it (its -wal and -shm files)."
        )
    return ""


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


DRIVER_HINTS = {"postgresql": "pip install 'tokenworth[postgres]' (the psycopg driver)"}
"""How to install the driver a database needs, by SQLAlchemy backend name."""


class MissingDriverError(DatabaseError):
    """The URL names a database whose Python driver is not installed; `hint` says how to fix it."""

    def __init__(self, url: str, exc: ImportError) -> None:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
        self.problem = f"its database driver is not installed ({exc})"
        self.hint = DRIVER_HINTS.get(backend, f"install the Python driver that {backend} URLs name (with pip)")
        if backend == "postgresql" and "+" in parsed.drivername and driver != "psycopg":  # +psycopg2: not the extra's
            self.hint = f"write the URL as postgresql://... (psycopg 3), or pip install the {driver} driver"
        super().__init__(f"cannot open the database at {safe_url(url)}: {self.problem}; to fix: {self.hint}")


def create_db_engine(url: str) -> Engine:
    """An engine for any SQLAlchemy URL; a SQLite file gets its folder created and WAL mode.

    `postgresql://` without a driver name means psycopg (version 3: the `postgres` extra's driver),
    whatever SQLAlchemy's own default is. A missing driver raises MissingDriverError (how to install it).
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10})
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True)
    except ImportError as exc:
        raise MissingDriverError(url, exc) from exc


WRITE_LOCK_KEY = 0x746F6B77
"""The PostgreSQL advisory lock that `Database.transaction` holds ('tokw')."""

META_UPSERT_SQL = (
    "INSERT INTO meta (key, value) VALUES (:key, :value) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
"""Set one `meta` entry (small app-wide facts: last import times, kept price schedules)."""


class RawTransaction:
    """Plain SQL inside one transaction: `:name` parameters, rows as tuples, raw values."""

    dialect: str

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        raise NotImplementedError


class SqliteTransaction(RawTransaction):
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        cursor = self.conn.execute(sql, params or {})
        rows = cursor.fetchall()
        self.rowcount = cursor.rowcount
        return rows

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        self.conn.executemany(sql, rows)

    def executemany_values(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """`executemany` with positional (`?`) parameters: binds faster than names."""
        self.conn.executemany(sql, rows)


class SqlAlchemyTransaction(RawTransaction):
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        from sqlalchemy import text

        result = self.conn.execute(text(sql), dict(params or {}))
        self.rowcount = result.rowcount
        return [tuple(row) for row in result] if result.returns_rows else []

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        from sqlalchemy import text

        self.conn.execute(text(sql), [dict(row) for row in rows])


def as_transaction(conn: Any) -> RawTransaction:
    """A RawTransaction over a SQLAlchemy Connection, or the RawTransaction itself."""
    return conn if isinstance(conn, RawTransaction) else SqlAlchemyTransaction(conn)


class Database:
    """One database: reads by plain SQL (`fetch`), writes through SQLAlchemy sessions.

    The engine is created on first use; a SQLite file is read with `sqlite3` directly.
    One short-lived session per unit of work; a session never crosses threads.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._file = sqlite_file(url)
        self._file_seen = False
        """The SQLite file existed at some use: if it is missing later, it was taken away."""
        self._engine: Engine | None = None
        self._session_factory: sessionmaker[Session] | None = None

    @property
    def dialect(self) -> str:
        """The database's SQL dialect ('sqlite', 'postgresql', ...)."""
        return "sqlite" if self._file is not None else self.engine.dialect.name

    @property
    def engine(self) -> Engine:
        self._check_file()  # every use through the engine too (`db.engine.begin()`)
        if self._engine is None:
            self._engine = create_db_engine(self.url)
        return self._engine

    @property
    def session_factory(self) -> sessionmaker[Session]:
        if self._session_factory is None:
            from sqlalchemy.orm import sessionmaker

            self._session_factory = sessionmaker(self.engine, expire_on_commit=False)
        return self._session_factory

    def _check_file(self) -> None:
        """Refuse to go on with a SQLite file deleted or moved since it was used (`sqlite3` would
        make a new, empty one; an open connection would write to the deleted one)."""
        if self._file is None:
            return
        if self._file.exists():
            self._file_seen = True
        elif self._file_seen:
            raise LedgerFileGone(self._file)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        self._check_file()
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def fetch(self, sql: str, params: Mapping[str, Any] | Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only SQL query with `:name` parameters, as plain tuples of raw values
        (money as integer units, times as epoch milliseconds)."""
        if self._file is not None:
            self._check_file()
            with closing(sqlite3.connect(self._file, timeout=10)) as conn:
                return conn.execute(sql, params).fetchall()
        from sqlalchemy import text

        with self.engine.connect() as conn:
            result = conn.execute(text(sql), dict(params) if isinstance(params, Mapping) else {})
            return [tuple(row) for row in result]

    @contextmanager
    def transaction(self) -> Iterator[RawTransaction]:
        """One write transaction in plain SQL with `:name` parameters, committed on success.

        A SQLite file is written with `sqlite3` directly (no SQLAlchemy import: the import hot
        path), holding the write lock from the start (BEGIN IMMEDIATE); any other database goes
        through the engine, PostgreSQL under an advisory lock to the same effect. SQLite's page
        cache may grow to 64 MB: a large import's index pages then stay in memory for the whole
        transaction.
        """
        if self._file is None:
            with self.engine.begin() as engine_conn:
                if engine_conn.dialect.name == "postgresql":
                    # One writer at a time, as SQLite's BEGIN IMMEDIATE gives: what a transaction
                    # reads before it writes (the highest record id, which keys are stored) stays
                    # true until it commits, also with two imports at once.
                    engine_conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
                yield SqlAlchemyTransaction(engine_conn)
            return
        self._check_file()
        raw = sqlite3.connect(self._file, timeout=10, isolation_level=None)
        try:
            raw.execute("PRAGMA journal_mode=WAL")
            raw.execute("PRAGMA synchronous=NORMAL")
            raw.execute("PRAGMA foreign_keys=ON")
            raw.execute("PRAGMA cache_size=-65536")
            raw.execute("BEGIN IMMEDIATE")
            try:
                yield SqliteTransaction(raw)
            except BaseException:
                if raw.in_transaction:  # an I/O error or a full disk has SQLite roll back itself
                    raw.execute("ROLLBACK")
                raise
            raw.execute("COMMIT")
        finally:
            raw.close()

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._session_factory = None


def current_revision(db: Database) -> str | None:
    """The revision stamped in the database, or None for an empty one."""
    if db._file is not None and not db._file.exists():
        return None
    try:
        rows = db.fetch("SELECT version_num FROM alembic_version")
    except Exception as exc:
        if "alembic_version" in str(exc):
            return None
        raise
    return None if not rows else str(rows[0][0])


MIGRATION_LOCK = 0x746F6B77  # "tokw"
"""PostgreSQL advisory lock held while migrating: one teammate's app migrates a shared database,
the others wait for it and then find the schema at head."""


def upgrade(db: Database, revision: str = "head") -> None:
    """Apply migrations up to `revision` (Alembic), inside one connection."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # released at commit; DDL is transactional there
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Open `url` and bring its schema to head (only importing Alembic when work is due)."""
    if sqlite_file(url) is None:
        from sqlalchemy.engine import make_url

        try:
            host = make_url(url).host or ""
        except Exception:  # the parser's own words may quote part of a password: not repeated
            host = "@"
        if "@" in host:  # `user:p@ss@host` parses with `ss@host` as the host
            if "://" not in url:
                raise DatabaseError(
                    "cannot read the database URL: give a URL like sqlite:///PATH or postgresql://user:pass@host/db"
                ) from None
            raise DatabaseError(
                "cannot read the database URL; percent-encode special characters in the user name or"
                " password (@ as %40, : as %3A, / as %2F)"
            ) from None
    db = Database(url)
    if db._file is not None:
        try:
            db._file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create the folder of the database, {db._file.parent}: {exc.strerror}") from exc
        if migrate and (not db._file.exists() or db._file.stat().st_size == 0):
            from tokenworth.core.schema import create_fresh, packaged_schema

            script = packaged_schema(HEAD_REVISION)
            if script is not None:
                try:
                    create_fresh(db._file, script)
                except (sqlite3.Error, OSError) as exc:
                    raise DatabaseError(f"cannot create the database at {db._file}: {exc}") from exc
                return db
    if migrate:
        try:
            if current_revision(db) != HEAD_REVISION:
                upgrade(db)
        except (sqlite3.Error, OSError, ImportError) as exc:
            db.dispose()
            problem = database_problem(exc)
            raise DatabaseError(
                f"cannot open or upgrade the database at {safe_url(url)}: {problem}.{sqlite_file_advice(problem, url)}"
            ) from exc
        except Exception as exc:
            db.dispose()
            if type(exc).__module__.startswith(("sqlalchemy", "alembic")):
                problem = database_problem(exc)
                raise DatabaseError(
                    f"cannot open or upgrade the database at {safe_url(url)}: {problem}."
                    f"{sqlite_file_advice(problem, url)}"
                ) from exc
            raise
    return db
