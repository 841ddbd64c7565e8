"""Fill a ledger with realistic demo usage: five models across three agents, four projects,
weekday rhythm, sessions of a few dozen requests, priced like real imports.

    python tests/bench/make_demo_ledger.py --home /tmp/demo --days 60 --per-day 260 --budget 380

Used by the screenshots script and the idle benchmark (a year of history: --days 365).
"""

from __future__ import annotations

import argparse
import random
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
if str(APP) not in sys.path:
    sys.path.insert(0, str(APP))

from tokenworth.core.config import resolve_paths  # noqa: E402
from tokenworth.core.db import Database, open_database  # noqa: E402
from tokenworth.core.ledger import upsert_rows  # noqa: E402
from tokenworth.core.pricing import PriceBook  # noqa: E402
from tokenworth.core.settings import Settings, load_settings, save_settings  # noqa: E402
from tokenworth.core.timeutil import to_epoch_ms  # noqa: E402
from tokenworth.services.prices import keep_learned_prices  # noqa: E402
from tokenworth.services.record_rows import event_row  # noqa: E402
from tokenworth.sources.records import UsageEvent  # noqa: E402


@dataclass(frozen=True)
class Profile:
    source: str
    provider: str
    model: str
    weight: float
    cache_read: tuple[int, int]
    output: tuple[int, int]


PROFILES = (
    Profile("claude-code", "anthropic", "claude-sonnet-4-5-20250929", 0.46, (30_000, 140_000), (150, 2_500)),
    Profile("claude-code", "anthropic", "claude-opus-4-5-20251101", 0.14, (40_000, 160_000), (200, 3_000)),
    Profile("claude-code", "anthropic", "claude-haiku-4-5-20251001", 0.14, (10_000, 60_000), (50, 800)),
    Profile("codex", "openai", "gpt-5-codex", 0.18, (20_000, 120_000), (100, 2_000)),
    Profile("gemini-cli", "google", "gemini-2.5-pro", 0.08, (10_000, 90_000), (100, 1_800)),
)
PROJECTS = (
    ("/home/dev/tokenworth", 0.38, ("main", "feature/tray", "fix/forecast")),
    ("/home/dev/webshop", 0.27, ("main", "checkout-v2")),
    ("/home/dev/ml-pipeline", 0.2, ("main", "exp/distill")),
    ("/home/dev/infra", 0.15, ("main",)),
)


def _pick(rng: random.Random, items: tuple, weights: list[float]):
    return rng.choices(items, weights=weights, k=1)[0]


def demo_events(end: date, days: int, per_day: int, seed: int = 7) -> list[UsageEvent]:
    """Usage events for `days` days ending on `end` (UTC working hours, lighter weekends)."""
    rng = random.Random(seed)
    events: list[UsageEvent] = []
    start = end - timedelta(days=days - 1)
    for offset in range(days):
        day = start + timedelta(days=offset)
        weekend = day.weekday() >= 5
        growth = 0.75 + 0.5 * offset / max(days - 1, 1)  # usage grows over the period
        count = int(per_day * growth * (0.25 if weekend else 1.0) * rng.uniform(0.7, 1.3))
        remaining = count
        while remaining > 0:
            profile = _pick(rng, PROFILES, [p.weight for p in PROFILES])
            project, _w, branches = _pick(rng, PROJECTS, [p[1] for p in PROJECTS])
            branch = rng.choice(branches)
            session = str(uuid.UUID(int=rng.getrandbits(128)))
            length = min(remaining, rng.randint(8, 60))
            moment = datetime(day.year, day.month, day.day, rng.randint(7, 19), rng.randint(0, 59), tzinfo=UTC)
            for _ in range(length):
                moment += timedelta(seconds=rng.randint(5, 90))
                message = f"msg_{rng.getrandbits(64):016x}"
                events.append(
                    UsageEvent(
                        source=profile.source,
                        provider=profile.provider,
                        model=profile.model,
                        timestamp=moment,
                        dedupe_key=f"demo:{profile.source}:{message}",
                        input_tokens=rng.randint(3, 60),
                        output_tokens=rng.randint(*profile.output),
                        cache_read_tokens=rng.randint(*profile.cache_read),
                        cache_write_5m_tokens=rng.randint(0, 9_000),
                        project=project,
                        session_id=session,
                        git_branch=branch,
                        message_id=message,
                        request_id=f"req_{message[4:]}",
                    )
                )
            remaining -= length
    return events


def fill(db: Database, events: list[UsageEvent]) -> int:
    book = PriceBook({})
    imported_at = to_epoch_ms(datetime.now(UTC))
    rows = [event_row(event, book, imported_at) for event in events]
    with db.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            upsert_rows(conn, rows[start : start + 5000], "latest")
    with db.transaction() as tx:  # as an import leaves them: the models seen keep their prices
        keep_learned_prices(tx, book)
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="TOKENWORTH_HOME to fill")
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--per-day", type=int, default=260, help="requests on an average weekday")
    parser.add_argument("--end", type=date.fromisoformat, default=None, help="last day (default today, UTC)")
    parser.add_argument("--budget", type=Decimal, default=None, help="monthly budget to put in settings")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    paths = resolve_paths({"TOKENWORTH_HOME": str(args.home)})
    db = open_database(paths.db_url)
    try:
        end = args.end or datetime.now(UTC).date()
        count = fill(db, demo_events(end, args.days, args.per_day, args.seed))
    finally:
        db.dispose()
    settings, _ = load_settings(paths.settings_file)
    if args.budget is not None:
        settings = settings.with_changes(monthly_budget=args.budget)
    save_settings(paths.settings_file, settings if isinstance(settings, Settings) else Settings())
    print(f"{count:,} demo records written to {paths.db_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
