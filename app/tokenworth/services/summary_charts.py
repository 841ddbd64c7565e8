"""The export's charts as plain data (the dashboard's three: spend per day by model, cost per
model, value against cost per task); a renderer in `ui/` turns each into a PNG.

Services stay free of Qt: an export gets a `ChartRenderer` callback from its caller (the CLI or
the tray) and simply has no charts without one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tokenworth.core.analytics import UNCATEGORIZED
from tokenworth.services.monthly_summary import MonthlySummary
from tokenworth.services.overview import TaskPoint

MAX_STACKED_MODELS = 7
"""Models drawn on their own in the per-day stack (as on the dashboard); the rest are "other"."""
MAX_MODEL_BARS = 10
OTHER = "other"


@dataclass(frozen=True)
class DailySpendChart:
    """Cost per day stacked by model; every series is aligned with `days`."""

    days: Sequence[date]
    series: Sequence[tuple[str, Sequence[Decimal]]]
    name: str = "spend-per-day"
    title: str = "Spend per day by model"

    @property
    def empty(self) -> bool:
        return not any(amount > 0 for _model, amounts in self.series for amount in amounts)


@dataclass(frozen=True)
class ModelCostChart:
    """The month's cost per model, highest first (the tail summed as "N more")."""

    bars: Sequence[tuple[str, Decimal]]
    name: str = "cost-per-model"
    title: str = "Cost per model"

    @property
    def empty(self) -> bool:
        return not any(amount > 0 for _model, amount in self.bars)


@dataclass(frozen=True)
class ValueCostChart:
    """Value against cost per task (log scales), coloured by category, break-even line TFP = 1."""

    points: Sequence[TaskPoint]
    name: str = "value-vs-cost"
    title: str = "Value against cost per task"
    left_out: Sequence[str] = ()
    """Titles of valued tasks not drawn: a $0 value or cost has no place on a log scale."""

    @property
    def empty(self) -> bool:
        return not self.points

    @property
    def caption(self) -> str | None:
        """What the drawing leaves out, said under it (the dashboard's chart says the same)."""
        if not self.left_out:
            return None
        named = ", ".join(repr(title) for title in self.left_out[:3])
        more = f" and {len(self.left_out) - 3} more" if len(self.left_out) > 3 else ""
        return (
            f"Not shown: {len(self.left_out)} with $0 cost or value ({named}{more}); a log scale has no zero. "
            "See the tables below."
        )


ChartSpec = DailySpendChart | ModelCostChart | ValueCostChart
ChartRenderer = Callable[[ChartSpec], bytes]
"""Draws one chart; returns PNG bytes."""


@dataclass(frozen=True)
class RenderedChart:
    """A chart drawn (PNG), or the reason it is left out."""

    spec: ChartSpec
    png: bytes | None
    note: str | None = None


def daily_spend_chart(summary: MonthlySummary) -> DailySpendChart:
    days = summary.days
    totals: dict[str, Decimal] = {}
    for day in days:
        for model, cost in day.by_model.items():
            totals[model] = totals.get(model, Decimal(0)) + cost
    ranked = [model for model, cost in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])) if cost > 0]
    shown = ranked if len(ranked) <= MAX_STACKED_MODELS + 1 else ranked[:MAX_STACKED_MODELS]
    series: list[tuple[str, list[Decimal]]] = [
        (model, [day.by_model.get(model, Decimal(0)) for day in days]) for model in shown
    ]
    rest = [model for model in ranked if model not in shown]
    if rest:
        series.append(
            (
                f"{OTHER} ({len(rest)} models)",
                [sum((day.by_model.get(m, Decimal(0)) for m in rest), Decimal(0)) for day in days],
            )
        )
    return DailySpendChart(days=[day.day for day in days], series=series)


def model_cost_chart(summary: MonthlySummary) -> ModelCostChart:
    priced = [(row.label, row.usage.cost) for row in summary.by_model]
    bars = sorted(((m, c) for m, c in priced if c is not None and c > 0), key=lambda kv: (-kv[1], kv[0]))
    if len(bars) > MAX_MODEL_BARS:
        rest = bars[MAX_MODEL_BARS - 1 :]
        bars = [*bars[: MAX_MODEL_BARS - 1], (f"{len(rest)} more models", sum((c for _m, c in rest), Decimal(0)))]
    return ModelCostChart(bars=bars)


def value_cost_chart(summary: MonthlySummary) -> ValueCostChart:
    points = []
    left_out = []
    for row in summary.tasks:
        cost, value = row.figures.cost, row.figures.value
        if cost is None or value is None:
            continue
        title = str(row.key["task"]["title"])
        if cost > 0 and value > 0:
            points.append(TaskPoint(title, row.key.get("category") or UNCATEGORIZED, cost, value))
        else:
            left_out.append(title)
    return ValueCostChart(points=points, left_out=left_out)


EMPTY_NOTES = {
    "spend-per-day": "No priced spend this month, so there is no spend per day to draw.",
    "cost-per-model": "No priced spend this month, so there is no cost per model to draw.",
    "value-vs-cost": "No task has both a value and a cost this month, so there is nothing to plot.",
}


def summary_charts(summary: MonthlySummary) -> list[ChartSpec]:
    """The three charts of a summary, in report order."""
    return [daily_spend_chart(summary), model_cost_chart(summary), value_cost_chart(summary)]


def render_charts(summary: MonthlySummary, renderer: ChartRenderer | None) -> list[RenderedChart]:
    """Each chart drawn by `renderer`; an empty chart is never drawn (its note says why)."""
    result = []
    for spec in summary_charts(summary):
        if spec.empty:
            result.append(RenderedChart(spec, None, EMPTY_NOTES[spec.name]))
        elif renderer is None:
            result.append(RenderedChart(spec, None, "Charts need Qt (PySide6), which is not available here."))
        else:
            caption = spec.caption if isinstance(spec, ValueCostChart) else None
            result.append(RenderedChart(spec, renderer(spec), caption))
    return result
