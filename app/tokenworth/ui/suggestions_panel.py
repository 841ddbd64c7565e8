"""Dashboard › Suggestions: the month's routing suggestions as `tokenworth report routing` gives them
(the same service and the same words), the TFP-below-1 and caching flags, and the experiments with
their progress. Trying an untried or thinly measured model is one click ("Try it"): the experiment
starts in the DB worker and the lists refresh. Errors are shown in the panel, never raised.

The report is read in the DB lane when the panel is shown and again after new numbers arrive
(debounced, at most every REFRESH_GAP_S, and only while the panel is visible: it is not needed to
keep the tray current).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tokenworth.core.analytics import UNCATEGORIZED
from tokenworth.core.db import Database
from tokenworth.core.money import format_cost, format_usd
from tokenworth.services.routing_text import (
    caching_text,
    evidence_text,
    experiment_text,
    project_text,
    tfp_flag_text,
)
from tokenworth.ui.controller import AppController
from tokenworth.ui.theme import error_text_style
from tokenworth.ui.workers import Lane, if_alive

if TYPE_CHECKING:
    from tokenworth.core.routing import Suggestion
    from tokenworth.services.experiments import ExperimentView
    from tokenworth.services.routing import RoutingReport

log = logging.getLogger(__name__)

COLUMNS = ("Category", "Now on", "Try", "Tasks", "Cost now", "Would cost", "Saves", "Evidence", "Experiment")
MONEY_COLUMNS = (4, 5, 6)
ACTION_COLUMN = len(COLUMNS) - 1
REFRESH_DELAY_MS = 500
"""New numbers arrive in bursts while an agent writes; the report is read once they settle."""
REFRESH_GAP_S = 15.0
"""At most one read per this many seconds for new numbers: the report takes a second or two on a
large ledger, in the same serial DB lane as the imports that keep the charts live."""
TRIABLE = ("priced_only", "thin")
"""Evidence levels whose suggestion is an experiment to try; a measured one is a plain switch."""


def panel_month(controller: AppController) -> tuple[int, int]:
    """The dashboard's month: the chosen period's (its last day's month for a custom range)."""
    period = controller.query.period
    day: date = period.start if period.is_whole_month else period.end
    return day.year, day.month


def read_report(
    db: Database, month: tuple[int, int], zone: tzinfo, curated: Sequence[str] | None, now: datetime
) -> RoutingReport:
    """The routing report for the month (worker, DB lane)."""
    from tokenworth.services.routing import routing_report

    return routing_report(db, month=month, zone=zone, curated=curated, now=now)


def start_experiment(
    db: Database,
    suggestion_id: str,
    month: tuple[int, int],
    zone: tzinfo,
    curated: Sequence[str] | None,
    now: datetime,
) -> ExperimentView:
    """Accept a suggestion: its experiment starts now (worker, DB lane)."""
    from tokenworth.services.routing import accept_suggestion

    return accept_suggestion(db, suggestion_id, zone=zone, month=month, curated=curated, now=now)


def suggestion_cells(item: Suggestion) -> list[str]:
    """One suggestion row, as `report routing` prints it."""
    return [
        item.category or UNCATEGORIZED,
        item.from_model.model,
        item.to_model.model,
        str(item.tasks),
        format_cost(item.current_cost, item.cost_complete),
        format_usd(item.projected_cost),
        format_usd(item.savings),
        evidence_text(item),
    ]


def header_text(report: RoutingReport) -> str:
    return (
        f"Routing for {report.month} (months in {report.zone}): task spend {format_usd(report.task_cost)}; "
        f"{format_usd(report.unattributed_cost)} in no task is not covered."
    )


def notes_text(report: RoutingReport) -> str:
    """What the figures mean, as under the CLI's table."""
    if not report.cells:
        return "No task spend this month: suggestions come from the tasks you log and value."
    if not report.suggestions:
        return "No cheaper model fits this month's work."
    lines = [
        "API-equivalent cost of the same tokens; measured first, then thin, then untried. "
        f"Measured: at least {report.rules.min_tasks} of your valued tasks of that category ran on it, worth at "
        f"least {100 - int(report.rules.value_tolerance * 100)}% as much per task. "
        "“Try it” counts your next tasks of that category on the cheaper model against the current one."
    ]
    if report.plans:
        lines.append(
            f"Plans apply ({', '.join(report.plans)}): their usage costs a flat fee, so a switch saves "
            "API-equivalent dollars, not the fee."
        )
    return "\n".join(lines)


def _list_box(title: str, explained: str = "") -> tuple[QGroupBox, QListWidget]:
    """A titled list; the title stays short (four sit side by side in an 800-px window) and the
    tooltip says the rest."""
    box = QGroupBox(title)
    box.setToolTip(explained)
    items = QListWidget()
    items.setWordWrap(True)
    items.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    items.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(6, 6, 6, 6)
    layout.addWidget(items)
    return box, items


class SuggestionsPanel(QWidget):
    """The routing report of the dashboard's month, with one-click experiments."""

    loaded = Signal()
    """A report (or an error) was drawn: tests wait on it."""
    experiment_started = Signal(object)
    """An `ExperimentView` the user started with "Try it"."""

    def __init__(
        self,
        controller: AppController,
        parent: QWidget | None = None,
        *,
        curated: Sequence[str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.curated = None if curated is None else tuple(curated)
        """Candidate models instead of the built-in well-known list (as `--candidates`)."""
        self.report: RoutingReport | None = None
        self.try_buttons: dict[str, QPushButton] = {}
        self._busy = False
        self._again = False
        self._stale = True
        self._accepting: str | None = None
        self._load_failed = False
        self._last_read = float("-inf")
        self.refresh_gap_s = REFRESH_GAP_S

        self.header = QLabel("Routing suggestions appear here once your valued tasks are read.")
        self.header.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # read-only; the buttons take the focus
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(True)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("Evidence"), QHeaderView.ResizeMode.Stretch)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        experiments_box, self.experiments = _list_box("Experiments")
        tfp_box, self.tfp_flags = _list_box("TFP below 1", "TFP below 1: the work was worth less than its tokens")
        caching_box, self.caching = _list_box("Caching", "Caching opportunities")
        projects_box, self.projects = _list_box("Across projects", "Categories across projects, by project and model")
        lists = QWidget()
        lists_layout = QHBoxLayout(lists)
        lists_layout.setContentsMargins(0, 0, 0, 0)
        for box in (experiments_box, tfp_box, caching_box, projects_box):
            lists_layout.addWidget(box, 1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(lists)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.header)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.notes)
        layout.addWidget(self.status)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        controller.overview_changed.connect(self.on_controller_overview_changed)

    # when to read -------------------------------------------------------------------------------

    def on_controller_overview_changed(self, _overview: Any) -> None:
        self._stale = True
        if not self.isVisible():
            return
        wait_s = max(0.0, self._last_read + self.refresh_gap_s - time.monotonic())  # never read yet: -inf
        delay_ms = max(REFRESH_DELAY_MS, int(wait_s * 1000))
        if not self._timer.isActive() or self._timer.remainingTime() > delay_ms:
            self._timer.start(delay_ms)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._timer.start(0)

    def refresh(self) -> None:
        """Read the month's report in the DB lane; a request while one runs runs once after it."""
        if self._busy:
            self._again = True
            return
        self._busy = True
        self._stale = False
        self._last_read = time.monotonic()
        controller = self.controller
        job = partial(
            read_report,
            controller.db,
            panel_month(controller),
            controller.zone,
            self.curated,
            controller.scheduler.clock(),
        )
        controller.runner.submit(job, if_alive(self, self._on_report), lane=Lane.DB)

    def _on_report(self, report: RoutingReport | None, error: BaseException | None) -> None:
        self._busy = False
        if self._again:
            self._again = False
            self.refresh()
            return
        if error is not None or report is None:
            log.warning("routing report failed", exc_info=error)
            self._set_status(f"Could not read the routing suggestions: {error}", error=True)
            self._load_failed = True
        else:
            self.show_report(report)
        self.loaded.emit()

    # drawing ------------------------------------------------------------------------------------

    def show_report(self, report: RoutingReport) -> None:
        self.report = report
        self.header.setText(header_text(report))
        self.notes.setText(notes_text(report))
        for row in range(self.table.rowCount()):
            old = self.table.cellWidget(row, ACTION_COLUMN)
            if old is not None:
                old.hide()  # Qt deletes it later; until then it must not show through
        self.table.setRowCount(len(report.suggestions))
        self.try_buttons = {}
        for row, item in enumerate(report.suggestions):
            for column, text in enumerate(suggestion_cells(item)):
                cell = QTableWidgetItem(text)
                if column in MONEY_COLUMNS or column == COLUMNS.index("Tasks"):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                cell.setToolTip(f"Suggestion {item.id}: {evidence_text(item)}")
                self.table.setItem(row, column, cell)
            self.table.setCellWidget(row, ACTION_COLUMN, self._action_for(report, item))
        self.table.resizeRowsToContents()
        self._fill(
            self.experiments, [experiment_text(view) for view in report.experiments if view.status != "cancelled"]
        )
        self._fill(self.tfp_flags, [tfp_flag_text(flag) for flag in report.tfp_flags])
        self._fill(self.caching, [caching_text(flag) for flag in report.caching])
        self._fill(self.projects, [project_text(cell) for cell in report.projects])
        if self._load_failed:
            self._set_status("")

    def _action_for(self, report: RoutingReport, item: Suggestion) -> QWidget:
        experiment = report.experiment_for(item)
        if experiment is not None:
            label = QLabel(f" experiment #{experiment.id} {experiment.status} ")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            return label
        if item.evidence not in TRIABLE:
            label = QLabel(" measured: switch when you like ")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            return label
        button = QPushButton("Try it")
        button.setToolTip(
            f"Count your next {item.experiment_tasks} {item.category or 'uncategorized'} tasks that run on "
            f"{item.to_model.model} and compare them with {item.from_model.model} (value, cost, TFP per task)"
        )
        button.setEnabled(self._accepting is None)
        button.clicked.connect(lambda _checked=False, sid=item.id: self.accept(sid))
        self.try_buttons[item.id] = button
        return button

    @staticmethod
    def _fill(target: QListWidget, lines: Sequence[str]) -> None:
        target.clear()
        target.addItems(list(lines) or ["None this month."])

    def _set_status(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(error_text_style() if error else "")
        self._load_failed = False

    # one-click experiments ----------------------------------------------------------------------

    def accept(self, suggestion_id: str) -> None:
        """Start the experiment a suggestion proposes (the "Try it" button)."""
        if self._accepting is not None:
            return
        self._accepting = suggestion_id
        for button in self.try_buttons.values():
            button.setEnabled(False)
        self._set_status("Starting the experiment…")
        controller = self.controller
        job = partial(
            start_experiment,
            controller.db,
            suggestion_id,
            panel_month(controller),
            controller.zone,
            self.curated,
            controller.scheduler.clock(),
        )
        controller.runner.submit(job, if_alive(self, self._on_accepted), lane=Lane.DB)

    def _on_accepted(self, view: ExperimentView | None, error: BaseException | None) -> None:
        self._accepting = None
        if error is not None or view is None:
            if not isinstance(error, (LookupError, ValueError)):
                log.error("starting an experiment failed", exc_info=error)
            message = error.args[0] if isinstance(error, LookupError) and error.args else error
            self._set_status(f"Could not start the experiment: {message}", error=True)
            for button in self.try_buttons.values():
                button.setEnabled(True)
            return
        self._set_status(
            f"Experiment #{view.id} started: your next {view.task_count} "
            f"{view.category or 'uncategorized'} tasks on {view.to_model.model} are compared with "
            f"{view.from_model.model}."
        )
        self.experiment_started.emit(view)
        self.refresh()

    # for tests and screenshots ------------------------------------------------------------------

    def suggestion_rows(self) -> list[list[str]]:
        return [[self.table.item(r, c).text() for c in range(ACTION_COLUMN)] for r in range(self.table.rowCount())]

    def list_lines(self, target: QListWidget) -> list[str]:
        return [target.item(i).text() for i in range(target.count())]
