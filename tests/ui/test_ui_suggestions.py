"""Dashboard › Suggestions on the known routing history (tests/routing_ledger.py): the same
suggestions, savings and evidence as `routing_report(...).as_json()`, the flags, and an experiment
started with one click that shows in the panel and in `list_experiments`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from uihelpers import Clock

from routing_ledger import CURATED, Request, at, build_history, task
from tokenworth.core.db import Database
from tokenworth.core.money import format_usd
from tokenworth.core.periods import month_period
from tokenworth.services.overview import OverviewQuery
from tokenworth.services.routing import list_experiments, routing_report
from tokenworth.ui.suggestions_panel import SuggestionsPanel
from tokenworth.ui.theme import ERROR_COLOR, readable_on
from tokenworth.ui.workers import TaskRunner

JAN = (2026, 1)
NOW = datetime(2026, 2, 10, 12, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def panel(qtbot, make_controller, ledger: Database) -> SuggestionsPanel:
    build_history(ledger)
    controller = make_controller(runner=TaskRunner())  # real worker threads, as in the app
    controller.set_query(OverviewQuery(month_period(*JAN)))
    widget = SuggestionsPanel(controller, curated=CURATED)
    qtbot.addWidget(widget)
    widget.resize(1200, 600)
    with qtbot.waitSignal(widget.loaded, timeout=10_000):
        widget.show()
    return widget


def usd(text: str) -> str:
    return format_usd(Decimal(text))


def test_the_panel_shows_the_routing_reports_suggestions_and_savings(panel: SuggestionsPanel, ledger) -> None:
    expected = routing_report(ledger, month=JAN, zone=UTC, curated=CURATED, now=NOW).as_json(UTC)
    rows = panel.suggestion_rows()
    assert [row[:7] for row in rows] == [
        [
            s["category"],
            s["from_model"],
            s["to_model"],
            str(s["tasks"]),
            usd(s["current_cost_usd"]),
            usd(s["projected_cost_usd"]),
            usd(s["savings_usd"]),
        ]
        for s in expected["suggestions"]
    ]
    assert len(rows) == 5
    # Evidence in plain words, with the sample sizes behind it.
    assert rows[0][:7] == ["docs", "big", "mid", "7", "$14.00", "$2.80", "$11.20"]
    assert rows[0][7] == "measured on 6 of your docs tasks (value/task $95.00 vs $100.00 on big)"
    assert (
        rows[1][7]
        == "thin: only 2 of your coding tasks so far (value/task $80.00 vs $100.00 on big: worth less so far, "
        "an experiment would tell); 5 make it measured"
    )
    assert rows[2][7] == "priced only: try nano for the next 5 docs tasks"
    assert [s["evidence"] for s in expected["suggestions"]] == [
        "measured",
        "thin",
        "priced_only",
        "priced_only",
        "priced_only",
    ]
    assert panel.header.text().startswith("Routing for 2026-01 (months in UTC): task spend $28.03; $2.00 in no task")

    # Untried and thin switches are experiments to try; the measured one is a plain switch.
    assert set(panel.try_buttons) == {s["id"] for s in expected["suggestions"] if s["evidence"] != "measured"}

    flags = panel.list_lines(panel.tfp_flags)
    assert len(flags) == len(expected["flags"]["tfp_below_one"]) == 3
    assert flags[0].endswith("Deep dive [research]: cost $3.00, value $2.00, TFP 0.67x")
    assert flags[2] == "category research (2 tasks): cost $6.00, value $3.00, TFP 0.50x"
    assert panel.list_lines(panel.caching) == ["None this month."]
    assert panel.list_lines(panel.experiments) == ["None this month."]


def test_one_click_starts_an_experiment_that_shows_in_the_panel_and_the_service(
    qtbot, panel: SuggestionsPanel, ledger: Database
) -> None:
    report = panel.report
    assert report is not None
    coding_to_nano = next(s for s in report.suggestions if (s.category, s.to_model.model) == ("coding", "nano"))
    started: list[object] = []
    panel.experiment_started.connect(started.append)

    qtbot.mouseClick(panel.try_buttons[coding_to_nano.id], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.list_lines(panel.experiments) != ["None this month."], timeout=10_000)

    [experiment] = list_experiments(ledger)
    assert (experiment.category, experiment.from_model.model, experiment.to_model.model) == ("coding", "big", "nano")
    assert (experiment.status, experiment.task_count, experiment.suggestion_id) == ("running", 5, coding_to_nano.id)
    assert [view.id for view in started] == [experiment.id]
    assert panel.list_lines(panel.experiments) == [
        f"#{experiment.id} coding: nano instead of big, 0 of 5 tasks counted"
    ]
    assert panel.status.text().startswith(f"Experiment #{experiment.id} started: your next 5 coding tasks on nano")
    assert coding_to_nano.id not in panel.try_buttons  # its row now names the experiment instead

    # New numbers (a coding task on nano) refresh the panel: the experiment's progress moves.
    panel.refresh_gap_s = 0  # not the 15 s a live app waits between reads
    task(ledger, "coding", at(2026, 2, 11), "90", Request("nano"))
    with qtbot.waitSignal(panel.loaded, timeout=10_000):
        panel.controller.refresh()
    assert panel.list_lines(panel.experiments) == [
        f"#{experiment.id} coding: nano instead of big, 1 of 5 tasks counted"
    ]


def test_a_refused_experiment_is_shown_not_raised(qtbot, panel: SuggestionsPanel, ledger: Database) -> None:
    report = panel.report
    assert report is not None
    docs_to_nano = next(s for s in report.suggestions if (s.category, s.to_model.model) == ("docs", "nano"))
    panel.accept(docs_to_nano.id)
    qtbot.waitUntil(lambda: docs_to_nano.id not in panel.try_buttons, timeout=10_000)
    panel.accept(docs_to_nano.id)  # the same switch again (e.g. a stale list): refused by the service
    qtbot.waitUntil(lambda: "Could not start" in panel.status.text(), timeout=10_000)
    assert "already tries nano for docs tasks" in panel.status.text()
    assert readable_on(ERROR_COLOR) in panel.status.styleSheet()  # the error red, as text
    assert len(list_experiments(ledger)) == 1
    panel.accept("0badc0de")
    qtbot.waitUntil(lambda: "no suggestion 0badc0de" in panel.status.text(), timeout=10_000)


def test_a_hidden_panel_waits_until_it_is_shown(qtbot, make_controller, ledger: Database) -> None:
    build_history(ledger)
    controller = make_controller()
    controller.set_query(OverviewQuery(month_period(*JAN)))
    widget = SuggestionsPanel(controller, curated=CURATED)
    qtbot.addWidget(widget)
    controller.refresh()  # new numbers while hidden (another dashboard tab is open): nothing read
    qtbot.wait(700)
    assert widget.report is None
    with qtbot.waitSignal(widget.loaded, timeout=10_000):
        widget.show()
    assert widget.report is not None
    assert len(widget.suggestion_rows()) == 5


def test_the_panel_fits_a_window_of_800_px(panel: SuggestionsPanel) -> None:
    """Four side-by-side lists with long titles needed 976 px: an 800-px dashboard scrolled sideways."""
    from tokenworth.ui.dashboard import ARRANGEMENT_MIN_WIDTH_PX

    medium = dict(ARRANGEMENT_MIN_WIDTH_PX)["medium"]
    assert panel.minimumSizeHint().width() < medium
