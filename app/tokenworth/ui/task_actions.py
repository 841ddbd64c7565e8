"""The task hooks of the tray app: start a task, stop it (asking its value), log a task's value,
and the running task for the tray menu. One popup at a time, owned by a helper object that lives
as a child of the controller."""

from __future__ import annotations

import logging
from functools import partial

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tokenworth.core.db import Database
from tokenworth.services.tasks import TaskInputError, TaskView, running_task
from tokenworth.ui.controller import AppController
from tokenworth.ui.hooks import ActiveTask
from tokenworth.ui.popup import (
    INVALID_STYLE,
    TaskValuePopup,
    category_field,
    error_label,
    place_near_cursor,
    user_message,
)
from tokenworth.ui.task_entry import PopupData, check_category, check_title, load_popup_data, start_new_task
from tokenworth.ui.workers import Lane

log = logging.getLogger(__name__)


def active_task(db: Database) -> ActiveTask | None:
    """Hook `active_task` (DB worker): the running task with the cost attributed to it so far."""
    task = running_task(db)
    return None if task is None else ActiveTask(task.title, task.started_at, task.cost)


class StartTaskDialog(QDialog):
    """Name the task you start now (and its category); Enter starts it, Esc closes."""

    def __init__(self, controller: AppController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle("Start a task")
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        self.setMinimumWidth(420)
        self.started: TaskView | None = None
        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText("What are you starting? e.g. Fix the login bug")
        self.title_error = error_label()
        self.category_edit, self.categories = category_field(self)
        self.form_error = error_label()
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        cancel = QPushButton("Cancel")
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)
        self.start_button.clicked.connect(self.on_start_clicked)
        form = QFormLayout()
        form.addRow("&Task", self.title_edit)
        form.addRow("", self.title_error)
        form.addRow("&Category", self.category_edit)
        note = QLabel(
            "Usage from now on is the task's until you stop it, except sessions and branches "
            "already given to another task (those stay with it)."
        )
        note.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.start_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.form_error)
        layout.addWidget(note)
        layout.addLayout(buttons)
        self.title_edit.textEdited.connect(self.on_title_edited)
        self.busy = False
        self.closed = False
        self.start_button.setEnabled(False)
        controller.runner.submit(partial(load_popup_data, controller.db), self._on_data, lane=Lane.DB)

    def done(self, result: int) -> None:
        self.closed = True  # deleted on close: later answers from the worker are dropped
        super().done(result)

    def _on_data(self, data: PopupData | None, _error: BaseException | None) -> None:
        if data is not None and not self.closed:
            self.categories.setStringList(list(data.categories))

    def on_title_edited(self, text: str) -> None:
        try:
            check_title(text)
        except TaskInputError as exc:
            self._mark(str(exc))
        else:
            self._mark(None)

    def _mark(self, message: str | None) -> None:
        self.title_edit.setStyleSheet(f"QLineEdit {{ {INVALID_STYLE} }}" if message else "")
        self.title_edit.setToolTip(message or "")
        self.title_error.setText(message or "")
        self.title_error.setVisible(bool(message))
        self.start_button.setEnabled(message is None and not self.busy)

    def on_start_clicked(self) -> None:
        try:
            title = check_title(self.title_edit.text())
            category = check_category(self.category_edit.text())
        except TaskInputError as exc:
            self._mark(str(exc))
            return
        self.busy = True
        self.start_button.setEnabled(False)
        now = self.controller.scheduler.clock()
        job = partial(start_new_task, self.controller.db, title, category, now)
        self.controller.runner.submit(job, self._on_started, lane=Lane.DB)

    def _on_started(self, task: TaskView | None, error: BaseException | None) -> None:
        self.busy = False
        if self.closed:
            if task is not None:
                self.controller.refresh()
            return
        if error is not None or task is None:
            self.form_error.setText(user_message(error) if error else "The task was not started.")
            self.form_error.setVisible(True)
            self.start_button.setEnabled(True)
            return
        self.started = task
        log.info("task #%d started from the tray", task.id)
        self.accept()


class TaskActions(QObject):
    """Opens the popup and the start dialog (one of each at a time) and refreshes after a save."""

    def __init__(self, controller: AppController) -> None:
        super().__init__(controller)
        self.controller = controller
        self.popup: TaskValuePopup | None = None
        self.start_dialog: StartTaskDialog | None = None

    def open_popup(self, *, stopping: bool = False) -> TaskValuePopup:
        if self.popup is not None and self.popup.isVisible():
            self.popup.present()
            return self.popup
        popup = TaskValuePopup(self.controller, stopping=stopping)
        popup.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        popup.saved.connect(self.on_popup_saved)
        popup.finished.connect(self.on_popup_finished)
        self.popup = popup
        popup.present()
        return popup

    def open_start_dialog(self) -> StartTaskDialog:
        if self.start_dialog is not None and self.start_dialog.isVisible():
            self.start_dialog.raise_()
            self.start_dialog.activateWindow()
            return self.start_dialog
        dialog = StartTaskDialog(self.controller)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.accepted.connect(self.controller.refresh)
        dialog.finished.connect(self.on_start_dialog_finished)
        self.start_dialog = dialog
        dialog.adjustSize()
        place_near_cursor(dialog)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        dialog.title_edit.setFocus()
        return dialog

    def on_popup_saved(self, _task: TaskView) -> None:
        """Charts, tables and the tray tooltip's TFP follow the new value."""
        self.controller.refresh()

    def on_popup_finished(self, _result: int) -> None:
        self.popup = None

    def on_start_dialog_finished(self, _result: int) -> None:
        self.start_dialog = None


def task_actions(controller: AppController) -> TaskActions:
    """The controller's TaskActions (made on first use)."""
    found = controller.findChild(TaskActions)
    return found if isinstance(found, TaskActions) else TaskActions(controller)


def log_task_value(controller: AppController) -> None:
    """Hook `log_task_value`: the popup (tray click, tray menu, dashboard)."""
    task_actions(controller).open_popup()


def start_task(controller: AppController) -> None:
    """Hook `start_task`: name the task and start it."""
    task_actions(controller).open_start_dialog()


def stop_task(controller: AppController) -> None:
    """Hook `stop_task`: the popup, prefilled with the running task; saving stops it."""
    task_actions(controller).open_popup(stopping=True)
