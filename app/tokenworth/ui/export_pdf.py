"""The monthly summary as a PDF, laid out by Qt's rich text engine (no browser needed).

The HTML export's markup goes into a QTextDocument paginated to the page's body; Qt moves a
one-line table row that does not fit to the next page and repeats the table's header row there,
but spreads a row of several lines (a long task title) over two pages: such a row starts a new
page instead, its table split before it under the header again. Qt does not keep a heading with
what follows it (nor, after a table, always a line off the page edge), so after layout a heading
left alone at the foot of a page, or any line cut by a page edge, starts the next page instead.
Each page gets a footer with the report's name and "Page N of M".
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFont,
    QFontDatabase,
    QFontMetrics,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPalette,
    QPdfWriter,
    QPen,
    QTextBlock,
    QTextCursor,
    QTextDocument,
    QTextFormat,
    QTextFrame,
    QTextTable,
)

from tokenworth.services.export import PageSize
from tokenworth.services.export_html import render_html
from tokenworth.services.summary_document import Chart, Facts, Paragraph, SummaryDocument, Table
from tokenworth.ui.export_charts import FONT_FAMILY, MUTED_COLOR, ensure_gui

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

    images = {_resource(c): QImage.fromData(c.chart.png) for c in document.charts if c.chart.png is not None}
    breaks: dict[int, set[int]] = {}
    for _attempt in range(MAX_PAGE_BREAKS):
        text = _laid_out(document, images, writer, body, breaks)
        cut = _row_cut_by_page_edge(text, document, breaks, body.height())
        if cut is None or cut[1] in breaks.get(cut[0], ()):
            break  # all rows whole (or a break did not take: no use laying out again)
        breaks.setdefault(cut[0], set()).add(cut[1])
    pages = text.pageCount()

    painter = QPainter()
    if not painter.begin(writer):  # the file cannot be opened (a read-only folder): say so once
        raise OSError(f"cannot write {path}: the PDF file could not be opened for writing")
    painter.setRenderHint(QPainter.RenderHint.LosslessImageRendering)  # charts stay sharp (no JPEG)
    try:
        for index in range(pages):
            if index:
                writer.newPage()
            painter.save()
            painter.translate(body.left(), body.top() - index * body.height())
            _draw_page(text, painter, QRectF(0, index * body.height(), body.width(), body.height()))
            painter.restore()
            _footer(painter, body, document.title, index + 1, pages)
    finally:
        ended = painter.end()
    if not ended or not _is_whole_pdf(path):
        raise OSError(f"cannot write {path}: the PDF was cut short (is the disk full?)")
    return pages


def _is_whole_pdf(path: Path) -> bool:
    """Whether the file ends as a PDF does (`%%EOF`): Qt says nothing when a write fails midway,
    as on a full disk, and a cut-short file must not replace a good one."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 1024))
            return b"%%EOF" in handle.read()
    except OSError:
        return False


LEAD_IN_PX = 30.0
"""Less than a line of 9-point text at 300 dpi (37 px): a block whose box begins this close to
a page's foot has no line on that page (its first line was moved to the next)."""


def _draw_page(text: QTextDocument, painter: QPainter, page: QRectF) -> None:
    """Draw one page of the document, clipped to it. As `QTextDocument.drawContents`, except that
    a block whose box only begins in the page's last few pixels (a heading moved to the next
    page keeps its top margin here) is not drawn: clipped, it was invisible, yet its text stayed
    in the PDF, so a search found the heading twice."""
    painter.save()
    painter.setClipRect(page)
    context = QAbstractTextDocumentLayout.PaintContext()
    context.clip = page.adjusted(0, 0, 0, -LEAD_IN_PX)
    context.palette.setColor(QPalette.ColorRole.Text, Qt.GlobalColor.black)
    text.documentLayout().draw(painter, context)
    painter.restore()


def _laid_out(
    document: SummaryDocument,
    images: dict[str, QImage],
    writer: QPdfWriter,
    body: QRectF,
    breaks: dict[int, set[int]],
) -> QTextDocument:
    """The document paginated to the page's body, with the table rows in `breaks` starting pages
    (`images`: the charts, decoded once for every layout)."""
    text = QTextDocument()
    text.documentLayout().setPaintDevice(writer)
    font = QFont(FONT_FAMILY)
    font.setPointSizeF(9)
    text.setDefaultFont(font)
    text.setDocumentMargin(0)
    for name, image in images.items():
        text.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
    image_width = int(body.width() * _SCREEN_DPI / RESOLUTION_DPI)
    text.setHtml(render_html(document, _resource, for_qt=True, image_width=image_width, table_breaks=breaks))
    text.setPageSize(QSizeF(body.width(), body.height()))
    keep_lines_on_pages(text, body.height())
    return text


def _row_cut_by_page_edge(
    text: QTextDocument, document: SummaryDocument, breaks: dict[int, set[int]], page_height: float
) -> tuple[int, int] | None:
    """The first table row of several lines that a page edge cuts, as (block index, row index):
    Qt moves a one-line row to the next page whole but spreads a taller one over two."""
    placed: list[tuple[int, int] | None] = []  # each <table> as written: (block, its first row), None for facts
    for index, block in enumerate(document.blocks):
        if isinstance(block, Facts):
            placed.append(None)
        elif isinstance(block, Table) and block.rows:
            placed += [(index, start) for start in [0, *sorted(row for row in breaks.get(index, ()) if row > 0)]]
    tables = [frame for frame in _top_level_frames(text) if isinstance(frame, QTextTable)]
    if len(tables) != len(placed):
        return None  # not the markup expected: leave the rows as Qt placed them
    layout = text.documentLayout()
    for number, (table, where) in enumerate(zip(tables, placed, strict=True)):
        if where is None:
            continue
        block_index, first_row = where
        for row in range(1, table.rows()):  # row 0 is the header
            top, bottom = _row_span(table, row, layout)
            top, bottom = top + EDGE_SLACK, bottom - EDGE_SLACK
            cut = _page(top, page_height) != _page(bottom, page_height)
            at_a_page_top = row == 1 and first_row > 0  # a break put it there: nothing to gain
            keepable = bottom - top < page_height / 2  # a taller row could never be kept whole
            if cut and keepable and not at_a_page_top:
                return block_index, first_row + row - 1
        last_part = number + 1 == len(placed) or (placed[number + 1] or (-1, 0))[0] != block_index
        if last_part and table.rows() > 2 and _note_left_alone(text, table, document, block_index, page_height):
            return block_index, first_row + table.rows() - 2  # its last row goes along with the note
    return None


def _note_left_alone(
    text: QTextDocument, table: QTextTable, document: SummaryDocument, block_index: int, page_height: float
) -> bool:
    """Whether the note under a table (what its figures mean) starts a page the table is not on."""
    following = document.blocks[block_index + 1] if block_index + 1 < len(document.blocks) else None
    if not (isinstance(following, Paragraph) and following.note):
        return False
    block = text.findBlock(table.lastPosition() + 1)
    while block.isValid() and not block.text().strip():  # Qt puts an empty block after a table
        block = block.next()
    span = _line_span(block) if block.isValid() else None
    if span is None:
        return False
    _top, last_row_bottom = _row_span(table, table.rows() - 1, text.documentLayout())
    return _page(span[0] + EDGE_SLACK, page_height) > _page(last_row_bottom - EDGE_SLACK, page_height)


def _top_level_frames(text: QTextDocument) -> list[QTextFrame]:
    frames = []
    position = text.rootFrame().begin()
    while not position.atEnd():
        if position.currentFrame() is not None:
            frames.append(position.currentFrame())
        position += 1
    return frames


def _row_span(table: QTextTable, row: int, layout: QAbstractTextDocumentLayout) -> tuple[float, float]:
    """Top of the first line and bottom of the last line of any cell in the row."""
    top, bottom = float("inf"), float("-inf")
    for column in range(table.columns()):
        cell = table.cellAt(row, column)
        block, last = cell.firstCursorPosition().block(), cell.lastCursorPosition().block()
        while block.isValid():
            lines = block.layout()
            origin = layout.blockBoundingRect(block).top()
            for number in range(lines.lineCount() if lines is not None else 0):
                line = lines.lineAt(number)
                top, bottom = min(top, origin + line.y()), max(bottom, origin + line.y() + line.height())
            if block == last:
                break
            block = block.next()
    return top, bottom


MAX_PAGE_BREAKS = 500


EDGE_SLACK = 8.0
"""Device pixels of rounding Qt's layout leaves at page edges; a line this close belongs to the
page it reaches into."""


def _page(y: float, page_height: float) -> int:
    return int(y // page_height)


def _line_span(block: QTextBlock) -> tuple[float, float] | None:
    """Top of the first line and bottom of the last line of a laid-out block (margins left out)."""
    lines = block.layout()
    if lines is None or lines.lineCount() == 0:
        return None
    origin = lines.position().y()
    first, last = lines.lineAt(0), lines.lineAt(lines.lineCount() - 1)
    return origin + first.y(), origin + last.y() + last.height()


def _layout_problem(text: QTextDocument, page_height: float) -> QTextBlock | None:
    """The first top-level block that should start a new page: one cut by a page edge, or a
    heading whose following content begins on a later page."""
    layout = text.documentLayout()
    items: list[tuple[QTextBlock | None, float, float]] = []  # (block or None for a table, top, bottom)
    frames = text.rootFrame().begin()
    while not frames.atEnd():
        frame, block = frames.currentFrame(), frames.currentBlock()
        if isinstance(frame, QTextTable) and frame.rows():
            first = layout.blockBoundingRect(frame.cellAt(0, 0).firstCursorPosition().block())
            items.append((None, first.top(), first.bottom()))
        elif frame is None and block.isValid() and block.text().strip():
            span = _line_span(block)
            if span is not None:
                items.append((block, *span))
        frames += 1
    moved = QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore
    for index, (block, top, bottom) in enumerate(items):
        if block is None or block.blockFormat().pageBreakPolicy() & moved:
            continue  # tables paginate themselves; a block already moved stays at its page's top
        top, bottom = top + EDGE_SLACK, bottom - EDGE_SLACK
        if bottom - top < page_height and _page(top, page_height) != _page(bottom, page_height):
            before = items[index - 1][0] if index else None
            if before is not None and before.blockFormat().headingLevel():
                return before  # its heading goes along to the next page
            return block
        if block.blockFormat().headingLevel() and index + 1 < len(items):
            following_top = items[index + 1][1] + EDGE_SLACK
            if _page(following_top, page_height) > _page(top, page_height):
                return block
    return None


def keep_lines_on_pages(text: QTextDocument, page_height: float) -> int:
    """Move headings left alone at a page's foot, and lines cut by a page edge, to the next
    page (one at a time, as each move shifts what follows). Returns how many were moved."""
    for moved in range(MAX_PAGE_BREAKS):
        block = _layout_problem(text, page_height)
        if block is None:
            return moved
        form = block.blockFormat()
        form.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
        QTextCursor(block).setBlockFormat(form)
    return MAX_PAGE_BREAKS


def unprintable(texts: Iterable[str]) -> str:
    """The characters of `texts` that neither the export's font nor any other installed one can
    draw (Qt would fall back to one that can): a Japanese title on a machine without a CJK font."""
    ensure_gui()
    primary = QFontMetrics(QFont(FONT_FAMILY))
    wanted = list(  # in the order they appear, so the note reads like the title
        dict.fromkeys(ch for text in texts for ch in text if not ch.isascii() and ch.isprintable() and not ch.isspace())
    )
    missing = [ch for ch in wanted if not primary.inFontUcs4(ord(ch))]
    if not missing:
        return ""
    for family in QFontDatabase.families():
        metrics = QFontMetrics(QFont(family))
        missing = [ch for ch in missing if not metrics.inFontUcs4(ord(ch))]
        if not missing:
            break
    return "".join(missing)


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
