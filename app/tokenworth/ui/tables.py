"""Read-only tables whose rows the user picks one at a time (keys, plans): one look everywhere."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget


def row_picker_table(columns: Sequence[str], name: str) -> QTableWidget:
    """A table of `columns`, not editable in place, where a click selects one whole row; `name`
    is what a screen reader calls it. Tab leaves it (the arrow keys move within)."""
    table = QTableWidget(0, len(columns))
    table.setAccessibleName(name)
    table.setTabKeyNavigation(False)
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table
