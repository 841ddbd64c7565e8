"""Export from the tray: "Export this month…" (a save dialog whose file type picks the format, then
the summary built and written in the DB worker) and the automatic export of last month, which
the controller asks for after a refresh at most once a day. The user is told when it is done
(with the path) or why it failed; the UI never waits for it.

Both write through the same services as `tokenworth export`: services.monthly_summary builds the
month, services.export writes it (charts and PDF drawn by ui.export_hooks, which work off the main
thread: QPainter on a QImage, QTextDocument and QPdfWriter need no screen).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QFileInfo, QObject, QStandardPaths, Signal
from PySide6.QtGui import QAbstractFileIconProvider, QIcon
from PySide6.QtWidgets import QApplication, QFileDialog, QStyle

from tokenworth.core.db import Database
from tokenworth.ui.controller import AppController
from tokenworth.ui.hooks import Notice
from tokenworth.ui.workers import Lane

if TYPE_CHECKING:
    from tokenworth.services.auto_export import AutoExportOutcome
    from tokenworth.services.export import ExportFormat, ExportResult

log = logging.getLogger(__name__)

Month = tuple[int, int]


@dataclass(frozen=True)
class FileType:
    """One entry of the save dialog's file type list."""

    name_filter: str
    format: ExportFormat
    suffix: str
    described: str


FILE_TYPES: tuple[FileType, ...] = (
    FileType("PDF report (*.pdf)", "pdf", ".pdf", "PDF"),
    FileType("HTML page, self-contained (*.html)", "html", ".html", "HTML page"),
    FileType("Markdown, with chart images beside it (*.md)", "md", ".md", "Markdown"),
    FileType("JSON (*.json)", "json", ".json", "JSON"),
    FileType("CSV tables in a zip archive (*.zip)", "csv", ".zip", "CSV zip"),
)
SUFFIXES = {".htm": FILE_TYPES[1], **{file_type.suffix: file_type for file_type in FILE_TYPES}}


def month_label(month: Month) -> str:
    return date(month[0], month[1], 1).strftime("%B %Y")


def file_type_of(name_filter: str) -> FileType:
    return next((t for t in FILE_TYPES if t.name_filter == name_filter), FILE_TYPES[0])


def export_target(chosen: str, name_filter: str) -> tuple[Path, FileType]:
    """Where to write and in which format: the file type picked in the dialog, or the one the
    typed name ends with (`report.json` is JSON whatever the list shows); a name without a known
    ending gets the picked type's (`summary` -> `summary.pdf`)."""
    path = Path(chosen)
    typed = SUFFIXES.get(path.suffix.lower())
    if typed is not None:
        return path, typed
    picked = file_type_of(name_filter)
    return path.with_name(path.name + picked.suffix), picked


def export_job(
    db: Database,
    month: Month,
    zone: tzinfo,
    budget: Decimal | None,
    file_type: FileType,
    path: Path,
    now: datetime,
    env: Mapping[str, str],
    progress: Callable[[str], None],
    *,
    series_colors: Mapping[str, str] | None = None,
) -> list[ExportResult]:
    """Build the month's summary and write one format to `path` (worker, DB lane)."""
    from tokenworth.services.export import default_page_size, export_month
    from tokenworth.services.monthly_summary import build_monthly_summary
    from tokenworth.ui.export_hooks import qt_export_hooks

    progress("reading the month")
    summary = build_monthly_summary(db, month=month, zone=zone, budget=budget, now=now)
    progress(f"writing the {file_type.described}")
    return export_month(
        summary,
        db,
        [file_type.format],
        out=path,
        cwd=path.parent,
        hooks=qt_export_hooks(series_colors),
        page_size=default_page_size(env, system_locale()),
    )


def auto_export_job(
    db: Database,
    now: datetime,
    zone: tzinfo,
    folder: str | None,
    budget: Decimal | None,
    env: Mapping[str, str],
    *,
    series_colors: Mapping[str, str] | None = None,
) -> AutoExportOutcome:
    """Last month's export if it is due (every format, into `folder`); else nothing (worker, DB lane)."""
    from tokenworth.core.config import default_export_folder
    from tokenworth.services.auto_export import run_auto_export
    from tokenworth.services.export import default_page_size
    from tokenworth.ui.export_hooks import qt_export_hooks

    target = Path(folder).expanduser() if folder else default_export_folder()
    return run_auto_export(
        db,
        now=now,
        zone=zone,
        folder=target,
        hooks=qt_export_hooks(series_colors),
        budget=budget,
        page_size=default_page_size(env, system_locale()),
    )


def system_locale() -> str:
    """The locale chosen in the OS settings, as Qt reads it on every desktop (`en_US`)."""
    from PySide6.QtCore import QLocale

    return QLocale.system().name()


def problem_text(error: BaseException) -> str:
    """A failed export in words: the service's own message for a file problem, else the error."""
    from tokenworth.services.export_io import ExportError

    if isinstance(error, ExportError):
        return str(error)
    if isinstance(error, OSError):
        where = f" {error.filename}" if error.filename else ""
        return f"cannot write{where}: {error.strerror or error}"
    return f"{type(error).__name__}: {error} (details are in the log)"


class IconsByKind(QAbstractFileIconProvider):
    """A folder or a file icon from the style alone. Qt's own reads each file's first bytes to
    pick its icon (the MIME type), on the GUI thread: a file that blocks on read (/proc/kmsg, a
    stalled network mount) froze the whole app as soon as the dialog listed it."""

    def __init__(self) -> None:
        super().__init__()
        style = QApplication.style()
        self.folder = style.standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        self.file = style.standardIcon(QStyle.StandardPixmap.SP_FileIcon)

    def icon(self, what: object) -> QIcon:  # type: ignore[override]
        if isinstance(what, QFileInfo):
            return self.folder if what.isDir() else self.file
        if what == QAbstractFileIconProvider.IconType.Folder:
            return self.folder
        return self.file

    def type(self, info: QFileInfo) -> str:
        return "Folder" if info.isDir() else "File"


class MonthExporter(QObject):
    """Lives as a child of the controller: one save dialog at a time, one export at a time."""

    finished = Signal(object)
    """The list of `ExportResult`s written, or the error (tests wait on it)."""
    auto_checked = Signal(object)
    """An `AutoExportOutcome` (written or not), or the error."""

    def __init__(self, controller: AppController) -> None:
        super().__init__(controller)
        self.controller = controller
        self.dialog: QFileDialog | None = None
        self.icons = IconsByKind()
        """Kept as long as the exporter: a dialog does not own the icon provider it is given."""
        self.running = False
        self.auto_running = False
        self.auto_checked_on: date | None = None
        self.last_folder: Path | None = None
        self.last_type = FILE_TYPES[0]

    # "Export this month…" -----------------------------------------------------------------------

    def ask(self) -> QFileDialog:
        """Open the save dialog (non-blocking); choosing a file starts the export."""
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        today = self.controller.today()
        month = (today.year, today.month)
        dialog = QFileDialog(None, f"Export {month_label(month)}")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setIconProvider(self.icons)
        dialog.setNameFilters([t.name_filter for t in FILE_TYPES])
        dialog.selectNameFilter(self.last_type.name_filter)
        dialog.setDefaultSuffix(self.last_type.suffix.lstrip("."))
        dialog.setDirectory(str(self.last_folder or self._documents()))
        stem = f"tokenworth-{month[0]:04d}-{month[1]:02d}"
        dialog.selectFile(stem + self.last_type.suffix)
        dialog.filterSelected.connect(partial(self._on_filter_selected, dialog, stem))
        dialog.fileSelected.connect(partial(self._on_file_selected, dialog, month))
        dialog.finished.connect(self._on_dialog_finished)
        self.dialog = dialog
        dialog.open()
        return dialog

    @staticmethod
    def _documents() -> Path:
        found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        return Path(found) if found and Path(found).is_dir() else Path.home()

    @staticmethod
    def _on_filter_selected(dialog: QFileDialog, stem: str, name_filter: str) -> None:
        """The suggested name follows the chosen type (`tokenworth-2026-01.pdf` -> `.html`), and a
        name typed without an ending gets the type's (so the dialog's "replace it?" sees it)."""
        suffix = file_type_of(name_filter).suffix
        dialog.setDefaultSuffix(suffix.lstrip("."))
        dialog.selectFile(stem + suffix)

    def _on_file_selected(self, dialog: QFileDialog, month: Month, chosen: str) -> None:
        if not chosen:
            return
        path, file_type = export_target(chosen, dialog.selectedNameFilter())
        self.last_type = file_type
        self.last_folder = path.parent
        self.export(month, file_type, path)

    def _on_dialog_finished(self, _result: int) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = None

    def export(self, month: Month, file_type: FileType, path: Path) -> None:
        """Build and write the month in the DB worker, with progress in the status line."""
        controller = self.controller
        label = month_label(month)
        if self.running:
            controller.notice.emit(Notice("info", "An export is running", "Wait for it to finish, then try again."))
            return
        self.running = True
        controller.set_status(f"Exporting {label} as {file_type.described}…")
        job = partial(
            export_job,
            controller.db,
            month,
            controller.zone,
            controller.settings.monthly_budget,
            file_type,
            path,
            controller.scheduler.clock(),
            dict(controller.env),
            series_colors=dict(controller.state.series_colors),  # the dashboard's, as they are now
        )
        controller.runner.submit(
            job,
            partial(self._on_exported, label, path),
            lane=Lane.DB,
            on_progress=lambda step: controller.set_status(f"Exporting {label} as {file_type.described}: {step}…"),
        )

    def _on_exported(self, label: str, path: Path, results: Any, error: BaseException | None) -> None:
        self.running = False
        controller = self.controller
        if error is not None or not results:
            problem = problem_text(error) if error is not None else "nothing was written"
            if error is not None and not isinstance(error, OSError):
                log.error("export of %s to %s failed", label, path, exc_info=error)
            controller.set_status(f"Export of {label} failed: {problem}")
            controller.notice.emit(Notice("error", "Export failed", f"{label} was not exported: {problem}"))
            self.finished.emit(error)
            return
        result = results[0]
        pages = f" ({result.pages} pages)" if result.pages else ""
        log.info("exported %s to %s", label, result.target)
        controller.set_status(f"Exported {label} to {result.target}")
        saved = f"{label} saved to {result.target}{pages}"
        if result.notes:  # e.g. characters no font here can draw
            saved += "." + "".join(f" Note: {note}." for note in result.notes)
        controller.notice.emit(Notice("info", "Export ready", saved))
        self.finished.emit(results)

    # automatic export of last month -------------------------------------------------------------

    def auto_export_if_due(self) -> None:
        """At most once a local day while switched on: export last month if not done yet."""
        controller = self.controller
        today = controller.today()
        if not controller.settings.auto_export or self.auto_running or self.auto_checked_on == today:
            return
        self.auto_checked_on = today
        self.auto_running = True
        settings = controller.settings
        job = partial(
            auto_export_job,
            controller.db,
            controller.scheduler.clock(),
            controller.zone,
            settings.auto_export_folder,
            settings.monthly_budget,
            dict(controller.env),
            series_colors=dict(controller.state.series_colors),
        )
        controller.runner.submit(job, self._on_auto_exported, lane=Lane.DB)

    def _on_auto_exported(self, outcome: AutoExportOutcome | None, error: BaseException | None) -> None:
        self.auto_running = False
        controller = self.controller
        if error is not None or outcome is None:
            problem = problem_text(error) if error is not None else "no outcome"
            if error is not None and not isinstance(error, OSError):
                log.error("automatic export failed", exc_info=error)
            controller.notice.emit(
                Notice(
                    "error", "Automatic export failed", f"Last month was not exported: {problem}. Tried again tomorrow."
                )
            )
            self.auto_checked.emit(error)
            return
        decision = outcome.decision
        if outcome.written:
            label = month_label(decision.month)
            log.info("exported %s automatically to %s", label, decision.target)
            controller.notice.emit(Notice("info", f"{label} exported", f"Every format saved in {decision.target}"))
        else:
            log.info("automatic export: %s", decision.reason)
        self.auto_checked.emit(outcome)


def month_exporter(controller: AppController) -> MonthExporter:
    """The controller's MonthExporter (made on first use)."""
    found = controller.findChild(MonthExporter)
    return found if isinstance(found, MonthExporter) else MonthExporter(controller)


def export_month(controller: AppController) -> None:
    """Hook `export_month`: "Export this month…" from the tray menu and the dashboard."""
    month_exporter(controller).ask()


def auto_export_if_due(controller: AppController) -> None:
    """Called by the controller after each refresh (it does nothing more than once a day)."""
    month_exporter(controller).auto_export_if_due()
