"""End to end on a real X server (Xvfb) with a real system tray (trayer): the icon appears, its
menu opens on a right click, "Open dashboard" shows the window, and "Log task value…" opens the
popup, where a task typed at the keyboard is saved with Enter into the database."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from uihelpers import SAMPLES, app_env, require_tool

from xdisplay import xvfb_with_tray

pytestmark = pytest.mark.system

DRIVER = Path(__file__).with_name("tray_driver.py")


@pytest.fixture
def display(tmp_path: Path) -> Iterator[str]:
    """A fresh Xvfb display with trayer docked on it; both stopped afterwards."""
    xvfb = require_tool("Xvfb", "a real X server for the end-to-end tray test")
    trayer = require_tool("trayer", "a real system tray on that X server")
    require_tool("xdotool", "clicks the tray icon like a user")
    with xvfb_with_tray(xvfb, trayer) as name:
        yield name


def test_real_tray_icon_menu_and_dashboard(display: str, tmp_path: Path) -> None:
    claude = tmp_path / "claude" / "projects" / "p"
    claude.mkdir(parents=True)
    (claude / "s.jsonl").write_bytes((SAMPLES / "claude-code.jsonl").read_bytes())
    # a returning user: the first-run import already happened, so nothing opens by itself
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "state.json").write_text('{"version": 1, "first_import_done": true}')
    env = app_env(tmp_path, DISPLAY=display, QT_QPA_PLATFORM="xcb")
    result = subprocess.run([sys.executable, str(DRIVER)], env=env, capture_output=True, text=True, timeout=120)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, f"driver printed nothing; stderr:\n{result.stderr}"
    seen = json.loads(lines[-1])
    print("driver saw:", seen)
    assert seen["platform"] == "xcb"
    assert seen["tray_available"] is True
    assert seen["has_tray"] is True
    assert seen["icon_visible"] is True
    assert seen["icon_geometry"][2] > 0
    assert seen["icon_geometry"][3] > 0
    assert seen["tooltip"].startswith("Tokenworth")
    assert seen["dashboard_before_click"] is False
    assert seen["menu_opened"] is True
    assert "Open dashboard" in seen["menu"]
    assert "Quit Tokenworth" in seen["menu"]
    assert seen["dashboard_shown"] is True
    assert seen["dashboard_exposed"] is True

    assert seen["menu_reopened"] is True
    assert seen["log_action_enabled"] is True
    assert seen["popup_shown"] is True
    assert seen["popup_loaded"] is True
    assert seen["popup_focused"] is True
    assert seen["popup_covers"].startswith("Last session: ")  # the unvalued session is offered first
    assert seen["popup_title"] == "Tray e2e: wrote the parser"
    assert seen["save_enabled"] is True
    assert seen["popup_saved"] is True
    assert seen["popup_closed"] is True
    [task] = seen["tasks_in_db"]
    assert task[:3] == ["Tray e2e: wrote the parser", "coding", "42.00"]
    assert len(task[3]) == 1  # the session it covers
    assert result.returncode == 0, result.stderr
