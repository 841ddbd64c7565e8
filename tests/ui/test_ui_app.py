"""The app as a whole: first run imports in the background and shows real spend, no-tray fallback,
one instance, the error message, and the settings dialog (validation, round-trip, price overrides)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from PySide6.QtWidgets import QApplication

from tokenworth.core.config import AppPaths, sqlite_url
from tokenworth.core.db import Database, open_database
from tokenworth.core.settings import Settings, load_settings
from tokenworth.services import prices
from tokenworth.services.importing import import_local_logs
from tokenworth.ui.hooks import AppHooks
from tokenworth.ui.settings_dialog import SettingsDialog
from tokenworth.ui.shell import TokenworthApp
from tokenworth.ui.single_instance import SingleInstance, server_name
from tokenworth.ui.workers import InlineRunner, Lane


class RecordingApp(TokenworthApp):
    """The real app, except that quitting is recorded instead of ending the test's event loop."""

    quits = 0

    def end_event_loop(self) -> None:
        self.quits += 1


@pytest.fixture
def build_app(make_app):
    """The app as `make_app` builds it, quitting recorded (`RecordingApp`); `tray` says whether
    the desktop has a tray."""

    def build(*, tray: bool, **options):
        return make_app(tray=tray, kind=RecordingApp, **options)

    return build


@pytest.mark.parametrize("in_child", [False, True], ids=["in-process", "in-a-child-process"])
def test_first_run_imports_agent_logs_in_the_background_and_shows_them(
    qtbot, build_app, sample_logs, paths: AppPaths, in_child: bool, caplog: pytest.LogCaptureFixture
) -> None:
    app = build_app(tray=True, first_import_in_child=in_child)
    statuses: list[str] = []
    app.controller.status_changed.connect(statuses.append)
    shown: list[str] = []
    assert app.tray is not None
    app.tray.message_shown.connect(lambda title, text: shown.append(title))
    app.start()
    assert statuses[0].startswith("First run: looking for")
    qtbot.waitUntil(lambda: app.controller.state.first_import_done, timeout=10_000)
    qtbot.waitUntil(lambda: app.dashboard.isVisible(), timeout=2_000)
    qtbot.waitUntil(lambda: bool(app.dashboard.overview and app.dashboard.overview.records_total), timeout=5_000)
    assert any(s.startswith("Found ") and "usage records" in s for s in statuses)
    assert "Tokenworth is in your tray" in shown
    assert app.dashboard.statusBar().currentMessage().startswith("Found ")
    assert app.tray.icon.toolTip().startswith("Tokenworth · January 2026")
    # the next start is not a first run
    assert orjson.loads((paths.home / "state.json").read_bytes())["first_import_done"] is True
    assert any(s.startswith("Importing your agent logs… 100%") for s in statuses)  # progress, from either
    assert "importing in this process instead" not in caplog.text  # the child did it when asked


@pytest.mark.parametrize(
    ("now", "shown", "control"),
    [
        (datetime(2026, 2, 3, 9, tzinfo=UTC), "January 2026", "last-month"),
        (datetime(2026, 4, 2, 9, tzinfo=UTC), "January 2026", "custom"),
    ],
)
def test_a_first_run_with_no_usage_this_month_shows_the_month_of_the_newest(
    qtbot, build_app, sample_logs, clock, now: datetime, shown: str, control: str
) -> None:
    """Early in a month, or weeks after the last agent work, the first dashboard showed $0.00 on
    every card beside "Found 10 usage records": it shows the month they are in, and says so."""
    clock.now = now
    app = build_app(tray=True, runner=InlineRunner())
    app.start()
    qtbot.waitUntil(lambda: app.controller.state.first_import_done, timeout=10_000)
    qtbot.waitUntil(lambda: app.controller.query.period.label == shown, timeout=5_000)
    assert app.dashboard.period.currentData() == control
    assert app.controller.overview is not None
    assert app.controller.overview.period_cost > 0
    assert app.controller.status.startswith(f"No usage yet this month: showing {shown}")


@pytest.mark.parametrize("in_child", [False, True], ids=["in-process", "in-a-child-process"])
def test_quitting_during_the_first_import_stops_it_and_the_next_start_finishes_it(
    qtbot, build_app, sample_logs, ledger: Database, tmp_path: Path, in_child: bool, caplog: pytest.LogCaptureFixture
) -> None:
    first = build_app(tray=True, first_import_in_child=in_child)
    # A long job ahead of the import in the database lane that ends only when the app quits: the
    # user quits while the first import is under way (waiting for its turn, here).
    first.controller.runner.submit(lambda: first.controller.stopping.wait(30), lane=Lane.DB)
    first.start()
    first.shutdown()
    qtbot.waitUntil(lambda: first.controller.runner.pending == 0, timeout=5_000)  # late results delivered

    assert ledger.fetch("SELECT COUNT(*) FROM usage_records") == [(0,)]
    assert not first.controller.state.first_import_done  # so the next start is still a first run
    assert "importing in this process instead" not in caplog.text  # no import started on the way out

    second = build_app(tray=True, first_import_in_child=in_child)
    second.start()
    qtbot.waitUntil(lambda: second.controller.state.first_import_done, timeout=10_000)
    clean = open_database(sqlite_url(tmp_path / "clean.db"))
    expected = import_local_logs(clean).records_after
    clean.dispose()
    assert expected > 0
    assert ledger.fetch("SELECT COUNT(*) FROM usage_records") == [(expected,)]


def test_without_a_system_tray_the_dashboard_is_the_app(qtbot, build_app, sample_logs) -> None:
    app = build_app(tray=False)
    app.start()
    assert app.tray is None
    assert app.dashboard.isVisible()
    qtbot.waitUntil(lambda: app.dashboard.overview is not None, timeout=10_000)
    texts = [a.text() for a in app._actions]
    assert {"Refresh now", "Settings…", "Quit"} <= set(texts)
    assert QApplication.instance().quitOnLastWindowClosed() in (True, False)  # untouched by building
    app.dashboard.close()
    assert app.quits == 1


def test_with_a_tray_closing_the_dashboard_keeps_running(qtbot, build_app) -> None:
    app = build_app(tray=True, runner=InlineRunner())
    app.start(show_dashboard=True)
    assert app.dashboard.isVisible()
    app.dashboard.close()
    assert app.quits == 0
    assert not app.dashboard.isVisible()
    app.show_dashboard()
    assert app.dashboard.isVisible()


def test_second_instance_signals_the_first(qtbot, tmp_path: Path) -> None:
    name = server_name(tmp_path)
    first = SingleInstance(name)
    assert first.listen()
    try:
        with qtbot.waitSignal(first.activated, timeout=3000):
            assert SingleInstance(name).signal_running()
    finally:
        first.close()
    assert not SingleInstance(name).signal_running(timeout_ms=200)


def test_a_second_launch_with_a_period_shows_that_period(qtbot, tmp_path: Path, build_app) -> None:
    """`tokenworth dashboard --period 2026-01` while the app runs: the running app shows January,
    not whatever it showed before (an older instance would just come forward)."""
    from tokenworth.ui.app import _on_second_launch

    name = server_name(tmp_path)
    first = SingleInstance(name)
    assert first.listen()
    try:
        with qtbot.waitSignal(first.activated, timeout=3000) as asked:
            assert SingleInstance(name).signal_running(options={"period": "2026-01"})
    finally:
        first.close()
    assert asked.args == [{"period": "2026-01"}]

    app = build_app(tray=True, runner=InlineRunner())
    app.start()
    _on_second_launch(app, asked.args[0])
    assert app.dashboard.isVisible()
    assert app.dashboard.period.currentData() == "custom"
    assert app.dashboard.since.date().toPython() == date(2026, 1, 1)
    assert (app.controller.query.period.start.year, app.controller.query.period.start.month) == (2026, 1)
    _on_second_launch(app, {"period": "not a period"})  # said in the log; the dashboard still comes
    assert app.dashboard.isVisible()


def test_a_message_arriving_in_pieces_is_read_whole(qtbot, tmp_path: Path) -> None:
    """A local socket may deliver the request in several reads: the option is not lost or cut."""
    from PySide6.QtNetwork import QLocalSocket

    name = server_name(tmp_path)
    first = SingleInstance(name)
    assert first.listen()
    try:
        with qtbot.waitSignal(first.activated, timeout=3000) as asked:
            sender = QLocalSocket()
            sender.connectToServer(name)
            assert sender.waitForConnected(1000)
            for piece in (b"sh", b"ow\nperiod=2026-", b"01\n"):
                sender.write(piece)
                sender.flush()
                sender.waitForBytesWritten(1000)
                qtbot.wait(30)  # the first instance reads each piece on its own
            sender.disconnectFromServer()
    finally:
        first.close()
    assert asked.args == [{"period": "2026-01"}]


def test_names_are_per_home(tmp_path: Path) -> None:
    assert server_name(tmp_path / "a") != server_name(tmp_path / "b")
    assert server_name(tmp_path / "a") == server_name(tmp_path / "a")


def test_a_stale_socket_from_a_crash_does_not_block_the_next_start(qtbot, tmp_path: Path) -> None:
    name = server_name(tmp_path)
    crashed = SingleInstance(name)
    assert crashed.listen()
    assert crashed.server is not None
    crashed.server.close()  # a crash leaves no listener but maybe the socket file
    fresh = SingleInstance(name)
    assert fresh.listen()
    fresh.close()


def test_report_unexpected_shows_a_message_without_a_tray(qtbot, build_app) -> None:
    app = build_app(tray=False, runner=InlineRunner())
    app.report_unexpected("RuntimeError: boom")
    assert app._error_box is not None
    assert "RuntimeError: boom" in app._error_box.text()
    assert "it keeps running" in app._error_box.text()
    app.report_unexpected("KeyError: 'x'")  # a second error while the box is open: listed in it
    assert app._error_box.text().endswith("RuntimeError: boom\nKeyError: 'x'")
    app._error_box.close()


# settings ----------------------------------------------------------------------------------------


@pytest.fixture
def dialog(qtbot, make_controller):
    def build(settings: Settings | None = None) -> SettingsDialog:
        controller = make_controller(settings or Settings())
        dlg = SettingsDialog(controller)
        qtbot.addWidget(dlg)
        return dlg

    return build


def test_bad_budget_is_marked_in_the_field_never_raised(qtbot, dialog, paths: AppPaths) -> None:
    dlg = dialog(Settings(monthly_budget=Decimal("200")))
    dlg.budget.edit.setText("two hundred")
    assert not dlg.budget.valid
    assert "d64541" in dlg.budget.edit.styleSheet()
    assert "amount in dollars" in dlg.budget.error.text()
    assert not dlg.budget.error.isHidden()
    assert not dlg.save_button.isEnabled()
    dlg.accept()  # nothing happens: nothing saved, no exception
    assert not paths.settings_file.exists()
    assert dlg.controller.settings.monthly_budget == Decimal("200")
    dlg.budget.edit.setText("$250.50")
    assert dlg.budget.valid
    assert dlg.budget.edit.styleSheet() == ""
    assert dlg.save_button.isEnabled()


def test_bad_thresholds_and_zone_are_marked_too(qtbot, dialog) -> None:
    dlg = dialog()
    dlg.thresholds.edit.setText("80, lots")
    dlg.time_zone.edit.setText("Mars/Olympus")
    assert not dlg.thresholds.valid
    assert not dlg.time_zone.valid
    assert "IANA" in dlg.time_zone.error.text()
    assert dlg.edited_settings() is None


def test_settings_round_trip_through_the_dialog(qtbot, dialog, paths: AppPaths) -> None:
    started: list[bool] = []
    dlg = dialog()
    dlg.controller.hooks = AppHooks(set_start_at_login=started.append)
    dlg.budget.edit.setText("1,200")
    dlg.thresholds.edit.setText("50, 90, 100")
    dlg.poll_minutes.setValue(5)
    dlg.add_folder("/data/other-claude")
    dlg.icon_figure.setChecked(True)
    dlg.figure.setCurrentIndex(dlg.figure.findData("forecast"))
    dlg.start_at_login.setChecked(True)
    dlg.accept()
    saved, problems = load_settings(paths.settings_file)
    assert problems == []
    assert saved.monthly_budget == Decimal("1200.00")
    assert saved.alert_thresholds_pct == (50, 90, 100)
    assert saved.poll_interval_s == 300
    assert saved.log_folders == ("/data/other-claude",)
    assert saved.tray_display == "figure"
    assert saved.tray_figure == "forecast"
    assert saved.start_at_login is True
    assert started == [True]
    assert dlg.controller.settings == saved
    assert dlg.controller.scheduler.poll_interval_s == 300
    again = dialog(saved)
    assert again.budget.edit.text() == "1200.00"
    assert again.folders.item(0).text() == "/data/other-claude"
    assert again.icon_figure.isChecked()


def test_price_overrides_from_the_dialog(qtbot, dialog, ledger: Database) -> None:
    dlg = dialog()
    dlg.price_model.edit.setText("my-local-model")
    dlg.price_input.edit.setText("-1")
    dlg.on_add_price_clicked()
    assert "Fix the marked fields" in dlg.price_status.text()
    assert prices.list_overrides(ledger) == []
    dlg.price_input.edit.setText("0.5")
    dlg.price_output.edit.setText("1.5")
    dlg.price_provider.setCurrentText("openai")
    dlg.on_add_price_clicked()
    [override] = prices.list_overrides(ledger)
    assert (override.provider, override.model, override.input_mtok, override.output_mtok) == (
        "openai",
        "my-local-model",
        "0.5",
        "1.5",
    )
    assert dlg.overrides.rowCount() == 1
    assert dlg.overrides.item(0, 1).text() == "my-local-model"
    # cache prices left blank are the input price: said on saving, and shown so in the table
    assert "priced at the input price ($0.5/M)" in dlg.price_status.text()
    assert [dlg.overrides.item(0, column).text() for column in (4, 5)] == ["=input", "=input"]
    assert "input price" in dlg.price_cache_read.edit.placeholderText()
    dlg.overrides.selectRow(0)
    dlg.on_delete_price_clicked()
    assert prices.list_overrides(ledger) == []
    assert dlg.overrides.rowCount() == 0


def test_keys_and_plans_sections_are_there_to_plug_into(qtbot, dialog) -> None:
    dlg = dialog()
    titles = [dlg.tabs.tabText(i) for i in range(dlg.tabs.count())]
    assert titles == ["General", "Log folders", "Prices", "Keys", "Plans"]
    from PySide6.QtWidgets import QLabel

    plugged = QLabel("keys from phase 2")
    dlg.controller.hooks = AppHooks(keys_section=lambda parent: plugged)
    with_hook = SettingsDialog(dlg.controller)
    qtbot.addWidget(with_hook)
    assert with_hook.tabs.widget(3) is plugged


def test_thousands_of_qt_calls_do_not_abort_the_process() -> None:
    """PySide6 6.12.0 on Python 3.11 drops a reference to None/True on every void call or emit,
    so a tray app aborts ("none_dealloc") after a while; pyproject.toml excludes that release.
    This runs enough calls in a child process to free None if the installed Qt had the bug."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(Path(__file__).resolve().parents[2] / "app"))
    code = (
        "import sys\n"
        "from PySide6.QtCore import QObject, Signal\n"
        "from PySide6.QtWidgets import QApplication, QWidget\n"
        "app = QApplication([])\n"
        "class Emitter(QObject):\n"
        "    fired = Signal(bool)\n"
        "widget, emitter = QWidget(), Emitter()\n"
        "emitter.fired.connect(lambda _v: None)\n"
        "for _ in range(sys.getrefcount(None) + 1000):\n"
        "    widget.setVisible(False)\n"
        "    emitter.fired.emit(True)\n"
        "print('alive')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout.strip() == "alive"


def test_unusable_settings_are_announced_with_what_applies_instead() -> None:
    from tokenworth.ui.app import settings_notice

    notice = settings_notice(["monthly_budget: x", "theme: pink", "time_zone: 5", "poll_interval_s: 5"])
    assert notice.kind == "error"
    assert notice.message.startswith("monthly_budget: x; theme: pink; time_zone: 5; and 1 more.")
    assert "The defaults apply; fix them in Settings." in notice.message


def test_quit_while_a_poll_waits_on_a_provider_ends_at_once(qtbot, build_app) -> None:
    """A provider answering 429 with Retry-After 120 (or a reply that trickles): Quit does not
    wait for it, and no request goes out after."""
    import time

    from pytest_httpserver import HTTPServer

    import tokenworth.services.polling  # noqa: F401  (loaded, as in an app that has polled)
    from tokenworth.sources.provider_http import RetryPolicy, Where, get_json

    server = HTTPServer(host="127.0.0.1")
    server.start()
    server.expect_request("/v1/usage").respond_with_data("slow down", status=429, headers={"Retry-After": "100"})
    asked: list[float] = []

    def poll(db) -> list:
        import httpx

        with httpx.Client() as client:
            asked.append(time.monotonic())
            get_json(
                client,
                server.url_for("/v1/usage"),
                headers={},
                where=Where("openai", "usage"),
                secret="",
                retry=RetryPolicy(),
            )
        return []

    app = build_app(tray=False, hooks=AppHooks(poll_providers=poll))
    try:
        app.controller.poll_providers()
        qtbot.waitUntil(lambda: len(server.log) == 1, timeout=5_000)
        started = time.monotonic()
        app.shutdown()
        assert time.monotonic() - started < 3
        assert len(server.log) == 1  # nothing sent after Quit
    finally:
        server.clear()
        server.stop()


def test_quit_is_written_in_the_log_as_a_signal_is(build_app, caplog: pytest.LogCaptureFixture) -> None:
    """A log that just stops reads as a crash: Quit says it was chosen, as SIGTERM is named."""
    import logging

    app = build_app(tray=False)
    with caplog.at_level(logging.INFO, logger="tokenworth.ui.shell"):
        app.quit()
    assert app.quits == 1
    assert "quitting: Quit chosen" in caplog.text
