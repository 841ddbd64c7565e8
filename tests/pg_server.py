"""A throwaway PostgreSQL server for the tests that prove Tokenworth on a shared database.

`initdb` makes a cluster in a temporary folder and `pg_ctl` starts it on a free port of
127.0.0.1 (password login over TCP, as a team's server would ask), once per test session; each
test gets a database of its own. PostgreSQL refuses to run as root, so under root (CI) the server
runs as the `postgres` user Debian's package creates. The cluster collates text with ICU's en-US
rules, as most servers do: any ordering left to SQL that SQLite would do differently shows up.

Tests using it carry `@pytest.mark.system`: without PostgreSQL they skip locally and fail in CI.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conftest import IN_CI, require_tool

if TYPE_CHECKING:
    import pwd  # POSIX only: imported where a server is started

USER = "tokenworth"
PASSWORD = "pg-test-secret"  # a throwaway server on 127.0.0.1 for one test session
_WHY = "a real PostgreSQL server for the shared-database tests"
ICU_EN_US = ("--locale=C.UTF-8", "--locale-provider=icu", "--icu-locale=en-US")
"""Text collated as most servers do (not by code point, as SQLite does)."""


def pg_tool(name: str) -> str:
    """A PostgreSQL server program: on the PATH, or where Debian's packages put it."""
    found = shutil.which(name)
    if found:
        return found
    found_in = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    newest = sorted(
        found_in, key=lambda path: [int(part) for part in Path(path).parts[-3].split(".") if part.isdigit()]
    )
    return newest[-1] if newest else require_tool(name, _WHY)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_user() -> pwd.struct_passwd | None:
    """Who runs the server: None (the current user) unless that is root, which PostgreSQL refuses."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    import pwd

    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        message = "running as root and there is no `postgres` user to run the test server as (install postgresql)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class PostgresServer:
    """A running server: `url(name)` is a SQLAlchemy URL for one of its databases."""

    folder: Path
    port: int
    run_as: pwd.struct_passwd | None
    names: Iterator[int] = field(default_factory=lambda: count(1))

    def url(self, database: str, *, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        import psycopg

        name = f"ledger_{next(self.names)}"
        with psycopg.connect(self.url("postgres", driver="postgresql"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return name

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        user: dict[str, Any] = {}
        if self.run_as is not None:
            user = {"user": self.run_as.pw_uid, "group": self.run_as.pw_gid, "extra_groups": []}
        return subprocess.run(argv, cwd=self.folder, capture_output=True, text=True, timeout=120, check=False, **user)

    def start(self) -> None:
        data, log = self.folder / "data", self.folder / "server.log"
        common = (
            pg_tool("initdb"), "--pgdata", str(data), "--username", USER, "--pwfile", str(self.folder / "password"),
            "--auth-host=scram-sha-256", "--auth-local=trust", "--encoding=UTF8", "--no-sync",
        )  # fmt: skip
        initdb = self._run(*common, *ICU_EN_US)
        if initdb.returncode != 0:  # a server built without ICU (or older than 15): its own default
            initdb = self._run(*common)
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{initdb.stdout}\n{initdb.stderr}")
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        started = self._run(
            pg_tool("pg_ctl"), "--pgdata", str(data), "--log", str(log), "--options", options, "--wait", "start"
        )
        if started.returncode != 0:
            server_log = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed:\n{started.stdout}\n{started.stderr}\n{server_log}")

    def stop(self) -> None:
        self._run(pg_tool("pg_ctl"), "--pgdata", str(self.folder / "data"), "--mode", "immediate", "--wait", "stop")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the test session, removed afterwards."""
    pg_tool("initdb")
    pg_tool("pg_ctl")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        message = "the psycopg driver is not installed (pip install -e '.[test]' brings it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    run_as = _server_user()
    # under root the server's user must reach the folder: /tmp, not a private TMPDIR
    folder = Path(tempfile.mkdtemp(prefix="tokenworth-pg-", dir="/tmp" if run_as is not None else None))
    (folder / "password").write_text(PASSWORD + "\n")
    if run_as is not None:
        for path in (folder, folder / "password"):
            os.chown(path, run_as.pw_uid, run_as.pw_gid)
    server = PostgresServer(folder, _free_port(), run_as)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> str:
    """The URL of a fresh, empty PostgreSQL database (with its password, as a user would give it)."""
    return postgres_server.url(postgres_server.create_database())
