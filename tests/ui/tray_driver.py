"""Drives the real app on a real X display with a real system tray (run by test_ui_system.py).

It starts the app as `run_app` would (real worker pool, real tray icon, the default hooks),
right-clicks the icon with xdotool like a user, clicks "Open dashboard" in the menu that opens,
then opens the menu again, clicks "Log task value…", types a task into the popup with the
keyboard and saves it with Enter, and prints what it saw as one JSON line. Exit code 0 when
every step was seen.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QPoint, QRect
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "app"))

from tokenworth.core.config import resolve_paths
from tokenworth.core.db import open_database
from tokenworth.core.settings import load_settings
from tokenworth.services.tasks import list_tasks
from tokenworth.ui.gc_guard import MainThreadGc
from tokenworth.ui.hooks import default_hooks
from tokenworth.ui.shell import TokenworthApp
from tokenworth.ui.task_actions import task_actions

STEP_TIMEOUT_S = 15.0


def spin_until(app: QApplication, condition: Callable[[], bool], timeout_s: float = STEP_TIMEOUT_S) -> bool:
    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        loop.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def settled_geometry(app: QApplication, icon: QSystemTrayIcon) -> QRect:
    """The icon's place once the tray has embedded it (the first reports can be provisional)."""
    last, stable_since = icon.geometry(), time.monotonic()
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while time.monotonic() < deadline and time.monotonic() - stable_since < 0.6:
        spin_until(app, lambda: False, 0.1)
        current = icon.geometry()
        if current != last:
            last, stable_since = current, time.monotonic()
    return last


def click(point: QPoint, button: int) -> None:
    subprocess.run(
        ["xdotool", "mousemove", "--sync", str(point.x()), str(point.y()), "click", str(button)],
        check=True,
        timeout=10,
    )


def keys(*args: str) -> None:
    """Type or press keys in the focused window, like a user at the keyboard."""
    subprocess.run(["xdotool", *args], check=True, timeout=10)


TASK_TITLE = "Tray e2e: wrote the parser"


def main() -> int:
    app = QApplication(["tokenworth"])
    app.setQuitOnLastWindowClosed(False)
    seen: dict[str, object] = {"platform": app.platformName()}
    seen["tray_available"] = spin_until(app, QSystemTrayIcon.isSystemTrayAvailable)
    paths = resolve_paths()
    db = open_database(paths.db_url)
    settings, _ = load_settings(paths.settings_file)
    tokenworth = TokenworthApp(paths=paths, db=db, settings=settings, hooks=default_hooks())
    collector = MainThreadGc()
    collector.start()
    try:
        seen["has_tray"] = tokenworth.tray is not None
        tokenworth.start()
        assert tokenworth.tray is not None, seen
        icon = tokenworth.tray.icon
        seen["icon_visible"] = spin_until(app, lambda: icon.isVisible() and not icon.geometry().isEmpty())
        geometry = settled_geometry(app, icon)
        seen["icon_geometry"] = [geometry.x(), geometry.y(), geometry.width(), geometry.height()]
        spin_until(app, lambda: tokenworth.controller.overview is not None)
        seen["tooltip"] = icon.toolTip()

        menu = tokenworth.tray.menu
        spin_until(app, lambda: tokenworth.controller.state.first_import_done, 10)
        seen["dashboard_before_click"] = tokenworth.dashboard_built and tokenworth.dashboard.isVisible()
        click(geometry.center(), 3)
        seen["menu_opened"] = spin_until(app, menu.isVisible)
        seen["menu"] = tokenworth.tray.action_texts()
        open_action = next(a for a in menu.actions() if a.text() == "Open dashboard")
        target = menu.mapToGlobal(menu.actionGeometry(open_action).center())
        click(target, 1)
        seen["dashboard_shown"] = spin_until(app, lambda: tokenworth.dashboard.isVisible())
        seen["dashboard_exposed"] = spin_until(app, lambda: tokenworth.dashboard.windowHandle().isExposed())
        seen["menu_closed"] = not menu.isVisible()

        # the popup, from the menu, driven by the keyboard (the dashboard closed first: without a
        # window manager it would stay on top of the tray)
        tokenworth.dashboard.close()
        spin_until(app, lambda: not tokenworth.dashboard.isVisible())
        click(geometry.center(), 3)
        seen["menu_reopened"] = spin_until(app, menu.isVisible)
        log_action = next(a for a in menu.actions() if a.text() == "Log task value…")
        seen["log_action_enabled"] = log_action.isEnabled()
        click(menu.mapToGlobal(menu.actionGeometry(log_action).center()), 1)
        actions = task_actions(tokenworth.controller)
        seen["popup_shown"] = spin_until(app, lambda: actions.popup is not None and actions.popup.isVisible())
        popup = actions.popup
        assert popup is not None, seen
        seen["popup_loaded"] = spin_until(app, lambda: popup.loaded)
        seen["popup_focused"] = spin_until(app, lambda: popup.isActiveWindow() and popup.title_edit.hasFocus())
        seen["popup_covers"] = popup.cover.label if popup.cover else None
        saved: list[object] = []
        popup.saved.connect(saved.append)
        keys("type", "--delay", "20", TASK_TITLE)
        keys("key", "Tab")
        keys("type", "--delay", "20", "coding")
        keys("key", "Tab")
        keys("type", "--delay", "20", "42")
        seen["popup_title"] = (
            popup.title_edit.text() if spin_until(app, lambda: popup.value_edit.text() == "42") else None
        )
        seen["save_enabled"] = spin_until(app, lambda: popup.can_save)
        keys("key", "Return")
        seen["popup_saved"] = spin_until(app, lambda: bool(saved))
        seen["popup_closed"] = spin_until(app, lambda: actions.popup is None)
        tasks = list_tasks(db)
        seen["tasks_in_db"] = [[t.title, t.category, f"{t.value:.2f}", list(t.sessions)] for t in tasks]
    finally:
        tokenworth.shutdown()
        collector.stop()
        db.dispose()
    print(json.dumps(seen))
    steps = ("tray_available", "icon_visible", "menu_opened", "dashboard_shown", "popup_shown", "popup_saved")
    ok = all(seen.get(k) for k in steps)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
