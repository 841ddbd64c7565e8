"""Tray: the icon's colour is the budget pace, the menu is rebuilt on open, tooltips carry the
month's numbers, and budget/unpriced notifications are given once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from PySide6.QtGui import QColor
from uihelpers import Clock, add_spend

from tokenworth.core.app_state import load_state, state_file
from tokenworth.core.budget import Pace
from tokenworth.core.settings import Settings
from tokenworth.services.importing import ImportSummary
from tokenworth.ui.hooks import ActiveTask, AppHooks
from tokenworth.ui.theme import PACE_COLORS
from tokenworth.ui.tray import TrayController, draw_tray_icon, figure_text, tooltip_text


def fill_pixel(pace: Pace, figure: str | None = None) -> QColor:
    image = draw_tray_icon(pace, figure, 64).toImage()
    # inside the shape, clear of the glyph: left of the "$" on the coin, above the figure's text
    return image.pixelColor(12, 32) if figure is None else image.pixelColor(32, 7)


@pytest.mark.parametrize("pace", list(Pace))
def test_icon_colour_is_the_pace(qtbot, pace: Pace) -> None:
    assert fill_pixel(pace).name() == QColor(PACE_COLORS[pace]).name()
    assert fill_pixel(pace, "$42").name() == QColor(PACE_COLORS[pace]).name()


def test_the_three_pace_colours_differ(qtbot) -> None:
    colours = {fill_pixel(p).name() for p in (Pace.ON_TRACK, Pace.AHEAD, Pace.OVER)}
    assert len(colours) == 3


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("0", "$0"),
        ("41.6", "$42"),
        ("999.4", "$999"),
        ("1234", "$1.2k"),
        ("18400", "$18k"),
        ("2500000", "$2.5M"),
    ],
)
def test_compact_figure(amount: str, text: str) -> None:
    assert figure_text(Decimal(amount)) == text


def test_the_figure_mode_draws_text_the_icon_mode_does_not(qtbot) -> None:
    plain = draw_tray_icon(Pace.ON_TRACK, None).toImage()
    figure = draw_tray_icon(Pace.ON_TRACK, "$42").toImage()
    assert plain != figure


def make_tray(controller) -> tuple[TrayController, list[str]]:
    opened: list[str] = []
    tray = TrayController(
        controller,
        open_dashboard=lambda: opened.append("dashboard"),
        open_settings=lambda: opened.append("settings"),
        quit_app=lambda: opened.append("quit"),
    )
    return tray, opened


def test_menu_is_rebuilt_each_time_it_opens(qtbot, make_controller, ledger, clock: Clock) -> None:
    controller = make_controller(Settings(monthly_budget=Decimal("100")))
    tray, opened = make_tray(controller)
    texts = tray.action_texts()
    assert texts == [
        "Start a task…",
        "Log task value…",
        "Open dashboard",
        "Refresh now",
        "Export this month…",
        "Settings…",
        "Quit Tokenworth",
    ]
    disabled = {a.text() for a in tray.menu.actions() if not a.isEnabled()}
    assert {"Start a task…", "Log task value…", "Export this month…"} <= disabled

    add_spend(ledger, (datetime(2026, 1, 3, 9, tzinfo=UTC), "claude-sonnet-4-5", "30"))
    controller.refresh()
    tray.menu.aboutToShow.emit()
    assert tray.action_texts()[0] == "This month: $30.00 of $100 · on track"

    logged: list[str] = []
    controller.hooks = AppHooks(
        active_task=lambda db: ActiveTask("Fix the parser", datetime.now(UTC), Decimal("1.25")),
        log_task_value=lambda c: logged.append("popup"),
        stop_task=lambda c: logged.append("stop"),
    )
    controller.refresh()
    tray.menu.aboutToShow.emit()
    texts = tray.action_texts()
    assert texts[1].startswith("Working on: Fix the parser (0 min, $1.25)")
    assert "Stop task and log its value…" in texts
    by_text = {a.text(): a for a in tray.menu.actions()}
    by_text["Log task value…"].trigger()
    by_text["Stop task and log its value…"].trigger()
    by_text["Open dashboard"].trigger()
    by_text["Settings…"].trigger()
    assert logged == ["popup", "stop"]
    assert opened == ["dashboard", "settings"]


def test_icon_and_tooltip_follow_the_month(qtbot, make_controller, ledger, clock: Clock) -> None:
    controller = make_controller(Settings(monthly_budget=Decimal("100"), tray_display="figure"))
    tray, _ = make_tray(controller)
    assert tray.pace is Pace.NO_BUDGET
    add_spend(ledger, (datetime(2026, 1, 2, 9, tzinfo=UTC), "m", "20"))
    controller.refresh()
    # $20 in 20 days, none in the last 7: rate ($1 + $0) / 2 a day, forecast $20 + 11 x $0.50
    assert tray.pace is Pace.ON_TRACK
    assert tray.figure == "$20"
    tip = tray.icon.toolTip()
    assert "Spent: $20.00 of $100 budget (20%)" in tip
    assert "Forecast for month end: $25.50 (on track)" in tip
    assert "TFP: —" in tip
    add_spend(ledger, (datetime(2026, 1, 19, 9, tzinfo=UTC), "m", "85"))
    controller.refresh()
    assert tray.pace is Pace.OVER
    assert fill_pixel(tray.pace).name() == QColor(PACE_COLORS[Pace.OVER]).name()


def test_tooltip_before_numbers_and_with_tfp() -> None:
    assert "Reading your usage" in tooltip_text(None, None)


def test_spend_with_unpriced_usage_is_a_floor_in_the_tooltip() -> None:
    """Unpriced usage is never $0: the month's spend and forecast carry a "+" and say why."""
    from tokenworth.core.budget import budget_status

    month = budget_status({date(2026, 1, 5): Decimal("12.5")}, date(2026, 1, 10), Decimal(100), complete=False)
    tip = tooltip_text(month, None)
    assert "Spent: $12.50+ of $100 budget" in tip
    assert "part of the usage has no price" in tip


def test_budget_thresholds_notify_once_per_month(qtbot, make_controller, ledger, clock: Clock, paths) -> None:
    settings = Settings(monthly_budget=Decimal("100"))
    controller = make_controller(settings)
    tray, _ = make_tray(controller)
    shown: list[tuple[str, str]] = []
    tray.message_shown.connect(lambda title, text: shown.append((title, text)))

    add_spend(ledger, (datetime(2026, 1, 5, 9, tzinfo=UTC), "m", "50"))
    controller.refresh()  # $50 by the 20th: forecast $77.50, below 80%
    assert shown == []
    add_spend(ledger, (datetime(2026, 1, 18, 9, tzinfo=UTC), "m", "32"))
    controller.refresh()  # $82 spent: forecast $129.69, past the 100% alert
    assert [title for title, _ in shown] == [
        "80% of your monthly budget spent",
        "Forecast at 130% of your monthly budget",
    ]
    assert "$129.69, against a budget of $100.00 (alert set at 100%)" in shown[1][1]
    controller.refresh()
    controller.refresh()
    assert len(shown) == 2

    # remembered on disk: a restart does not repeat them
    assert "2026-01:spend:80:100" in load_state(state_file(paths.home)).alerts_sent
    again = make_controller(settings)
    tray2, _ = make_tray(again)
    repeat: list[str] = []
    tray2.message_shown.connect(lambda title, text: repeat.append(title))
    again.refresh()
    assert repeat == []

    clock.now = datetime(2026, 2, 10, 12, tzinfo=UTC)
    add_spend(ledger, (datetime(2026, 2, 9, 9, tzinfo=UTC), "m", "101"))
    again.on_scheduler_day_changed()
    assert repeat == ["100% of your monthly budget spent"]


def test_budget_notifications_can_be_turned_off(qtbot, make_controller, ledger) -> None:
    controller = make_controller(Settings(monthly_budget=Decimal("10"), notify_budget=False))
    notices: list[object] = []
    controller.notice.connect(notices.append)
    add_spend(ledger, (datetime(2026, 1, 5, 9, tzinfo=UTC), "m", "50"))
    controller.refresh()
    assert notices == []


def test_new_unpriced_models_are_announced_once(qtbot, make_controller) -> None:
    controller = make_controller()
    tray, _ = make_tray(controller)
    shown: list[str] = []
    tray.message_shown.connect(lambda title, text: shown.append(text))
    summary = ImportSummary(sources=["claude-code"])
    summary.unpriced_models.update({"mystery-1": 3})
    controller._after_import(False, summary)
    controller._after_import(False, summary)
    assert len(shown) == 1
    assert shown[0].startswith("mystery-1: their cost is unknown (not $0)")
    summary.unpriced_models.update({"mystery-2": 1})
    controller._after_import(False, summary)
    assert len(shown) == 2
    assert shown[1].startswith("mystery-2")


def test_an_import_failing_again_and_again_is_told_once_until_one_works(qtbot, make_controller) -> None:
    """A locked ledger or a full disk fails the import every few seconds: one balloon, not
    hundreds an hour; after an import works, a new failure is told again."""
    controller = make_controller()
    notices: list[object] = []
    controller.notice.connect(notices.append)
    full = OSError(28, "No space left on device")
    for _ in range(5):
        controller._on_import_done(False, None, full)
    assert [notice.title for notice in notices] == ["Could not import agent logs"]
    assert controller.status.startswith("Import failed:")
    controller._on_import_done(False, ImportSummary(sources=["claude-code"]), None)
    controller._on_import_done(False, None, full)
    assert len(notices) == 2


def test_generic_notice_hook_shows_a_rejected_key(qtbot, make_controller) -> None:
    from tokenworth.ui.hooks import Notice

    def poll(db) -> list[Notice]:
        return [Notice("key-rejected", "OpenAI key rejected", "The admin key was refused (401).")]

    controller = make_controller(hooks=AppHooks(poll_providers=poll))
    tray, _ = make_tray(controller)
    shown: list[str] = []
    tray.message_shown.connect(lambda title, text: shown.append(title))
    controller.refresh_now()
    assert shown == ["OpenAI key rejected"]


def test_a_zone_chosen_in_settings_moves_midnight_and_the_month_at_once(qtbot, make_controller, clock: Clock) -> None:
    """At 20:00 UTC on 30 November it is already 1 December in Tokyo: choosing Tokyo shows
    December now, and the next day starts at Tokyo's midnight, not UTC's."""
    from tokenworth.ui.scheduler import Scheduler

    clock.now = datetime(2026, 11, 30, 20, tzinfo=UTC)
    controller = make_controller(Settings(time_zone="UTC"))
    scheduler: Scheduler = controller.scheduler
    scheduler.start(3600)
    assert abs(scheduler._midnight.remainingTime() - 4 * 3600 * 1000) < 5_000  # UTC's midnight
    assert controller.query.period.start.month == 11
    controller.apply_settings(controller.settings.with_changes(time_zone="Asia/Tokyo"))
    assert controller.query.period.start.month == 12
    assert abs(scheduler._midnight.remainingTime() - 19 * 3600 * 1000) < 5_000  # 00:00 JST, 2 Dec


def test_this_month_moves_on_at_the_next_poll_after_a_suspend_past_midnight(
    qtbot, make_controller, clock: Clock
) -> None:
    """The midnight timer counts elapsed time, so after a suspend (or a clock change) it fires
    late: the next poll or "Refresh now" shows the new month all the same."""
    clock.now = datetime(2026, 1, 31, 22, tzinfo=UTC)
    controller = make_controller(Settings(time_zone="UTC"))
    controller.refresh()
    assert controller.query.period.start == date(2026, 1, 1)
    clock.now = datetime(2026, 2, 1, 9, tzinfo=UTC)  # woke up; the midnight timer has not fired
    controller.on_scheduler_poll_due()
    assert controller.query.period.start == date(2026, 2, 1)
    assert controller.overview is not None
    assert controller.overview.query.period.start == date(2026, 2, 1)
    assert controller.overview.days[0] == date(2026, 2, 1)  # the chart shows February


def test_notices_due_together_are_shown_one_after_the_other(
    qtbot, make_controller, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tray shows one balloon at a time: a spend alert and a forecast alert raised together
    must both be seen, not the second wiping the first."""
    from PySide6.QtWidgets import QSystemTrayIcon

    from tokenworth.ui import tray as tray_module
    from tokenworth.ui.hooks import Notice

    class RecordingIcon(QSystemTrayIcon):
        def __init__(self) -> None:
            super().__init__()
            self.balloons: list[str] = []

        def isVisible(self) -> bool:
            return True

        def showMessage(self, title: str, *args: object) -> None:
            self.balloons.append(title)

    monkeypatch.setattr(QSystemTrayIcon, "supportsMessages", staticmethod(lambda: True))
    monkeypatch.setattr(tray_module, "NOTICE_SHOW_MS", 50)
    icon = RecordingIcon()
    controller = make_controller()
    tray = TrayController(controller, open_dashboard=list, open_settings=list, quit_app=list, icon=icon)
    controller.notice.emit(Notice("budget", "80% spent", "a"))
    controller.notice.emit(Notice("budget", "Forecast at 980%", "b"))
    assert icon.balloons == ["80% spent"]
    qtbot.waitUntil(lambda: icon.balloons == ["80% spent", "Forecast at 980%"], timeout=2000)
    assert not tray.waiting
