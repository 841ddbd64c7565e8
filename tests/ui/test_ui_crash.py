"""One crash path: an exception in a Qt slot, in a Python thread or in a Qt pool thread ends in the
log file with its traceback and in one short message (the tray's, or a box without a tray), and
the app keeps running. `run_app` itself is run once, in this process, with real timers."""

from __future__ import annotations

import faulthandler
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRunnable, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from tokenworth.core import logsetup
from tokenworth.core.config import AppPaths
from tokenworth.core.db import Database
from tokenworth.ui.app import report_crashes, run_app
from tokenworth.ui.dashboard import DashboardWindow
from tokenworth.ui.hooks import AppHooks

pytestmark = pytest.mark.qt_no_exception_capture  # the app's own hooks must see these errors


@pytest.fixture
def crash_hooks(paths: AppPaths) -> Iterator[Path]:
    """Logging as `tokenworth.cli.main` sets it up, with the test runner's own hooks (which would
    print, or fail the test on a thread's exception) swapped for silent ones meanwhile."""
    logsetup.uninstall_crash_handler()  # an earlier in-process CLI run may have installed it
    faults_were_on = faulthandler.is_enabled()  # pytest's own fault handler, on stderr
    saved = sys.excepthook, threading.excepthook
    sys.excepthook = lambda *_args: None
    threading.excepthook = lambda _args: None
    logsetup.setup_logging(paths.log_file)
    try:
        yield paths.log_file
    finally:
        logsetup.uninstall_crash_handler()
        sys.excepthook, threading.excepthook = saved
        logsetup.setup_logging(None)
        logsetup.disable_fault_log()  # the app keeps faults.log open for its life; a test does not
        if faults_were_on:
            faulthandler.enable(file=sys.__stderr__, all_threads=True)


def raise_in_a_slot() -> None:
    raise RuntimeError("boom in a slot")


def raise_in_a_thread() -> None:
    raise KeyError("lost in a thread")


class RaisingJob(QRunnable):
    """A pool job whose exception escapes (ours deliver theirs to the caller; this one does not)."""

    def run(self) -> None:
        raise ValueError("escaped from a pool thread")


def log_text(path: Path) -> str:
    for handler in logsetup.logger("").handlers:
        handler.flush()
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_errors_in_a_slot_and_in_threads_are_logged_and_told_in_the_tray(
    qtbot, crash_hooks: Path, paths: AppPaths, make_app
) -> None:
    app = make_app(hooks=AppHooks())
    stop_reporting = report_crashes(app, paths)
    try:
        app.start()
        assert app.tray is not None
        assert app.tray.icon.isVisible()
        shown: list[tuple[str, str]] = []
        app.tray.message_shown.connect(lambda title, message: shown.append((title, message)))

        QTimer.singleShot(0, raise_in_a_slot)
        qtbot.waitUntil(lambda: len(shown) == 1, timeout=5_000)
        threading.Thread(target=raise_in_a_thread, name="poller").start()
        qtbot.waitUntil(lambda: len(shown) == 2, timeout=5_000)
        QThreadPool.globalInstance().start(RaisingJob())
        qtbot.waitUntil(lambda: len(shown) == 3, timeout=5_000)

        intro = f"Tokenworth hit an error and logged it to {crash_hooks}; it keeps running."
        assert shown == [
            ("Tokenworth hit an error", f"{intro}\nRuntimeError: boom in a slot"),
            ("Tokenworth hit an error", f"{intro}\nKeyError: 'lost in a thread'"),
            ("Tokenworth hit an error", f"{intro}\nValueError: escaped from a pool thread"),
        ]
        text = log_text(crash_hooks)
        assert "uncaught exception in main thread" in text
        assert "uncaught exception in poller" in text
        assert "uncaught exception in thread " in text
        assert text.count("Traceback (most recent call last)") == 3
        assert 'raise RuntimeError("boom in a slot")' in text

        # The same error again at once is logged, not shown again.
        QTimer.singleShot(0, raise_in_a_slot)
        qtbot.waitUntil(lambda: log_text(crash_hooks).count("boom in a slot\n") >= 2, timeout=5_000)
        qtbot.wait(100)
        assert len(shown) == 3

        # Still running: a refresh goes through the worker and back.
        with qtbot.waitSignal(app.controller.overview_changed, timeout=10_000):
            app.controller.refresh()
    finally:
        stop_reporting()
        app.shutdown()
        if app.dashboard_built:
            app.dashboard.close()


def test_run_app_logs_errors_tells_the_user_and_keeps_running(
    qtbot, crash_hooks: Path, paths: AppPaths, ledger: Database
) -> None:
    """The real `run_app` (offscreen: no tray, so the message is a box beside the dashboard)."""
    qapp = QApplication.instance()
    assert isinstance(qapp, QApplication)
    seen: dict[str, object] = {}

    def look_and_quit() -> None:
        boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
        seen["boxes"] = [box.text() for box in boxes]
        seen["dashboard"] = any(
            isinstance(w, DashboardWindow) and w.isVisible() for w in QApplication.topLevelWidgets()
        )
        for box in boxes:
            box.close()
        QApplication.quit()

    QTimer.singleShot(300, raise_in_a_slot)
    QTimer.singleShot(600, lambda: threading.Thread(target=raise_in_a_thread, name="poller").start())
    QTimer.singleShot(1500, look_and_quit)
    quit_on_close = qapp.quitOnLastWindowClosed()
    try:
        assert run_app(paths, [], hooks=AppHooks()) == 0
    finally:
        qapp.setQuitOnLastWindowClosed(quit_on_close)

    assert seen["dashboard"]  # the event loop ran on after both errors, with its window up
    [box] = seen["boxes"]
    assert box == (
        f"Tokenworth hit an error and logged it to {crash_hooks}; it keeps running.\n"
        "RuntimeError: boom in a slot\nKeyError: 'lost in a thread'"
    )
    text = log_text(crash_hooks)
    assert "uncaught exception in main thread" in text
    assert "uncaught exception in poller" in text
    assert (paths.log_dir / "faults.log").exists()  # where a hard crash inside Qt would leave its stacks
