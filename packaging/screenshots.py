"""Screenshots for the README: the dashboard (light and dark), the tray icon states and Settings,
rendered offscreen from a demo ledger of about two months of realistic usage.

    python packaging/screenshots.py            # writes resources/screenshots/*.png

Task values do not exist before the tasks feature lands, so the TFP charts are fed by a demo
value source here (each demo session valued by its kind of work); everything else is the app's
own code on the demo ledger.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(ROOT / "tests" / "bench"))
os.environ["QT_QPA_PLATFORM"] = "offscreen"

from make_demo_ledger import demo_events, fill  # noqa: E402

from tokenworth.core.config import resolve_paths  # noqa: E402
from tokenworth.core.db import Database, open_database  # noqa: E402
from tokenworth.core.periods import this_month  # noqa: E402
from tokenworth.core.settings import Settings  # noqa: E402
from tokenworth.services.overview import (  # noqa: E402
    OverviewQuery,
    TaskPoint,
    ValueOverview,
    WeeklyTfp,
)
from tokenworth.services.reports import usage_report  # noqa: E402

OUT = ROOT / "resources" / "screenshots"
VALUE_PER_DOLLAR = {
    "feature": (2.0, 40.0),
    "bugfix": (0.6, 25.0),
    "experiment": (0.1, 6.0),
    "maintenance": (0.8, 12.0),
}


CATEGORIES = tuple(VALUE_PER_DOLLAR)


def demo_value_source(db: Database, query: OverviewQuery, zone: tzinfo) -> ValueOverview:
    """Demo only: two sessions in three are "valued" tasks, worth a multiple of their cost."""
    report = usage_report(
        db, "sessions", zone=zone, since=query.period.start - timedelta(days=42), until=query.period.end
    )
    tasks: list[TaskPoint] = []
    weeks: dict[date, list[Decimal]] = {}
    for index, row in enumerate(report.rows):
        digest = int(hashlib.sha1(row.key.encode()).hexdigest()[:8], 16)
        if digest % 3 == 0 or not row.totals.cost:
            continue
        project = Path(row.extra.get("project") or "misc").name
        category = CATEGORIES[digest % len(CATEGORIES)]
        low, high = VALUE_PER_DOLLAR[category]
        multiple = Decimal(str(round(low * (high / low) ** ((digest % 997) / 997), 2)))
        cost = row.totals.cost
        value = max((cost * multiple).quantize(Decimal("0.01")), Decimal("0.50"))
        last = date.fromisoformat(str(row.extra["last_activity"])[:10])
        week = last - timedelta(days=last.weekday())
        weeks.setdefault(week, [Decimal(0), Decimal(0)])
        weeks[week][0] += value
        weeks[week][1] += cost
        if query.period.contains(last):
            tasks.append(TaskPoint(f"{project}: task {index + 1}", category, cost, value))
    weekly = tuple(WeeklyTfp(week, v, c) for week, (v, c) in sorted(weeks.items()))
    value_sum = sum((t.value for t in tasks), Decimal(0))
    cost_sum = sum((t.cost for t in tasks), Decimal(0))
    tfp = value_sum / cost_sum if cost_sum else None
    return ValueOverview(tfp=tfp, month_tfp=tfp, weekly=weekly, tasks=tuple(tasks))


def main() -> int:
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QFont, QPainter, QPixmap

    from tokenworth.core.budget import Pace
    from tokenworth.ui.hooks import AppHooks
    from tokenworth.ui.screenshot import offscreen_application, render_dashboard
    from tokenworth.ui.settings_dialog import SettingsDialog
    from tokenworth.ui.theme import apply_theme
    from tokenworth.ui.tray import draw_tray_icon

    app = offscreen_application()
    OUT.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as home:
        paths = resolve_paths({"TOKENWORTH_HOME": home})
        db = open_database(paths.db_url)
        fill(db, demo_events(now.date(), 62, 260))
        settings = Settings(monthly_budget=Decimal(380))
        hooks = AppHooks(value_source=demo_value_source)
        period = this_month(now.date())
        for theme in ("light", "dark"):
            out = render_dashboard(
                paths,
                db,
                settings,
                OUT / f"dashboard-{theme}.png",
                period_for=period,
                theme=theme,
                now=now,
                hooks=hooks,
            )
            print(f"wrote {out}")

        apply_theme("light")
        from tokenworth.ui.controller import AppController
        from tokenworth.ui.scheduler import Scheduler
        from tokenworth.ui.workers import InlineRunner

        controller = AppController(
            paths=paths,
            db=db,
            settings=settings,
            runner=InlineRunner(),
            scheduler=Scheduler(clock=lambda: now),
        )
        dialog = SettingsDialog(controller)
        dialog.budget.edit.setText("38o")  # a typo, to show how a bad value is marked
        dialog.resize(680, 600)
        dialog.show()
        dialog.grab().save(str(OUT / "settings-light.png"))
        dialog.close()
        print(f"wrote {OUT / 'settings-light.png'}")
        db.dispose()

    cells = [
        (Pace.ON_TRACK, None, "on track"),
        (Pace.AHEAD, None, "ahead"),
        (Pace.OVER, None, "over"),
        (Pace.NO_BUDGET, None, "no budget"),
        (Pace.ON_TRACK, "$42", "figure"),
        (Pace.AHEAD, "$318", "figure"),
        (Pace.OVER, "$1.2k", "figure"),
    ]
    strip = QPixmap(len(cells) * 96, 104)
    for background, name in ((QColor("#ffffff"), "light"), (QColor("#202124"), "dark")):
        strip.fill(background)
        painter = QPainter(strip)
        font = QFont()
        font.setPixelSize(13)
        painter.setFont(font)
        painter.setPen(QColor("#202124") if name == "light" else QColor("#e8eaed"))
        for index, (pace, figure, label) in enumerate(cells):
            painter.drawPixmap(index * 96 + 16, 8, draw_tray_icon(pace, figure, 64))
            painter.drawText(QRect(index * 96, 78, 96, 20), Qt.AlignmentFlag.AlignCenter, label)
        painter.end()
        strip.save(str(OUT / f"tray-icons-{name}.png"))
        print(f"wrote {OUT / f'tray-icons-{name}.png'}")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
