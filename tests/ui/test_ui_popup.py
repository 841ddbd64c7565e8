"""The value popup: bad input marked in its field with Save disabled, Enter saves and Esc closes,
the preview shows the cost and TFP a save would give, proposals are offered, saving updates the
dashboard and the tray, and tasks start and stop from the tray menu."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from uihelpers import Clock

from task_ledger import known_events, write_events
from tokenworth.core.db import Database
from tokenworth.core.settings import Settings
from tokenworth.services.tasks import list_tasks, running_task
from tokenworth.ui.hooks import default_hooks
from tokenworth.ui.popup import TaskValuePopup, to_qt_wall_clock
from tokenworth.ui.task_actions import task_actions
from tokenworth.ui.task_entry import CoverKind
from tokenworth.ui.workers import InlineRunner, TaskRunner


@pytest.fixture
def known(ledger: Database) -> Database:
    """January 2026 in task_ledger.py: $33.60 priced spend, one unpriced model."""
    write_events(ledger, known_events())
    return ledger


@pytest.fixture
def open_popup(qtbot, make_controller, known):
    """The popup as the tray opens it. It deletes itself when closed (WA_DeleteOnClose), so it is
    closed here only while it still exists: qtbot's own clean-up would touch a deleted widget."""
    opened: list[TaskValuePopup] = []

    def build(runner=None) -> TaskValuePopup:
        controller = make_controller(Settings(), hooks=default_hooks(), runner=runner)
        controller.hooks.log_task_value(controller)
        popup = task_actions(controller).popup
        assert popup is not None
        opened.append(popup)
        if runner is not None:
            qtbot.waitUntil(lambda: popup.loaded, timeout=10_000)
        return popup

    yield build
    for popup in opened:
        if shiboken6.isValid(popup):
            popup.close()


def type_into(qtbot, edit: QLineEdit, text: str) -> None:
    """Replace the field's text the way a user does (select all, type)."""
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    if text:
        qtbot.keyClicks(edit, text)


def choose(popup: TaskValuePopup, kind: CoverKind) -> None:
    popup.select_cover(next(i for i, c in enumerate(popup.covers) if c.kind is kind))


def set_span(popup: TaskValuePopup, start: datetime, end: datetime) -> None:
    popup.start_edit.setDateTime(to_qt_wall_clock(start))
    popup.end_edit.setDateTime(to_qt_wall_clock(end))


def is_marked(edit, label) -> bool:
    return "d64541" in edit.styleSheet() and not label.isHidden() and bool(label.text()) and bool(edit.toolTip())


def test_each_invalid_input_is_marked_and_save_is_disabled(qtbot, open_popup, known: Database) -> None:
    popup = open_popup()
    popup.present()
    assert popup.title_edit.text() == "feat-a (app)"  # the last unvalued session, proposed
    assert not popup.can_save  # no value yet: nothing marked red before the user gets there
    assert not is_marked(popup.value_edit, popup.value_error)

    for text, message in (("-5", "zero or more"), ("lots", "must be a number"), ("1e99", "below")):
        type_into(qtbot, popup.value_edit, text)
        assert is_marked(popup.value_edit, popup.value_error), text
        assert message in popup.value_error.text()
        assert not popup.can_save
    type_into(qtbot, popup.value_edit, "$1,200.50")
    assert not is_marked(popup.value_edit, popup.value_error)
    assert popup.can_save

    type_into(qtbot, popup.title_edit, "")
    assert is_marked(popup.title_edit, popup.title_error)
    assert "title" in popup.title_error.text()
    assert not popup.can_save
    type_into(qtbot, popup.title_edit, "Parser rewrite")
    assert popup.can_save

    type_into(qtbot, popup.category_edit, "x" * 65)
    assert is_marked(popup.category_edit, popup.category_error)
    assert not popup.can_save
    type_into(qtbot, popup.category_edit, "coding")

    choose(popup, CoverKind.SPAN)
    assert popup.span_row.isVisibleTo(popup)
    set_span(popup, datetime(2026, 1, 5, 12, tzinfo=UTC), datetime(2026, 1, 5, 10, tzinfo=UTC))
    assert is_marked(popup.end_edit, popup.span_error)
    assert "before the start" in popup.span_error.text()
    assert not popup.can_save

    qtbot.keyClick(popup.value_edit, Qt.Key.Key_Return)  # Enter on a bad entry saves nothing
    assert popup.isVisible()
    assert list_tasks(known) == []
    set_span(popup, datetime(2026, 1, 5, 10, tzinfo=UTC), datetime(2026, 1, 5, 11, tzinfo=UTC))
    assert not is_marked(popup.end_edit, popup.span_error)
    assert popup.can_save


def test_enter_saves_and_esc_closes(qtbot, open_popup, known: Database) -> None:
    popup = open_popup()
    popup.present()
    qtbot.keyClick(popup.title_edit, Qt.Key.Key_Escape)
    assert not popup.isVisible()
    assert list_tasks(known) == []

    popup = open_popup()
    popup.present()
    type_into(qtbot, popup.category_edit, "coding")
    type_into(qtbot, popup.value_edit, "30")
    with qtbot.waitSignal(popup.saved, timeout=5_000):
        qtbot.keyClick(popup.value_edit, Qt.Key.Key_Return)
    assert not popup.isVisible()
    [task] = list_tasks(known)
    assert (task.title, task.category, task.value) == ("feat-a (app)", "coding", Decimal("30.00"))
    assert task.sessions == ("S1",)
    assert task.cost == Decimal("4.00")


def test_a_failed_save_stays_said_and_can_be_tried_again(qtbot, open_popup, known: Database) -> None:
    """The ledger refuses the write (here a trigger; a lock held by another program alike): the
    popup says so in plain words, a preview arriving afterwards does not hide it, and Save
    stays on to try again."""
    import sqlite3

    file = known.url.removeprefix("sqlite:///")
    with sqlite3.connect(file) as conn:
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON tasks BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
    popup = open_popup()
    popup.present()
    type_into(qtbot, popup.value_edit, "30")
    popup.on_save_clicked()
    said = popup.form_error.text()
    assert "The ledger could not be written (disk I/O error)" in said
    assert "Nothing was saved." in said
    assert "[SQL:" not in said
    popup.run_preview()  # a preview queued behind the save lands after it
    assert popup.form_error.text() == said
    assert popup.can_save
    with sqlite3.connect(file) as conn:
        conn.execute("DROP TRIGGER refuse")
    with qtbot.waitSignal(popup.saved, timeout=5_000):
        popup.on_save_clicked()
    assert [task.value for task in list_tasks(known)] == [Decimal("30.00")]


def test_preview_shows_the_cost_and_tfp_before_saving(qtbot, open_popup, known: Database) -> None:
    popup = open_popup(runner=TaskRunner())  # the real worker pool: preview in the DB lane, debounced
    type_into(qtbot, popup.value_edit, "30")
    with qtbot.waitSignal(popup.preview_shown, timeout=10_000):
        pass
    # session S1: r1 $1 + r2 $2 + r7 $1
    assert popup.cost_label.text() == "$4.00"
    assert popup.tfp_label.text() == "7.50×"
    assert "400,000 tokens in 3 requests" in popup.usage_label.text()

    choose(popup, CoverKind.SPAN)
    set_span(popup, datetime(2026, 1, 5, 10, tzinfo=UTC), datetime(2026, 1, 5, 11, tzinfo=UTC))
    type_into(qtbot, popup.value_edit, "38")
    qtbot.waitUntil(lambda: popup.cost_label.text() == "$7.60+", timeout=10_000)
    # r1 $1 + r2 $2 + the hourly bucket r5 $3.60 + 1/24 of the daily bucket r6 $24; r4 unpriced
    assert popup.tfp_label.text() == "5.00×*"
    assert "unpriced: mystery" in popup.usage_label.text()
    assert list_tasks(known) == []  # a preview writes nothing

    type_into(qtbot, popup.value_edit, "5")
    qtbot.waitUntil(lambda: popup.tfp_label.text() == "0.66×*", timeout=10_000)
    assert "cost exceeds the value" in popup.usage_label.text()
    popup.reject()
    popup.controller.runner.wait()


def test_proposed_tasks_are_offered_and_fill_the_span(qtbot, open_popup, known: Database) -> None:
    popup = open_popup()
    kinds = [cover.kind for cover in popup.covers]
    assert kinds == [CoverKind.SESSION, CoverKind.BRANCH, CoverKind.BRANCH, CoverKind.BRANCH, CoverKind.SPAN]
    labels = [popup.cover_combo.itemText(i) for i in range(popup.cover_combo.count())]
    assert labels[0].startswith("Last session: feat-a (app) · claude-code · $4.00")
    assert any(label.startswith("Branch feat-b in app · 1 session · $2.00") for label in labels)
    assert any("main in docs" in label and "unpriced" in label for label in labels)
    titles = popup.title_model.stringList()
    assert {"feat-a (app)", "feat-b (app)", "docs"} <= set(titles)
    assert "coding" in popup.category_model.stringList()  # the defaults, before any history

    popup.on_title_completer_activated("feat-b (app)")  # picking the completion picks its usage
    assert popup.cover.kind is CoverKind.BRANCH
    assert popup.title_edit.text() == "feat-b (app)"
    popup.run_preview()
    assert popup.cost_label.text() == "$2.00"
    type_into(qtbot, popup.value_edit, "100")
    popup.on_save_clicked()
    [task] = list_tasks(known)
    assert task.branches == (("/p/app", "feat-b"),)
    assert (task.value, task.cost) == (Decimal("100.00"), Decimal("2.00"))


def test_a_conflict_found_by_the_preview_is_shown_and_blocks_save(qtbot, make_controller, known, clock) -> None:
    controller = make_controller(Settings(), hooks=default_hooks())
    from tokenworth.services.tasks import start_task

    start_task(known, "Running", now=datetime(2026, 1, 20, 8, tzinfo=UTC))
    controller.hooks.log_task_value(controller)
    popup = task_actions(controller).popup
    qtbot.addWidget(popup)
    assert popup.cover.kind is CoverKind.RUNNING  # the active task comes first
    choose(popup, CoverKind.SPAN)
    set_span(popup, datetime(2026, 1, 20, 9, tzinfo=UTC), datetime(2026, 1, 20, 10, tzinfo=UTC))
    type_into(qtbot, popup.title_edit, "Overlapping")
    type_into(qtbot, popup.value_edit, "10")
    popup.run_preview()
    assert "overlaps the running task" in popup.form_error.text()
    assert not popup.form_error.isHidden()
    assert not popup.can_save
    assert [task.title for task in list_tasks(known)] == ["Running"]


def test_a_running_task_stopped_elsewhere_keeps_its_end_when_the_popup_saves(
    qtbot, make_controller, known, clock
) -> None:
    """The popup opened on the running task; `tokenworth task stop` ended it meanwhile. Saving its
    value must not move the end to now (it would take the usage of everything done since)."""
    from tokenworth.services.tasks import get_task, start_task, stop_task

    controller = make_controller(Settings(), hooks=default_hooks())
    task = start_task(known, "Running", now=datetime(2026, 1, 20, 8, tzinfo=UTC))
    controller.hooks.log_task_value(controller)
    popup = task_actions(controller).popup
    qtbot.addWidget(popup)
    assert popup.cover.kind is CoverKind.RUNNING
    stopped = stop_task(known, now=datetime(2026, 1, 20, 9, tzinfo=UTC))  # from a terminal
    start_task(known, "Next", now=datetime(2026, 1, 20, 9, 5, tzinfo=UTC))  # and the next one begun
    type_into(qtbot, popup.value_edit, "9")
    popup.run_preview()  # as of its recorded end: no overlap with the task now running
    assert not popup.preview_error, popup.preview_error
    assert popup.can_save
    popup.on_save_clicked()
    saved = get_task(known, task.id)
    assert (saved.ended_at, saved.value) == (stopped.ended_at, Decimal("9.00"))


# --- the app as a whole: tray, dashboard, popup -----------------------------------------------------


@pytest.fixture
def app_with_tray(make_app, known: Database):
    """The app, tray and all, on the known January ledger with a $100 budget."""
    budget = Settings(monthly_budget=Decimal("100"))
    return lambda: make_app(hooks=default_hooks(), settings=budget, runner=InlineRunner())


def test_saving_a_task_updates_the_charts_tables_and_tray_tfp(qtbot, app_with_tray, known: Database) -> None:
    from PySide6.QtWidgets import QSystemTrayIcon

    app = app_with_tray()
    app.start(show_dashboard=True)
    assert app.tray is not None
    window = app.dashboard
    assert "TFP: —" in app.tray.icon.toolTip()
    assert window.tasks_model.rowCount() == 0
    assert window.card_tfp.value.text() == "—"

    app.tray.on_icon_activated(QSystemTrayIcon.ActivationReason.Trigger)  # a left click opens the popup
    popup = task_actions(app.controller).popup
    assert popup is not None
    assert popup.isVisible()
    qtbot.addWidget(popup)
    type_into(qtbot, popup.category_edit, "coding")
    type_into(qtbot, popup.value_edit, "30")
    qtbot.keyClick(popup.value_edit, Qt.Key.Key_Enter)
    assert not popup.isVisible()

    # January: $30 of value over $33.60 of priced spend (the unpriced model aside) = 0.89x
    assert "TFP: 0.89×" in app.tray.icon.toolTip()
    assert window.card_tfp.value.text() == "0.89×"
    assert window.tasks_model.rowCount() == 1
    cells = [window.tasks_model.data(window.tasks_model.index(0, c)) for c in range(5)]
    assert cells == ["feat-a (app)", "coding", "$4.00", "$30.00", "7.50×"]
    assert list(window.scatter_chart.groups) == ["coding"]
    assert not window.scatter_chart.placeholder_shown
    _x, y = window.tfp_chart.line.getData()
    assert list(y) == [pytest.approx(7.5)]


def test_start_and_stop_a_task_from_the_tray_menu(qtbot, app_with_tray, known: Database, clock: Clock) -> None:
    app = app_with_tray()
    app.start()
    tray = app.tray
    assert tray is not None
    tray.menu.aboutToShow.emit()
    start = next(a for a in tray.menu.actions() if a.text() == "Start a task…")
    assert start.isEnabled()
    start.trigger()
    dialog = task_actions(app.controller).start_dialog
    assert dialog is not None
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.title_edit, "Write the docs")
    qtbot.keyClicks(dialog.category_edit, "docs")
    qtbot.keyClick(dialog.title_edit, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    task = running_task(known)
    assert task is not None
    assert (task.title, task.category, task.started_at) == ("Write the docs", "docs", clock.now)

    tray.menu.aboutToShow.emit()
    texts = tray.action_texts()
    assert any(text.startswith("Working on: Write the docs") for text in texts)
    clock.advance(minutes=45)
    stop = next(a for a in tray.menu.actions() if a.text() == "Stop task and log its value…")
    stop.trigger()
    popup = task_actions(app.controller).popup
    assert popup is not None
    qtbot.addWidget(popup)
    assert popup.windowTitle() == "Stop the task and log its value"
    assert popup.cover.kind is CoverKind.RUNNING
    assert popup.title_edit.text() == "Write the docs"
    assert popup.category_edit.text() == "docs"
    assert popup.save_button.text() == "Stop and save"
    type_into(qtbot, popup.value_edit, "80")
    qtbot.keyClick(popup.value_edit, Qt.Key.Key_Return)
    assert running_task(known) is None
    [task] = list_tasks(known)
    assert (task.value, task.active, task.ended_at) == (Decimal("80.00"), False, clock.now)
    tray.menu.aboutToShow.emit()
    assert "Start a task…" in tray.action_texts()


def test_stop_now_value_later(qtbot, app_with_tray, known: Database, clock: Clock) -> None:
    from tokenworth.services.tasks import start_task

    start_task(known, "Spike", now=clock.now)
    app = app_with_tray()
    app.start()
    clock.advance(minutes=10)
    app.controller.hooks.stop_task(app.controller)
    popup = task_actions(app.controller).popup
    qtbot.addWidget(popup)
    assert not popup.can_save  # no value typed
    assert popup.later_button.isVisible()
    assert popup.later_button.isEnabled()
    popup.later_button.click()
    [task] = list_tasks(known)
    assert (task.active, task.value, task.ended_at) == (False, None, clock.now)


def test_closing_while_the_worker_answers_is_quiet(qtbot, open_popup, known: Database) -> None:
    """Esc right after typing: the preview (and a save) answer after the popup is gone."""
    popup = open_popup(runner=TaskRunner())
    runner = popup.controller.runner
    type_into(qtbot, popup.value_edit, "30")
    popup.run_preview()
    popup.on_save_clicked()
    qtbot.keyClick(popup.value_edit, Qt.Key.Key_Escape)
    assert runner.wait()
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=5_000)  # answers delivered, nothing raised
    [task] = list_tasks(known)  # the save went through
    assert task.value == Decimal("30.00")


def test_a_message_wrapping_onto_two_lines_is_shown_whole(qtbot, make_controller, known) -> None:
    controller = make_controller(Settings(), hooks=default_hooks())
    controller.hooks.log_task_value(controller)
    popup = task_actions(controller).popup
    qtbot.addWidget(popup)
    popup.present()
    type_into(qtbot, popup.value_edit, "1,5")
    label = popup.value_error
    assert not label.isHidden()
    assert "comma only groups thousands" in label.text()
    qtbot.wait(20)
    assert label.height() >= label.heightForWidth(label.width())  # every line of it, none cut
    assert popup.height() >= popup.layout().totalHeightForWidth(popup.width())


def test_the_popup_growing_at_the_screen_bottom_stays_on_screen(qtbot, open_popup, known: Database) -> None:
    """Opened above a bottom taskbar, it grows when the span row shows: its Save button and
    error lines must not go past the screen's edge."""
    popup = open_popup()
    popup.present()
    area = popup.screen().availableGeometry()
    popup.move(popup.x(), area.bottom() + 1 - popup.frameGeometry().height())
    before = popup.height()
    choose(popup, CoverKind.SPAN)
    set_span(popup, datetime(2026, 1, 5, 12, tzinfo=UTC), datetime(2026, 1, 5, 10, tzinfo=UTC))  # an error line too
    qtbot.waitUntil(lambda: popup.height() > before)
    qtbot.wait(20)
    assert popup.frameGeometry().bottom() <= area.bottom()
    assert popup.frameGeometry().top() >= area.top()
