"""The popup that logs what a task was worth: keyboard-first, a live preview of the cost it will be
given and the TFP that makes, bad input marked in its field. Enter saves, Esc closes.

Every database call (what to offer, the preview, the save) runs in the DB worker; the preview is
debounced while the user types and only the newest answer is shown.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from PySide6.QtCore import QDate, QDateTime, QRect, QSize, QStringListModel, Qt, QTime, QTimer, QTimeZone, Signal
from PySide6.QtGui import QCursor, QGuiApplication, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tokenworth.core.budget import Pace
from tokenworth.core.db import DatabaseError, database_problem, from_database
from tokenworth.core.money import format_usd
from tokenworth.services.task_preview import TaskPreview
from tokenworth.services.tasks import TaskInputError, TaskNotFoundError, TaskView
from tokenworth.ui.controller import AppController
from tokenworth.ui.task_entry import (
    SPAN_COVER,
    Cover,
    CoverKind,
    Entry,
    PopupData,
    check_category,
    check_span,
    check_title,
    check_value,
    covers_for,
    default_cover,
    load_popup_data,
    preview_entry,
    save_entry,
    tfp_text,
)
from tokenworth.ui.theme import INVALID_STYLE, PACE_COLORS, error_text_style, readable_on
from tokenworth.ui.workers import Lane

log = logging.getLogger(__name__)

PREVIEW_DELAY_MS = 250
"""Typing pauses this long before the preview is asked for."""
MUTED_TEXT = "#8a8f98"
SPAN_DEFAULT = timedelta(hours=1)


def user_message(error: BaseException) -> str:
    """What to tell the user about a failed preview or save (input errors say what to fix; the
    database's own failures, such as a ledger locked by another program, in one plain line)."""
    if isinstance(error, TaskInputError | TaskNotFoundError | ValueError | DatabaseError):
        return str(error.args[0]) if error.args else str(error)
    if from_database(error):
        return f"The ledger could not be written ({database_problem(error)}); try again in a moment."
    return f"Something went wrong ({type(error).__name__}: {error}); details are in the log."


def place_near_cursor(window: QWidget) -> None:
    """Show a small window next to the pointer (where the tray icon was clicked), on screen."""
    point = QCursor.pos()
    screen = QGuiApplication.screenAt(point) or QGuiApplication.primaryScreen()
    if screen is None:
        return
    size = window.sizeHint().expandedTo(window.minimumSize())
    window.move(*_on_screen(point.x() - size.width() // 2, point.y() + 12, size, screen.availableGeometry()))


def keep_on_screen(window: QWidget) -> None:
    """Move a window that has grown past its screen's edge (a row or an error line shown below
    the others) back inside it, so its buttons stay reachable."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return
    frame = window.frameGeometry()
    x, y = _on_screen(frame.x(), frame.y(), frame.size(), screen.availableGeometry())
    if (x, y) != (frame.x(), frame.y()):
        window.move(x, y)


def _on_screen(x: int, y: int, size: QSize, area: QRect) -> tuple[int, int]:
    """Where a window of `size` wanted at (x, y) goes to be inside `area`; one taller or wider
    than the screen keeps its top left corner on it (the title field, where typing starts; Enter
    saves)."""
    x = max(min(x, area.right() + 1 - size.width()), area.left())
    y = max(min(y, area.bottom() + 1 - size.height()), area.top())
    return x, y


def to_qt_wall_clock(moment: datetime) -> QDateTime:
    """Wall-clock time in the user's zone, carried as a UTC QDateTime so Qt converts nothing."""
    return QDateTime(QDate(moment.year, moment.month, moment.day), QTime(moment.hour, moment.minute), QTimeZone.utc())


def error_label() -> QLabel:
    label = QLabel("")
    label.setWordWrap(True)
    label.setStyleSheet(error_text_style())
    label.setVisible(False)
    return label


def category_field(parent: QWidget) -> tuple[QLineEdit, QStringListModel]:
    """A category input that completes from the user's past categories (set on the model)."""
    edit = QLineEdit()
    edit.setPlaceholderText("coding, docs, research…")
    history = QStringListModel(parent)
    completer = QCompleter(history, parent)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    edit.setCompleter(completer)
    return edit, history


class TaskValuePopup(QDialog):
    """Title, category, value, and the usage it covers; the cost and TFP it makes; Save."""

    saved = Signal(object)
    """The saved `TaskView` (the dialog closes right after)."""
    preview_shown = Signal()
    """A preview answer was drawn (tests wait on it)."""
    data_loaded = Signal()

    def __init__(self, controller: AppController, *, stopping: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle("Stop the task and log its value" if stopping else "Log a task's value")
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        self.setMinimumWidth(520)
        self.covers: list[Cover] = []
        self.loaded = False
        self.saving = False
        self.preview: TaskPreview | None = None
        self.preview_error: str | None = None
        self.save_error: str | None = None
        """Why the last save failed; kept until the user changes something (a preview arriving
        afterwards must not hide it), and Save stays on to try again."""
        self._auto_title = ""
        self._auto_category = ""
        self.closed = False
        """Set when the dialog closes: answers from the worker arriving later are dropped (the
        widget is deleted on close)."""
        self._touched: set[str] = set()
        self._preview_generation = 0
        self._preview_busy = False
        self._preview_again = False
        self._build()
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.run_preview)
        self.refresh_validity()
        controller.runner.submit(partial(load_popup_data, controller.db), self._on_data, lane=Lane.DB)

    # layout -------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText("What did you work on? e.g. Fix the login bug")
        self.title_model = QStringListModel(self)
        completer = QCompleter(self.title_model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.activated.connect(self.on_title_completer_activated)
        self.title_edit.setCompleter(completer)
        self.title_error = error_label()

        self.category_edit, self.category_model = category_field(self)
        self.category_error = error_label()

        self.value_edit = QLineEdit()
        self.value_edit.setPlaceholderText("dollars, e.g. 150")
        self.value_error = error_label()

        self.cover_combo = QComboBox()
        self.cover_combo.addItem("Looking for your recent sessions…")
        self.cover_combo.setEnabled(False)
        self.cover_combo.currentIndexChanged.connect(self.on_cover_combo_changed)
        self.start_edit = QDateTimeEdit()
        self.end_edit = QDateTimeEdit()
        for edit in (self.start_edit, self.end_edit):
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
            edit.setCalendarPopup(True)
        now = self._now().astimezone(self.controller.zone)
        self.start_edit.setDateTime(to_qt_wall_clock(now - SPAN_DEFAULT))
        self.end_edit.setDateTime(to_qt_wall_clock(now))
        self.start_edit.dateTimeChanged.connect(self.on_input_changed)
        self.end_edit.dateTimeChanged.connect(self.on_input_changed)
        self.span_row = QWidget()
        span_layout = QHBoxLayout(self.span_row)
        span_layout.setContentsMargins(0, 0, 0, 0)
        span_layout.addWidget(self.start_edit)
        span_layout.addWidget(QLabel("to"))
        span_layout.addWidget(self.end_edit)
        span_layout.addStretch(1)
        self.span_error = error_label()

        form = QFormLayout()
        form.addRow("&Task", self.title_edit)
        form.addRow("", self.title_error)
        form.addRow("&Category", self.category_edit)
        form.addRow("", self.category_error)
        form.addRow("&Worth (USD)", self.value_edit)
        form.addRow("", self.value_error)
        form.addRow("C&overs", self.cover_combo)
        self.span_label = QLabel("From")
        self.span_label.setBuddy(self.start_edit)
        self.start_edit.setAccessibleName("From")
        self.end_edit.setAccessibleName("To")
        form.addRow(self.span_label, self.span_row)
        form.addRow("", self.span_error)

        self.preview_box = QFrame()
        self.preview_box.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(self.preview_box)
        grid.setContentsMargins(10, 6, 10, 6)
        self.cost_caption = QLabel("Cost it will be given")
        self.tfp_caption = QLabel("TFP (value ÷ cost)")
        self.cost_label = QLabel("—")
        self.tfp_label = QLabel("—")
        for label in (self.cost_label, self.tfp_label):
            font = label.font()
            font.setPointSizeF(font.pointSizeF() * 1.5)
            font.setBold(True)
            label.setFont(font)
        self.usage_label = QLabel("")
        self.usage_label.setWordWrap(True)
        grid.addWidget(self.cost_caption, 0, 0)
        grid.addWidget(self.tfp_caption, 0, 1)
        grid.addWidget(self.cost_label, 1, 0)
        grid.addWidget(self.tfp_label, 1, 1)
        grid.addWidget(self.usage_label, 2, 0, 1, 2)
        self.form_error = error_label()

        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.later_button = QPushButton("Stop, value later")
        self.later_button.setAutoDefault(False)
        self.later_button.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAutoDefault(False)
        self.save_button.clicked.connect(self.on_save_clicked)
        self.later_button.clicked.connect(self.on_later_clicked)
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        hint = QLabel("Enter saves · Esc closes")
        hint.setStyleSheet(f"color: {readable_on(MUTED_TEXT)};")  # muted, yet readable (greyed out was 1.6:1)
        buttons.addWidget(hint)
        buttons.addStretch(1)
        buttons.addWidget(self.later_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview_box)
        layout.addWidget(self.form_error)
        layout.addLayout(buttons)
        self.setTabOrder(self.title_edit, self.category_edit)
        self.setTabOrder(self.category_edit, self.value_edit)
        self.setTabOrder(self.value_edit, self.cover_combo)
        self.setTabOrder(self.cover_combo, self.start_edit)
        self.setTabOrder(self.start_edit, self.end_edit)
        self.title_edit.textEdited.connect(partial(self.on_field_edited, "title"))
        self.category_edit.textEdited.connect(partial(self.on_field_edited, "category"))
        self.value_edit.textEdited.connect(partial(self.on_field_edited, "value"))
        self._show_span(False)

    def _show_span(self, visible: bool) -> None:
        self.span_label.setVisible(visible)
        self.span_row.setVisible(visible)
        if not visible:
            self.span_error.setVisible(False)

    def _now(self) -> datetime:
        return self.controller.scheduler.clock()

    # opening ------------------------------------------------------------------------------------

    def present(self) -> None:
        """Show next to the pointer, in front, with the title field focused."""
        self.adjustSize()
        place_near_cursor(self)
        self.show()
        self.raise_()
        self.activateWindow()
        self.title_edit.setFocus(Qt.FocusReason.ActiveWindowFocusReason)
        self.title_edit.selectAll()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.isVisible():
            keep_on_screen(self)

    def done(self, result: int) -> None:
        self.closed = True
        self._preview_timer.stop()
        super().done(result)

    def _on_data(self, data: PopupData | None, error: BaseException | None) -> None:
        if self.closed:
            return
        if error is not None or data is None:
            log.error("cannot read tasks for the popup", exc_info=error)
            self.covers = [SPAN_COVER]
            self.form_error.setText(f"Could not read your recent sessions: {error}")
            self.form_error.setVisible(True)
        else:
            self.covers = covers_for(data, self.controller.zone, self._now())
            self.category_model.setStringList(list(data.categories))
            titles = list(dict.fromkeys(c.title for c in self.covers if c.title and c.kind is not CoverKind.RUNNING))
            self.title_model.setStringList(titles)
        self.cover_combo.blockSignals(True)
        self.cover_combo.clear()
        for cover in self.covers:
            self.cover_combo.addItem(cover.label)
        self.cover_combo.setEnabled(True)
        self.cover_combo.blockSignals(False)
        self.loaded = True
        self.select_cover(default_cover(self.covers) if data is not None else 0)
        self.data_loaded.emit()

    # input --------------------------------------------------------------------------------------

    @property
    def cover(self) -> Cover | None:
        index = self.cover_combo.currentIndex()
        return self.covers[index] if self.loaded and 0 <= index < len(self.covers) else None

    def select_cover(self, index: int) -> None:
        if self.cover_combo.currentIndex() == index:
            self.on_cover_combo_changed(index)
        else:
            self.cover_combo.setCurrentIndex(index)

    def on_cover_combo_changed(self, _index: int) -> None:
        cover = self.cover
        if cover is None:
            return
        title = self.title_edit.text()
        if cover.title and (not title.strip() or title == self._auto_title):
            self.title_edit.setText(cover.title)
            self.title_edit.selectAll()  # a suggestion: typing replaces it
            self._auto_title = cover.title
        category = self.category_edit.text()
        if cover.category and (not category.strip() or category == self._auto_category):
            self.category_edit.setText(cover.category)
            self._auto_category = cover.category
        self._show_span(cover.kind is CoverKind.SPAN)
        running = cover.kind is CoverKind.RUNNING
        self.later_button.setVisible(running)
        self.save_button.setText("Stop and save" if running else "Save")
        self.on_input_changed()

    def on_title_completer_activated(self, text: str) -> None:
        """Choosing a proposed title chooses the usage it stands for."""
        for index, cover in enumerate(self.covers):
            if cover.title == text and cover.kind is not CoverKind.RUNNING:
                self.title_edit.setText(text)
                self._auto_title = text
                self.select_cover(index)
                return

    def on_field_edited(self, name: str, _text: str) -> None:
        self._touched.add(name)
        self.on_input_changed()

    def on_input_changed(self, *_args: Any) -> None:
        self.preview_error = None
        self.save_error = None
        self.refresh_validity()
        self._preview_timer.start()

    def span(self) -> tuple[datetime, datetime]:
        zone = self.controller.zone

        def read(edit: QDateTimeEdit) -> datetime:
            value = edit.dateTime()
            day, time = value.date(), value.time()
            return datetime(day.year(), day.month(), day.day(), time.hour(), time.minute(), tzinfo=zone)

        return read(self.start_edit), read(self.end_edit)

    def field_errors(self, *, value_required: bool = True) -> dict[str, str]:
        """Each field's problem (an empty dict when the entry can be saved)."""
        errors: dict[str, str] = {}
        for name, check in (
            ("title", lambda: check_title(self.title_edit.text())),
            ("category", lambda: check_category(self.category_edit.text())),
            ("value", lambda: check_value(self.value_edit.text(), required=value_required)),
        ):
            try:
                check()
            except TaskInputError as exc:
                errors[name] = str(exc)
        cover = self.cover
        if cover is not None and cover.kind is CoverKind.SPAN:
            try:
                check_span(*self.span())
            except TaskInputError as exc:
                errors["span"] = str(exc)
        return errors

    def entry(self, *, value_required: bool = True, lenient: bool = False) -> Entry | None:
        """The checked entry; None while a field is wrong. `lenient` (for previews) stands in for a
        missing title and treats a wrong value as none."""
        cover = self.cover
        if cover is None:
            return None
        errors = self.field_errors(value_required=value_required)
        if lenient:
            errors.pop("title", None)
            errors.pop("value", None)
        if errors:
            return None
        try:
            title = check_title(self.title_edit.text())
        except TaskInputError:
            title = "(untitled)"
        try:
            value = check_value(self.value_edit.text(), required=False)
        except TaskInputError:
            value = None
        start, end = self.span() if cover.kind is CoverKind.SPAN else (None, None)
        return Entry(cover, title, check_category(self.category_edit.text()), value, start, end)

    def refresh_validity(self) -> dict[str, str]:
        """Mark each wrong field (an empty one only once the user has been there); enable Save."""
        errors = self.field_errors()
        fields: dict[str, tuple[QWidget, QLabel]] = {
            "title": (self.title_edit, self.title_error),
            "category": (self.category_edit, self.category_error),
            "value": (self.value_edit, self.value_error),
            "span": (self.end_edit, self.span_error),
        }
        for name, (widget, label) in fields.items():
            message = errors.get(name)
            empty = isinstance(widget, QLineEdit) and not widget.text().strip()
            shown = message if message and (not empty or name in self._touched) else None
            shown = shown[:1].upper() + shown[1:] if shown else None
            kind = "QLineEdit" if isinstance(widget, QLineEdit) else "QDateTimeEdit"
            widget.setStyleSheet(f"{kind} {{ {INVALID_STYLE} }}" if shown else "")
            widget.setToolTip(shown or "")
            label.setText(shown or "")
            label.setVisible(bool(shown))
        shown_error = self.save_error or self.preview_error
        self.form_error.setText(shown_error or "")
        self.form_error.setVisible(bool(shown_error))
        self.save_button.setEnabled(self.loaded and not self.saving and not errors and not self.preview_error)
        self.later_button.setEnabled(self.loaded and not self.saving and not self.field_errors(value_required=False))
        self._grow_to_fit()
        return errors

    def _grow_to_fit(self) -> None:
        """Taller when a message wraps onto a second line: the window keeps its width, and no
        message is cut under the row below it."""
        layout = self.layout()
        if not self.isVisible() or layout is None:
            return
        layout.activate()
        width = self.width()
        needed = (
            layout.totalMinimumHeightForWidth(width)
            if layout.hasHeightForWidth()
            else layout.totalMinimumSize().height()
        )
        if needed > self.height():
            self.resize(width, needed)

    @property
    def can_save(self) -> bool:
        return self.save_button.isEnabled()

    # preview ------------------------------------------------------------------------------------

    def run_preview(self) -> None:
        """Ask for the preview of what is typed now (one at a time; the newest wins)."""
        if self._preview_busy:
            self._preview_again = True
            return
        entry = self.entry(lenient=True)
        if entry is None:
            self._show_preview(None)
            return
        self._preview_busy = True
        self._preview_generation += 1
        generation = self._preview_generation
        job = partial(preview_entry, self.controller.db, entry, self._now())
        self.controller.runner.submit(job, partial(self._on_preview, generation), lane=Lane.DB)

    def _on_preview(self, generation: int, preview: TaskPreview | None, error: BaseException | None) -> None:
        self._preview_busy = False
        if self.closed:
            return
        if self._preview_again:
            self._preview_again = False
            self.run_preview()
            return
        if generation != self._preview_generation:
            return
        if error is not None:
            if not isinstance(error, TaskInputError | TaskNotFoundError):
                log.error("preview failed", exc_info=error)
            self.preview_error = user_message(error)
            self._show_preview(None)
        else:
            self.preview_error = None
            self._show_preview(preview)
        self.refresh_validity()
        self.preview_shown.emit()

    def _show_preview(self, preview: TaskPreview | None) -> None:
        self.preview = preview
        if preview is None:
            self.cost_label.setText("—")
            self.tfp_label.setText("—")
            self.tfp_label.setStyleSheet("")
            self.usage_label.setText("")
            return
        usage = preview.usage
        cost = format_usd(preview.cost) + ("" if usage.cost_complete or preview.cost is None else "+")
        self.cost_label.setText(cost)
        self.tfp_label.setText(tfp_text(preview.tfp))
        self.tfp_label.setStyleSheet(
            f"color: {readable_on(PACE_COLORS[_pace_of(preview)])};" if preview.value is not None else ""
        )
        records = round(usage.records)
        parts = [f"{round(usage.tokens):,} tokens in {records:,} request{'' if records == 1 else 's'}"]
        if not usage.has_usage:
            parts = ["No usage recorded in that span yet."]
        if usage.unpriced_models:
            parts.append(f"unpriced: {', '.join(sorted(usage.unpriced_models))} (cost is a lower bound)")
        if preview.flagged:
            parts.append("the cost exceeds the value")
        taken = [f"#{task_id}" for task_id in sorted(preview.taken_from)]
        if taken:
            parts.append(f"takes usage from task {', '.join(taken)}")
        self.usage_label.setText("; ".join(parts) + ("." if parts and not parts[-1].endswith(".") else ""))

    # saving -------------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter while something is wrong: show every problem (Save is disabled)."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not self.save_button.isEnabled():
            self._touched.update(("title", "value", "category"))
            self.refresh_validity()
            event.accept()
            return
        super().keyPressEvent(event)

    def on_save_clicked(self) -> None:
        self._save(value_required=True)

    def on_later_clicked(self) -> None:
        self._save(value_required=False)

    def _save(self, *, value_required: bool) -> None:
        if self.saving:
            return
        self._touched.update(("title", "value", "category"))
        errors = self.refresh_validity() if value_required else self.field_errors(value_required=False)
        entry = self.entry(value_required=value_required)
        if errors or entry is None or (value_required and self.preview_error):
            return
        self.saving = True
        self.refresh_validity()
        job = partial(save_entry, self.controller.db, entry, self._now())
        self.controller.runner.submit(job, self._on_saved, lane=Lane.DB)

    def _on_saved(self, task: TaskView | None, error: BaseException | None) -> None:
        self.saving = False
        if self.closed:  # closed while saving: what was saved still shows everywhere
            if task is not None:
                self.controller.refresh()
            return
        if error is not None or task is None:
            if not isinstance(error, TaskInputError | TaskNotFoundError):
                log.error("saving the task failed", exc_info=error)
            self.save_error = f"{user_message(error)} Nothing was saved." if error else "Nothing was saved."
            self.refresh_validity()
            return
        log.info("task #%d saved from the popup", task.id)
        self.saved.emit(task)
        self.accept()


def _pace_of(preview: TaskPreview) -> Pace:
    """Green when the work was worth more than its tokens, red when less."""
    ratio = preview.tfp.ratio
    if ratio is None:
        return Pace.NO_BUDGET
    return Pace.OVER if ratio < 1 else Pace.ON_TRACK
