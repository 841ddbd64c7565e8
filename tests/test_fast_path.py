"""The everyday command stays quick: with nothing new to import, `report` reads the SQLite file
with the standard library and never loads SQLAlchemy, Alembic, Qt, HTTP or the price database."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import SAMPLES, subprocess_env

HEAVY = (
    *("sqlalchemy", "alembic", "PySide6", "pyqtgraph", "httpx", "httpx2", "keyring", "genai_prices", "tiktoken"),
    *("multiprocessing", "concurrent"),  # the parse-worker pool: 20 ms of start-up, only for large imports
)

PROBE = f"""
import io, sys
from tokenworth.cli import main
out = io.StringIO()
code = main(sys.argv[1:], stdout=out)
heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))
print(code, ','.join(heavy))
"""


def _run(argv: list[str], env: dict[str, str]) -> tuple[int, list[str]]:
    result = subprocess.run([sys.executable, "-c", PROBE, *argv], env=env, capture_output=True, text=True, check=True)
    code, _, heavy = result.stdout.strip().partition(" ")
    return int(code), [name for name in heavy.split(",") if name]


def test_report_with_nothing_new_loads_no_heavy_library(tmp_path: Path) -> None:
    claude = tmp_path / "claude" / "projects" / "p"
    claude.mkdir(parents=True)
    shutil.copy(SAMPLES / "claude-code.jsonl", claude / "s.jsonl")
    env = subprocess_env(
        TOKENWORTH_HOME=str(tmp_path / "home"),
        CLAUDE_CONFIG_DIR=str(tmp_path / "claude"),
        CODEX_HOME=str(tmp_path / "none"),
        GEMINI_DATA_DIR=str(tmp_path / "none"),
    )
    code, heavy = _run(["import"], env)  # the first run creates the schema, prices and writes
    assert code == 0
    assert "genai_prices" in heavy  # it really did the work the next run can skip
    assert "alembic" not in heavy  # a new ledger is made from the packaged schema script
    assert "httpx2" not in heavy  # pricing offline never loads genai-prices' update client

    code, heavy = _run(["report", "daily", "--json"], env)
    assert code == 0
    assert heavy == []


def test_price_data_loaded_alone_leaves_the_whole_package_importable() -> None:
    """The price data is loaded without genai-prices' top level (its HTTP update client); a
    later ordinary import of the package still gets all of it, over the same data."""
    probe = """
import sys
from tokenworth.core.pricing import price_snapshot
snapshot = price_snapshot()
alone = 'httpx2' not in sys.modules and 'genai_prices.update_prices' not in sys.modules
import genai_prices
print(alone, callable(genai_prices.calc_price), genai_prices.data_snapshot.get_snapshot() is snapshot)
"""
    env = subprocess_env()
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "True", "True"]


def test_price_data_loaded_by_several_threads_at_once_is_whole_in_each() -> None:
    """The app's import (database lane) and its provider poll (network lane) may both price
    first: neither may see the price data half loaded by the other (the later threads arrive
    while the first is still loading it)."""
    probe = (
        "import threading, time\n"
        "from tokenworth.core.pricing import price_snapshot\n"
        "gate = threading.Barrier(5)\n"
        "failures = []\n"
        "def load(delay):\n"
        "    gate.wait()\n"
        "    time.sleep(delay)\n"
        "    try:\n"
        "        assert price_snapshot().providers\n"
        "    except Exception as exc:\n"
        "        failures.append(repr(exc))\n"
        "threads = [threading.Thread(target=load, args=(d,)) for d in (0, 0.002, 0.01, 0.03, 0.06)]\n"
        "[thread.start() for thread in threads]\n"
        "[thread.join() for thread in threads]\n"
        "print(failures)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=subprocess_env(), capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout
