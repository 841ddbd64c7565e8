"""Dashboard charts (pyqtgraph) as adapters: each takes one precomputed input and updates the
plot items it already has with `setData`/`setOpts`, so a new point never rebuilds a chart.

Money stays Decimal up to here; it becomes float only as pixels (plotting needs floats).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QStackedLayout, QVBoxLayout, QWidget

from tokenworth.core.analytics import UNCATEGORIZED
from tokenworth.core.budget import Pace
from tokenworth.core.money import format_budget, format_usd, money_label
from tokenworth.services.overview import TaskPoint, WeeklyTfp
from tokenworth.ui.theme import PACE_COLORS, ColorAssigner, chart_colors

MAX_STACKED_MODELS = 7
"""Models drawn on their own in the per-day stack; the rest are summed as "other"."""
MAX_MODEL_BARS = 10
SPENT_COLOR = "#4e79a7"
FORECAST_COLOR = "#8a8f98"


# inputs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CumulativeSeries:
    """Month-to-date (or period) running spend, the budget, and the forecast to period end."""

    days: Sequence[date]
    cumulative: Sequence[Decimal]
    """Running total for the first len(cumulative) days (up to today)."""
    budget: Decimal | None = None
    forecast: Sequence[tuple[date, Decimal]] = ()


@dataclass(frozen=True)
class StackedDaily:
    """Cost per day, split by model; every list is aligned with `days`."""

    days: Sequence[date]
    by_model: Mapping[str, Sequence[Decimal]] = field(default_factory=dict)


# formatting and axes -----------------------------------------------------------------------------


def _floats(values: Sequence[Decimal]) -> np.ndarray:
    return np.array([float(v) for v in values], dtype=float)


MIN_MONEY_TICK_PX = 56.0
"""Least room per labelled tick on a horizontal dollar axis, so `$50$100$150` never runs together."""


def nice_step(least: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least `least` (> 0)."""
    power = 10.0 ** math.floor(math.log10(least))
    for factor in (1.0, 2.0, 5.0, 10.0):
        if factor * power >= least * (1 - 1e-9):
            return factor * power
    return 10.0 * power


def tick_metrics(axis: pg.AxisItem) -> QFontMetrics:
    """The metrics of the axis's tick labels: its own font if set, else the system's."""
    return QFontMetrics(axis.style.get("tickFont") or QFont())


class MoneyAxis(pg.AxisItem):
    """Dollar tick labels, linear or log (in log mode the view holds log10 values)."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        """Across the page, ticks at least `MIN_MONEY_TICK_PX` apart (pyqtgraph spaces them by
        the axis length alone, and dollar labels are wider than its plain numbers)."""
        span = abs(maxVal - minVal)
        if self.logMode or self.orientation not in ("bottom", "top") or span == 0 or size <= 0:
            return super().tickSpacing(minVal, maxVal, size)
        widest = tick_metrics(self).horizontalAdvance("$0.025") + 16.0
        return [(nice_step(span * max(MIN_MONEY_TICK_PX, widest) / size), 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if self.logMode:
            return [money_label(10**v) if abs(v - round(v)) < 1e-6 else "" for v in values]
        return [money_label(v * scale) for v in values]


DAY_LABEL_OVERHANG_PX = 28
"""How far a day's label may reach past the end of its axis (half of "Dec 31", and some)."""


class DayAxis(pg.AxisItem):
    """Day-index ticks labelled with dates ("Jan 5"), spaced to stay readable at any width."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.days: list[date] = []
        self.weekly = False
        # The first and last days' labels overhang the axis by half a label: pyqtgraph's default
        # hides them, which left a month's 1st and 31st unnamed.
        self.setStyle(hideOverlappingLabels=DAY_LABEL_OVERHANG_PX)

    def set_days(self, days: Sequence[date], *, weekly: bool = False) -> None:
        self.days = list(days)
        self.weekly = weekly
        self.picture = None
        self.update()

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        if not self.days:
            return super().tickValues(minVal, maxVal, size)
        span = max(maxVal - minVal, 1.0)
        # Room for the widest label in the font in use: a large system font ran "Jan 10Jan 13" together.
        widest = "Dec 31 '25" if self.spans_years else "Dec 31"
        per_tick_px = max(58.0, tick_metrics(self).horizontalAdvance(widest) + 18.0)
        step = 1
        for candidate in (1, 2, 3, 5, 7, 14, 28, 56, 91, 182, 365):
            step = candidate
            if size / span * candidate >= per_tick_px:
                break
        first = max(0, math.ceil(minVal))
        last = min(len(self.days) - 1, math.floor(maxVal))
        return [(float(step), [float(i) for i in range(first, last + 1) if i % step == 0])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        days = [self.days[round(value)] if 0 <= round(value) < len(self.days) else None for value in values]
        return day_labels(days, with_years=self.spans_years)

    @property
    def spans_years(self) -> bool:
        return bool(self.days) and self.days[0].year != self.days[-1].year


def _day(day: date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def day_labels(days: Sequence[date | None], *, with_years: bool) -> list[str]:
    """ "Jan 5" per tick; on a range over more than one year, the first tick and each tick in a
    new year also say which ('Jan 5 '27'), or a January of two years would read the same."""
    labels = []
    shown_year: int | None = None
    for day in days:
        if day is None:
            labels.append("")
            continue
        label = f"{day:%b} {day.day}"
        if with_years and day.year != shown_year:
            label += f" '{day:%y}"
            shown_year = day.year
        labels.append(label)
    return labels


class LegendStrip(QLabel):
    """A legend under the plot (never over the data): coloured marks and names on one or two lines."""

    MARKS: ClassVar[dict[str, str]] = {"box": "■", "line": "━", "dash": "╍", "dot": "●"}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.entries: list[tuple[str, str, str]] = []
        self.setVisible(False)

    def set_entries(self, entries: Sequence[tuple[str, str, str]]) -> None:
        """(name, colour, mark) with mark one of box, line, dash, dot."""
        entries = list(entries)
        if entries == self.entries:
            return
        self.entries = entries
        parts = [
            f'<span style="color:{color}; font-size:13pt;">{self.MARKS.get(mark, "■")}</span>&nbsp;'
            + html.escape(name).replace("-", "\u2011").replace(" ", "&nbsp;")
            + "&nbsp;&nbsp;"
            for name, color, mark in entries
        ]
        self.setText(" ".join(parts))
        self.setVisible(bool(entries))

    def names(self) -> list[str]:
        return [name for name, _color, _mark in self.entries]


# the panel every chart sits in -------------------------------------------------------------------


BUDGET_SCALE_LIMIT = 20.0
"""A budget more than this many times the spend (and forecast) is named, not drawn to scale."""
NO_SPEND = "No spend in this period yet."
ONLY_UNPRICED = "Only usage without a price in this period: its cost is unknown, not $0 (the table below lists it)."


class ChartPanel(QFrame):
    """A titled plot that follows the palette, with a message shown when there is nothing to draw."""

    def __init__(
        self,
        title: str,
        *,
        bottom: pg.AxisItem | None = None,
        left: pg.AxisItem | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("chartPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(title)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.08)
        self.title.setFont(font)
        axis_items = {}
        if bottom is not None:
            axis_items["bottom"] = bottom
        if left is not None:
            axis_items["left"] = left
        self.plot = pg.PlotWidget(axisItems=axis_items)
        self.plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # nothing to do with the keyboard: no Tab stop
        self.plot.setAccessibleName(title)
        self.plot.setMinimumHeight(230)
        self.plot_item: pg.PlotItem = self.plot.getPlotItem()
        self.plot_item.setMenuEnabled(False)
        self.plot_item.hideButtons()
        self.plot_item.getViewBox().setMouseEnabled(False, False)
        self.plot_item.showGrid(x=False, y=True, alpha=0.18)
        if isinstance(bottom, DayAxis):  # room for the last day's label, centred on the right edge
            half_label = QFontMetrics(bottom.style.get("tickFont") or self.plot.font()).horizontalAdvance("Dec 31") // 2
            self.plot_item.setContentsMargins(0, 0, half_label + 2, 0)
        for name in ("left", "bottom"):
            self.plot_item.getAxis(name).enableAutoSIPrefix(False)
        self.placeholder = QLabel()
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setMaximumWidth(340)
        overlay = QWidget()
        overlay.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        overlay_layout = QVBoxLayout(overlay)
        overlay_layout.addWidget(self.placeholder, 0, Qt.AlignmentFlag.AlignCenter)
        self._overlay = overlay
        stack_host = QWidget()
        stack = QStackedLayout(stack_host)
        stack.setStackingMode(QStackedLayout.StackingMode.StackAll)
        stack.addWidget(overlay)
        stack.addWidget(self.plot)
        overlay.raise_()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(stack_host, 1)
        self.legend = LegendStrip()
        layout.addWidget(self.legend)
        self.apply_palette()

    empty_text = NO_SPEND
    """What a spend chart says when it has nothing to draw (the dashboard sets it per period)."""

    def set_placeholder(self, text: str | None) -> None:
        self.placeholder.setText(text or "")
        self._overlay.setVisible(bool(text))
        if text:
            self.describe(text)

    def describe(self, text: str) -> None:
        """What the chart shows, in words, for a screen reader (a plot is only pixels to it)."""
        self.plot.setAccessibleDescription(text)

    @property
    def placeholder_shown(self) -> bool:
        return not self._overlay.isHidden()

    @property
    def foreground(self) -> QColor:
        return chart_colors(self.palette())[1]

    def apply_palette(self) -> None:
        """Background, axes, text and legend from the current palette (light or dark)."""
        background, foreground, muted = chart_colors(self.palette())
        self.plot.setBackground(background)
        for name in ("left", "bottom"):
            axis = self.plot_item.getAxis(name)
            axis.setPen(pg.mkPen(muted))
            axis.setTextPen(pg.mkPen(foreground))
            # Larger with a large system font, as the ticks are, but at most 11 points: a vertical
            # title longer than its chart is cut ("Cumulative spend (U").
            size = min(11.0, max(9.0, self.font().pointSizeF()))
            label_style = {"color": foreground.name(), "font-size": f"{size:g}pt"}
            axis.labelStyle = label_style
            axis._updateLabel()
        self.placeholder.setStyleSheet(
            f"color: {foreground.name()}; background: {background.name()}; "
            f"border: 1px solid {muted.name(QColor.NameFormat.HexArgb)}; border-radius: 6px; padding: 10px;"
        )
        self.on_palette_applied(background, foreground)

    def on_palette_applied(self, background: QColor, foreground: QColor) -> None:
        """Charts recolour their own text items here."""

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.apply_palette()
        super().changeEvent(event)


def _line_label(line: pg.InfiniteLine, foreground: QColor) -> None:
    if line.label is not None:
        line.label.setColor(foreground)


# charts ------------------------------------------------------------------------------------------


class CumulativeSpendChart(ChartPanel):
    """Running spend against the budget line, with the forecast to the end of the month."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.day_axis = DayAxis("bottom")
        super().__init__("Spend this month against budget", bottom=self.day_axis, left=MoneyAxis("left"), parent=parent)
        self.plot_item.setLabel("left", "Cumulative spend (USD)")
        self.plot_item.setLabel("bottom", "Day")
        color = QColor(SPENT_COLOR)
        fill = QColor(color)
        fill.setAlpha(45)
        self.spent = self.plot_item.plot(
            [],
            [],
            name="Spent",
            pen=pg.mkPen(color, width=2.5),
            fillLevel=0,
            brush=pg.mkBrush(fill),
            symbolBrush=pg.mkBrush(color),
            symbolPen=pg.mkPen(color),
            symbolSize=9,
        )
        self.forecast = self.plot_item.plot(
            [], [], name="Forecast", pen=pg.mkPen(QColor(FORECAST_COLOR), width=2, style=Qt.PenStyle.DashLine)
        )
        self.budget_line = pg.InfiniteLine(
            angle=0,
            movable=False,
            pen=pg.mkPen(QColor(PACE_COLORS[Pace.OVER]), width=1.6, style=Qt.PenStyle.DashLine),
            label="Budget",
            labelOpts={"position": 0.02, "anchors": [(0, 1), (0, 1)]},
        )
        self.plot_item.addItem(self.budget_line, ignoreBounds=True)
        self.budget_line.setVisible(False)
        self.set_placeholder(self.empty_text)
        self.legend.set_entries([("Spent", SPENT_COLOR, "line")])
        self.apply_palette()

    def on_palette_applied(self, background: QColor, foreground: QColor) -> None:
        if hasattr(self, "budget_line"):
            _line_label(self.budget_line, foreground)

    def set_series(self, series: CumulativeSeries) -> None:
        days = list(series.days)
        self.day_axis.set_days(days)
        x = np.arange(len(series.cumulative), dtype=float)
        y = _floats(series.cumulative)
        self.spent.setData(x, y)
        self.spent.setSymbol("o" if len(x) == 1 else None)  # one day: a line of one point shows nothing
        top = float(y.max()) if len(y) else 0.0
        if series.forecast and days:
            start = days.index(series.forecast[0][0]) if series.forecast[0][0] in days else len(x) - 1
            fx = np.arange(start, start + len(series.forecast), dtype=float)
            fy = _floats([amount for _day, amount in series.forecast])
            self.forecast.setData(fx, fy)
            top = max(top, float(fy.max()))
        else:
            self.forecast.setData([], [])
        budget_off_scale = False
        if series.budget is not None and series.budget > 0:
            self.budget_line.setPos(float(series.budget))
            # A budget many times the spend would flatten the spend onto the axis: the axis then
            # fits the spend, and the legend gives the budget.
            budget_off_scale = top > 0 and float(series.budget) > BUDGET_SCALE_LIMIT * top
            self.budget_line.setVisible(not budget_off_scale)
            # After showing it: pyqtgraph leaves a hidden line's label text as it was ("Budget").
            self.budget_line.label.setFormat(f"Budget {format_budget(series.budget)}")
            if not budget_off_scale:
                top = max(top, float(series.budget))
            self._place_budget_label(y, float(series.budget), len(days))
        else:
            self.budget_line.setVisible(False)
        entries = [("Spent", SPENT_COLOR, "line")]
        if series.forecast:
            entries.append(("Forecast to month end", FORECAST_COLOR, "dash"))
        if self.budget_line.isVisible():
            entries.append(("Budget", PACE_COLORS[Pace.OVER], "dash"))
        elif budget_off_scale and series.budget is not None:
            entries.append((f"Budget {format_budget(series.budget)}, far above", PACE_COLORS[Pace.OVER], "dash"))
        self.legend.set_entries(entries)
        self.plot_item.setXRange(-0.5, max(len(days), 1) - 0.5, padding=0)
        self.plot_item.setYRange(0, top * 1.12 if top > 0 else 1, padding=0)
        if series.cumulative and days:
            words = [f"Spent {format_usd(series.cumulative[-1])} by {_day(days[len(series.cumulative) - 1])}"]
            if series.forecast:
                words.append(f"forecast {format_usd(series.forecast[-1][1])} by {_day(series.forecast[-1][0])}")
            if series.budget is not None and series.budget > 0:
                words.append(f"budget {format_budget(series.budget)}")
            self.describe("; ".join(words) + ".")
        self.set_placeholder(None if len(y) and top > 0 else self.empty_text)

    def _place_budget_label(self, spent: np.ndarray, budget: float, day_count: int) -> None:
        """Above the budget line on the left, where the spend is low; when the spend crossed the
        budget early, the line runs through that corner, and the label goes under the line at the
        right, where the spend is above it."""
        label = self.budget_line.label
        crossed = np.flatnonzero(spent >= budget)
        if len(crossed) and crossed[0] <= EARLY_CROSSING_SHARE * max(day_count - 1, 1):
            label.anchors = [(1, 0), (1, 0)]
            label.setPosition(0.98)
        else:
            label.anchors = [(0, 1), (0, 1)]
            label.setPosition(0.02)


EARLY_CROSSING_SHARE = 0.3
"""A spend line crossing the budget within this share of the period runs through a label at the left."""


def top_models(by_model: Mapping[str, Sequence[Decimal]], limit: int) -> dict[str, list[Decimal]]:
    """The `limit` costliest series by name, the rest summed into "other" (order kept)."""
    ranked = sorted(by_model.items(), key=lambda item: -sum(item[1], Decimal(0)))
    kept = {name: list(values) for name, values in ranked[:limit] if sum(values, Decimal(0)) > 0}
    rest = [values for _name, values in ranked[limit:]]
    if rest:
        summed = [sum(column, Decimal(0)) for column in zip(*rest, strict=True)]
        if sum(summed, Decimal(0)) > 0:
            kept["other"] = summed
    return kept


class DailySpendChart(ChartPanel):
    """Spend per day as bars stacked by model (one bar item per model, updated in place)."""

    def __init__(self, colors: ColorAssigner, parent: QWidget | None = None) -> None:
        self.day_axis = DayAxis("bottom")
        super().__init__("Spend per day, by model", bottom=self.day_axis, left=MoneyAxis("left"), parent=parent)
        self.colors = colors
        self.plot_item.setLabel("left", "Spend per day (USD)")
        self.plot_item.setLabel("bottom", "Day")
        self.bars: dict[str, pg.BarGraphItem] = {}
        self.set_placeholder(self.empty_text)

    def set_series(self, series: StackedDaily) -> None:
        days = list(series.days)
        self.day_axis.set_days(days)
        x = np.arange(len(days), dtype=float)
        bottom = np.zeros(len(days), dtype=float)
        shown = top_models(series.by_model, MAX_STACKED_MODELS)
        for name, values in shown.items():
            height = _floats(values)
            item = self.bars.get(name)
            if item is None:
                color = QColor(self.colors.color(name))
                item = pg.BarGraphItem(
                    x=x, height=height, y0=bottom.copy(), width=0.78, brush=color, pen=pg.mkPen(None)
                )
                self.plot_item.addItem(item)
                self.bars[name] = item
            else:
                item.setOpts(x=x, height=height, y0=bottom.copy())
            bottom += height
        for name in [n for n in self.bars if n not in shown]:
            item = self.bars.pop(name)
            self.plot_item.removeItem(item)
        self.legend.set_entries([(name, self.colors.color(name), "box") for name in shown])
        top = float(bottom.max()) if len(bottom) else 0.0
        self.plot_item.setXRange(-0.6, max(len(days), 1) - 0.4, padding=0)
        self.plot_item.setYRange(0, top * 1.12 if top > 0 else 1, padding=0)
        if top > 0:
            peak = int(bottom.argmax())
            self.describe(f"Highest day {_day(days[peak])}, {money_label(top)}; models: {', '.join(shown)}.")
        self.set_placeholder(None if top > 0 else self.empty_text)


NAME_AXIS_SHARE = 0.42
"""The most of the cost-per-model panel's width the model names may take."""
NAME_AXIS_PAD_PX = 16
_DATE_SUFFIX = re.compile(r"-\d{8}$")


def fit_names(names: Sequence[str], metrics: QFontMetrics, room_px: int) -> list[str]:
    """`names` as they fit in `room_px`: whole if all fit, else without a `-YYYYMMDD` suffix
    (`claude-sonnet-4-5`), and cut with an ellipsis only if still too wide."""
    if all(metrics.horizontalAdvance(name) <= room_px for name in names):
        return list(names)
    short = [_DATE_SUFFIX.sub("", name) for name in names]
    return [
        name
        if metrics.horizontalAdvance(name) <= room_px
        else metrics.elidedText(name, Qt.TextElideMode.ElideRight, room_px)
        for name in short
    ]


def _elide(text: str, width: int = 30) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class ModelCostChart(ChartPanel):
    """Cost per model for the period: horizontal bars, costliest on top, with the amount."""

    def __init__(self, colors: ColorAssigner, parent: QWidget | None = None) -> None:
        self.cost_axis = MoneyAxis("bottom")
        super().__init__("Cost per model", bottom=self.cost_axis, parent=parent)
        self.colors = colors
        self.plot_item.setLabel("bottom", "Cost in the period (USD)")
        self.plot_item.showGrid(x=True, y=False, alpha=0.18)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.62, width=[], brushes=[], pen=pg.mkPen(None))
        self.plot_item.addItem(self.bars)
        self.value_labels: list[pg.TextItem] = []
        self.ranked: list[tuple[str, Decimal]] = []
        self.plot_item.getViewBox().sigResized.connect(self.on_view_resized)
        self.set_placeholder(self.empty_text)

    def on_palette_applied(self, background: QColor, foreground: QColor) -> None:
        for label in getattr(self, "value_labels", []):
            label.setColor(foreground)

    def set_costs(self, costs: Sequence[tuple[str, Decimal]]) -> None:
        ranked = [(name, cost) for name, cost in costs if cost > 0][:MAX_MODEL_BARS]
        rest = sum((cost for _name, cost in costs[MAX_MODEL_BARS:] if cost > 0), Decimal(0))
        if rest > 0:
            ranked.append(("other", rest))
        n = len(ranked)
        ys = np.arange(n - 1, -1, -1, dtype=float)  # costliest at the top
        widths = _floats([cost for _name, cost in ranked])
        brushes = [pg.mkBrush(QColor(self.colors.color(name))) for name, _cost in ranked]
        self.bars.setOpts(x0=np.zeros(n), y=ys, width=widths, brushes=brushes)
        self.ranked = ranked
        self._fit_names()
        while len(self.value_labels) < n:
            label = pg.TextItem(anchor=(0, 0.5), color=self.foreground)
            self.plot_item.addItem(label, ignoreBounds=True)
            self.value_labels.append(label)
        for index, label in enumerate(self.value_labels):
            if index < n:
                label.setText(format_usd(ranked[index][1]))
                label.setPos(float(widths[index]), float(ys[index]))
                label.setVisible(True)
            else:
                label.setVisible(False)
        self._fit_x_range()
        self.plot_item.setYRange(-0.6, max(n, 1) - 0.4, padding=0)
        if n:
            self.describe("; ".join(f"{name} {format_usd(cost)}" for name, cost in ranked) + ".")
        self.set_placeholder(None if n else self.empty_text)

    def on_view_resized(self) -> None:
        self._fit_x_range()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_names()

    def _fit_names(self) -> None:
        """Model names on the left axis, given at most `NAME_AXIS_SHARE` of the panel's width, so
        the bars and their amounts keep the rest: without their date suffix, then cut, if need be."""
        axis = self.plot_item.getAxis("left")
        metrics = tick_metrics(axis)
        room = int(min(240, max(60, self.width() * NAME_AXIS_SHARE))) - NAME_AXIS_PAD_PX
        names = fit_names([_elide(name) for name, _cost in self.ranked], metrics, room)
        ys = np.arange(len(names) - 1, -1, -1, dtype=float)
        axis.setTicks([[(float(y), name) for y, name in zip(ys, names, strict=True)], []])
        axis.setWidth(max([metrics.horizontalAdvance(name) for name in names] + [40]) + NAME_AXIS_PAD_PX)

    def _fit_x_range(self) -> None:
        """An x range wide enough that each bar's amount fits to its right inside the plot."""
        widths = [float(cost) for _name, cost in self.ranked]
        top = max(widths, default=0.0)
        if top <= 0:
            self.plot_item.setXRange(0, 1, padding=0)
            return
        plot_px = max(self.plot_item.getViewBox().width(), 1.0)
        needed = top * 1.05
        for width, label in zip(widths, self.value_labels, strict=False):
            label_px = QFontMetrics(label.textItem.font()).horizontalAdvance(label.toPlainText()) + 10
            room = plot_px - label_px
            needed = max(needed, width * 4 if room < plot_px / 4 else width * plot_px / room)
        self.plot_item.setXRange(0, needed, padding=0)


NO_VALUE_YET = "No valued tasks yet. Log what a task was worth (tray › Log task value…) to see TFP here."


class TfpWeeklyChart(ChartPanel):
    """TFP (value ÷ cost) per week, with the break-even line at 1."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.week_axis = DayAxis("bottom")
        super().__init__("TFP per week (value ÷ token cost)", bottom=self.week_axis, parent=parent)
        self.plot_item.setLabel("left", "TFP (×)")
        self.plot_item.setLabel("bottom", "Week starting")
        color = QColor("#59a14f")
        self.line = self.plot_item.plot(
            [],
            [],
            pen=pg.mkPen(color, width=2.2),
            symbol="o",
            symbolSize=7,
            symbolBrush=color,
            symbolPen=None,
        )
        self.break_even = pg.InfiniteLine(
            pos=1.0,
            angle=0,
            movable=False,
            pen=pg.mkPen(QColor(PACE_COLORS[Pace.OVER]), width=1.4, style=Qt.PenStyle.DashLine),
            label="break-even (TFP = 1)",
            labelOpts={"position": 0.9, "anchors": [(1, 1), (1, 1)]},
        )
        self.plot_item.addItem(self.break_even, ignoreBounds=True)
        self.outlier_labels: list[pg.TextItem] = []
        self.set_placeholder(NO_VALUE_YET)
        self.apply_palette()

    def on_palette_applied(self, background: QColor, foreground: QColor) -> None:
        if hasattr(self, "break_even"):
            _line_label(self.break_even, foreground)
        for label in getattr(self, "outlier_labels", []):
            label.setColor(foreground)

    def set_weeks(self, weeks: Sequence[WeeklyTfp]) -> None:
        rows = [w for w in weeks if w.tfp is not None]
        self.week_axis.set_days([w.week_start for w in rows], weekly=True)
        x = np.arange(len(rows), dtype=float)
        y = np.array([float(w.tfp) for w in rows if w.tfp is not None], dtype=float)
        top, above = tfp_axis_top([float(value) for value in y])
        # A week above the axis is drawn at its top edge, as a triangle with its figure beside it.
        shown = np.minimum(y, top * 0.96) if above else y
        symbols = ["t1" if index in above else "o" for index in range(len(y))]
        self.line.setData(x, shown, symbol=symbols)
        self.plot_item.setXRange(-0.5, max(len(rows), 1) - 0.5, padding=0)
        self.plot_item.setYRange(0, top, padding=0)
        for label in self.outlier_labels:
            self.plot_item.removeItem(label)
        self.outlier_labels = []
        for index in above:  # beside its triangle, on the side with room (the latest week: left)
            on_left = index > (len(y) - 1) / 2
            label = pg.TextItem(f"{y[index]:,.0f}×", anchor=(1 if on_left else 0, 0), color=self.foreground)
            label.setPos(float(index) + (-0.08 if on_left else 0.08), top)
            self.plot_item.addItem(label, ignoreBounds=True)
            self.outlier_labels.append(label)
        if rows:
            self.describe("; ".join(f"week of {_day(w.week_start)}: TFP {float(w.tfp or 0):,.1f}×" for w in rows) + ".")
        self.set_placeholder(None if len(rows) else NO_VALUE_YET)


OUTLIER_FACTOR = 5.0
"""A week's TFP above this many times the next highest is an outlier the axis does not fit."""


def tfp_axis_top(values: Sequence[float]) -> tuple[float, list[int]]:
    """The top of the TFP axis, and the weeks drawn above it. One outstanding week (TFP 400
    beside weeks of 2-5) would flatten every other week onto the axis: the axis then fits the
    others and that week is named at the top. TFP = 1 always shows."""
    if not values:
        return 1.15, []
    ordered = sorted(values)
    highest = ordered[-1]
    if len(ordered) >= 3 and highest > OUTLIER_FACTOR * max(ordered[-2], 1.0):
        top = max(ordered[-2], 1.0) * 1.5
        return top, [index for index, value in enumerate(values) if value > top]
    return max(highest, 1.0) * 1.15, []


def describe_task(task: TaskPoint) -> str:
    tfp = task.tfp
    ratio = "—" if tfp is None else f"{tfp:.1f}×"
    return (
        f"{task.title} · {task.category} · cost {format_usd(task.cost)} · value {format_usd(task.value)} · TFP {ratio}"
    )


class ValueCostScatter(ChartPanel):
    """Value against cost per task on log scales, coloured by category, break-even line TFP = 1.
    Hovering a point names the task."""

    HINT = "Dashed line: TFP = 1 (above it, the work was worth more than its tokens). Hover a point to see the task."
    """The line is named here, not on the plot, where its label hid the tasks near it."""

    def __init__(self, colors: ColorAssigner, parent: QWidget | None = None) -> None:
        super().__init__(
            "Value against cost per task", bottom=MoneyAxis("bottom"), left=MoneyAxis("left"), parent=parent
        )
        self.colors = colors
        self.plot_item.getAxis("bottom").setLogMode(True)
        self.plot_item.getAxis("left").setLogMode(True)
        self.plot_item.showGrid(x=True, y=True, alpha=0.15)
        self.plot_item.setLabel("bottom", "Token cost of the task (USD, log scale)")
        self.plot_item.setLabel("left", "Value (USD, log scale)")
        self.break_even = pg.InfiniteLine(
            pos=(0, 0),
            angle=45,
            movable=False,
            pen=pg.mkPen(QColor(PACE_COLORS[Pace.OVER]), width=1.4, style=Qt.PenStyle.DashLine),
        )
        self.plot_item.addItem(self.break_even, ignoreBounds=True)
        self.groups: dict[str, pg.ScatterPlotItem] = {}
        self.hover = QLabel(self.HINT)
        self.hover.setWordWrap(True)
        self.layout().addWidget(self.hover)
        self.hidden_tasks = 0
        self.set_placeholder(NO_VALUE_YET)
        self.apply_palette()

    def set_tasks(self, tasks: Sequence[TaskPoint]) -> None:
        plotted = [t for t in tasks if t.cost > 0 and t.value > 0]
        self.hidden_tasks = len(tasks) - len(plotted)
        by_category: dict[str, list[TaskPoint]] = {}
        for task in plotted:
            by_category.setdefault(task.category or UNCATEGORIZED, []).append(task)
        for category, items in by_category.items():
            x = np.log10(_floats([t.cost for t in items]))
            y = np.log10(_floats([t.value for t in items]))
            group = self.groups.get(category)
            if group is None:
                color = QColor(self.colors.color(category))
                group = pg.ScatterPlotItem(
                    size=10,
                    brush=pg.mkBrush(color),
                    pen=pg.mkPen(color.darker(130)),
                    hoverable=True,
                    hoverSize=14,
                    tip=self._tip,
                )
                group.sigHovered.connect(self.on_group_hovered)
                self.plot_item.addItem(group)
                self.groups[category] = group
            group.setData(x=x, y=y, data=items)
        for category in [c for c in self.groups if c not in by_category]:
            group = self.groups.pop(category)
            self.plot_item.removeItem(group)
        if plotted:
            xs = np.log10(_floats([t.cost for t in plotted]))
            ys = np.log10(_floats([t.value for t in plotted]))
            low = math.floor(min(xs.min(), ys.min()) - 0.2)
            high = math.ceil(max(xs.max(), ys.max()) + 0.2)
            self.plot_item.setXRange(math.floor(xs.min() - 0.3), math.ceil(xs.max() + 0.3), padding=0)
            self.plot_item.setYRange(low, high, padding=0)
        self.legend.set_entries([(c, self.colors.color(c), "dot") for c in by_category])
        note = f" ({self.hidden_tasks} with $0 cost or value not shown)" if self.hidden_tasks else ""
        self.hover.setText(self.HINT + note)
        if plotted:
            above = sum(1 for task in plotted if task.value > task.cost)
            self.describe(
                f"{len(plotted)} tasks: {above} worth more than their tokens (TFP above 1), "
                f"{len(plotted) - above} not{note}."
            )
        self.set_placeholder(None if plotted else NO_VALUE_YET)

    @staticmethod
    def _tip(x: float, y: float, data: TaskPoint) -> str:
        return describe_task(data)

    def on_group_hovered(self, _item: pg.ScatterPlotItem, points: Sequence[Any], _event: Any) -> None:
        if len(points):
            self.hover.setText(describe_task(points[0].data()))
