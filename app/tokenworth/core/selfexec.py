"""How to start this same program again: the frozen bundle, the console script, or `python -m`."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import tokenworth

SCRIPT_NAME = "tokenworth"
WINDOWED_EXE = "tokenworth-tray.exe"
"""The bundle's no-console executable on Windows (packaging/tokenworth.spec builds both)."""


def is_frozen() -> bool:
    """True inside a PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def package_root() -> Path:
    """The folder holding the `tokenworth` package."""
    return Path(tokenworth.__file__).resolve().parent.parent


def launch_command() -> list[str]:
    """argv (without arguments) a desktop should run to start Tokenworth, e.g. at login.

    The bundle's executable when frozen; else the `tokenworth` console script this process was
    started by or that sits beside this Python; else `python -m tokenworth` with this Python.
    """
    if is_frozen():
        executable = Path(sys.executable).resolve()
        windowed = executable.with_name(WINDOWED_EXE)
        # On Windows the console executable would open a terminal window at every login.
        return [str(windowed if sys.platform == "win32" and windowed.is_file() else executable)]
    script_names = {SCRIPT_NAME, f"{SCRIPT_NAME}.exe"}
    started_by = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if started_by is not None and started_by.name in script_names and started_by.is_file():
        return [str(started_by.resolve())]
    beside_python = Path(sys.executable).parent
    pythonw = beside_python / "pythonw.exe"
    if sys.platform == "win32" and pythonw.is_file():
        return [str(pythonw), "-m", "tokenworth"]
    for name in sorted(script_names):
        candidate = beside_python / name
        if candidate.is_file():
            return [str(candidate)]
    return [str(Path(sys.executable)), "-m", "tokenworth"]


def child_command(env: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """argv and environment for a child process that runs exactly this code (the bundle when
    frozen, else this Python with this package first on PYTHONPATH)."""
    child_env = dict(env)
    if is_frozen():
        return [str(Path(sys.executable).resolve())], child_env
    existing = child_env.get("PYTHONPATH", "")
    child_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(package_root()), existing) if p)
    return [sys.executable, "-m", "tokenworth"], child_env
