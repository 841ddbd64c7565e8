"""Dashboard › Price a prompt: paste text, see what it costs on each model, cheapest first — the
rows of `tokenworth price`. Counting runs in a worker (building an encoding takes about a second
the first time), debounced while the user types; only the newest answer is shown."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tokenworth.core.db import Database
from tokenworth.core.money import format_usd
from tokenworth.core.tokens import ESTIMATE_ENCODING
from tokenworth.services.prompt_pricing import OutputAssumption, PromptCost, parse_output_tokens, price_prompt
from tokenworth.ui.controller import AppController
from tokenworth.ui.theme import INVALID_STYLE, error_text_style
from tokenworth.ui.workers import Lane

log = logging.getLogger(__name__)

COLUMNS = ("Model", "Provider", "Input", "Output", "Cost", "Tokenizer")
COST_PLACES = 6
"""As `tokenworth price` prints it."""
PRICE_DELAY_MS = 400


@dataclass(frozen=True)
class PricedPrompt:
    rows: list[PromptCost]
    output: OutputAssumption


def price_text(db: Database, text: str, output: OutputAssumption) -> PricedPrompt:
    """The prompt's cost on the default models with the user's price overrides (worker)."""
    from tokenworth.services.prices import load_price_book

    return PricedPrompt(price_prompt(text, output=output, book=load_price_book(db)), output)


def row_cells(row: PromptCost) -> list[str]:
    """One table row, formatted as the CLI formats it."""
    return [
        row.model,
        row.provider or "?",
        f"{row.input_tokens:,}",
        f"{row.output_tokens:,}",
        format_usd(row.cost, COST_PLACES),
        f"{row.encoding} (estimate)" if row.estimate else row.encoding,
    ]


def notes_for(priced: PricedPrompt) -> str:
    """What the figures assume, as under the CLI's table."""
    lines = [f"Assumed: {priced.output.describe()}; input priced as uncached."]
    if any(row.estimate for row in priced.rows):
        lines.append(f"(estimate): the model's own tokenizer is not public; counted with OpenAI's {ESTIMATE_ENCODING}.")
    unpriced = [row.model for row in priced.rows if row.cost is None]
    if unpriced:
        lines.append(f"Unpriced (no price known, not $0): {', '.join(unpriced)}.")
    lines.extend(
        f"Too long for {row.model}: {row.input_tokens:,} tokens exceed its {row.context_window:,}-token context."
        for row in priced.rows
        if row.exceeds_context
    )
    return "\n".join(lines)


class PricePanel(QWidget):
    """Text in, a cheapest-first table of models out."""

    priced = Signal()
    """A new table was drawn (tests wait on it)."""

    def __init__(self, controller: AppController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.rows: list[PromptCost] = []
        self._generation = 0
        self._busy = False
        self._again = False
        self.text = QPlainTextEdit()
        self.text.setAccessibleName("Prompt to price")
        self.text.setTabChangesFocus(True)  # Tab moves on; a prompt's own tabs come with a paste
        self.text.setPlaceholderText("Paste a prompt here to see what it would cost on each model…")
        self.text.textChanged.connect(self.on_input_changed)
        self.output_edit = QLineEdit()
        self.output_edit.setPlaceholderText("0.25 × the prompt")
        self.output_edit.setToolTip("How long the answer is assumed to be, in tokens (empty: a quarter of the prompt)")
        self.output_edit.setMaximumWidth(160)
        self.output_edit.textChanged.connect(self.on_input_changed)
        self.output_error = QLabel("")
        self.output_error.setStyleSheet(error_text_style())
        self.status = QLabel("")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("The prompt's cost on each model")
        self.table.setTabKeyNavigation(False)
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.text, 1)
        row = QHBoxLayout()
        answer_label = QLabel("Answer tokens")
        answer_label.setBuddy(self.output_edit)
        row.addWidget(answer_label)
        row.addWidget(self.output_edit)
        row.addWidget(self.output_error, 1)
        left_layout.addLayout(row)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.status)
        right_layout.addWidget(self.table, 1)
        right_layout.addWidget(self.notes)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PRICE_DELAY_MS)
        self._timer.timeout.connect(self.run_pricing)
        self.status.setText("Paste a prompt: its tokens are counted offline, then priced per model.")

    def output_assumption(self) -> OutputAssumption | None:
        """The answer length typed (None while it is not a number), marked in its field."""
        text = self.output_edit.text()
        problem = None
        output = OutputAssumption()
        if text.strip():
            try:
                output = OutputAssumption(tokens=parse_output_tokens(text))
            except ValueError:
                problem = "a whole number of tokens, e.g. 800"
        self.output_edit.setStyleSheet(f"QLineEdit {{ {INVALID_STYLE} }}" if problem else "")
        self.output_edit.setToolTip(problem or "How long the answer is assumed to be, in tokens")
        self.output_error.setText(problem or "")
        return None if problem else output

    def on_input_changed(self) -> None:
        self._timer.start()

    def run_pricing(self) -> None:
        if self._busy:
            self._again = True
            return
        output = self.output_assumption()
        text = self.text.toPlainText()
        if output is None:
            return
        if not text.strip():
            self._show(None)
            self.status.setText("Paste a prompt: its tokens are counted offline, then priced per model.")
            return
        self._busy = True
        self._generation += 1
        self.status.setText("Counting tokens…")
        job = partial(price_text, self.controller.db, text, output)
        self.controller.runner.submit(job, partial(self._on_priced, self._generation), lane=Lane.NET)

    def _on_priced(self, generation: int, priced: PricedPrompt | None, error: BaseException | None) -> None:
        self._busy = False
        if self._again:
            self._again = False
            self.run_pricing()
            return
        if generation != self._generation:
            return
        if error is not None or priced is None:
            log.warning("pricing a prompt failed: %s", error)
            self.status.setText(f"Could not price the prompt: {error}")
            self._show(None)
        else:
            self._show(priced)
            tokens = priced.rows[0].input_tokens if priced.rows else 0
            self.status.setText(f"{len(priced.rows)} models, cheapest first · about {tokens:,} prompt tokens")
        self.priced.emit()

    def _show(self, priced: PricedPrompt | None) -> None:
        self.rows = [] if priced is None else priced.rows
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            for c, text in enumerate(row_cells(row)):
                item = QTableWidgetItem(text)
                if c in (2, 3, 4):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.notes.setText("" if priced is None else notes_for(priced))

    def table_cells(self) -> list[list[str]]:
        return [
            [self.table.item(r, c).text() for c in range(self.table.columnCount())]
            for r in range(self.table.rowCount())
        ]
