"""The dashboard reads at any width: nothing cut off at the right, cost labels and ticks that fit."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtGui import QFont, QFontMetrics
from uihelpers import add_spend

from tokenworth.core.settings import Settings
from tokenworth.ui.charts import MIN_MONEY_TICK_PX, ModelCostChart, MoneyAxis, fit_names, nice_step
from tokenworth.ui.dashboard import DashboardWindow
from tokenworth.ui.theme import ColorAssigner

MODELS = (
    ("claude-sonnet-4-5-20250929", "170.29"),
    ("claude-opus-4-5-20251101", "104.36"),
    ("gpt-5-codex", "36.06"),
    ("claude-haiku-4-5-20251001", "7.23"),
    ("gemini-2.5-pro", "7.11"),
)


def test_nice_steps() -> None:
    assert [nice_step(x) for x in (0.7, 1, 1.2, 3, 7, 89.6, 101)] == [1, 1, 2, 5, 10, 100, 200]


def test_dollar_ticks_across_the_page_leave_room_for_their_labels(qtbot) -> None:
    axis = MoneyAxis("bottom")
    for pixels, span in ((125, 200.0), (300, 200.0), (80, 7.5), (900, 12_000.0)):
        step = axis.tickSpacing(0.0, span, pixels)[0][0]
        assert step / span * pixels >= MIN_MONEY_TICK_PX
    left = MoneyAxis("left")
    assert left.tickSpacing(0.0, 200.0, 125)  # the vertical axis keeps pyqtgraph's spacing


@pytest.mark.parametrize("width", [330, 420, 600])
def test_cost_labels_names_and_axis_title_fit_the_panel(qtbot, width: int) -> None:
    chart = ModelCostChart(ColorAssigner())
    qtbot.addWidget(chart)
    chart.resize(width, 320)
    chart.show()
    chart.set_costs([(name, Decimal(cost)) for name, cost in MODELS])
    qtbot.wait(10)
    view = chart.plot_item.getViewBox().sceneBoundingRect()
    for label in chart.value_labels[: len(MODELS)]:
        box = label.sceneBoundingRect()
        assert box.right() <= view.right() + 1, f"{label.toPlainText()} is cut at {width} px"
    bottom = chart.plot_item.getAxis("bottom")
    assert bottom.label.boundingRect().width() <= bottom.geometry().width()
    names_axis = chart.plot_item.getAxis("left")
    assert names_axis.width() <= max(60, width * 0.42)


def test_long_names_lose_their_date_before_anything_else() -> None:
    metrics = QFontMetrics(QFont())
    names = [name for name, _cost in MODELS]
    assert fit_names(names, metrics, 1000) == names
    room = metrics.horizontalAdvance("claude-sonnet-4-5") + 2
    assert fit_names(names, metrics, room)[:3] == ["claude-sonnet-4-5", "claude-opus-4-5", "gpt-5-codex"]
    assert fit_names(names, metrics, 40)[0].endswith("…")


def dashboard_of_many_models(qtbot, make_controller, ledger) -> DashboardWindow:
    """A dashboard showing a month of the long model names in MODELS, against a budget."""
    add_spend(ledger, *((datetime(2026, 1, 10, 9, tzinfo=UTC), name, cost) for name, cost in MODELS))
    controller = make_controller(Settings(monthly_budget=Decimal(380)))
    window = DashboardWindow(today=controller.today(), colors=controller.model_colors)
    qtbot.addWidget(window)
    controller.overview_changed.connect(window.show_overview)
    controller.refresh()
    return window


@pytest.mark.parametrize(("width", "arrangement"), [(800, "medium"), (1024, "medium"), (1400, "wide"), (600, "narrow")])
def test_narrow_windows_reflow_instead_of_cutting_off_the_right(
    qtbot, make_controller, ledger, tmp_path: Path, width: int, arrangement: str
) -> None:
    window = dashboard_of_many_models(qtbot, make_controller, ledger)
    pixmap = window.render_png(tmp_path / "dash.png", width)
    assert pixmap.width() == width
    assert window.arrangement == arrangement
    assert not window.scroll.horizontalScrollBar().isVisible()
    visible = window.scroll.viewport().width()
    for widget in (*window.cards, *window.charts, window.tables):
        assert widget.geometry().right() < visible, f"{type(widget).__name__} is cut off at {width} px"


def test_a_large_font_reflows_as_a_narrower_window_would(qtbot, make_controller, ledger, tmp_path: Path) -> None:
    from PySide6.QtGui import QFont

    window = dashboard_of_many_models(qtbot, make_controller, ledger)
    window.render_png(tmp_path / "usual.png", 1400)
    assert window.arrangement == "wide"
    big = QFont(window.font())
    big.setPointSize(18)
    window.setFont(big)  # as the system's text size changes while the window is open
    assert window.arrangement != "wide"  # 1400 px of 18-point text is about 800 px of the usual
    window.render_png(tmp_path / "dash.png", 1400)
    visible = window.scroll.viewport().width()
    for widget in (*window.cards, *window.charts):
        assert widget.geometry().right() < visible, f"{type(widget).__name__} is cut off"


def test_a_custom_range_and_its_long_tfp_note_do_not_widen_the_page(
    qtbot, make_controller, ledger, tmp_path: Path
) -> None:
    """At the default width, choosing a custom range (two date fields; a TFP card explaining
    which whole months it divides) must not push the page past the window."""
    add_spend(ledger, *((datetime(2026, 1, 10, 9, tzinfo=UTC), name, cost) for name, cost in MODELS))
    controller = make_controller(Settings(monthly_budget=Decimal(380)))
    window = DashboardWindow(today=controller.today(), colors=controller.model_colors)
    qtbot.addWidget(window)
    controller.overview_changed.connect(window.show_overview)
    window.query_changed.connect(controller.set_query)
    controller.refresh()
    window.period.setCurrentIndex(window.period.findData("custom"))
    window.card_tfp.set("73.85×", "whole months 2025-12 to 2026-01: ÷ all spend; $1,234.56 not in a task (incomplete)")
    window.resize(1280, 900)
    window.show()
    qtbot.wait(20)
    assert window.content.minimumSizeHint().width() <= window.scroll.viewport().width()
    assert not window.scroll.horizontalScrollBar().isVisible()


def test_the_dashboard_opens_within_the_screens_free_area(qtbot) -> None:
    """1280x900 by default, but never larger than the screen (here the offscreen one, 800x800):
    Refresh, Settings and the tables stay reachable on a small laptop."""
    window = DashboardWindow()
    qtbot.addWidget(window)
    area = window.screen().availableGeometry()
    assert area.width() < 1280 or area.height() < 900  # else this test shows nothing
    assert area.contains(window.geometry())
