"""The monthly summary as a PDF, laid out by Qt's rich text engine (no browser needed).

The HTML export's markup goes into a QTextDocument paginated to the page's body; Qt keeps table
rows whole, moves a row that does not fit to the next page and repeats the table's header row
there. Each page gets a footer with the report's name and "Page N of M".
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QTextDocument,
)

from tokenworth.services.export import PageSize
from tokenworth.services.export_html import render_html
from tokenworth.services.summary_document import Chart, SummaryDocument
from tokenworth.ui.export_charts import FONT_FAMILY, MUTED_COLOR, ensure_gui
from tokenworth.ui.qt_guard import guard_singleton_refcounts

guard_singleton_refcounts()

RESOLUTION_DPI = 300
MARGIN_MM = 16.0
FOOTER_MM = 9.0
"""Space under the body for the footer line and page number."""
_PAGE_IDS = {"a4": QPageSize.PageSizeId.A4, "letter": QPageSize.PageSizeId.Letter}
_SCREEN_DPI = 96
"""QTextDocument sizes images in 96-dpi pixels and scales them to the device."""


def _mm(value: float) -> float:
    return value / 25.4 * RESOLUTION_DPI


def write_pdf(document: SummaryDocument, path: Path, page_size: PageSize) -> int:
    """Write the document to `path` as a PDF on A4 or Letter; returns the number of pages."""
    ensure_gui()
    writer = QPdfWriter(str(path))
    writer.setResolution(RESOLUTION_DPI)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(_PAGE_IDS[page_size]),
            QPageLayout.Orientation.Portrait,
            QMarginsF(0, 0, 0, 0),
            QPageLayout.Unit.Millimeter,
        )
    )
    writer.setTitle(document.title)
    writer.setCreator("Tokenworth")

    page = QRectF(0, 0, writer.width(), writer.height())
    margin = _mm(MARGIN_MM)
    body = QRectF(margin, margin, page.width() - 2 * margin, page.height() - 2 * margin - _mm(FOOTER_MM))

    text = QTextDocument()
    text.documentLayout().setPaintDevice(writer)
    font = QFont(FONT_FAMILY)
    font.setPointSizeF(9)
    text.setDefaultFont(font)
    text.setDocumentMargin(0)
    for chart in document.charts:
        png = chart.chart.png
        if png is not None:
            text.addResource(QTextDocument.ResourceType.ImageResource, QUrl(_resource(chart)), QImage.fromData(png))
    image_width = int(body.width() * _SCREEN_DPI / RESOLUTION_DPI)
    text.setHtml(render_html(document, _resource, for_qt=True, image_width=image_width))
    text.setPageSize(QSizeF(body.width(), body.height()))
    pages = text.pageCount()

    painter = QPainter(writer)
    try:
        for index in range(pages):
            if index:
                writer.newPage()
            painter.save()
            painter.translate(body.left(), body.top() - index * body.height())
            text.drawContents(painter, QRectF(0, index * body.height(), body.width(), body.height()))
            painter.restore()
            _footer(painter, body, document.title, index + 1, pages)
    finally:
        painter.end()
    return pages


def _resource(chart: Chart) -> str:
    return f"chart-{chart.name}.png"


def _footer(painter: QPainter, body: QRectF, title: str, number: int, pages: int) -> None:
    y = body.bottom() + _mm(3)
    painter.setPen(QPen(QColor("#d0d7de"), _mm(0.2)))
    painter.drawLine(QPointF(body.left(), y), QPointF(body.right(), y))
    font = QFont(FONT_FAMILY)
    font.setPointSizeF(7.5)
    painter.setFont(font)
    painter.setPen(QColor(MUTED_COLOR))
    line = QRectF(body.left(), y + _mm(1), body.width(), _mm(5))
    painter.drawText(line, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), title)
    painter.drawText(
        line, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), f"Page {number} of {pages}"
    )
