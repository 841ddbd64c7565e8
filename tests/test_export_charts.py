"""The export's charts: drawn offscreen with data in them (an empty-looking chart is a bug), the
dashboard's grouping rules, and no drawing at all when there is nothing to draw."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from conftest import SAMPLES, CliRunner
from export_ledger import MONTH, build_export_ledger
from tokenworth.core.db import Database
from tokenworth.services.monthly_summary import build_monthly_summary
from tokenworth.services.summary_charts import (
    EMPTY_NOTES,
    ChartSpec,
    DailySpendChart,
    ModelCostChart,
    TaskPoint,
    ValueCostChart,
    daily_spend_chart,
    model_cost_chart,
    render_charts,
    summary_charts,
)
from tokenworth.ui.export_charts import SCALE, SERIES_COLORS, WIDTH_PX, render_chart_png


def pixels(png: bytes) -> np.ndarray:
    """The image as an (height, width, 3) array of RGB bytes."""
    from PySide6.QtGui import QImage

    image = QImage.fromData(png).convertToFormat(QImage.Format.Format_RGB888)
    assert not image.isNull()
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    rows = buffer.reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()  # QImage owns the bytes


def distinct_colors(image: np.ndarray) -> int:
    packed = (image[..., 0].astype(np.int32) << 16) | (image[..., 1].astype(np.int32) << 8) | image[..., 2]
    return len(np.unique(packed))


def share_of(image: np.ndarray, color: str) -> float:
    """How much of the image is (close to) `color`."""
    target = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
    close = np.abs(image.astype(np.int16) - target).sum(axis=2) < 24
    return float(close.mean())


@pytest.fixture
def summary_charts_of_ledger(db: Database) -> list[ChartSpec]:
    build_export_ledger(db)
    summary = build_monthly_summary(db, month=MONTH, zone=UTC, now=datetime(2026, 2, 2, tzinfo=UTC), routing=None)
    return summary_charts(summary)


def test_every_chart_of_the_known_ledger_is_drawn_with_its_data(summary_charts_of_ledger: list[ChartSpec]) -> None:
    daily, models, scatter = summary_charts_of_ledger
    assert [name for name, _amounts in daily.series] == ["alpha", "gamma", "beta"]  # by cost, as the dashboard
    assert [(m, c) for m, c in models.bars] == [("alpha", Decimal(28)), ("gamma", Decimal("3.6")), ("beta", Decimal(2))]
    assert {p.title for p in scatter.points} == {"Feature A", "Review", 'Café ünïcode, "quoted"'}
    for spec in summary_charts_of_ledger:
        image = pixels(render_chart_png(spec))
        assert image.shape[1] == WIDTH_PX * SCALE
        assert image.std() > 20, f"{spec.name} looks blank"
        least = 0.0002 if isinstance(spec, ValueCostChart) else 0.002  # dots are small, bars are not
        assert share_of(image, SERIES_COLORS[0]) > least, f"{spec.name} shows no data in the first colour"
        assert distinct_colors(image) > 50, f"{spec.name} has no text or shapes"


def test_daily_bars_are_as_tall_as_the_day_costs() -> None:
    days = [date(2026, 1, d) for d in range(1, 32)]
    cheap = [Decimal(0)] * 31
    cheap[0] = Decimal(1)
    dear = [Decimal(0)] * 31
    dear[30] = Decimal(10)
    image = pixels(render_chart_png(DailySpendChart(days=days, series=[("dear", dear), ("cheap", cheap)])))
    blue = share_of(image, SERIES_COLORS[0])  # "dear" ranks first
    orange = share_of(image, SERIES_COLORS[1])
    assert blue > 0
    assert orange > 0
    assert 7 < blue / orange < 13  # ten times the money, about ten times the ink (same bar width)


def test_many_models_are_grouped_like_the_dashboard() -> None:
    class Day:
        def __init__(self, day: date, by_model: dict[str, Decimal]) -> None:
            self.day, self.by_model = day, by_model

    class Summary:
        def __init__(self) -> None:
            self.days = [Day(date(2026, 1, 1), {f"m{i:02d}": Decimal(20 - i) for i in range(12)})]

    daily = daily_spend_chart(Summary())  # type: ignore[arg-type]
    names = [name for name, _amounts in daily.series]
    assert names[:7] == [f"m{i:02d}" for i in range(7)]
    assert names[7] == "other (5 models)"
    assert daily.series[7][1] == [Decimal(13 + 12 + 11 + 10 + 9)]

    class Row:
        def __init__(self, label: str, cost: Decimal) -> None:
            self.label = label
            self.usage = type("U", (), {"cost": cost})()

    class ModelSummary:
        def __init__(self) -> None:
            self.by_model = [Row(f"m{i:02d}", Decimal(20 - i)) for i in range(12)]

    bars = model_cost_chart(ModelSummary()).bars  # type: ignore[arg-type]
    assert len(bars) == 10
    assert bars[-1] == ("3 more models", Decimal(11 + 10 + 9))


def test_scatter_spans_wide_ranges_on_log_scales() -> None:
    points = [
        TaskPoint("tiny", "a", Decimal("0.004"), Decimal("0.5")),
        TaskPoint("huge", "b", Decimal("850"), Decimal("12000")),
        TaskPoint("loss", "c", Decimal("40"), Decimal("3")),
    ]
    image = pixels(render_chart_png(ValueCostChart(points)))
    for color in SERIES_COLORS[:3]:
        assert share_of(image, color) > 0.0002


def test_nothing_to_draw_means_no_chart_and_a_reason(db: Database) -> None:
    summary = build_monthly_summary(db, month=(2030, 1), zone=UTC, now=datetime(2030, 2, 2, tzinfo=UTC), routing=None)
    drawn: list[ChartSpec] = []

    def renderer(spec: ChartSpec) -> bytes:
        drawn.append(spec)
        return b""

    charts = render_charts(summary, renderer)
    assert drawn == []
    assert [(c.png, c.note) for c in charts] == [(None, EMPTY_NOTES[c.spec.name]) for c in charts]
    assert ModelCostChart(bars=[("x", Decimal(0))]).empty


def test_an_export_chart_gives_each_model_the_dashboards_colour(cli: CliRunner, claude_dir: Path, home: Path) -> None:
    """The dashboard keeps each model's colour in the app state: the export's charts use it,
    so Sonnet is the same colour on the screen and on paper."""
    import json
    import shutil

    (claude_dir / "projects" / "p").mkdir()
    shutil.copy(SAMPLES / "claude-code.jsonl", claude_dir / "projects" / "p" / "s.jsonl")
    assert cli("import").code == 0
    january = ("--since", "2026-01-01", "--until", "2026-01-31", "--tz", "UTC")
    rows = json.loads(cli("report", "models", *january, "--json", "--no-import").out)["rows"]
    models = [row["model"] for row in rows if row["cost_usd"] not in (None, "0")]  # the ones with a bar
    remembered = {model: SERIES_COLORS[(index + 5) % len(SERIES_COLORS)] for index, model in enumerate(models)}
    (home / "state.json").write_text(json.dumps({"version": 1, "series_colors": remembered}))
    out = home / "jan.md"
    exported = cli("export", "--month", "2026-01", "--tz", "UTC", "--format", "md", "--out", str(out), "--no-import")
    assert exported.code == 0, exported.err
    image = pixels((home / "jan-charts" / "cost-per-model.png").read_bytes())
    for model in models:
        assert share_of(image, remembered[model]) > 0.001, model
    assert share_of(image, SERIES_COLORS[0]) < 0.0005  # the rank colour it would get without the dashboard's


def test_a_label_is_never_placed_on_another_tasks_dot() -> None:
    """Labels are placed after every dot is known: one drawn later no longer covers a label."""
    from PySide6.QtCore import QPointF, QRectF

    from tokenworth.ui.export_charts import label_places

    centres = [
        QPointF(100, 100),
        QPointF(150, 100),
        QPointF(300, 200),
    ]  # the second dot sits where the first's label would
    places = label_places(centres, [80, 80, 80], QRectF(0, 0, 600, 400))
    dots = [QRectF(c.x() - 7, c.y() - 7, 14, 14) for c in centres]
    for place in places:
        assert place is None or not any(place.intersects(dot) for dot in dots)
    assert places[0] is not None
    assert places[0].right() < 100  # moved to the left of its dot
    at_the_top = label_places([QPointF(300, 4)], [80], QRectF(0, 0, 600, 400))
    assert at_the_top == [None]  # its label would cross the plot's top edge: left out
