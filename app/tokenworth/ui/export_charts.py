"""The export's charts drawn without a screen: QPainter on a QImage, saved as PNG bytes.

The same three charts as the dashboard, in its colours (Tableau 10, "other" in grey): spend per
day stacked by model, cost per model, and value against cost per task on log scales with the
break-even line TFP = 1. Money is Decimal up to here and becomes float only as pixels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QLoggingCategory, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QGuiApplication, QImage, QPainter, QPen
from PySide6.QtWidgets import QApplication

from tokenworth.core.money import format_usd, money_label
from tokenworth.services.summary_charts import (
    OTHER,
    ChartSpec,
    DailySpendChart,
    ModelCostChart,
    ValueCostChart,
)
from tokenworth.ui.theme import OTHER_COLOR, SERIES_COLORS  # the dashboard's colours, so an export reads like it

TEXT_COLOR = "#1f2328"
MUTED_COLOR = "#57606a"
GRID_COLOR = "#e3e6ea"
AXIS_COLOR = "#8c959f"
FONT_FAMILY = "DejaVu Sans"

WIDTH_PX = 820
"""Logical width of every chart; drawn at `SCALE` times for sharp print."""
SCALE = 2
TITLE_PX = 18
LABEL_PX = 13
TICK_PX = 12
"""Text sizes in logical pixels; on an A4 page a chart's pixel is about half a point."""

_app: QApplication | None = None


def ensure_gui() -> None:
    """Qt needs an application object to draw text; make an offscreen one unless one runs (a
    QApplication, so widgets can still be made later in the same process, as in the tray)."""
    global _app
    if QGuiApplication.instance() is None:
        # Font-database notes ("OpenType support missing for ... script 11") are Qt's own
        # housekeeping: on a command's stderr they read as a failed export.
        QLoggingCategory.setFilterRules("qt.text.font.db.info=false")
        _app = QApplication(["tokenworth-export", "-platform", "offscreen"])


def nice_step(maximum: float, ticks: int = 5) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` intervals."""
    if maximum <= 0:
        return 1.0
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def elide(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _font(pixels: float, bold: bool = False) -> QFont:
    font = QFont(FONT_FAMILY)
    font.setPixelSize(max(1, round(pixels)))
    font.setBold(bold)
    return font


SeriesColors = Callable[[str], str]
"""A model's or category's colour by name: the dashboard's (`ColorAssigner.color`), so an export
reads like it."""


def model_colors(names: Sequence[str], series: SeriesColors | None = None) -> dict[str, QColor]:
    """Each name's colour from `series`, or by rank without it (the charts rank models by cost
    alike); "other" rows stay grey."""
    colors: dict[str, QColor] = {}
    index = 0
    for name in names:
        if name.startswith(OTHER) or name.endswith("more models"):
            colors[name] = QColor(OTHER_COLOR)
        elif series is not None:
            colors[name] = QColor(series(name))
        else:
            colors[name] = QColor(SERIES_COLORS[index % len(SERIES_COLORS)])
            index += 1
    return colors


@dataclass
class Canvas:
    """An image being painted: logical size, the painter, and helpers shared by the charts."""

    image: QImage
    painter: QPainter
    width: float
    height: float

    @classmethod
    def open(cls, width: float, height: float) -> Canvas:
        ensure_gui()
        image = QImage(round(width * SCALE), round(height * SCALE), QImage.Format.Format_ARGB32)
        image.setDevicePixelRatio(SCALE)
        image.fill(QColor("#ffffff"))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        return cls(image, painter, width, height)

    def png(self) -> bytes:
        self.painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        self.image.save(buffer, "PNG")
        buffer.close()
        return bytes(data.data())

    def text(
        self,
        rect: QRectF,
        text: str,
        *,
        size: float = LABEL_PX,
        color: str = TEXT_COLOR,
        bold: bool = False,
        align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
    ) -> None:
        self.painter.setFont(_font(size, bold))
        self.painter.setPen(QColor(color))
        self.painter.drawText(rect, int(align), text)

    def text_width(self, text: str, size: float = LABEL_PX, bold: bool = False) -> float:
        return QFontMetricsF(_font(size, bold)).horizontalAdvance(text)

    def title(self, text: str) -> float:
        """Draw the chart title; returns the y where the plot area may start."""
        self.text(QRectF(16, 10, self.width - 32, 30), text, size=TITLE_PX, bold=True)
        return 48.0

    def legend(self, entries: Sequence[tuple[str, QColor, str]], top: float, *, dry_run: bool = False) -> float:
        """Coloured marks and names in wrapped rows from `top`; returns the height used."""
        x, y, row_height = 16.0, top, 22.0
        for name, color, mark in entries:
            label = elide(name, 72)
            width = 18 + self.text_width(label, LABEL_PX) + 18
            if x + width > self.width - 16 and x > 16:
                x, y = 16.0, y + row_height
            if not dry_run:
                self.painter.setPen(Qt.PenStyle.NoPen)
                self.painter.setBrush(QBrush(color))
                if mark == "line":
                    pen = QPen(color, 2, Qt.PenStyle.DashLine)
                    self.painter.setPen(pen)
                    self.painter.drawLine(QPointF(x, y + 10), QPointF(x + 12, y + 10))
                elif mark == "dot":
                    self.painter.drawEllipse(QPointF(x + 6, y + 10), 5, 5)
                else:
                    self.painter.drawRect(QRectF(x, y + 4, 12, 12))
                self.text(QRectF(x + 18, y, width, row_height), label, size=LABEL_PX)
            x += width
        return y + row_height - top if entries else 0.0


def _money_axis(canvas: Canvas, plot: QRectF, maximum: float) -> float:
    """Horizontal grid lines and dollar labels on the left; returns the axis maximum."""
    step = nice_step(maximum)
    top = step * math.ceil(maximum / step) if maximum > 0 else step
    painter = canvas.painter
    value = 0.0
    while value <= top + step / 1000:
        y = plot.bottom() - value / top * plot.height()
        painter.setPen(QPen(QColor(GRID_COLOR if value else AXIS_COLOR), 1))
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        canvas.text(
            QRectF(0, y - 9, plot.left() - 8, 18),
            money_label(value),
            size=TICK_PX,
            color=MUTED_COLOR,
            align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
        )
        value += step
    return top


def _axis_label_width(canvas: Canvas, maximum: float) -> float:
    step = nice_step(maximum)
    top = step * math.ceil(maximum / step) if maximum > 0 else step
    labels = [money_label(step * i) for i in range(round(top / step) + 1)]
    return max(canvas.text_width(label, TICK_PX) for label in labels) + 16


def draw_daily_spend(spec: DailySpendChart, series: SeriesColors | None = None) -> bytes:
    names = [name for name, _amounts in spec.series]
    colors = model_colors(names, series)
    entries = [(name, colors[name], "box") for name in names]
    days = list(spec.days)
    totals = [sum((float(amounts[i]) for _n, amounts in spec.series), 0.0) for i in range(len(days))]
    maximum = max(totals, default=0.0)

    probe = Canvas.open(WIDTH_PX, 10)
    legend_height = probe.legend(entries, 0, dry_run=True)
    left = _axis_label_width(probe, maximum)
    probe.painter.end()

    height = 48 + 300 + 34 + legend_height + 14
    canvas = Canvas.open(WIDTH_PX, height)
    top = canvas.title(spec.title)
    plot = QRectF(left, top + 6, WIDTH_PX - left - 20, 300 - 6)
    axis_top = _money_axis(canvas, plot, maximum)
    slot = plot.width() / max(len(days), 1)
    bar = slot * 0.72
    painter = canvas.painter
    for index in range(len(days)):
        y = plot.bottom()
        x = plot.left() + index * slot + (slot - bar) / 2
        for name, amounts in spec.series:
            amount = float(amounts[index])
            if amount <= 0:
                continue
            h = amount / axis_top * plot.height()
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(colors[name]))
            painter.drawRect(QRectF(x, y - h, bar, h))
            y -= h
    label_width = canvas.text_width("Jan 30", TICK_PX) + 10
    step = next((s for s in (1, 2, 3, 5, 7, 14) if s * slot >= label_width), 14)
    for index, day in enumerate(days):
        if index % step:
            continue
        cx = plot.left() + index * slot + slot / 2
        painter.setPen(QPen(QColor(AXIS_COLOR), 1))
        painter.drawLine(QPointF(cx, plot.bottom()), QPointF(cx, plot.bottom() + 4))
        canvas.text(
            QRectF(cx - 40, plot.bottom() + 5, 80, 18),
            f"{day:%b} {day.day}",
            size=TICK_PX,
            color=MUTED_COLOR,
            align=Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
        )
    canvas.legend(entries, plot.bottom() + 30)
    return canvas.png()


def draw_model_costs(spec: ModelCostChart, series: SeriesColors | None = None) -> bytes:
    bars = list(spec.bars)
    colors = model_colors([name for name, _cost in bars], series)
    row = 30.0
    probe = Canvas.open(WIDTH_PX, 10)
    name_width = min(max((probe.text_width(elide(n, 36), LABEL_PX) for n, _c in bars), default=60) + 24, WIDTH_PX * 0.4)
    value_width = max((probe.text_width(format_usd(c), LABEL_PX) for _n, c in bars), default=40) + 16
    probe.painter.end()

    height = 48 + row * len(bars) + 40
    canvas = Canvas.open(WIDTH_PX, height)
    top = canvas.title(spec.title)
    plot = QRectF(name_width, top + 4, WIDTH_PX - name_width - value_width - 20, row * len(bars))
    maximum = max((float(c) for _n, c in bars), default=0.0) or 1.0
    painter = canvas.painter
    step = nice_step(maximum, 4)
    value = step
    while value <= maximum * 1.0001:
        x = plot.left() + value / maximum * plot.width()
        painter.setPen(QPen(QColor(GRID_COLOR), 1))
        painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
        canvas.text(
            QRectF(x - 40, plot.bottom() + 4, 80, 18),
            money_label(value),
            size=TICK_PX,
            color=MUTED_COLOR,
            align=Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
        )
        value += step
    for index, (name, cost) in enumerate(bars):
        y = plot.top() + index * row
        width = float(cost) / maximum * plot.width()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(colors[name]))
        painter.drawRect(QRectF(plot.left(), y + 5, max(width, 1.5), row - 10))
        canvas.text(
            QRectF(8, y, name_width - 16, row),
            elide(name, 36),
            size=LABEL_PX,
            align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
        )
        canvas.text(QRectF(plot.left() + width + 6, y, value_width + 10, row), format_usd(cost), size=LABEL_PX)
    painter.setPen(QPen(QColor(AXIS_COLOR), 1))
    painter.drawLine(QPointF(plot.left(), plot.top()), QPointF(plot.left(), plot.bottom()))
    return canvas.png()


def _log_ticks(low: float, high: float) -> list[float]:
    """Tick values for a log axis from `low` to `high`: decades, plus 2 and 5 when few decades."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    multipliers = (1, 2, 5) if last - first <= 3 else (1,)
    ticks = [m * 10**e for e in range(first, last + 1) for m in multipliers]
    return [t for t in ticks if low <= t <= high]


def draw_value_cost(spec: ValueCostChart, series: SeriesColors | None = None) -> bytes:
    points = list(spec.points)
    categories = sorted({p.category for p in points})
    palette = {
        name: QColor(series(name) if series is not None else SERIES_COLORS[i % len(SERIES_COLORS)])
        for i, name in enumerate(categories)
    }
    entries = [(name, palette[name], "dot") for name in categories] + [
        ("TFP = 1 (above the line, the work was worth more than its tokens)", QColor(AXIS_COLOR), "line")
    ]
    costs = [float(p.cost) for p in points]
    values = [float(p.value) for p in points]
    low = min([*costs, *values]) / 2
    high = max([*costs, *values]) * 2
    low, high = 10 ** math.floor(math.log10(low)), 10 ** math.ceil(math.log10(high))

    probe = Canvas.open(WIDTH_PX, 10)
    legend_height = probe.legend(entries, 0, dry_run=True)
    left = max(probe.text_width(money_label(t), TICK_PX) for t in _log_ticks(low, high)) + 40
    probe.painter.end()

    plot_height = 420.0
    height = 48 + plot_height + 50 + legend_height + 14
    canvas = Canvas.open(WIDTH_PX, height)
    top = canvas.title(spec.title)
    plot = QRectF(left, top + 6, WIDTH_PX - left - 24, plot_height - 6)
    span = math.log10(high) - math.log10(low)

    def to_x(amount: float) -> float:
        return plot.left() + (math.log10(amount) - math.log10(low)) / span * plot.width()

    def to_y(amount: float) -> float:
        return plot.bottom() - (math.log10(amount) - math.log10(low)) / span * plot.height()

    painter = canvas.painter
    x_label_end = -math.inf  # right edge of the last cost label drawn: a label that would touch it is left out
    for tick in _log_ticks(low, high):
        x, y = to_x(tick), to_y(tick)
        painter.setPen(QPen(QColor(GRID_COLOR), 1))
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
        label = money_label(tick)
        canvas.text(
            QRectF(0, y - 9, plot.left() - 8, 18),
            label,
            size=TICK_PX,
            color=MUTED_COLOR,
            align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
        )
        half = canvas.text_width(label, TICK_PX) / 2
        if x - half < x_label_end + 8:
            continue
        x_label_end = x + half
        canvas.text(
            QRectF(x - half - 4, plot.bottom() + 5, 2 * half + 8, 18),
            label,
            size=TICK_PX,
            color=MUTED_COLOR,
            align=Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
        )
    painter.setPen(QPen(QColor(AXIS_COLOR), 1))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(plot)
    painter.setPen(QPen(QColor(AXIS_COLOR), 1.6, Qt.PenStyle.DashLine))
    painter.drawLine(QPointF(to_x(low), to_y(low)), QPointF(to_x(high), to_y(high)))
    canvas.text(
        QRectF(plot.left(), plot.bottom() + 24, plot.width(), 18),
        "Token cost of the task (USD, log scale)",
        size=LABEL_PX,
        color=MUTED_COLOR,
        align=Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
    )
    painter.save()
    painter.translate(14, plot.center().y())
    painter.rotate(-90)
    canvas.text(
        QRectF(-plot.height() / 2, -9, plot.height(), 18),
        "Value (USD, log scale)",
        size=LABEL_PX,
        color=MUTED_COLOR,
        align=Qt.AlignmentFlag.AlignCenter,
    )
    painter.restore()

    ranked = sorted(points, key=lambda p: -p.value)
    centres = [QPointF(to_x(float(p.cost)), to_y(float(p.value))) for p in ranked]
    for point, centre in zip(ranked, centres, strict=True):
        painter.setPen(QPen(QColor("#ffffff"), 1.5))
        painter.setBrush(QBrush(palette[point.category]))
        painter.drawEllipse(centre, 6, 6)
    if len(points) <= 20:
        labels = [elide(point.title, 26) for point in ranked]
        widths = [canvas.text_width(label, TICK_PX) + 4 for label in labels]
        for label, rect in zip(labels, label_places(centres, widths, plot), strict=True):
            if rect is not None:
                painter.fillRect(rect.adjusted(-2, 1, 0, -1), QColor(255, 255, 255, 210))  # over grid lines
                canvas.text(rect, label, size=TICK_PX, color=TEXT_COLOR)
    canvas.legend(entries, plot.bottom() + 50)
    return canvas.png()


def label_places(centres: Sequence[QPointF], widths: Sequence[float], plot: QRectF) -> list[QRectF | None]:
    """Where each dot's label goes: right of it, else left, inside the plot and clear of every
    dot (not only those drawn before it) and of the labels placed so far; None leaves it out."""
    taken = [QRectF(centre.x() - 7, centre.y() - 7, 14, 14) for centre in centres]
    places: list[QRectF | None] = []
    for centre, width in zip(centres, widths, strict=True):
        found = None
        for rect in (
            QRectF(centre.x() + 9, centre.y() - 9, width, 18),
            QRectF(centre.x() - 9 - width, centre.y() - 9, width, 18),
        ):
            inside = plot.contains(rect)  # across no edge of the plot, the top one included
            if inside and not any(rect.intersects(other) for other in taken):
                found = rect
                taken.append(rect)
                break
        places.append(found)
    return places


def render_chart_png(spec: ChartSpec, series: SeriesColors | None = None) -> bytes:
    """The `ChartRenderer` the export service takes: one chart as PNG bytes, its models and
    categories in `series`' colours (the dashboard's) when given."""
    if isinstance(spec, DailySpendChart):
        return draw_daily_spend(spec, series)
    if isinstance(spec, ModelCostChart):
        return draw_model_costs(spec, series)
    if isinstance(spec, ValueCostChart):
        return draw_value_cost(spec, series)
    raise TypeError(f"no renderer for {type(spec).__name__}")
