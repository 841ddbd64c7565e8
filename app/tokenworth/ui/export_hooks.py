"""What the export service needs from Qt (chart PNGs and the PDF), in one object for the caller."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from tokenworth.services.export import ExportHooks
from tokenworth.ui.export_charts import render_chart_png
from tokenworth.ui.export_pdf import unprintable, write_pdf
from tokenworth.ui.theme import ColorAssigner


def qt_export_hooks(series_colors: Mapping[str, str] | None = None) -> ExportHooks:
    """Charts drawn with QPainter and the PDF laid out by QTextDocument; both work offscreen.
    `series_colors` are the colours the dashboard gave models and categories (the app state's):
    the export's charts use them, and pick a new name's colour the way the dashboard would."""
    colors = ColorAssigner(series_colors)
    return ExportHooks(
        render_chart=partial(render_chart_png, series=colors.color), write_pdf=write_pdf, unprintable=unprintable
    )
