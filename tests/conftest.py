"""Shared test setup: offscreen Qt, a fresh home and database per test, the CLI as a function."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tokenworth.core.config import sqlite_url
from tokenworth.core.db import Database, open_database

pytest_plugins = ("provider_fakes", "pg_server")  # keyring and fake provider API fixtures; a PostgreSQL server

SAMPLES = Path(__file__).parent / "fixtures" / "samples"
APP_DIR = Path(__file__).resolve().parents[1] / "app"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(name: str, why: str) -> str:
    """The path of a system tool a test needs: skip without it locally, fail without it in CI."""
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed ({why}); .ci/run installs it"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for running `python -m tokenworth` in a child process: this checkout's
    code first on the path, offscreen Qt, plus `extra`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(APP_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["QT_QPA_PLATFORM"] = env.get("QT_QPA_PLATFORM", "offscreen")
    env.update(extra)
    return env


def at_once(url: str, work: Callable[[Database, Any], Any], items: Sequence[Any]) -> list[Any]:
    """`work(db, item)` for each item in a thread of its own, each with its own connection to the
    database at `url`, all released at the same moment (two terminals, or the tray and a
    terminal). Their results, or the exception each raised, in the order of `items`."""
    import threading

    gate = threading.Barrier(len(items))
    results: list[Any] = [None] * len(items)

    def run(index: int, item: Any) -> None:
        db = open_database(url)
        try:
            gate.wait()
            results[index] = work(db, item)
        except Exception as exc:
            results[index] = exc
        finally:
            db.dispose()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(items)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture(autouse=True)
def _not_quitting() -> Iterator[None]:
    """A test that shuts an app down tells provider polls to stop (a process-wide flag, as the
    app quits with it); the next test's polls run again."""
    yield
    import sys

    provider_http = sys.modules.get("tokenworth.sources.provider_http")
    if provider_http is not None:
        provider_http.STOPPING.clear()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throwaway TOKENWORTH_HOME; agent log variables point into it so no real log is read."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("TOKENWORTH_HOME", str(folder))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    monkeypatch.setenv("GEMINI_DATA_DIR", str(tmp_path / "gemini" / "tmp"))
    monkeypatch.delenv("TOKENWORTH_DB_URL", raising=False)
    return folder


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A real SQLite file, migrated to head."""
    database = open_database(sqlite_url(tmp_path / "ledger.db"))
    yield database
    database.dispose()


@dataclass
class CliResult:
    code: int
    out: str
    err: str


CliRunner = Callable[..., CliResult]


@pytest.fixture
def cli(home: Path) -> CliRunner:
    """Run `tokenworth ARGS...` in-process with captured output and the test's environment."""
    from tokenworth.cli import main

    def run(*argv: str, stdin: str | None = None) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        if stdin is not None:
            import sys

            old = sys.stdin
            sys.stdin = io.StringIO(stdin)
            try:
                code = main(list(argv), stdout=out, stderr=err)
            finally:
                sys.stdin = old
        else:
            code = main(list(argv), stdout=out, stderr=err)
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


def write_unknown_model_log(claude_dir: Path) -> None:
    """One Claude Code request (1M input tokens on 2026-01-05) by a model no price database knows."""
    folder = claude_dir / "projects" / "p"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "s.jsonl").write_text(
        '{"cwd":"/w","sessionId":"s","requestId":"r1","type":"assistant","timestamp":"2026-01-05T10:00:00Z",'
        '"message":{"id":"m1","model":"claude-imaginary-9","usage":{"input_tokens":1000000,"output_tokens":0}}}\n'
    )


@pytest.fixture
def claude_dir(tmp_path: Path) -> Path:
    """The Claude Code config folder the `home` fixture points CLAUDE_CONFIG_DIR at."""
    folder = tmp_path / "claude" / "projects"
    folder.mkdir(parents=True)
    return folder.parent
