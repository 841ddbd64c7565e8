"""The dashboard window: period and filters on top, budget summary, live charts, usage tables.

It draws whatever `SpendOverview` the controller hands it; changing the period or a filter asks
the controller for a new one. No SQL here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QDate, QEvent, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFrame,
    QGridLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSizePolicy,
    QTableView,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from tokenworth.core.budget import BudgetStatus, Pace
from tokenworth.core.money import format_budget, format_cost, format_usd
from tokenworth.core.periods import Period, custom_period, last_month, this_month
from tokenworth.services.overview import OverviewQuery, SpendOverview, TaskPoint
from tokenworth.services.reports import UsageReport, UsageTotals
from tokenworth.ui.charts import (
    NO_SPEND,
    ONLY_UNPRICED,
    CumulativeSeries,
    CumulativeSpendChart,
    DailySpendChart,
    ModelCostChart,
    StackedDaily,
    TfpWeeklyChart,
    ValueCostScatter,
)
from tokenworth.ui.theme import PACE_COLORS, ColorAssigner, readable_on

ModelIndex = QModelIndex | QPersistentModelIndex
ALL = "__all__"


def cumulative_series(overview: SpendOverview) -> CumulativeSeries:
    return CumulativeSeries(
        days=overview.days,
        cumulative=overview.cumulative,
        budget=overview.budget if overview.query.period.is_whole_month else None,
        forecast=overview.forecast,
    )


def stacked_daily(overview: SpendOverview) -> StackedDaily:
    return StackedDaily(days=overview.days, by_model=overview.daily_by_model)


def model_costs(overview: SpendOverview) -> list[tuple[str, Decimal]]:
    return [(row.key, row.totals.cost or Decimal(0)) for row in overview.models.rows]


def cumulative_title(overview: SpendOverview) -> str:
    """The running-spend chart's title: which month it is (it may not be this one), and whether a
    budget line is drawn."""
    period = overview.query.period
    if not period.is_whole_month:
        return f"Cumulative spend · {period.label}"
    against = " against budget" if overview.budget is not None and overview.budget > 0 else ""
    if period.contains(overview.today):
        return f"Spend this month{against} · {period.label}"
    return f"Spend in {period.label}{against}"


def budget_detail(month: BudgetStatus) -> str:
    """`86% used, $54.96 left`, or `106% used, $23.10 over` once the budget is passed."""
    pct = month.spent_pct or Decimal(0)
    remaining = month.remaining or Decimal(0)
    if remaining < 0:
        return f"{pct:.0f}% used, {format_usd(-remaining)} over"
    return f"{pct:.0f}% used, {format_usd(remaining)} left"


def cost_text(totals: UsageTotals) -> str:
    """Exactly as the CLI prints it: `$1.23`, `$1.23+` when some records are unpriced."""
    return format_usd(totals.cost) + ("" if totals.cost_complete or totals.cost is None else "+")


class UsageTableModel(QAbstractTableModel):
    """The rows of a models or projects report, with the CLI's columns and number formats."""

    def __init__(self, key_title: str, second_title: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.headers = [
            key_title,
            second_title,
            "Input",
            "Output",
            "Cache read",
            "Cache write",
            "Total",
            "Cost",
        ]
        self.rows: list[list[str]] = []

    def set_report(self, report: UsageReport) -> None:
        self.beginResetModel()
        self.rows = []
        for row in report.rows:
            t = row.totals
            second = row.extra.get("provider", "") if report.kind == "models" else ", ".join(sorted(row.by_model))
            self.rows.append(self._cells(row.key, second, t))
        if report.rows:
            self.rows.append(self._cells("Total", "", report.totals))
        self.endResetModel()

    @staticmethod
    def _cells(key: str, second: str, t: UsageTotals) -> list[str]:
        return [
            key,
            second,
            f"{t.input_tokens:,}",
            f"{t.output_tokens:,}",
            f"{t.cache_read_tokens:,}",
            f"{t.cache_write_tokens:,}",
            f"{t.total_tokens:,}",
            cost_text(t),
        ]

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() >= 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if (
            role == Qt.ItemDataRole.FontRole
            and self.rows[index.row()][0] == "Total"
            and index.row() == len(self.rows) - 1
        ):
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        return None


class TasksTableModel(QAbstractTableModel):
    """Valued tasks of the period (filled once the tasks service exists)."""

    headers = ("Task", "Category", "Cost", "Value", "TFP")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.tasks: list[TaskPoint] = []

    def set_tasks(self, tasks: Sequence[TaskPoint]) -> None:
        self.beginResetModel()
        self.tasks = list(tasks)
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.tasks)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        task = self.tasks[index.row()]
        tfp = task.tfp
        flagged = tfp is not None and tfp < 1  # as `tokenworth task list` and `report value` flag it
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                task.title,
                task.category,
                format_usd(task.cost),
                format_usd(task.value),
                "—" if tfp is None else f"{tfp:.2f}×" + ("  COST > VALUE" if flagged else ""),
            )[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() >= 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and flagged and index.column() == 4:
            from PySide6.QtGui import QBrush, QColor

            return QBrush(QColor(PACE_COLORS[Pace.OVER]))
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        return None


class SummaryCard(QFrame):
    """A big figure with a caption (month spend, budget, forecast, pace, TFP)."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.base_caption = caption
        self.caption = QLabel(caption)
        self.caption.setWordWrap(True)
        self.value = QLabel("—")
        self.value.setObjectName("summaryValue")
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.value.setFont(font)
        self.detail = QLabel("")
        self.detail.setWordWrap(True)  # a long detail (a custom range's TFP basis) wraps, never widens the page
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(0)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        layout.addWidget(self.detail)

    def set_scope(self, note: str) -> None:
        """Say, after the caption, what the figure covers when that is not what the filters say."""
        self.caption.setText(f"{self.base_caption} ({note})" if note else self.base_caption)

    def set(self, value: str, detail: str = "", color: str | None = None) -> None:
        self.value.setText(value)
        self.value.setStyleSheet(f"color: {readable_on(color)};" if color else "")
        self.detail.setText(detail)
        self.detail.setToolTip(detail)


def unfiltered_note(query: OverviewQuery) -> str:
    """'all sources', 'all projects' or 'all sources and projects' while a filter is on, else ''."""
    cut = [name for name, chosen in (("sources", query.sources), ("projects", query.projects)) if chosen]
    return f"all {' and '.join(cut)}" if cut else ""


def _buddy_label(text: str, field: QWidget) -> QLabel:
    """A label that names `field` to screen readers, and whose Alt key focuses it."""
    label = QLabel(text)
    label.setBuddy(field)
    return label


def _table(model: QAbstractTableModel, name: str) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAccessibleName(name)
    view.setTabKeyNavigation(False)  # Tab moves on to the next control, arrows move in the table
    view.verticalHeader().setVisible(False)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    header.setStretchLastSection(False)
    view.setMinimumHeight(230)
    return view


CHART_ROW_PX = 320
TABLE_ROW_PX = 260
Place = tuple[int, int, int, int]
"""(row, column, rows spanned, columns spanned) in a grid."""
ARRANGEMENTS: dict[str, tuple[int, int, tuple[Place, ...]]] = {
    # name: (cards per row, chart grid columns, places of the running-spend, per-day, per-model,
    # TFP and value-against-cost charts); the tables take the row after the charts.
    "wide": (6, 6, ((0, 0, 1, 3), (0, 3, 1, 3), (1, 0, 1, 2), (1, 2, 1, 2), (1, 4, 1, 2))),
    "medium": (3, 2, ((0, 0, 1, 1), (0, 1, 1, 1), (1, 0, 1, 1), (1, 1, 1, 1), (2, 0, 1, 2))),
    "narrow": (2, 1, ((0, 0, 1, 1), (1, 0, 1, 1), (2, 0, 1, 1), (3, 0, 1, 1), (4, 0, 1, 1))),
}
ARRANGEMENT_MIN_WIDTH_PX = (("wide", 1240), ("medium", 760), ("narrow", 0))
"""The window width from which each arrangement is used, widest first, with the usual text size;
larger text needs as much more room (`font_scale`)."""
USUAL_LINE_PX = 16
"""The line height of the usual interface font: 14-16 px on Linux, macOS (13 pt) and Windows."""


DEFAULT_SIZE = (1280, 900)


class DashboardWindow(QMainWindow):
    """Month at a glance plus the chosen period's charts and tables; updates in place."""

    query_changed = Signal(object)
    """The user picked another period or filter (an `OverviewQuery`)."""
    closed = Signal()

    def __init__(
        self,
        *,
        actions: Sequence[QAction] = (),
        today: date | None = None,
        colors: ColorAssigner | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Tokenworth")
        self.resize(*DEFAULT_SIZE)
        self.quit_on_close = False
        self.today = today or date.today()
        self.colors = colors or ColorAssigner()
        """Model colours; the app passes the controller's, which it remembers between runs."""
        self.overview: SpendOverview | None = None
        self._building_filters = False
        self._build_toolbar(actions)
        self._build_body()
        self._loading_message = ""
        self._loading("Loading…")
        self.fit_to_screen()

    def fit_to_screen(self) -> None:
        """The default size, shrunk to the screen's free area and centred in it: on a laptop's
        1280x800 or a 1024x600 netbook every button stays on screen (the body scrolls)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        width, height = min(DEFAULT_SIZE[0], area.width()), min(DEFAULT_SIZE[1], area.height())
        self.resize(width, height)
        self.move(area.x() + (area.width() - width) // 2, area.y() + (area.height() - height) // 2)

    # layout -------------------------------------------------------------------------------------

    def _build_toolbar(self, actions: Sequence[QAction]) -> None:
        bar = QToolBar("Filters")
        bar.setObjectName("filters")
        bar.setMovable(False)
        self.addToolBar(bar)
        self.period = QComboBox()
        bar.addWidget(_buddy_label(" &Period ", self.period))
        self.period.addItem("This month", "this-month")
        self.period.addItem("Last month", "last-month")
        self.period.addItem("Custom range…", "custom")
        self.period.currentIndexChanged.connect(self.on_period_changed)
        bar.addWidget(self.period)
        self.since = QDateEdit()
        self.until = QDateEdit()
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.dateChanged.connect(self.on_custom_dates_changed)
        month = this_month(self.today)
        self.since.setDate(QDate(month.start.year, month.start.month, 1))
        self.until.setDate(QDate(self.today.year, self.today.month, self.today.day))
        self.since.setAccessibleName("From")
        self.until.setAccessibleName("To")
        self.range_dash = QLabel(" to ")
        self._since_action = bar.addWidget(self.since)
        self._dash_action = bar.addWidget(self.range_dash)
        self._until_action = bar.addWidget(self.until)
        self._show_custom(False)
        bar.addSeparator()
        self.source = QComboBox()
        bar.addWidget(_buddy_label(" &Source ", self.source))
        self.source.addItem("All sources", ALL)
        self.source.currentIndexChanged.connect(self.on_filter_changed)
        bar.addWidget(self.source)
        self.project = QComboBox()
        bar.addWidget(_buddy_label(" Pro&ject ", self.project))
        self.project.addItem("All projects", ALL)
        self.project.setMaximumWidth(280)
        self.project.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.project.setMinimumContentsLength(16)
        self.project.currentIndexChanged.connect(self.on_filter_changed)
        bar.addWidget(self.project)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        for action in actions:
            bar.addAction(action)

    def _build_body(self) -> None:
        content = QWidget()
        content.setObjectName("dashboardContent")
        self.content = content
        outer = QVBoxLayout(content)
        outer.setContentsMargins(10, 8, 10, 10)
        outer.setSpacing(8)
        self.cards_grid = QGridLayout()
        self.cards_grid.setSpacing(6)
        self.card_spent = SummaryCard("Spent this month")
        self.card_budget = SummaryCard("Monthly budget")
        self.card_forecast = SummaryCard("Forecast for month end")
        self.card_pace = SummaryCard("Pace")
        self.card_tfp = SummaryCard("TFP this period")
        self.card_period = SummaryCard("Spent in the period")
        self.cards = (
            self.card_spent,
            self.card_budget,
            self.card_forecast,
            self.card_pace,
            self.card_period,
            self.card_tfp,
        )
        outer.addLayout(self.cards_grid)
        self.notice_label = QLabel("")
        self.notice_label.setWordWrap(True)
        self.notice_label.setVisible(False)
        outer.addWidget(self.notice_label)

        self.cumulative_chart = CumulativeSpendChart()
        self.daily_chart = DailySpendChart(self.colors)
        self.model_chart = ModelCostChart(self.colors)
        self.tfp_chart = TfpWeeklyChart()
        self.scatter_chart = ValueCostScatter(ColorAssigner())
        self.models_model = UsageTableModel("Model", "Provider")
        self.projects_model = UsageTableModel("Project", "Models")
        self.tasks_model = TasksTableModel()
        self.tables = QTabWidget()
        self.models_table = _table(self.models_model, "Usage by model")
        self.projects_table = _table(self.projects_model, "Usage by project")
        self.tasks_table = _table(self.tasks_model, "Tasks")
        self.tables.addTab(self.models_table, "Models")
        self.tables.addTab(self.projects_table, "Projects")
        self.tables.addTab(self.tasks_table, "Tasks")
        self.grid = QGridLayout()
        self.grid.setSpacing(8)
        self.charts = (
            self.cumulative_chart,
            self.daily_chart,
            self.model_chart,
            self.tfp_chart,
            self.scatter_chart,
        )
        self.unfiltered_titles = {chart: chart.title.text() for chart in (self.tfp_chart, self.scatter_chart)}
        """Panels that show task value, which the source and project filters do not cut (a task's
        spend can span sources and projects): their titles say so while a filter is on."""
        self.arrangement = ""
        self.arrange("wide")
        outer.addLayout(self.grid, 1)
        self.scroll = QScrollArea()
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a Tab stop with nothing to do
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(content)
        self.setCentralWidget(self.scroll)

    def arrange(self, name: str) -> None:
        """Lay the cards and charts out for the window's width (see `ARRANGEMENTS`): side by side
        when wide, two or one to a row when narrow, so nothing is cut off at the right."""
        if name == self.arrangement:
            return
        self.arrangement = name
        card_columns, columns, places = ARRANGEMENTS[name]
        for layout, widgets in ((self.cards_grid, self.cards), (self.grid, (*self.charts, self.tables))):
            for widget in widgets:
                layout.removeWidget(widget)
            for row in range(layout.rowCount()):
                layout.setRowMinimumHeight(row, 0)
            for column in range(layout.columnCount()):
                layout.setColumnStretch(column, 0)
        for index, card in enumerate(self.cards):
            self.cards_grid.addWidget(card, index // card_columns, index % card_columns)
        for column in range(card_columns):
            self.cards_grid.setColumnStretch(column, 1)
        for chart, (row, column, row_span, column_span) in zip(self.charts, places, strict=True):
            self.grid.addWidget(chart, row, column, row_span, column_span)
            self.grid.setRowMinimumHeight(row, CHART_ROW_PX)
        table_row = max(row + row_span for row, _column, row_span, _span in places)
        self.grid.addWidget(self.tables, table_row, 0, 1, columns)
        self.grid.setRowMinimumHeight(table_row, TABLE_ROW_PX)
        for column in range(columns):
            self.grid.setColumnStretch(column, 1)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._arrange_for(event.size().width())
        super().resizeEvent(event)

    def _arrange_for(self, width: int) -> None:
        usual_width = width / self.font_scale()
        self.arrange(next(name for name, least in ARRANGEMENT_MIN_WIDTH_PX if usual_width >= least))

    def font_scale(self) -> float:
        """How much larger than usual the text is here (a large system font: 1.75 at 18 points):
        the side-by-side arrangement needs that much more room, or the cards and charts are cut."""
        return max(1.0, self.fontMetrics().height() / USUAL_LINE_PX)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:  # the text grew or shrank: arrange again
            self._arrange_for(self.width())
        super().changeEvent(event)

    def _show_custom(self, visible: bool) -> None:
        for action in (self._since_action, self._dash_action, self._until_action):
            action.setVisible(visible)

    # user input ---------------------------------------------------------------------------------

    def current_query(self) -> OverviewQuery | None:
        """The query the controls describe, or None while the custom range is invalid."""
        kind = self.period.currentData()
        period: Period
        if kind == "last-month":
            period = last_month(self.today)
        elif kind == "custom":
            start, end = self.since.date().toPython(), self.until.date().toPython()
            if end < start:
                return None
            period = custom_period(start, end)
        else:
            period = this_month(self.today)
        source = self.source.currentData()
        project = self.project.currentData()
        return OverviewQuery(
            period=period,
            sources=None if source in (None, ALL) else (source,),
            projects=None if project in (None, ALL) else (project,),
        )

    def _emit_query(self) -> None:
        if self._building_filters:
            return
        query = self.current_query()
        invalid = query is None
        style = "QDateEdit { border: 1px solid #d64541; }" if invalid else ""
        self.until.setStyleSheet(style)
        self.until.setToolTip("The range ends before it starts." if invalid else "")
        if query is not None:
            self._loading(f"Loading {query.period.label}…")
            self.query_changed.emit(query)

    def on_period_changed(self, _index: int) -> None:
        self._show_custom(self.period.currentData() == "custom")
        self._emit_query()

    def on_custom_dates_changed(self, _date: QDate) -> None:
        if self.period.currentData() == "custom":
            self._emit_query()

    def on_filter_changed(self, _index: int) -> None:
        self._emit_query()

    def set_period(self, period: Period) -> None:
        """Select `period` in the controls (the screenshot command and tests use this)."""
        self._building_filters = True
        try:
            if period.kind == "this-month":
                self.period.setCurrentIndex(0)
            elif period.kind == "last-month":
                self.period.setCurrentIndex(1)
            else:
                self.period.setCurrentIndex(2)
                self.since.setDate(QDate(period.start.year, period.start.month, period.start.day))
                self.until.setDate(QDate(period.end.year, period.end.month, period.end.day))
            self._show_custom(period.kind not in ("this-month", "last-month"))
        finally:
            self._building_filters = False

    def choose_period(self, period: Period) -> None:
        """Show `period` as if the user picked it (the other filters stay as they are)."""
        self.set_period(period)
        self._emit_query()

    # showing numbers ----------------------------------------------------------------------------

    def _loading(self, text: str) -> None:
        self._loading_message = text
        self.statusBar().showMessage(text)

    def show_overview(self, overview: SpendOverview) -> None:
        """Update every chart, card and table from one overview (in place, no rebuild)."""
        if self._loading_message and self.statusBar().currentMessage() == self._loading_message:
            self.statusBar().clearMessage()  # loaded (a message shown meanwhile, e.g. an import's, stays)
        self._loading_message = ""
        self.overview = overview
        self.today = overview.today
        self._refill_filters(overview)
        totals = overview.models.totals
        unpriced_only = totals.unpriced_records > 0 and not totals.cost_units
        for chart in (self.cumulative_chart, self.daily_chart, self.model_chart):
            chart.empty_text = ONLY_UNPRICED if unpriced_only else NO_SPEND
        self.cumulative_chart.set_series(cumulative_series(overview))
        self.daily_chart.set_series(stacked_daily(overview))
        self.model_chart.set_costs(model_costs(overview))
        self.tfp_chart.set_weeks(overview.value.weekly)
        self.scatter_chart.set_tasks(overview.value.tasks)
        self.models_model.set_report(overview.models)
        self.projects_model.set_report(overview.projects)
        self.tasks_model.set_tasks(overview.value.tasks)
        self._fill_cards(overview)
        self._mark_unfiltered(unfiltered_note(overview.query))
        self.cumulative_chart.title.setText(cumulative_title(overview))
        unpriced = overview.unpriced_models
        if unpriced:
            self.notice_label.setText(
                "Unpriced models (cost unknown, not $0, left out of the totals marked +): "
                + ", ".join(unpriced)
                + ". Set a price in Settings › Prices."
            )
            self.notice_label.setStyleSheet(f"color: {readable_on(PACE_COLORS[Pace.AHEAD])};")
        self.notice_label.setVisible(bool(unpriced))

    def _fill_cards(self, overview: SpendOverview) -> None:
        month = overview.month
        self.card_spent.set(
            format_cost(month.spent, month.complete),
            f"{month.month_start:%B %Y}, day {month.days_elapsed} of {month.days_in_month}",
        )
        if month.budget is None:
            self.card_budget.set("none", "set one in Settings")
        else:
            self.card_budget.set(format_budget(month.budget), budget_detail(month))
        self.card_forecast.set(
            format_cost(month.forecast, month.complete), f"run rate {format_usd(month.daily_rate)}/day"
        )
        self.card_pace.set(month.pace.label.capitalize(), "", PACE_COLORS[month.pace])
        self.card_period.set(
            format_usd(overview.period_cost) + ("" if overview.models.totals.cost_complete else "+"),
            overview.query.period.label,
        )
        tfp = overview.value.tfp
        self.card_tfp.set(
            "—" if tfp is None else f"{tfp:.2f}×",
            overview.value.tfp_detail or ("value ÷ token cost" if tfp is not None else "no valued tasks"),
        )

    def _mark_unfiltered(self, note: str) -> None:
        """The month's cards (the budget is for all spend) and the task value panels are not cut
        by the source and project filters: with a filter on, their titles say so."""
        for card in (self.card_spent, self.card_budget, self.card_forecast, self.card_pace, self.card_tfp):
            card.set_scope(note)
        for chart, title in self.unfiltered_titles.items():
            chart.title.setText(f"{title} · {note}" if note else title)

    def _refill_filters(self, overview: SpendOverview) -> None:
        self._building_filters = True
        try:
            for combo, values in (
                (self.source, overview.sources_seen),
                (self.project, overview.projects_seen),
            ):
                current = combo.currentData()
                have = [combo.itemData(i) for i in range(1, combo.count())]
                wanted = list(values)
                if current not in (None, ALL) and current not in wanted:
                    wanted.append(current)
                if have != wanted:
                    while combo.count() > 1:
                        combo.removeItem(1)
                    for value in wanted:
                        combo.addItem(Path(value).name or value if combo is self.project else value, value)
                        combo.setItemData(combo.count() - 1, value, Qt.ItemDataRole.ToolTipRole)
                    index = combo.findData(current)
                    combo.setCurrentIndex(max(index, 0))
        finally:
            self._building_filters = False

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text)

    def add_panel(self, widget: QWidget, title: str) -> None:
        """A tab beside the tables (the price panel; the routing suggestions panel next)."""
        self.tables.addTab(widget, title)

    # window behaviour ---------------------------------------------------------------------------

    def bring_forward(self) -> None:
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def closeEvent(self, event: QCloseEvent) -> None:
        """With a tray, closing only hides; without one, closing quits (the owner decides)."""
        self.closed.emit()
        super().closeEvent(event)

    def render_png(self, path: Path, width: int = 1400) -> QPixmap:
        """Render the whole dashboard, toolbar to last chart, to a PNG (no scrolling cut-off)."""
        from PySide6.QtWidgets import QApplication

        self.resize(width, DEFAULT_SIZE[1])
        self.show()
        QApplication.processEvents()
        chrome = self.height() - self.scroll.viewport().height()
        self.resize(width, chrome + self.content.sizeHint().height() + 4)
        QApplication.processEvents()
        pixmap = self.grab()
        if not pixmap.save(str(path), "PNG"):
            raise OSError(f"cannot write {path}")
        return pixmap
