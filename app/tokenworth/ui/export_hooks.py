"""What the export service needs from Qt (chart PNGs and the PDF), in one object for the caller."""

from __future__ import annotations

from tokenworth.services.export import ExportHooks
from tokenworth.ui.export_charts import render_chart_png
from tokenworth.ui.export_pdf import write_pdf


def qt_export_hooks() -> ExportHooks:
    """Charts drawn with QPainter and the PDF laid out by QTextDocument; both work offscreen."""
    return ExportHooks(render_chart=render_chart_png, write_pdf=write_pdf)
