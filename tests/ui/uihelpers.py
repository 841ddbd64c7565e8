"""Helpers shared by the UI tests: a movable clock, sample data and exact-cost records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from tokenworth.core.db import Database
from tokenworth.core.ledger import upsert_rows
from tokenworth.core.pricing import PriceBook
from tokenworth.core.timeutil import to_epoch_ms
from tokenworth.services.record_rows import event_row
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


def shut_down(app: Any) -> None:
    """Stop a test's TokenworthApp and close its dashboard window if one was built."""
    app.shutdown()
    if app.dashboard_built:
        app.dashboard.close()
        app.dashboard.deleteLater()


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for a child `python -m tokenworth` (tests/conftest.py's subprocess_env: this
    checkout's code first, offscreen Qt) with a throwaway home and agent log folders."""
    env = subprocess_env(
        TOKENWORTH_HOME=str(tmp_path / "home"),
        HOME=str(tmp_path / "user"),
        CLAUDE_CONFIG_DIR=str(tmp_path / "claude"),
        CODEX_HOME=str(tmp_path / "codex"),
        GEMINI_DATA_DIR=str(tmp_path / "gemini" / "tmp"),
        TZ="UTC",
        QT_QPA_PLATFORM="offscreen",
    )
    env.pop("TOKENWORTH_DB_URL", None)
    # Keep the real font cache: with a fresh HOME, fontconfig would rebuild it (seconds) per child.
    env.setdefault("XDG_CACHE_HOME", str(Path.home() / ".cache"))
    env.update(extra)
    return env


def _shared_conftest():
    """tests/conftest.py as a module (pytest registers it under the name `conftest`, which the
    nearer tests/ui/conftest.py shadows), for its `require_tool` and `subprocess_env`."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(
        "tokenworth_shared_conftest", Path(__file__).parents[1] / "conftest.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_SHARED = _shared_conftest()
require_tool = _SHARED.require_tool
subprocess_env = _SHARED.subprocess_env
