"""Screenshots for the README: the dashboard (light and dark), the value popup, Settings (a marked
typo, and the Keys tab), the price and suggestions panels, and the tray icon states, rendered
offscreen from a demo ledger of about two months of realistic usage with real tasks valued
through the tasks service.

    python packaging/screenshots.py            # writes resources/screenshots/*.png

Tasks: two or three agent sessions a working day become tasks (`log_task` with the session
assigned, as the popup does), valued at a multiple of their cost that depends on the kind of work,
so some land below break-even. Everything drawn is the app's own code on that ledger.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(ROOT / "tests" / "bench"))
os.environ["QT_QPA_PLATFORM"] = "offscreen"

from keyring.backend import KeyringBackend  # noqa: E402
from make_demo_ledger import demo_events, fill  # noqa: E402

from tokenworth.core.config import resolve_paths  # noqa: E402
from tokenworth.core.db import Database, open_database  # noqa: E402
from tokenworth.core.periods import this_month  # noqa: E402
from tokenworth.core.settings import Settings  # noqa: E402
from tokenworth.services.reports import usage_report  # noqa: E402
from tokenworth.services.tasks import Assignment, TaskDraft, log_task  # noqa: E402

OUT = ROOT / "resources" / "screenshots"
VALUE_PER_DOLLAR = {
    "coding": (1.5, 40.0),
    "bugfix": (0.5, 25.0),
    "research": (0.15, 6.0),
    "docs": (0.8, 12.0),
}
"""Value as a multiple of the task's cost, from low to high (log-uniform between), per category."""
WORK = {
    "tokenworth": ("Tray popup", "Forecast line", "Price panel", "Keyring errors", "Import speed-up"),
    "webshop": ("Checkout v2", "Coupon bug", "Order e-mails", "Cart API"),
    "ml-pipeline": ("Distill run", "Eval harness", "Data cleaning"),
    "infra": ("Terraform update", "Backup check", "CI cache"),
}
PROMPT = (
    "You are reviewing a pull request for a payment service. Read the diff below, list every place "
    "where money is rounded or converted, and say whether the rounding is done once, at the end, "
    "half to even. Then suggest tests for each.\n\n" + "diff --git a/pay.py b/pay.py\n+    total += line.amount\n" * 60
)
VERBS = {"coding": "Build", "bugfix": "Fix", "research": "Explore", "docs": "Document"}


def demo_tasks(db: Database, now: datetime) -> int:
    """Value about three sessions a working day as tasks, like a user answering the popup."""
    report = usage_report(db, "sessions", zone=UTC, since=(now - timedelta(days=70)).date(), until=now.date())
    per_day: dict[str, int] = {}
    made = 0
    for row in report.rows:
        digest = int(hashlib.sha1(row.key.encode()).hexdigest()[:8], 16)
        day = str(row.extra.get("last_activity"))[:10]
        cost = row.totals.cost
        if str(row.extra.get("last_activity")) > now.isoformat():
            continue  # today's sessions later than now: not work done yet (a task may not start ahead)
        if not cost or cost < Decimal("0.5") or per_day.get(day, 0) >= 3 or (digest >> 12) % 4 == 0:
            continue
        per_day[day] = per_day.get(day, 0) + 1
        project = Path(row.extra.get("project") or "misc").name
        category = tuple(VALUE_PER_DOLLAR)[digest % len(VALUE_PER_DOLLAR)]
        low, high = VALUE_PER_DOLLAR[category]
        multiple = Decimal(str(round(low * (high / low) ** ((digest % 997) / 997), 2)))
        value = max((cost * multiple).quantize(Decimal(1)), Decimal(1))
        thing = WORK.get(project, ("Misc",))[digest % len(WORK.get(project, ("Misc",)))]
        title = f"{VERBS[category]}: {thing} ({project})"
        draft = TaskDraft(title, value, category=category, assignments=(Assignment(session_id=row.key),))
        log_task(db, draft, now=now)
        made += 1
    return made


class DemoKeyring(KeyringBackend):
    """An in-memory keyring for the Keys screenshot (nothing is stored anywhere)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


DemoKeyring.__module__ = "screenshots"


def demo_accounts(db: Database, now: datetime) -> Any:
    """Two provider accounts as they look after a few polls (fake keys, unchecked)."""
    from sqlalchemy import select

    from tokenworth.core.provider_models import ProviderAccount
    from tokenworth.core.secrets import SecretStore
    from tokenworth.services.accounts import store_key

    backend = DemoKeyring()
    secrets = SecretStore(backend)
    store_key(db, secrets, "openai", "work", "sk-admin-demo0000000000000000000007c2f", env={}, check=False)
    store_key(db, secrets, "openrouter", "personal", "sk-or-v1-demo000000000000000000000a91b", env={}, check=False)
    with db.session() as session:
        for row in session.scalars(select(ProviderAccount)):
            row.last_poll_at = now - timedelta(minutes=12)
            if row.provider == "openai":
                row.last_status, row.last_error = "ok", None
            else:
                row.last_status = "key rejected"
                row.last_error = "openrouter key: the key was rejected (HTTP 401): User not found."
    return backend


def main() -> int:
    import keyring
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QFont, QPainter, QPixmap

    from tokenworth.core.budget import Pace
    from tokenworth.ui.controller import AppController
    from tokenworth.ui.hooks import default_hooks
    from tokenworth.ui.popup import TaskValuePopup
    from tokenworth.ui.price_panel import PricePanel
    from tokenworth.ui.scheduler import Scheduler
    from tokenworth.ui.screenshot import offscreen_application, render_dashboard
    from tokenworth.ui.settings_dialog import SettingsDialog
    from tokenworth.ui.suggestions_panel import SuggestionsPanel
    from tokenworth.ui.theme import apply_theme
    from tokenworth.ui.tray import draw_tray_icon
    from tokenworth.ui.workers import InlineRunner

    app = offscreen_application()
    OUT.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as home:
        paths = resolve_paths({"TOKENWORTH_HOME": home})
        db = open_database(paths.db_url)
        fill(db, demo_events(now.date(), 62, 260))
        print(f"{demo_tasks(db, now)} demo tasks valued")
        settings = Settings(monthly_budget=Decimal(380))
        hooks = default_hooks()
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

        controller = AppController(
            paths=paths,
            db=db,
            settings=settings,
            runner=InlineRunner(),
            scheduler=Scheduler(clock=lambda: now),
            hooks=hooks,
        )
        for theme, value, name in (
            ("light", "120", "popup-light"),
            ("dark", "120", "popup-dark"),
            ("light", "12o", "popup-invalid"),
        ):
            apply_theme(theme)
            popup = TaskValuePopup(controller)
            popup.title_edit.setText("Eval harness: fix the flaky metrics")
            popup.category_edit.setText("bugfix")
            popup.value_edit.setText(value)
            popup.on_field_edited("value", value)
            popup.run_preview()
            popup.show()
            popup.adjustSize()
            popup.grab().save(str(OUT / f"{name}.png"))
            popup.close()
            print(f"wrote {OUT / f'{name}.png'}")

        apply_theme("light")
        dialog = SettingsDialog(controller)
        dialog.budget.edit.setText("38o")  # a typo, to show how a bad value is marked
        dialog.resize(680, 600)
        dialog.show()
        dialog.grab().save(str(OUT / "settings-light.png"))
        dialog.close()
        print(f"wrote {OUT / 'settings-light.png'}")

        panel = PricePanel(controller)
        panel.text.setPlainText(PROMPT)
        panel.run_pricing()
        panel.resize(1100, 520)
        panel.show()
        panel.grab().save(str(OUT / "price-panel.png"))
        panel.close()
        print(f"wrote {OUT / 'price-panel.png'}")

        suggestions = SuggestionsPanel(controller)
        suggestions.resize(1400, 760)
        suggestions.show()
        suggestions.refresh()
        report = suggestions.report
        assert report is not None, "the routing report should be read"
        thin = next(item for item in report.suggestions if item.evidence == "thin")
        suggestions.try_buttons[thin.id].click()  # one experiment running, as after a click
        app.processEvents()
        suggestions.grab().save(str(OUT / "suggestions-panel.png"))
        suggestions.close()
        print(f"wrote {OUT / 'suggestions-panel.png'}")

        previous = keyring.get_keyring()
        keyring.set_keyring(demo_accounts(db, now))
        try:
            dialog = SettingsDialog(controller)
            dialog.tabs.setCurrentIndex(3)
            dialog.resize(760, 600)
            dialog.show()
            dialog.grab().save(str(OUT / "settings-keys.png"))
            dialog.close()
        finally:
            keyring.set_keyring(previous)
        print(f"wrote {OUT / 'settings-keys.png'}")
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
