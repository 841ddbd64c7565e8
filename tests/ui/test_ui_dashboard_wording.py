"""Dashboard words that must match what is shown: which month the chart is, budget left or over."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from uihelpers import add_spend

from tokenworth.core.settings import Settings
from tokenworth.ui.dashboard import DashboardWindow


@pytest.fixture
def window(qtbot, make_controller, ledger):
    add_spend(
        ledger,
        (datetime(2025, 12, 10, 9, tzinfo=UTC), "opus", "30"),
        (datetime(2026, 1, 10, 9, tzinfo=UTC), "opus", "73.10"),
    )

    def build(budget: str | None):
        controller = make_controller(Settings(monthly_budget=None if budget is None else Decimal(budget)))
        dashboard = DashboardWindow(today=controller.today())
        qtbot.addWidget(dashboard)
        controller.overview_changed.connect(dashboard.show_overview)
        dashboard.query_changed.connect(controller.set_query)
        controller.refresh()
        return dashboard

    return build


def test_the_running_spend_title_names_the_month_shown(window) -> None:
    dashboard = window("50")
    assert dashboard.cumulative_chart.title.text() == "Spend this month against budget · January 2026"
    dashboard.period.setCurrentIndex(dashboard.period.findData("last-month"))
    assert dashboard.cumulative_chart.title.text() == "Spend in December 2025 against budget"
    assert "this month" not in dashboard.cumulative_chart.title.text()


def test_without_a_budget_the_title_does_not_promise_one(window) -> None:
    dashboard = window(None)
    assert dashboard.cumulative_chart.title.text() == "Spend this month · January 2026"


def test_the_budget_card_says_over_rather_than_a_negative_amount_left(window) -> None:
    over = window("50")
    assert over.card_budget.detail.text() == "146% used, $23.10 over"
    under = window("100")
    assert under.card_budget.detail.text() == "73% used, $26.90 left"
