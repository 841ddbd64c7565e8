"""Starting the tray app: one instance, the tray icon (or a plain window where the desktop has no
tray), the dashboard, and an excepthook that logs and tells the user instead of vanishing.

Only Qt's core and the single-instance check load before we know we are the first instance, so
a second launch hands over and exits quickly; the dashboard and charts load after.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from tokenworth.core.config import AppPaths
from tokenworth.ui.single_instance import SingleInstance, server_name

if TYPE_CHECKING:
    from tokenworth.ui.hooks import AppHooks

log = logging.getLogger(__name__)

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], Any]


def install_excepthook(notify: Callable[[str], None]) -> ExceptHook:
    """Log unexpected exceptions with their traceback and show a short message; returns the old hook."""
    previous = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
            return
        log.critical("unexpected error", exc_info=(exc_type, exc, tb))
        try:
            notify(f"{exc_type.__name__}: {exc}")
        except Exception:  # the hook must never raise
            log.exception("could not show the error to the user")

    sys.excepthook = hook
    return previous


def setup_logging(paths: AppPaths) -> None:
    """A rotating log file in the app's log folder, unless logging is already configured."""
    root = logging.getLogger()
    if root.handlers:
        return
    try:
        paths.log_dir.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            paths.log_file, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def _show_boot_icon(started: float) -> QSystemTrayIcon | None:
    """Put the icon in the tray at once, before the database and charts load; the tray
    controller adopts it and brings it to life."""
    if not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    from tokenworth.core.budget import Pace
    from tokenworth.ui.tray_icon import draw_tray_icon

    icon = QSystemTrayIcon(QIcon(draw_tray_icon(Pace.NO_BUDGET)))
    icon.setToolTip("Tokenworth: starting…")
    icon.show()
    log.info("tray icon shown %.2f s after run_app began", time.perf_counter() - started)
    return icon


def _parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="tokenworth", add_help=False)
    parser.add_argument("--show-dashboard", action="store_true")
    return parser.parse_known_args(list(argv))


def run_app(paths: AppPaths, argv: Sequence[str] = (), *, hooks: AppHooks | None = None) -> int:
    """Run the tray app until the user quits; 0 also when another instance was brought forward."""
    started = time.perf_counter()
    args, qt_args = _parse_args(argv)
    setup_logging(paths)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(["tokenworth", *qt_args])
    app.setApplicationName("Tokenworth")
    app.setApplicationDisplayName("Tokenworth")
    app.setQuitOnLastWindowClosed(False)
    instance = SingleInstance(server_name(paths.home))
    if instance.signal_running():
        log.info("another Tokenworth is running for %s; asked it to show its dashboard", paths.home)
        print("Tokenworth is already running; its dashboard was brought forward.", file=sys.stderr)
        return 0
    instance.listen()
    boot_icon = _show_boot_icon(started)
    from tokenworth.core.db import DatabaseError, open_database
    from tokenworth.core.settings import load_settings
    from tokenworth.ui.hooks import default_hooks
    from tokenworth.ui.shell import TokenworthApp

    settings, problems = load_settings(paths.settings_file)
    for problem in problems:
        log.warning("settings: %s", problem)
    try:
        db = open_database(paths.db_url)
    except DatabaseError as exc:
        log.error("%s", exc)
        QMessageBox.critical(None, "Tokenworth", str(exc))
        instance.close()
        return 1
    tokenworth = TokenworthApp(
        paths=paths, db=db, settings=settings, hooks=hooks or default_hooks(), tray_icon=boot_icon
    )
    instance.activated.connect(tokenworth.show_dashboard)
    previous_hook = install_excepthook(tokenworth.report_unexpected)
    from tokenworth.ui.gc_guard import MainThreadGc

    collector = MainThreadGc()
    collector.start()
    try:
        tokenworth.start(show_dashboard=args.show_dashboard)
        for problem in problems:
            tokenworth.dashboard.show_status(f"Settings: {problem}")
        return int(app.exec())
    finally:
        sys.excepthook = previous_hook
        tokenworth.shutdown()
        collector.stop()
        instance.close()
        db.dispose()
