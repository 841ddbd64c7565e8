"""Drives the real app on a real X display with a real system tray (run by test_ui_system.py).

It starts the app as `run_app` would (real worker pool, real tray icon), right-clicks the icon
with xdotool like a user, clicks "Open dashboard" in the menu that opens, and prints what it saw
as one JSON line. Exit code 0 when every step was seen.
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
from tokenworth.ui.shell import TokenworthApp

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


def main() -> int:
    app = QApplication(["tokenworth"])
    app.setQuitOnLastWindowClosed(False)
    seen: dict[str, object] = {"platform": app.platformName()}
    seen["tray_available"] = spin_until(app, QSystemTrayIcon.isSystemTrayAvailable)
    paths = resolve_paths()
    db = open_database(paths.db_url)
    settings, _ = load_settings(paths.settings_file)
    tokenworth = TokenworthApp(paths=paths, db=db, settings=settings)
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
    finally:
        tokenworth.shutdown()
        db.dispose()
    print(json.dumps(seen))
    ok = all(seen.get(k) for k in ("tray_available", "icon_visible", "menu_opened", "dashboard_shown"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
