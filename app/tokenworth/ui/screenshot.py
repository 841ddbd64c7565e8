"""Rendering the dashboard offscreen to a PNG, for docs and tests (no tray, no event loop)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtWidgets import QApplication

from tokenworth.core.config import AppPaths
from tokenworth.core.db import Database
from tokenworth.core.periods import Period
from tokenworth.core.settings import Settings, Theme
from tokenworth.core.timeutil import utc_now
from tokenworth.services.overview import OverviewQuery
from tokenworth.ui.controller import AppController
from tokenworth.ui.dashboard import DashboardWindow
from tokenworth.ui.hooks import AppHooks
from tokenworth.ui.scheduler import Scheduler
from tokenworth.ui.theme import apply_theme
from tokenworth.ui.workers import InlineRunner

DEFAULT_WIDTH_PX = 1400


def offscreen_application() -> QApplication:
    """The running QApplication, or a new one on the offscreen platform (no window appears)."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    return QApplication(["tokenworth", "-platform", "offscreen"])


def render_dashboard(
    paths: AppPaths,
    db: Database,
    settings: Settings,
    out: Path,
    *,
    period_for: Period | None = None,
    theme: Theme | None = None,
    now: datetime | None = None,
    hooks: AppHooks | None = None,
    width: int = DEFAULT_WIDTH_PX,
) -> Path:
    """Compute the overview inline and save the whole dashboard as a PNG at `out`."""
    offscreen_application()
    apply_theme(theme or settings.theme)
    moment = now or utc_now()
    scheduler = Scheduler(clock=lambda: moment)
    if hooks is None:
        from tokenworth.ui.hooks import default_hooks

        hooks = default_hooks()  # task value and TFP as the app shows them
    controller = AppController(
        paths=paths, db=db, settings=settings, runner=InlineRunner(), scheduler=scheduler, hooks=hooks
    )
    dashboard = DashboardWindow(today=controller.today(), colors=controller.model_colors)
    controller.overview_changed.connect(dashboard.show_overview)
    if period_for is not None:
        controller.query = OverviewQuery(period_for)
        dashboard.set_period(period_for)
    controller.refresh()
    overview = controller.overview
    if overview is not None:
        count = overview.records_total
        dashboard.show_status(f"{count:,} record{'' if count == 1 else 's'} in the ledger · days in {overview.zone}")
    out.parent.mkdir(parents=True, exist_ok=True)
    dashboard.render_png(out, width)
    dashboard.close()
    dashboard.deleteLater()
    scheduler.deleteLater()
    return out
