"""Dashboard: real ledger numbers in charts and tables (the CLI's numbers), period and filters,
charts updated in place, the TFP and value charts with synthetic tasks, light and dark."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QPalette
from uihelpers import Clock, add_spend

from tokenworth.core.periods import month_period
from tokenworth.core.settings import Settings
from tokenworth.core.timeutil import resolve_zone
from tokenworth.services.importing import import_local_logs
from tokenworth.services.overview import OverviewQuery, TaskPoint, WeeklyTfp
from tokenworth.services.reports import usage_report
from tokenworth.ui.charts import (
    CumulativeSeries,
    CumulativeSpendChart,
    StackedDaily,
    ValueCostScatter,
    describe_task,
)
from tokenworth.ui.dashboard import DashboardWindow
from tokenworth.ui.theme import ColorAssigner, apply_theme, chart_colors

JANUARY = month_period(2026, 1)


@pytest.fixture
def dashboard(qtbot, make_controller, clock: Clock):
    def build(settings: Settings | None = None):
        controller = make_controller(settings)
        window = DashboardWindow(today=controller.today())
        qtbot.addWidget(window)
        controller.overview_changed.connect(window.show_overview)
        window.query_changed.connect(controller.set_query)
        return controller, window

    return build


def table_cells(model) -> list[list[str]]:
    return [
        [model.data(model.index(r, c), Qt.ItemDataRole.DisplayRole) for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def test_dashboard_shows_the_imported_sample_logs_with_the_cli_numbers(dashboard, ledger, sample_logs, cli) -> None:
    summary = import_local_logs(ledger)
    assert summary.records_after > 0
    controller, window = dashboard(Settings(monthly_budget=Decimal("50")))
    controller.set_query(OverviewQuery(JANUARY))
    overview = controller.overview
    assert overview is not None
    assert window.overview is overview

    # charts have data
    x, y = window.cumulative_chart.spent.getData()
    assert len(x) == 20  # Jan 1..20 (today is the 20th)
    assert float(y[-1]) == pytest.approx(float(overview.period_cost))
    assert any(name.startswith("Budget") for name in window.cumulative_chart.legend.names())  # drawn, or named
    assert window.daily_chart.bars
    heights = sum(float(item.opts["height"][4]) for item in window.daily_chart.bars.values())  # Jan 5
    assert heights == pytest.approx(float(overview.period_cost))
    assert len(window.model_chart.bars.opts["width"]) == len(overview.models.rows)

    # the tables print what `tokenworth report models/projects` prints
    result = cli(
        "report",
        "models",
        "--since",
        "2026-01-01",
        "--until",
        "2026-01-31",
        "--json",
        "--no-import",
        "--tz",
        "UTC",
    )
    assert result.code == 0, result.err
    rows = json.loads(result.out)["rows"]
    cells = table_cells(window.models_model)
    assert [c[0] for c in cells[:-1]] == [r["model"] for r in rows]
    for cell, row in zip(cells, rows, strict=False):
        assert cell[7].rstrip("+") == f"${Decimal(row['cost_usd']).quantize(Decimal('0.01')):,}"
        assert cell[6] == f"{row['total_tokens']:,}"
    projects = usage_report(ledger, "projects", zone=resolve_zone("UTC"), since=JANUARY.start, until=JANUARY.end)
    assert [c[0] for c in table_cells(window.projects_model)[:-1]] == [r.key for r in projects.rows]
    assert table_cells(window.models_model)[-1][0] == "Total"

    # filters list what the ledger holds
    sources = [window.source.itemData(i) for i in range(window.source.count())]
    assert {"claude-code", "codex", "gemini-cli"} <= set(sources)


def test_period_picker_and_filters_ask_for_new_numbers(dashboard, ledger, clock: Clock) -> None:
    add_spend(
        ledger,
        (datetime(2025, 12, 10, 9, tzinfo=UTC), "opus", "7"),
        (
            datetime(2026, 1, 10, 9, tzinfo=UTC),
            "opus",
            "3",
        ),
    )
    add_spend(ledger, (datetime(2026, 1, 11, 9, tzinfo=UTC), "haiku", "2"), source="codex", project="/p/webshop")
    controller, window = dashboard()
    controller.refresh()
    assert window.card_period.value.text() == "$5.00"
    window.period.setCurrentIndex(window.period.findData("last-month"))
    assert controller.query.period.start == date(2025, 12, 1)
    assert window.card_period.value.text() == "$7.00"
    assert window.card_spent.value.text() == "$5.00"  # the month card stays on this month

    window.period.setCurrentIndex(window.period.findData("custom"))
    window.since.setDate(QDate(2026, 1, 11))
    window.until.setDate(QDate(2026, 1, 31))
    assert controller.query.period == controller.query.period.__class__("custom", date(2026, 1, 11), date(2026, 1, 31))
    assert window.card_period.value.text() == "$2.00"
    window.until.setDate(QDate(2026, 1, 1))  # ends before it starts: marked, no query
    assert "d64541" in window.until.styleSheet()
    assert controller.query.period.end == date(2026, 1, 31)

    window.period.setCurrentIndex(0)
    assert window.statusBar().currentMessage() == ""  # "Loading January 2026…" went with the numbers
    assert window.card_spent.caption.text() == "Spent this month"
    window.source.setCurrentIndex(window.source.findData("codex"))
    assert controller.query.sources == ("codex",)
    assert window.card_period.value.text() == "$2.00"
    # what the filter does not cut says so: the month (its budget is for all spend) and task value
    assert window.card_period.caption.text() == "Spent in the period"
    assert window.card_spent.value.text() == "$5.00"
    assert window.card_spent.caption.text() == "Spent this month (all sources)"
    assert window.card_tfp.caption.text() == "TFP this period (all sources)"
    assert window.tfp_chart.title.text().endswith("· all sources")
    assert window.scatter_chart.title.text().endswith("· all sources")
    window.source.setCurrentIndex(0)
    window.project.setCurrentIndex(window.project.findData("/p/webshop"))
    assert controller.query.projects == ("/p/webshop",)
    assert [c[0] for c in table_cells(window.projects_model)] == ["/p/webshop", "Total"]
    assert window.card_forecast.caption.text() == "Forecast for month end (all projects)"
    window.project.setCurrentIndex(0)
    assert window.card_spent.caption.text() == "Spent this month"
    assert not window.scatter_chart.title.text().endswith("all projects")


def test_a_new_point_updates_the_plot_items_in_place(dashboard, ledger) -> None:
    add_spend(ledger, (datetime(2026, 1, 3, 9, tzinfo=UTC), "opus", "3"))
    controller, window = dashboard()
    controller.refresh()
    chart = window.cumulative_chart
    spent_item, items_before = chart.spent, list(chart.plot_item.items)
    bar = window.daily_chart.bars["opus"]
    add_spend(ledger, (datetime(2026, 1, 20, 9, tzinfo=UTC), "opus", "4"))
    controller.refresh()
    assert chart.spent is spent_item
    assert list(chart.plot_item.items) == items_before
    assert window.daily_chart.bars["opus"] is bar
    assert float(chart.spent.getData()[1][-1]) == 7.0
    assert float(bar.opts["height"][19]) == 4.0


def test_stacked_bars_follow_models_coming_and_going(qtbot) -> None:
    from tokenworth.ui.charts import DailySpendChart

    chart = DailySpendChart(ColorAssigner())
    qtbot.addWidget(chart)
    days = [date(2026, 1, d) for d in (1, 2, 3)]
    chart.set_series(
        StackedDaily(days, {"a": [Decimal(1), Decimal(2), Decimal(0)], "b": [Decimal(0), Decimal(1), Decimal(1)]})
    )
    first_a = chart.bars["a"]
    assert list(chart.bars["b"].opts["y0"]) == [1.0, 2.0, 0.0]  # stacked on a
    chart.set_series(StackedDaily(days, {"a": [Decimal(1), Decimal(2), Decimal(5)]}))
    assert chart.bars == {"a": first_a}
    assert chart.legend.names() == ["a"]


def test_cumulative_chart_draws_budget_and_forecast(qtbot) -> None:
    chart = CumulativeSpendChart()
    qtbot.addWidget(chart)
    days = [date(2026, 1, d) for d in range(1, 32)]
    chart.set_series(
        CumulativeSeries(
            days,
            [Decimal(i) for i in range(1, 21)],
            Decimal(25),
            [(date(2026, 1, 20), Decimal(20)), (date(2026, 1, 31), Decimal(31))],
        )
    )
    fx, fy = chart.forecast.getData()
    assert list(fx) == [19.0, 20.0]
    assert list(fy) == [20.0, 31.0]
    assert chart.budget_line.value() == 25.0
    assert chart.legend.names() == ["Spent", "Forecast to month end", "Budget"]
    assert chart.budget_line.label.toPlainText() == "Budget $25"  # the first time it is drawn too
    assert chart.budget_line.label.orthoPos < 0.5  # at the left, above the early spend
    assert not chart.placeholder_shown


def test_a_budget_crossed_early_is_labelled_where_the_spend_line_is_not(qtbot) -> None:
    chart = CumulativeSpendChart()
    qtbot.addWidget(chart)
    days = [date(2026, 11, d) for d in range(1, 31)]
    spent = [Decimal(30), Decimal(45), Decimal(52), Decimal(60)]  # past the $40 budget on day 2
    chart.set_series(CumulativeSeries(days, spent, Decimal(40), []))
    label = chart.budget_line.label
    assert label.toPlainText() == "Budget $40"
    assert label.orthoPos > 0.5  # at the right, under the line: the spend runs above it there
    assert label.anchor.y() == 0  # hangs below the line


def test_a_budget_far_above_the_spend_does_not_flatten_it(qtbot) -> None:
    """$6 spent against a $10M budget: the axis fits the spend, and the legend names the budget."""
    chart = CumulativeSpendChart()
    qtbot.addWidget(chart)
    days = [date(2026, 12, d) for d in range(1, 32)]
    spent = [Decimal(2), Decimal(4), Decimal(6)]
    chart.set_series(
        CumulativeSeries(
            days, spent, Decimal(10_000_000), [(date(2026, 12, 3), Decimal(6)), (date(2026, 12, 31), Decimal(62))]
        )
    )
    _low, high = chart.plot_item.getViewBox().viewRange()[1]
    assert 62 <= high < 100
    assert not chart.budget_line.isVisible()
    assert chart.legend.names()[-1] == "Budget $10,000,000, far above"
    chart.set_series(CumulativeSeries(days, spent, Decimal(100), []))  # near the spend: drawn
    assert chart.budget_line.isVisible()
    assert chart.plot_item.getViewBox().viewRange()[1][1] >= 100


def weeks() -> list[WeeklyTfp]:
    return [
        WeeklyTfp(date(2026, 1, 5), Decimal(300), Decimal(100)),
        WeeklyTfp(date(2026, 1, 12), Decimal(50), Decimal(100)),
        WeeklyTfp(date(2026, 1, 19), Decimal(0), Decimal(0)),  # nothing valued: no point
    ]


def tasks() -> list[TaskPoint]:
    return [
        TaskPoint("Parser for usage report", "feature", Decimal("2.50"), Decimal("200")),
        TaskPoint("Flaky test hunt", "bugfix", Decimal("8"), Decimal("4")),
        TaskPoint("Release notes", "docs", Decimal("0.40"), Decimal("30")),
        TaskPoint("Spike that went nowhere", "feature", Decimal("12"), Decimal("0")),
    ]


def test_tfp_per_week_chart(qtbot) -> None:
    from tokenworth.ui.charts import TfpWeeklyChart

    chart = TfpWeeklyChart()
    qtbot.addWidget(chart)
    assert chart.placeholder_shown  # nothing yet: says how to get data
    chart.set_weeks(weeks())
    _x, y = chart.line.getData()
    assert list(y) == [3.0, 0.5]
    assert chart.break_even.value() == 1.0
    assert chart.week_axis.tickStrings([0.0, 1.0], 1, 1) == ["Jan 5", "Jan 12"]
    assert not chart.placeholder_shown


def test_one_outstanding_week_does_not_flatten_the_others(qtbot) -> None:
    from tokenworth.ui.charts import TfpWeeklyChart

    chart = TfpWeeklyChart()
    qtbot.addWidget(chart)
    tfps = [2, 3.5, 480, 1.2, 4]
    chart.set_weeks(
        [WeeklyTfp(date(2026, 9, 7) + timedelta(weeks=i), Decimal(t * 10), Decimal(10)) for i, t in enumerate(tfps)]
    )
    (_x_range, (bottom, top)) = chart.plot_item.getViewBox().viewRange()
    assert bottom == 0
    assert 4 < top < 10  # the other weeks fill the chart, TFP = 1 shows
    _x, y = chart.line.getData()
    assert list(y[[0, 1, 3, 4]]) == [2, 3.5, 1.2, 4]
    assert y[2] <= top  # the outstanding week sits at the top edge, its figure beside it
    assert [label.toPlainText() for label in chart.outlier_labels] == ["480×"]
    chart.set_weeks(weeks())  # an ordinary month again: no label left behind
    assert chart.outlier_labels == []


def test_an_outstanding_latest_week_keeps_its_figure_inside_the_chart(qtbot) -> None:
    from tokenworth.ui.charts import TfpWeeklyChart

    chart = TfpWeeklyChart()
    qtbot.addWidget(chart)
    chart.resize(500, 300)
    chart.show()
    tfps = [2, 3.5, 1.2, 4, 0.6, 2.2, 3, 2, 1, 2, 3, 1480]
    chart.set_weeks(
        [WeeklyTfp(date(2026, 9, 7) + timedelta(weeks=i), Decimal(t * 10), Decimal(10)) for i, t in enumerate(tfps)]
    )
    qtbot.wait(50)
    [label] = chart.outlier_labels
    view = chart.plot_item.getViewBox().sceneBoundingRect()
    assert label.sceneBoundingRect().right() <= view.right()  # not cut at the plot's edge


def test_day_ticks_make_room_for_a_large_font(qtbot) -> None:
    from PySide6.QtGui import QFont, QFontMetrics

    from tokenworth.ui.charts import DayAxis

    axis = DayAxis("bottom")
    axis.set_days([date(2026, 1, 1) + timedelta(days=offset) for offset in range(31)])
    big = QFont()
    big.setPointSize(20)
    axis.setStyle(tickFont=big)
    [(step, _ticks)] = axis.tickValues(0, 30, 600)  # a month on 600 px
    label = QFontMetrics(big).horizontalAdvance("Jan 10")
    assert step * 600 / 30 > label  # each label fits before the next begins


def test_dollar_ticks_make_room_for_a_large_font(qtbot) -> None:
    from PySide6.QtGui import QFont, QFontMetrics

    from tokenworth.ui.charts import MoneyAxis

    axis = MoneyAxis("bottom")
    big = QFont()
    big.setPointSize(20)
    axis.setStyle(tickFont=big)
    [(step, _offset)] = axis.tickSpacing(0, 0.08, 600)  # $0.005 steps ran "$0.005$0.01$0.015" together
    assert step / 0.08 * 600 > QFontMetrics(big).horizontalAdvance("$0.015")


def test_day_ticks_over_more_than_a_year_say_which_year() -> None:
    from tokenworth.ui.charts import DayAxis

    axis = DayAxis("bottom")
    days = [date(2025, 12, 1) + timedelta(days=offset) for offset in range(400)]
    axis.set_days(days)
    ticks = [float(offset) for offset in (0, 31, 90, 365, 396)]
    assert axis.tickStrings(ticks, 1, 1) == ["Dec 1 '25", "Jan 1 '26", "Mar 1", "Dec 1", "Jan 1 '27"]


def test_value_cost_scatter_uses_log_scales_categories_and_hover(qtbot) -> None:
    chart = ValueCostScatter(ColorAssigner())
    qtbot.addWidget(chart)
    chart.set_tasks(tasks())
    assert set(chart.groups) == {"feature", "bugfix", "docs"}
    assert chart.legend.names() == ["feature", "bugfix", "docs"]
    assert chart.hidden_tasks == 1  # $0 value cannot sit on a log scale; said so under the chart
    xs, ys = chart.groups["docs"].getData()
    assert xs[0] == pytest.approx(-0.39794, abs=1e-5)  # log10(0.40)
    assert ys[0] == pytest.approx(1.47712, abs=1e-5)  # log10(30)
    assert chart.plot_item.getAxis("bottom").logMode
    assert chart.break_even.angle == 45  # TFP = 1 is the diagonal
    spot = chart.groups["bugfix"].points()[0]
    chart.on_group_hovered(chart.groups["bugfix"], [spot], None)
    assert chart.hover.text() == "Flaky test hunt · bugfix · cost $8.00 · value $4.00 · TFP 0.5×"
    assert describe_task(tasks()[0]).endswith("TFP 80.0×")
    chart.set_tasks(tasks()[:1])
    assert set(chart.groups) == {"feature"}


def test_charts_follow_light_and_dark(qtbot, dashboard) -> None:
    _controller, window = dashboard()
    try:
        apply_theme("dark")
        qtbot.wait(20)
        dark_bg = window.cumulative_chart.plot.backgroundBrush().color()
        assert dark_bg == chart_colors(window.cumulative_chart.palette())[0]
        assert dark_bg.lightness() < 80
        apply_theme("light")
        qtbot.wait(20)
        light_bg = window.cumulative_chart.plot.backgroundBrush().color()
        assert light_bg.lightness() > 200
        text = window.cumulative_chart.plot_item.getAxis("left").textPen().color()
        assert text == window.cumulative_chart.palette().color(QPalette.ColorRole.Text)
    finally:
        apply_theme("system")


def test_screenshot_command_renders_a_png(cli, sample_logs, tmp_path: Path, qapp) -> None:
    out = tmp_path / "shots" / "dash.png"
    result = cli("dashboard", "--screenshot", str(out), "--period", "2026-01", "--theme", "dark")
    assert result.code == 0, result.err
    assert "January 2026" in result.out
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert image.width() == 1400
    assert image.height() > 900
    apply_theme("system")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "yesterday"], "this-month, last-month"),
        (["--screenshot", "x.jpg"], "must name a .png"),
    ],
)
def test_screenshot_command_rejects_bad_input(cli, args: list[str], message: str) -> None:
    result = cli("dashboard", "--screenshot", "x.png", *args) if "--screenshot" not in args else cli("dashboard", *args)
    assert result.code == 2
    assert message in result.err


def test_tasks_table_flags_a_task_that_cost_more_than_it_was_worth(qtbot) -> None:
    from tokenworth.services.overview import TaskPoint
    from tokenworth.ui.dashboard import TasksTableModel

    model = TasksTableModel()
    model.set_tasks(
        [
            TaskPoint("fix login", "coding", Decimal("2.25"), Decimal("1")),
            TaskPoint("write docs", "docs", Decimal("4"), Decimal("30")),
        ]
    )
    assert model.data(model.index(0, 4)) == "0.44×  COST > VALUE"
    assert model.data(model.index(1, 4)) == "7.50×"
    assert model.data(model.index(0, 4), Qt.ItemDataRole.ForegroundRole) is not None
    assert model.data(model.index(1, 4), Qt.ItemDataRole.ForegroundRole) is None


def test_a_months_first_day_is_named_on_the_day_axis(qtbot) -> None:
    """The labels of the first and last bars overhang the axis; pyqtgraph's default hid the 1st,
    and the widget's edge cut the 31st."""
    from PySide6.QtGui import QImage, QPainter

    from tokenworth.ui.charts import DailySpendChart

    chart = DailySpendChart(ColorAssigner())
    qtbot.addWidget(chart)
    chart.resize(600, 320)
    chart.show()
    days = [date(2026, 10, d) for d in range(1, 32)]
    chart.set_series(StackedDaily(days, {"a": [Decimal(1)] * 31}))
    qtbot.wait(20)
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        texts = {text: rect for rect, _flags, text in chart.day_axis.generateDrawSpecs(painter)[2]}
    finally:
        painter.end()
    assert "Oct 1" in texts
    last = chart.plot.mapFromScene(chart.day_axis.mapRectToScene(texts["Oct 31"])).boundingRect()
    assert last.right() <= chart.plot.width()  # the 31st is named whole, not cut at the edge


def test_a_period_with_only_unpriced_usage_is_not_called_empty(dashboard, ledger) -> None:
    """Usage of a model nobody has a price for: the spend charts say its cost is unknown, not that
    nothing was spent (the table below lists the tokens)."""
    from tokenworth.core.ledger import upsert_rows
    from tokenworth.core.pricing import PriceBook
    from tokenworth.core.timeutil import to_epoch_ms
    from tokenworth.services.record_rows import event_row
    from tokenworth.sources.records import UsageEvent

    when = datetime(2026, 1, 10, 10, tzinfo=UTC)
    event = UsageEvent(
        source="manual",
        provider="acme",
        model="acme-mystery-7b",
        timestamp=when,
        dedupe_key="test:unpriced",
        input_tokens=50_000,
        output_tokens=9_000,
    )
    with ledger.engine.begin() as conn:
        upsert_rows(conn, [event_row(event, PriceBook({}), to_epoch_ms(when))], "latest")
    controller, window = dashboard()
    controller.refresh()
    for chart in (window.cumulative_chart, window.daily_chart, window.model_chart):
        assert chart.placeholder_shown
        assert "cost is unknown, not $0" in chart.placeholder.text()
    add_spend(ledger, (datetime(2026, 1, 11, 9, tzinfo=UTC), "opus", "3"))
    controller.refresh()
    assert not window.cumulative_chart.placeholder_shown


def test_a_single_day_of_spend_is_drawn_as_a_point(qtbot) -> None:
    chart = CumulativeSpendChart()
    qtbot.addWidget(chart)
    chart.set_series(CumulativeSeries([date(2026, 11, 10)], [Decimal("2.05")], None, []))
    assert chart.spent.opts["symbol"] == "o"  # a line through one point shows nothing
    assert not chart.placeholder_shown
    chart.set_series(CumulativeSeries([date(2026, 11, 10), date(2026, 11, 11)], [Decimal(1), Decimal(2)], None, []))
    assert chart.spent.opts["symbol"] is None


def test_each_chart_says_in_words_what_it_shows(qtbot) -> None:
    """A screen reader gets a plot as pixels: each chart carries a description of its figures."""
    from tokenworth.ui.charts import DailySpendChart, ModelCostChart, TfpWeeklyChart

    days = [date(2026, 1, d) for d in range(1, 32)]
    cumulative = CumulativeSpendChart()
    cumulative.set_series(
        CumulativeSeries(
            days, [Decimal(i) for i in range(1, 11)], Decimal(25), [(days[9], Decimal(10)), (days[-1], Decimal(31))]
        )
    )
    daily = DailySpendChart(ColorAssigner())
    daily.set_series(
        StackedDaily(
            days[:3], {"opus": [Decimal(1), Decimal(4), Decimal(0)], "haiku": [Decimal(0), Decimal(1), Decimal(1)]}
        )
    )
    costs = ModelCostChart(ColorAssigner())
    costs.set_costs([("opus", Decimal("12.50")), ("haiku", Decimal("0.40"))])
    tfp = TfpWeeklyChart()
    tfp.set_weeks(weeks())
    scatter = ValueCostScatter(ColorAssigner())
    scatter.set_tasks(tasks())
    for chart in (cumulative, daily, costs, tfp, scatter):
        qtbot.addWidget(chart)
    described = {type(c).__name__: c.plot.accessibleDescription() for c in (cumulative, daily, costs, tfp, scatter)}
    assert (
        described["CumulativeSpendChart"]
        == "Spent $10.00 by Jan 10, 2026; forecast $31.00 by Jan 31, 2026; budget $25."
    )
    assert described["DailySpendChart"] == "Highest day Jan 2, 2026, $5; models: opus, haiku."
    assert described["ModelCostChart"] == "opus $12.50; haiku $0.40."
    assert described["TfpWeeklyChart"].startswith("week of Jan 5, 2026: TFP 3.0×; week of Jan 12, 2026: TFP 0.5×")
    assert described["ValueCostScatter"].startswith("3 tasks: 2 worth more than their tokens")
