"""Settings › Plans: flat-fee subscriptions (list, set, delete through services.plans), with this
month's API-equivalent usage and leverage as `tokenworth plan list` shows them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal
from functools import partial
from typing import Any

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtWidgets import (
    QCompleter,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tokenworth.core.db import Database
from tokenworth.core.money import format_usd
from tokenworth.core.timeutil import parse_month
from tokenworth.services.plans import (
    PlanInputError,
    PlanNotFoundError,
    PlanView,
    delete_plan,
    list_plans,
    recorded_sources,
    set_plan,
)
from tokenworth.services.tasks import TaskInputError, parse_amount
from tokenworth.services.value_report import PlanUse, value_report
from tokenworth.ui.controller import AppController
from tokenworth.ui.popup import error_label
from tokenworth.ui.tables import row_picker_table
from tokenworth.ui.theme import INVALID_STYLE, error_text_style
from tokenworth.ui.workers import Lane, if_alive

COLUMNS = ("Plan", "Monthly fee", "Covers", "From", "Until", "API-equivalent this month", "Leverage")


@dataclass(frozen=True)
class PlansData:
    plans: list[PlanView]
    uses: dict[int, PlanUse]
    """This month's use of each plan active in it, by plan id."""
    sources: list[str]


def load_plans(db: Database, month: tuple[int, int], zone: tzinfo) -> PlansData:
    """Plans, this month's leverage (the value report on the plan basis), sources with usage."""
    report = value_report(db, month=month, zone=zone, by="task", basis="plan")
    return PlansData(
        plans=list_plans(db),
        uses={use.plan.id: use for use in report.plans},
        sources=sorted(recorded_sources(db)),
    )


def _fee(text: str) -> Decimal:
    try:
        fee = parse_amount(text, "the monthly fee")
    except TaskInputError as exc:
        raise PlanInputError(str(exc)) from None
    if fee is None:
        raise PlanInputError("give the monthly fee in dollars, e.g. 200")
    return fee


def _month(text: str) -> str | None:
    if not text.strip():
        return None
    try:
        year, month = parse_month(text.strip())
    except ValueError as exc:
        raise PlanInputError(str(exc)) from None
    return f"{year:04d}-{month:02d}"


def _covers(text: str) -> list[str]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise PlanInputError("say which sources it pays for, e.g. claude-code or claude-code, codex")
    return parts


class PlansSection(QWidget):
    """The Plans tab: a table of plans, a form to add or change one, delete."""

    def __init__(self, controller: AppController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.plans: list[PlanView] = []
        layout = QVBoxLayout(self)
        note = QLabel(
            "A flat-fee plan (e.g. Claude Max) is what you really pay for the usage of the sources it "
            "covers. `tokenworth report value --basis plan` charges its fee; the API-equivalent cost and the "
            "plan's leverage (API-equivalent ÷ fee) stay visible."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        self.table = row_picker_table(COLUMNS, "Plans")
        self.table.itemSelectionChanged.connect(self.on_table_selection_changed)
        layout.addWidget(self.table, 1)

        box = QGroupBox("Add or change a plan")
        form = QFormLayout(box)
        self.fields: dict[str, tuple[QLineEdit, QLabel, Any]] = {}
        self.name_edit = self._field(form, "name", "Name", "e.g. Claude Max", lambda t: t.strip() or _no_name())
        self.fee_edit = self._field(form, "fee", "Monthly fee (USD)", "e.g. 200", _fee)
        self.covers_edit = self._field(form, "covers", "Covers", "claude-code, codex", _covers)
        self.sources = QStringListModel(self)
        completer = QCompleter(self.sources, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.covers_edit.setCompleter(completer)
        self.first_edit = self._field(form, "first", "From month", "YYYY-MM (empty: always)", _month)
        self.last_edit = self._field(form, "last", "Until month", "YYYY-MM (empty: ongoing)", _month)
        layout.addWidget(box)
        row = QHBoxLayout()
        self.set_button = QPushButton("Set plan")
        self.set_button.clicked.connect(self.on_set_clicked)
        self.delete_button = QPushButton("Delete selected")
        self.delete_button.clicked.connect(self.on_delete_clicked)
        row.addWidget(self.set_button)
        row.addWidget(self.delete_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.update_buttons()
        self.reload()

    def _field(self, form: QFormLayout, name: str, label: str, placeholder: str, parse: Any) -> QLineEdit:
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        error = error_label()
        form.addRow(label, edit)
        form.addRow("", error)
        self.fields[name] = (edit, error, parse)
        edit.textEdited.connect(lambda _t, n=name: self.check_field(n))
        return edit

    # validation ---------------------------------------------------------------------------------

    def check_field(self, name: str) -> bool:
        edit, error, parse = self.fields[name]
        try:
            parse(edit.text())
        except PlanInputError as exc:
            message: str | None = str(exc)
        else:
            message = None
        edit.setStyleSheet(f"QLineEdit {{ {INVALID_STYLE} }}" if message else "")
        edit.setToolTip(message or "")
        error.setText(message or "")
        error.setVisible(bool(message))
        self.update_buttons()
        return message is None

    def update_buttons(self) -> None:
        self.delete_button.setEnabled(self.selected() is not None)

    def selected(self) -> PlanView | None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        return self.plans[rows.pop()] if len(rows) == 1 and self.plans else None

    def show_status(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(error_text_style() if error else "")

    # reading ------------------------------------------------------------------------------------

    def reload(self) -> None:
        today = self.controller.today()
        job = partial(load_plans, self.controller.db, (today.year, today.month), self.controller.zone)
        self.controller.runner.submit(job, if_alive(self, self._on_loaded), lane=Lane.DB)

    def _on_loaded(self, data: PlansData | None, error: BaseException | None) -> None:
        if error is not None or data is None:
            self.show_status(f"Could not read the plans: {error}", error=True)
            return
        self.plans = data.plans
        self.sources.setStringList(data.sources)
        self.table.setRowCount(len(self.plans))
        for r, plan in enumerate(self.plans):
            use = data.uses.get(plan.id)
            leverage = "—" if use is None or use.leverage is None else f"{use.leverage:.2f}×"
            cells = (
                plan.name,
                format_usd(plan.monthly_fee),
                ", ".join(plan.covers),
                plan.first_month or "always",
                plan.last_month or "ongoing",
                "not active" if use is None else format_usd(use.api_equivalent),
                leverage,
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c in (1, 5, 6):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.update_buttons()

    def on_table_selection_changed(self) -> None:
        plan = self.selected()
        if plan is not None:
            self.name_edit.setText(plan.name)
            self.fee_edit.setText(f"{plan.monthly_fee:.2f}")
            self.covers_edit.setText(", ".join(plan.covers))
            self.first_edit.setText(plan.first_month or "")
            self.last_edit.setText(plan.last_month or "")
        self.update_buttons()

    # changing -----------------------------------------------------------------------------------

    def on_set_clicked(self) -> None:
        if not all([self.check_field(name) for name in self.fields]):
            self.show_status("Fix the marked fields first.", error=True)
            return
        job = partial(
            set_plan,
            self.controller.db,
            self.name_edit.text(),
            monthly_fee=self.fee_edit.text(),
            covers=_covers(self.covers_edit.text()),
            first_month=self.first_edit.text() or None,
            last_month=self.last_edit.text() or None,
        )
        self.controller.runner.submit(job, if_alive(self, self._on_set), lane=Lane.DB)

    def _on_set(self, plan: PlanView | None, error: BaseException | None) -> None:
        if error is not None or plan is None:
            message = str(error) if isinstance(error, PlanInputError) else f"Could not save the plan: {error}"
            self.show_status(message, error=True)
            return
        covers = ", ".join(plan.covers)
        self.show_status(f"Plan '{plan.name}': {format_usd(plan.monthly_fee)} a month for {covers}.")
        self.after_change()

    def on_delete_clicked(self) -> None:
        plan = self.selected()
        if plan is None:
            return
        self.controller.runner.submit(
            partial(delete_plan, self.controller.db, plan.name), if_alive(self, self._on_deleted), lane=Lane.DB
        )

    def _on_deleted(self, plan: PlanView | None, error: BaseException | None) -> None:
        if error is not None or plan is None:
            message = str(error.args[0]) if isinstance(error, PlanNotFoundError) else f"Could not delete: {error}"
            self.show_status(message, error=True)
            return
        self.show_status(f"Deleted plan '{plan.name}'; its usage is at API prices again.")
        self.after_change()

    def after_change(self) -> None:
        self.reload()
        self.controller.refresh()


def _no_name() -> str:
    raise PlanInputError("give the plan a name, e.g. Claude Max")


def plans_section(parent: QWidget | None) -> QWidget:
    """Hook `plans_section`: the Plans tab, for the Settings dialog `parent` (it carries the controller)."""
    controller = getattr(parent, "controller", None)
    if not isinstance(controller, AppController):
        raise TypeError("the Plans section needs the Settings dialog (with its controller) as parent")
    return PlansSection(controller, parent)
