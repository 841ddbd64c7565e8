"""The code stays lint-clean (ruff) and type-checked (mypy strict on core/ and sources/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_is_clean() -> None:
    result = _run("ruff", "check", "app", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_core_and_sources() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
