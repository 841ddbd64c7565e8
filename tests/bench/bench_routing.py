"""Benchmark `tokenworth report routing` on a synthetic ledger of valued tasks.

Run from the repository root: `python tests/bench/bench_routing.py [--tasks N] [--records-per-task R]`.
Builds a throwaway SQLite ledger (tasks over three months, each one agent session on one of a
few real models, priced by the bundled price database), then times the month's routing report
cold (first in the process: the price database loads) and warm. Prints one line per figure.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "app"))

from sqlalchemy import insert

from tokenworth.core.config import sqlite_url
from tokenworth.core.db import open_database
from tokenworth.core.ledger import upsert_rows
from tokenworth.core.pricing import PriceBook
from tokenworth.core.task_models import Task, TaskSession
from tokenworth.core.timeutil import to_epoch_ms
from tokenworth.services.attribution import rebuild_attribution
from tokenworth.services.record_rows import event_row
from tokenworth.services.routing import routing_report
from tokenworth.sources.records import UsageEvent

MODELS = (
    ("anthropic", "claude-sonnet-4-5-20250929"),
    ("anthropic", "claude-opus-4-5-20251101"),
    ("anthropic", "claude-haiku-4-5-20251001"),
    ("openai", "gpt-5"),
    ("openai", "gpt-5-mini"),
)
CATEGORIES = ("coding", "docs", "research", "extraction", "legal")
START = datetime(2025, 11, 1, tzinfo=UTC)


def build(path: Path, tasks: int, per_task: int, seed: int = 11) -> tuple[int, float]:
    """The synthetic ledger; returns (records, seconds)."""
    rng = random.Random(seed)
    began = time.perf_counter()
    db = open_database(sqlite_url(path))
    book = PriceBook()
    stamp = to_epoch_ms(datetime.now(UTC))
    rows = []
    task_rows = []
    session_rows = []
    for number in range(1, tasks + 1):
        category = CATEGORIES[number % len(CATEGORIES)]
        provider, model = MODELS[rng.randrange(len(MODELS))]
        begin = START + timedelta(minutes=rng.randrange(90 * 24 * 60))
        session = f"bench-{number}"
        for index in range(per_task):
            rows.append(
                event_row(
                    UsageEvent(
                        source="claude-code",
                        provider=provider,
                        model=model,
                        timestamp=begin + timedelta(seconds=20 * index),
                        dedupe_key=f"{session}-{index}",
                        input_tokens=rng.randrange(500, 20_000),
                        output_tokens=rng.randrange(100, 4_000),
                        cache_read_tokens=rng.randrange(0, 150_000),
                        cache_write_5m_tokens=rng.randrange(0, 10_000),
                        session_id=session,
                        project="/bench",
                    ),
                    book,
                    stamp,
                )
            )
        end = begin + timedelta(seconds=20 * per_task)
        task_rows.append(
            {
                "id": number,
                "title": f"task {number}",
                "category": category,
                "value": Decimal(rng.randrange(20, 400)),
                "started_at": begin,
                "ended_at": end,
                "active": False,
                "created_at": end,
                "updated_at": end,
            }
        )
        session_rows.append({"task_id": number, "session_id": session, "assigned_at": end})
    with db.engine.begin() as conn:
        upsert_rows(conn, rows, "latest")
    with db.session() as session:
        session.execute(insert(Task), task_rows)
        session.execute(insert(TaskSession), session_rows)
    rebuild_attribution(db)
    db.dispose()
    return len(rows), time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2_000)
    parser.add_argument("--records-per-task", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        records, seconds = build(path, args.tasks, args.records_per_task)
        print(f"ledger: {args.tasks:,} tasks, {records:,} records built in {seconds:.1f} s")
        db = open_database(sqlite_url(path))
        for label in ("cold", "warm"):
            began = time.perf_counter()
            report = routing_report(db, month=(2026, 1), zone=UTC)
            elapsed = time.perf_counter() - began
            print(
                f"report routing 2026-01 ({label}): {elapsed:.2f} s; {len(report.cells)} category/model cells, "
                f"{len(report.suggestions)} suggestions, {len(report.candidates)} candidates"
            )
        db.dispose()


if __name__ == "__main__":
    main()
