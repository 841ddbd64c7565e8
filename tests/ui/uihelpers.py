"""Helpers shared by the UI tests: a movable clock, sample data and exact-cost records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tokenworth.core.db import Database
from tokenworth.core.ledger import upsert_rows
from tokenworth.core.pricing import PriceBook
from tokenworth.core.timeutil import to_epoch_ms
from tokenworth.services.importing import event_row
from tokenworth.sources.records import UsageEvent

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
SAMPLE_DAY = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
CLAUDE_SESSION = "00000000-0000-4000-8000-0000000000aa"


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def add_spend(
    db: Database, *items: tuple[datetime, str, str], source: str = "manual", project: str | None = None
) -> None:
    """Records with an exact reported cost: (when, model, dollars)."""
    book = PriceBook({})
    rows = []
    for when, model, dollars in items:
        event = UsageEvent(
            source=source,
            provider="anthropic",
            model=model,
            timestamp=when,
            dedupe_key=f"test:{when.isoformat()}:{model}:{dollars}:{project}",
            input_tokens=100,
            output_tokens=50,
            reported_cost=Decimal(dollars),
            project=project,
        )
        rows.append(event_row(event, book, to_epoch_ms(when)))
    with db.engine.begin() as conn:
        upsert_rows(conn, rows, "latest")


APP_DIR = Path(__file__).resolve().parents[2] / "app"


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for a child `python -m tokenworth`: this checkout's code first on the path
    (as tests/conftest.py's subprocess_env), offscreen Qt, a throwaway home and agent folders."""
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(APP_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["TOKENWORTH_HOME"] = str(tmp_path / "home")
    env["HOME"] = str(tmp_path / "user")
    env["CLAUDE_CONFIG_DIR"] = str(tmp_path / "claude")
    env["CODEX_HOME"] = str(tmp_path / "codex")
    env["GEMINI_DATA_DIR"] = str(tmp_path / "gemini" / "tmp")
    env["TZ"] = "UTC"
    env.pop("TOKENWORTH_DB_URL", None)
    env.update(extra)
    return env
