"""The tray icon's picture, drawn at run time (cheap to import: shown before the rest loads)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QPixmap

from tokenworth.core.budget import Pace
from tokenworth.ui.theme import PACE_COLORS

ICON_SIZE_PX = 64


def figure_text(amount: Decimal) -> str:
    """A dollar figure short enough for a tray icon: $7, $42, $999, $1.2k, $18k, $1.4M."""
    if amount < 1000:
        return f"${amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)}"
    if amount < 10_000:
        return f"${(amount / 1000).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}k"
    if amount < 1_000_000:
        return f"${(amount / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)}k"
    return f"${(amount / 1_000_000).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}M"


def draw_tray_icon(pace: Pace, figure: str | None = None, size: int = ICON_SIZE_PX) -> QPixmap:
    """The icon, drawn at run time: a coin in the pace colour, or a badge with a compact figure."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    color = QColor(PACE_COLORS[pace])
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    border = max(1.0, size * 0.05)
    painter.setPen(QPen(color.darker(145), border))
    painter.setBrush(color)
    font = QFont()
    font.setBold(True)
    if figure is None:
        inset = border / 2 + size * 0.04
        painter.drawEllipse(QRectF(inset, inset, size - 2 * inset, size - 2 * inset))
        text = "$"
        font.setPixelSize(int(size * 0.62))
    else:
        inset = border / 2
        painter.drawRoundedRect(QRectF(inset, inset, size - 2 * inset, size - 2 * inset), size * 0.18, size * 0.18)
        text = figure
        pixel = int(size * 0.56)
        font.setPixelSize(pixel)
        while pixel > 8 and QFontMetricsF(font).horizontalAdvance(text) > size * 0.9:
            pixel -= 1
            font.setPixelSize(pixel)
    painter.setFont(font)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return pixmap
