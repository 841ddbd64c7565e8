"""Starting the tray app: one instance, the tray icon (or a plain window where the desktop has no
tray), the dashboard, and one crash path: core.logsetup logs every uncaught exception (in a slot,
the main thread or any other thread) with its traceback, then the tray says so in a short message
and the app keeps running; a hard crash inside Qt leaves the Python stacks in faults.log.

Only Qt's core and the single-instance check load before we know we are the first instance, so
a second launch hands over and exits quickly; the dashboard and charts load after.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from tokenworth.core import logsetup
from tokenworth.core.config import AppPaths
from tokenworth.ui.single_instance import SingleInstance, server_name

if TYPE_CHECKING:
    import socket

    from tokenworth.core.periods import Period
    from tokenworth.ui.hooks import AppHooks, Notice
    from tokenworth.ui.shell import TokenworthApp

log = logging.getLogger(__name__)


class CrashRelay(QObject):
    """Carries a crash's one-line summary from whichever thread crashed to the main thread."""

    crashed = Signal(str)

    def __init__(self, show: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._show = show
        # The relay lives on the main thread: an emit from another thread is queued to it.
        self.crashed.connect(self.on_crashed)

    @Slot(str)
    def on_crashed(self, summary: str) -> None:
        self._show(summary)


def report_crashes(tokenworth: TokenworthApp, paths: AppPaths) -> Callable[[], None]:
    """Send uncaught exceptions to the log file and then to the tray; returns the undo.

    `tokenworth.cli.main` has already set up the log file and installed the crash hooks; when
    `run_app` is called on its own (tests, the end-to-end driver) this does it.
    """
    if logsetup.log_file_of() is None:
        logsetup.setup_logging(paths.log_file)
    logsetup.install_crash_handler()
    relay = CrashRelay(tokenworth.report_unexpected)
    logsetup.set_crash_notifier(relay.crashed.emit)
    try:
        logsetup.enable_fault_log(paths.log_dir)
    except OSError as exc:
        log.warning("no fault log for hard crashes: %s", exc)

    def undo() -> None:
        logsetup.set_crash_notifier(None)
        relay.deleteLater()

    return undo


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
    """The app's own start options; anything else is left for Qt (e.g. `-platform xcb`)."""
    parser = argparse.ArgumentParser(prog="tokenworth", add_help=False)
    parser.add_argument("--show-dashboard", action="store_true")
    parser.add_argument("--period", metavar="PERIOD", help="this-month, last-month or YYYY-MM (opens the dashboard)")
    parser.add_argument("--theme", choices=("system", "light", "dark"), help="colours for this run")
    return parser.parse_known_args(list(argv))


def _apply_start_options(tokenworth: TokenworthApp, args: argparse.Namespace) -> None:
    """`--theme` for this run only; `--period` picks the dashboard's period (checked by the CLI)."""
    if args.theme is not None:
        from tokenworth.ui.theme import apply_theme

        apply_theme(args.theme)
    if args.period is not None:
        from tokenworth.services.overview import OverviewQuery

        period = _period_option(tokenworth, args.period)
        if period is not None:
            tokenworth.controller.query = OverviewQuery(period)
            tokenworth.dashboard.set_period(period)
            log.info("the dashboard shows %s, as the start options asked", period.label)


def _period_option(tokenworth: TokenworthApp, text: str) -> Period | None:
    from tokenworth.core.periods import parse_period

    try:
        return parse_period(text, tokenworth.controller.today())
    except ValueError as exc:
        log.warning("start option --period: %s", exc)
        return None


def _on_second_launch(tokenworth: TokenworthApp, options: Mapping[str, str]) -> None:
    """`tokenworth dashboard --period last-month` while the app runs: that period, brought forward."""
    period = None if "period" not in options else _period_option(tokenworth, options["period"])
    if period is not None:
        tokenworth.dashboard.choose_period(period)
    tokenworth.show_dashboard()


def settings_notice(problems: Sequence[str]) -> Notice:
    """The start-up notice for a settings file with values that could not be used."""
    from tokenworth.ui.hooks import Notice

    listed = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
    return Notice("error", "Some settings could not be used", f"{listed}. The defaults apply; fix them in Settings.")


def quit_on_signals(app: QApplication) -> Callable[[], None]:
    """Ctrl-C in the terminal that started the app, or SIGTERM at logout, quits it as the menu's
    Quit does (the import stopped, the database closed) instead of being ignored or killing it
    mid-write. Qt's event loop runs no Python, so a signal wakes it through a socket (no polling
    timer: the idle app stays at 0% CPU). Returns what puts the old handlers back."""
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier, QTimer

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    try:
        old_wakeup = signal.set_wakeup_fd(writer.fileno())
    except ValueError:  # not the main thread (an embedding host): leave signals alone
        reader.close()
        writer.close()
        return lambda: None

    def on_signal(number: int, _frame: object) -> None:
        log.info("quitting: %s", signal.Signals(number).name)
        QTimer.singleShot(0, app.quit)  # queued: also quits when the signal came before exec()

    wanted = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
    old_handlers = {number: signal.signal(number, on_signal) for number in wanted}
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(lambda *_: _drain(reader))  # the handler runs as this returns

    def restore() -> None:
        notifier.setEnabled(False)
        for number, handler in old_handlers.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(old_wakeup)
        reader.close()
        writer.close()

    return restore


def _drain(reader: socket.socket) -> None:
    import contextlib

    with contextlib.suppress(OSError):
        reader.recv(512)


def run_app(paths: AppPaths, argv: Sequence[str] = (), *, hooks: AppHooks | None = None) -> int:
    """Run the tray app until the user quits; 0 also when another instance was brought forward."""
    started = time.perf_counter()
    args, qt_args = _parse_args(argv)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(["tokenworth", *qt_args])
    app.setApplicationName("Tokenworth")
    app.setApplicationDisplayName("Tokenworth")
    app.setQuitOnLastWindowClosed(False)
    instance = SingleInstance(server_name(paths.home))
    if instance.signal_running(options={} if args.period is None else {"period": args.period}):
        log.info("another Tokenworth is running for %s; asked it to show its dashboard", paths.home)
        print("Tokenworth is already running; its dashboard was brought forward.", file=sys.stderr)
        if args.theme is not None:
            print("(--theme applies when the app starts: quit it from the tray to change colours.)", file=sys.stderr)
        return 0
    instance.listen()
    if args.show_dashboard or args.period is not None:
        log.info("start options: the dashboard opens (%s)", args.period or "this-month")
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
        paths=paths,
        db=db,
        settings=settings,
        hooks=hooks or default_hooks(paths),
        tray_icon=boot_icon,
        # Where it was measured (Linux): the child parses in worker processes, twice as fast, and
        # the app does not keep the import's peak memory. Elsewhere the app imports in-process.
        first_import_in_child=sys.platform.startswith("linux"),
    )
    instance.activated.connect(partial(_on_second_launch, tokenworth))
    stop_reporting = report_crashes(tokenworth, paths)
    from tokenworth.ui.gc_guard import MainThreadGc

    collector = MainThreadGc()
    collector.start()
    stop_signals = quit_on_signals(app)
    try:
        _apply_start_options(tokenworth, args)
        tokenworth.start(show_dashboard=args.show_dashboard or args.period is not None)
        for problem in problems:
            tokenworth.dashboard.show_status(f"Settings: {problem}")
        if problems:  # the defaults now apply in their place: said where it is seen, once per start
            tokenworth.controller.notice.emit(settings_notice(problems))
        return int(app.exec())
    finally:
        stop_signals()
        stop_reporting()
        tokenworth.shutdown()
        collector.stop()
        instance.close()
        db.dispose()
