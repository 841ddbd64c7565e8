"""Known histories for the routing tests: tasks on models with flat prices, each task one agent session.

Prices (user overrides, USD per million tokens: input / output / cache read):

    big    anthropic  10    / 50   / 1
    mid    openai      2    / 10   / 0.2
    small  openai      0.5  / 2    / 0.05
    nano   openai      0.05 / 0.2  / 0.005
    tiny   openai      0.1  / 0.4  / 0.01   (never used: only a curated candidate)

A standard task is one request of 100k input and 20k output tokens, so it costs
big $2.00, mid $0.40, small $0.09, nano $0.009, tiny $0.018.

The main history (`build_history`), all UTC:

    December 2025   docs on mid       6 tasks worth $95 each     (measured as good as big)
                    docs on small     5 tasks worth $50 each     (measured worse)
                    coding on small   2 tasks worth $80 each     (thin)
    January 2026    docs on big       7 tasks worth $100 each    ($14.00)
                    coding on big     4 tasks worth $100 each    ($8.00)
                    research on mid   2 tasks of 1M in / 100k out ($3.00 each) worth $2 and $1
                    legal on nano     3 tasks worth $10 each     (nothing is cheaper)
                    one big request in no task ($2.00 unattributed)
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path

from tokenworth.core.config import sqlite_url
from tokenworth.core.db import Database, open_database
from tokenworth.core.ledger import upsert_rows
from tokenworth.core.timeutil import to_epoch_ms
from tokenworth.services.prices import OverrideInput, load_price_book, set_override
from tokenworth.services.record_rows import event_row
from tokenworth.services.tasks import Assignment, TaskDraft, TaskView, log_task
from tokenworth.sources.records import UsageEvent

PRICES = {
    "big": ("anthropic", "10", "50", "1"),
    "mid": ("openai", "2", "10", "0.2"),
    "small": ("openai", "0.5", "2", "0.05"),
    "nano": ("openai", "0.05", "0.2", "0.005"),
    "tiny": ("openai", "0.1", "0.4", "0.01"),
}
CURATED = ("tiny",)
"""The curated candidate list the tests use (instead of the real well-known models)."""

_serial = count(1)


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def set_prices(db: Database) -> None:
    for model, (provider, input_mtok, output_mtok, cache_read) in PRICES.items():
        set_override(
            db,
            OverrideInput(
                provider, model, Decimal(input_mtok), Decimal(output_mtok), cache_read_mtok=Decimal(cache_read)
            ),
        )


@dataclass(frozen=True)
class Request:
    """One request of a task: its model and tokens."""

    model: str
    input_tokens: int = 100_000
    output_tokens: int = 20_000
    cache_read_tokens: int = 0


def write(db: Database, events: list[UsageEvent]) -> None:
    book = load_price_book(db)
    stamp = to_epoch_ms(datetime.now(UTC))
    with db.engine.begin() as conn:
        upsert_rows(conn, [event_row(item, book, stamp) for item in events], "latest")


def task(
    db: Database,
    category: str | None,
    when: datetime,
    value: str | None,
    *requests: Request,
    title: str | None = None,
    project: str = "/p/app",
) -> TaskView:
    """A finished task holding its own session's requests (a minute apart from `when`)."""
    number = next(_serial)
    session = f"S{number}"
    events = [
        UsageEvent(
            source="claude-code",
            provider=PRICES[request.model][0],
            model=request.model,
            timestamp=when.replace(minute=index),
            dedupe_key=f"{session}-{index}",
            input_tokens=request.input_tokens,
            output_tokens=request.output_tokens,
            cache_read_tokens=request.cache_read_tokens,
            session_id=session,
            project=project,
        )
        for index, request in enumerate(requests or (Request("big"),))
    ]
    write(db, events)
    return log_task(
        db,
        TaskDraft(
            title or f"{category or 'misc'} {number}",
            None if value is None else Decimal(value),
            category=category,
            assignments=(Assignment(session_id=session),),
        ),
        now=max(datetime.now(UTC), when + timedelta(hours=1)),  # logged once done, even in a test's future
    )


def build_history(db: Database) -> dict[str, list[TaskView]]:
    """The main history (see the module doc); returns the tasks by label."""
    set_prices(db)
    made: dict[str, list[TaskView]] = {}

    def many(label: str, n: int, category: str, month: int, year: int, value: str, request: Request) -> None:
        made[label] = [task(db, category, at(year, month, 1 + day), value, request) for day in range(n)]

    many("docs-mid", 6, "docs", 12, 2025, "95", Request("mid"))
    many("docs-small", 5, "docs", 12, 2025, "50", Request("small"))
    many("coding-small", 2, "coding", 12, 2025, "80", Request("small"))
    many("docs-big", 7, "docs", 1, 2026, "100", Request("big"))
    many("coding-big", 4, "coding", 1, 2026, "100", Request("big"))
    research = Request("mid", 1_000_000, 100_000)
    made["research-mid"] = [
        task(db, "research", at(2026, 1, 20), "2", research, title="Deep dive"),
        task(db, "research", at(2026, 1, 21), "1", research, title="Survey"),
    ]
    many("legal-nano", 3, "legal", 1, 2026, "10", Request("nano"))
    write(
        db,
        [
            UsageEvent(
                source="claude-code",
                provider="anthropic",
                model="big",
                timestamp=at(2026, 1, 25),
                dedupe_key="loose",
                input_tokens=100_000,
                output_tokens=20_000,
                session_id="loose",
                project="/p/other",
            )
        ],
    )
    return made


def history_file(folder: Path) -> Path:
    """The main history built once into a SQLite file (copied per test: building takes a second)."""
    path = folder / "history.db"
    db = open_database(sqlite_url(path))
    try:
        build_history(db)
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.dispose()
    return path


def copy_ledger(source: Path, target: Path) -> Database:
    """A private copy of a built ledger, opened."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return open_database(sqlite_url(target))
