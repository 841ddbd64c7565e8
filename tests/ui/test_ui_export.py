"""Export from the tray: the menu's "Export this month…" asks where (the file type picks the format),
writes in the DB worker and says where it went or why it could not; and the automatic export of
last month, on the first day of a new month and only once (the clock is injected)."""

from __future__ import annotations

import json
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtWidgets import QComboBox
from uihelpers import Clock, add_spend

from export_ledger import build_export_ledger
from tokenworth.core.db import Database
from tokenworth.core.settings import Settings
from tokenworth.ui.export_action import FILE_TYPES, IconsByKind, MonthExporter, export_target, month_exporter
from tokenworth.ui.hooks import Notice, default_hooks
from tokenworth.ui.shell import TokenworthApp
from tokenworth.ui.workers import TaskRunner

FILTER = {file_type.format: file_type.name_filter for file_type in FILE_TYPES}
SUFFIX = {file_type.format: file_type.suffix for file_type in FILE_TYPES}


@pytest.fixture
def clock() -> Clock:
    """The last evening of January 2026 (UTC): "this month" is January, and midnight is near."""
    return Clock(datetime(2026, 1, 31, 22, 0, tzinfo=UTC))


@pytest.fixture
def tray_app(make_app, ledger: Database):
    """The app with its tray controller and the default hooks, on the known January 2026 ledger."""
    build_export_ledger(ledger)
    return make_app(hooks=default_hooks())


def open_export_dialog(app: TokenworthApp) -> MonthExporter:
    """Click "Export this month…" in the tray menu, as a user would."""
    assert app.tray is not None
    app.tray.rebuild_menu()
    [action] = [a for a in app.tray.menu.actions() if a.text() == "Export this month…"]
    assert action.isEnabled()
    action.trigger()
    exporter = month_exporter(app.controller)
    assert exporter.dialog is not None
    assert exporter.dialog.isVisible()
    return exporter


def choose(qtbot, exporter: MonthExporter, fmt: str, path: Path) -> None:
    """Pick the file type in the dialog's list with the keyboard (its first letter), give the name,
    save."""
    dialog = exporter.dialog
    assert dialog is not None
    types = dialog.findChild(QComboBox, "fileTypeCombo")
    assert types is not None
    qtbot.keyClicks(types, FILTER[fmt][0])
    assert dialog.selectedNameFilter() == FILTER[fmt]
    assert dialog.selectedFiles()[0].endswith(f"tokenworth-2026-01{SUFFIX[fmt]}")  # the name follows
    dialog.selectFile(str(path))
    dialog.accept()


def notices_of(app: TokenworthApp) -> list[Notice]:
    seen: list[Notice] = []
    app.controller.notice.connect(seen.append)
    return seen


def test_export_this_month_from_the_tray_writes_a_pdf_in_the_worker(qtbot, tray_app, tmp_path: Path) -> None:
    notices = notices_of(tray_app)
    statuses: list[str] = []
    tray_app.controller.status_changed.connect(statuses.append)
    exporter = open_export_dialog(tray_app)
    assert exporter.dialog.windowTitle() == "Export January 2026"
    assert exporter.dialog.selectedFiles()[0].endswith("tokenworth-2026-01.pdf")
    with qtbot.waitSignal(exporter.finished, timeout=60_000) as done:
        choose(qtbot, exporter, "pdf", tmp_path / "january")
    target = tmp_path / "january.pdf"
    assert [result.target for result in done.args[0]] == [target]
    assert target.read_bytes().startswith(b"%PDF-")
    assert statuses[0] == "Exporting January 2026 as PDF…"
    assert "Exporting January 2026 as PDF: reading the month…" in statuses
    assert statuses[-1] == f"Exported January 2026 to {target}"
    [notice] = notices
    assert (notice.kind, notice.title) == ("info", "Export ready")
    assert notice.message.startswith(f"January 2026 saved to {target} (")
    assert notice.message.endswith(" pages)")


def test_the_file_type_picks_the_format(qtbot, tray_app, tmp_path: Path) -> None:
    exporter = open_export_dialog(tray_app)
    with qtbot.waitSignal(exporter.finished, timeout=30_000):
        choose(qtbot, exporter, "json", tmp_path / "summary")
    document = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert document["totals"]["cost_usd"] == "33.6"  # as `tokenworth export --format json` gives it

    exporter = open_export_dialog(tray_app)
    assert exporter.dialog.selectedNameFilter() == FILTER["json"]  # the last type is remembered
    with qtbot.waitSignal(exporter.finished, timeout=30_000):
        choose(qtbot, exporter, "csv", tmp_path / "tables")
    with zipfile.ZipFile(tmp_path / "tables.zip") as archive:
        assert "records.csv" in {Path(name).name for name in archive.namelist()}


def test_the_dashboard_button_opens_the_same_dialog(qtbot, tray_app) -> None:
    [action] = [a for a in tray_app._dashboard_actions() if a.text() == "Export this month…"]
    assert action.isEnabled()
    action.trigger()
    exporter = month_exporter(tray_app.controller)
    assert exporter.dialog is not None
    assert exporter.dialog.isVisible()
    exporter.dialog.reject()
    qtbot.waitUntil(lambda: exporter.dialog is None)


def test_a_failed_export_says_why_and_the_app_keeps_going(qtbot, tray_app, tmp_path: Path) -> None:
    notices = notices_of(tray_app)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    exporter = open_export_dialog(tray_app)
    with qtbot.waitSignal(exporter.finished, timeout=30_000):
        choose(qtbot, exporter, "json", blocker / "summary.json")
    [notice] = notices
    assert (notice.kind, notice.title) == ("error", "Export failed")
    assert notice.message.startswith("January 2026 was not exported: ")
    assert "not-a-folder" in notice.message
    assert "Traceback" not in notice.message
    assert not exporter.running
    exporter = open_export_dialog(tray_app)  # the next try works
    with qtbot.waitSignal(exporter.finished, timeout=30_000):
        choose(qtbot, exporter, "json", tmp_path / "fine.json")
    assert (tmp_path / "fine.json").exists()


@pytest.mark.parametrize(
    ("chosen", "picked", "path", "fmt"),
    [
        ("/x/january", "pdf", "/x/january.pdf", "pdf"),
        ("/x/january.PDF", "pdf", "/x/january.PDF", "pdf"),
        ("/x/report.json", "pdf", "/x/report.json", "json"),  # a typed ending wins
        ("/x/summary.v2", "html", "/x/summary.v2.html", "html"),
        ("/x/tables", "csv", "/x/tables.zip", "csv"),
    ],
)
def test_where_and_in_which_format(chosen: str, picked: str, path: str, fmt: str) -> None:
    target, file_type = export_target(chosen, FILTER[picked])
    assert (str(target), file_type.format) == (path, fmt)


# automatic export of last month ------------------------------------------------------------------


def test_last_month_is_exported_on_the_first_and_only_once(
    qtbot, make_controller, ledger: Database, clock: Clock, tmp_path: Path
) -> None:
    add_spend(ledger, (datetime(2026, 1, 10, 9, tzinfo=UTC), "claude-sonnet-4-5", "12.50"))
    folder = tmp_path / "exports"
    controller = make_controller(Settings(auto_export=True, auto_export_folder=str(folder)), runner=TaskRunner())
    exporter = month_exporter(controller)
    notices: list[Notice] = []
    controller.notice.connect(notices.append)

    # 31 January: last month (December) has nothing to export; January is not over.
    with qtbot.waitSignal(exporter.auto_checked, timeout=30_000) as checked:
        controller.start()
    assert checked.args[0].decision.reason == "nothing was recorded in 2025-12"
    assert not folder.exists()

    # Local midnight: 1 February. January is exported, every format, into the chosen folder.
    clock.advance(hours=2, seconds=1)
    with qtbot.waitSignal(exporter.auto_checked, timeout=60_000) as checked:
        controller.scheduler.day_changed.emit()
    assert checked.args[0].written
    written = folder / "tokenworth-2026-01"
    assert sorted(p.name for p in written.iterdir()) == [
        "tokenworth-2026-01-charts",
        "tokenworth-2026-01-csv",
        "tokenworth-2026-01.html",
        "tokenworth-2026-01.json",
        "tokenworth-2026-01.md",
        "tokenworth-2026-01.pdf",
    ]
    assert json.loads((written / "tokenworth-2026-01.json").read_text())["totals"]["cost_usd"] == "12.5"
    stamp = (written / "tokenworth-2026-01.json").stat().st_mtime_ns
    assert [(n.kind, n.title) for n in notices] == [("info", "January 2026 exported")]
    assert str(written) in notices[0].message

    # More refreshes the same day: no second check. The next day: checked, not written again.
    controller.refresh()
    controller.refresh()
    qtbot.wait(300)
    assert exporter.auto_checked_on == clock().date()
    clock.advance(days=1)
    with qtbot.waitSignal(exporter.auto_checked, timeout=30_000) as checked:
        controller.scheduler.day_changed.emit()
    assert not checked.args[0].written
    assert checked.args[0].decision.reason.startswith("2026-01 was exported on 2026-02-01")
    assert (written / "tokenworth-2026-01.json").stat().st_mtime_ns == stamp
    assert len(notices) == 1


def test_no_automatic_export_unless_switched_on(qtbot, make_controller, ledger: Database, clock: Clock) -> None:
    add_spend(ledger, (datetime(2026, 1, 10, 9, tzinfo=UTC), "claude-sonnet-4-5", "12.50"))
    clock.advance(days=2)
    controller = make_controller(Settings())
    controller.start()
    assert controller.findChild(MonthExporter) is None  # not even loaded


_DIALOG_IN_PROC = """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog
app = QApplication([])
from tokenworth.ui.export_action import IconsByKind
icons = IconsByKind()
dialog = QFileDialog(None, "Export")
dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
dialog.setIconProvider(icons)
dialog.setDirectory("/proc")
dialog.open()
QTimer.singleShot(1500, app.quit)
app.exec()
print("alive")
"""


@pytest.mark.skipif(not os.access("/proc/kmsg", os.R_OK), reason="needs a readable /proc/kmsg (root on Linux)")
def test_the_export_dialog_never_reads_files_to_draw_their_icons(qtbot, tray_app) -> None:
    """Qt's own icons read each listed file's first bytes on the GUI thread; /proc/kmsg blocks
    on read, and browsing /proc froze the whole app for good (a stalled mount would too)."""
    import subprocess
    import sys

    exporter = month_exporter(tray_app.controller)
    exporter.ask()
    assert isinstance(exporter.dialog.iconProvider(), IconsByKind)
    exporter.dialog.reject()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", _DIALOG_IN_PROC], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "alive", done.stderr
