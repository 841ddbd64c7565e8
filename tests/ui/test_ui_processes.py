"""`tokenworth` as real processes: a second launch brings the first forward and exits 0."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from uihelpers import SAMPLES, app_env


def wait_for_line(path: Path, text: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists():
            content = path.read_text(encoding="utf-8", errors="replace")
            if text in content:
                return content
        time.sleep(0.1)
    content = path.read_text(encoding="utf-8", errors="replace") if path.exists() else "(no log file)"
    pytest.fail(f"{text!r} not logged within {timeout_s} s; log:\n{content}")


def test_second_launch_brings_the_first_forward_and_exits(tmp_path: Path) -> None:
    env = app_env(tmp_path)
    claude = tmp_path / "claude" / "projects" / "p"
    claude.mkdir(parents=True)
    (claude / "s.jsonl").write_bytes((SAMPLES / "claude-code.jsonl").read_bytes())
    log = tmp_path / "home" / "logs" / "tokenworth.log"
    first = subprocess.Popen(
        [sys.executable, "-m", "tokenworth"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        wait_for_line(log, "ready: first numbers shown", 30)
        second = subprocess.run(
            [sys.executable, "-m", "tokenworth"], env=env, capture_output=True, text=True, timeout=30
        )
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stderr
        wait_for_line(log, "a second launch asked for the dashboard", 10)
        assert first.poll() is None, "the first instance keeps running"
    finally:
        first.terminate()
        first.communicate(timeout=10)


@pytest.mark.parametrize(
    ("argv", "logged"),
    [
        (["--show-dashboard"], ["start options: the dashboard opens (this-month)"]),
        (
            ["dashboard", "--period", "2026-01", "--theme", "dark"],
            ["start options: the dashboard opens (2026-01)", "the dashboard shows January 2026, as the start options"],
        ),
    ],
)
def test_start_options_reach_the_app(tmp_path: Path, argv: list[str], logged: list[str]) -> None:
    """`tokenworth --show-dashboard` and `tokenworth dashboard --period M` start the app with them."""
    log = tmp_path / "home" / "logs" / "tokenworth.log"
    app = subprocess.Popen(
        [sys.executable, "-m", "tokenworth", *argv],
        env=app_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        text = wait_for_line(log, "ready: first numbers shown", 30)
        for line in logged:
            assert line in text
        assert app.poll() is None
    finally:
        app.terminate()
        app.communicate(timeout=10)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_quits_the_app_cleanly(tmp_path: Path, stop: signal.Signals) -> None:
    """Ctrl-C in the terminal that started it (SIGINT), or the session ending (SIGTERM): the app
    quits through its own shutdown, with no traceback, instead of ignoring it or dying mid-write."""
    log = tmp_path / "home" / "logs" / "tokenworth.log"
    app = subprocess.Popen(
        [sys.executable, "-m", "tokenworth"], env=app_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        wait_for_line(log, "ready: first numbers shown", 30)
        app.send_signal(stop)
        _out, err = app.communicate(timeout=20)
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate(timeout=10)
    assert app.returncode == 0, err.decode(errors="replace")
    assert b"Traceback" not in err
    assert f"quitting: {stop.name}" in log.read_text(encoding="utf-8")


def test_a_signal_that_comes_before_the_event_loop_still_quits(qapp: QApplication) -> None:
    """SIGTERM while the app is still starting (before `exec()`): not lost."""
    import os

    from PySide6.QtCore import QTimer

    from tokenworth.ui.app import quit_on_signals

    restore = quit_on_signals(qapp)
    fell_back: list[bool] = []
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # the handler has run (it queued the quit) before the loop starts
        QTimer.singleShot(5000, lambda: (fell_back.append(True), qapp.quit()))
        started = time.monotonic()
        qapp.exec()
        assert time.monotonic() - started < 4
        assert not fell_back
    finally:
        restore()
