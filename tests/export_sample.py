"""A realistic month of usage and tasks (March 2026, with February before it), for the export's
sample page in the README and a test that a full month lays out well.

Run `python tests/export_sample.py resources/screenshots` to rebuild the sample ledger, export it
and save page 1 of the PDF as `export-sample-page1.png` (needs pdftoppm, from poppler-utils).
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
if str(APP) not in sys.path:
    sys.path.insert(0, str(APP))

from tokenworth.core.db import Database  # noqa: E402
from tokenworth.core.ledger import upsert_rows  # noqa: E402
from tokenworth.core.pricing import PriceBook  # noqa: E402
from tokenworth.core.provider_models import ProviderAccount  # noqa: E402
from tokenworth.core.timeutil import to_epoch_ms  # noqa: E402
from tokenworth.services.plans import set_plan  # noqa: E402
from tokenworth.services.polling import upsert_billed  # noqa: E402
from tokenworth.services.record_rows import event_row  # noqa: E402
from tokenworth.services.tasks import TaskDraft, log_task  # noqa: E402
from tokenworth.sources.records import UsageEvent  # noqa: E402

SAMPLE_MONTH = (2026, 3)
SAMPLE_BUDGET = Decimal(450)

AGENTS = (  # (source, provider, model, share of sessions)
    ("claude-code", "anthropic", "claude-sonnet-4-5", 0.45),
    ("claude-code", "anthropic", "claude-opus-4-1", 0.12),
    ("claude-code", "anthropic", "claude-haiku-4-5", 0.10),
    ("codex", "openai", "gpt-5", 0.18),
    ("codex", "openai", "gpt-5-mini", 0.08),
    ("gemini-cli", "google", "gemini-2.5-pro", 0.07),
)
PROJECTS = ("/home/dev/code/webshop", "/home/dev/code/api", "/home/dev/code/docs", "/home/dev/code/infra")
TASKS = (  # (title, category, value in dollars)
    ("Checkout: address validation", "coding", 420),
    ("Review PR #812 (payments)", "review", 90),
    ("Flaky test hunt in CI", "ops", 60),
    ("Spike: vector search for FAQs", "research", 150),
    ("API: rate limit headers", "coding", 260),
    ("Docs: webhook guide", "docs", 120),
    ("Migrate Terraform state", "ops", 300),
    ("Bug: cart total rounding", "coding", 340),
    ("Review PR #830 (search)", "review", 70),
    ("Café menu importer (ünïcode)", "coding", 180),
    ("Benchmark gpt-5-mini on tagging", "research", 40),
    ("Release notes 2.14", "docs", 45),
    ("Refactor auth middleware", "coding", 520),
    ("Investigate memory leak", "ops", 380),
    ("Prototype admin dashboard", "coding", 300),
    ("Review PR #851 (infra)", "review", 35),
    ("Data export for finance", "coding", 210),
    ("Write ADR: queue choice", "docs", 95),
)


def _events(rng: random.Random, month: tuple[int, int], sessions_per_day: tuple[int, int]) -> list[UsageEvent]:
    events: list[UsageEvent] = []
    day = date(*month, 1)
    while day.month == month[1]:
        workday = day.weekday() < 5
        count = rng.randint(*sessions_per_day) if workday else rng.randint(0, 1)
        hour = 8.5
        for session_index in range(count):
            source, provider, model, _share = rng.choices(AGENTS, weights=[a[3] for a in AGENTS])[0]
            project = rng.choice(PROJECTS)
            session = f"{day:%Y%m%d}-{session_index}-{model}"
            start = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour)
            requests = rng.randint(15, 70)
            for n in range(requests):
                moment = start + timedelta(seconds=n * rng.randint(40, 110))
                events.append(
                    UsageEvent(
                        source=source,
                        provider=provider,
                        model=model,
                        timestamp=moment,
                        dedupe_key=f"{session}-{n}",
                        input_tokens=rng.randint(1_500, 18_000),
                        output_tokens=rng.randint(250, 3_200),
                        cache_read_tokens=rng.randint(10_000, 140_000),
                        cache_write_5m_tokens=rng.randint(0, 9_000),
                        session_id=session,
                        project=project,
                        git_branch="main" if rng.random() < 0.3 else f"feature-{rng.randint(100, 999)}",
                    )
                )
            hour += rng.uniform(1.2, 3.0)
        day += timedelta(days=1)
    return events


def _api_buckets(rng: random.Random, month: tuple[int, int]) -> tuple[list[UsageEvent], list[dict[str, object]]]:
    """Hourly usage buckets of an OpenAI organisation (gpt-4.1) and the daily bill for them."""
    events, bills = [], []
    day = date(*month, 1)
    polled = datetime(2026, 4, 1, 6, tzinfo=UTC)
    while day.month == month[1]:
        if day.weekday() < 5:
            for hour in (10, 14, 16):
                events.append(
                    UsageEvent(
                        source="openai",
                        provider="openai",
                        model="gpt-4.1",
                        timestamp=datetime(day.year, day.month, day.day, hour, tzinfo=UTC),
                        dedupe_key=f"oai-{day}-{hour}",
                        input_tokens=rng.randint(200_000, 900_000),
                        output_tokens=rng.randint(20_000, 80_000),
                        request_count=rng.randint(80, 300),
                        bucket_seconds=3600,
                        account="openai:work",
                    )
                )
            bills.append(
                {
                    "dedupe_key": f"oai-cost-{day}",
                    "source": "openai",
                    "provider": "openai",
                    "account": "openai:work",
                    "ts": datetime(day.year, day.month, day.day, tzinfo=UTC),
                    "bucket_seconds": 86_400,
                    "model": "gpt-4.1",
                    "line_item": "gpt-4.1, input",
                    "cost_type": None,
                    "token_type": None,
                    "service_tier": None,
                    "context_window": None,
                    "project": None,
                    "amount": Decimal(rng.randint(380, 720)) / 100,
                    "currency": "USD",
                    "quantity": None,
                    "quantity_unit": None,
                    "polled_at": polled,
                }
            )
        day += timedelta(days=1)
    return events, bills


def build_sample_ledger(db: Database) -> None:
    """February and March 2026: agent sessions, an API organisation with bills, tasks, a plan."""
    rng = random.Random(7)
    events = _events(rng, (2026, 2), (1, 2)) + _events(rng, SAMPLE_MONTH, (1, 3))
    api_events, bills = _api_buckets(rng, SAMPLE_MONTH)
    book = PriceBook({})
    stamp = to_epoch_ms(datetime(2026, 4, 1, 7, tzinfo=UTC))
    with db.engine.begin() as conn:
        upsert_rows(conn, [event_row(e, book, stamp) for e in events + api_events], "latest")
        upsert_billed(conn, bills)
    march = sorted((e for e in events if e.timestamp.month == 3), key=lambda e: e.timestamp)
    sessions: dict[str, list[datetime]] = {}
    for item in march:
        sessions.setdefault(item.session_id or "", []).append(item.timestamp)
    spans = sorted((min(times), max(times)) for times in sessions.values())
    for index, (title, category, value) in enumerate(TASKS):
        start, end = spans[(index * len(spans)) // len(TASKS)]
        log_task(
            db,
            TaskDraft(
                title,
                Decimal(value),
                start - timedelta(minutes=5),
                end + timedelta(minutes=5),
                category=category,
            ),
        )
    set_plan(db, "Claude Max", monthly_fee=Decimal(200), covers=["claude-code"])
    polled = datetime(2026, 4, 1, 6, tzinfo=UTC)
    with db.session() as session:
        session.add(
            ProviderAccount(
                provider="openai",
                label="work",
                key_last4="9f2c",
                created_at=polled,
                last_poll_at=polled,
                last_status="ok",
            )
        )
    with db.transaction() as tx:
        for source in ("claude-code", "codex", "gemini-cli"):
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (:key, :value)",
                {"key": f"last_import:{source}", "value": "2026-04-01T07:00:00+00:00"},
            )


def main(folder: Path) -> Path:
    """Export the sample month as PDF and save its first page as a PNG in `folder`."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from tokenworth.core.config import sqlite_url
    from tokenworth.core.db import open_database
    from tokenworth.services.export import export_month
    from tokenworth.services.monthly_summary import build_monthly_summary
    from tokenworth.ui.export_hooks import qt_export_hooks

    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise SystemExit("pdftoppm is needed (apt-get install poppler-utils)")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        db = open_database(sqlite_url(work / "sample.db"))
        try:
            build_sample_ledger(db)
            summary = build_monthly_summary(
                db,
                month=SAMPLE_MONTH,
                zone=UTC,
                budget=SAMPLE_BUDGET,
                now=datetime(2026, 4, 1, 8, tzinfo=UTC),
            )
            [result] = export_month(summary, db, ["pdf"], out=work / "sample.pdf", cwd=work, hooks=qt_export_hooks())
        finally:
            db.dispose()
        subprocess.run(
            [pdftoppm, "-r", "110", "-f", "1", "-l", "1", "-png", str(result.target), str(work / "page")], check=True
        )
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "export-sample-page1.png"
        shutil.copyfile(next(work.glob("page-*1.png")), target)
    return target


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("resources/screenshots")))
