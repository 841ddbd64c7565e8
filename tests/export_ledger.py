"""The known ledger of `task_ledger` (January 2026, UTC) plus what a monthly export also shows:
a December record (the previous month), a billed OpenAI line, a polled provider account, a last
import time and a plan. Figures by hand (API prices: alpha $10, beta $20 per million tokens):

    January spend (report monthly): r1 1 + r2 2 + r3 2 + r5 3.60 + r6 24 + r7 1 = $33.60 (+ r4 unpriced)
    December spend: r0 $1.00
    Tasks (January): Feature A $30, Review $3, Codex work $0, Spike $50, "Café ünïcode, \"quoted\"" $5
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from task_ledger import at, event, known_events, write_events
from tokenworth.core.db import Database
from tokenworth.core.provider_models import ProviderAccount
from tokenworth.services.plans import set_plan
from tokenworth.services.polling import upsert_billed
from tokenworth.services.tasks import Assignment, TaskDraft, log_task

MONTH = (2026, 1)
JANUARY_SPEND = Decimal("33.6")
UNICODE_TITLE = 'Café ünïcode, "quoted"'


def build_export_ledger(db: Database, *, plan: bool = True) -> dict[str, int]:
    """Write the ledger and its tasks; returns task ids by title."""
    write_events(db, [*known_events(), event("r0", datetime(2025, 12, 15, 9, tzinfo=UTC))])
    tasks = [
        log_task(db, TaskDraft("Feature A", Decimal(30), at(5, 10), at(5, 11), category="coding")),
        log_task(db, TaskDraft("Review", Decimal(3), at(5, 10, 30), at(5, 11, 30), category="coding")),
        log_task(
            db,
            TaskDraft("Codex work", Decimal(0), category="research", assignments=(Assignment(session_id="S2"),)),
        ),
        log_task(db, TaskDraft("Spike", Decimal(50), at(10, 9), at(10, 10), category="research")),
        log_task(db, TaskDraft(UNICODE_TITLE, Decimal(5), at(20, 8, 30), at(20, 9, 30), category="writing")),
    ]
    polled = datetime(2026, 2, 1, 6, tzinfo=UTC)
    with db.engine.begin() as conn:
        upsert_billed(
            conn,
            [
                {
                    "dedupe_key": "openai-cost-1",
                    "source": "openai",
                    "provider": "openai",
                    "account": "openai:default",
                    "ts": datetime(2026, 1, 5, tzinfo=UTC),
                    "bucket_seconds": 86_400,
                    "model": "beta",
                    "line_item": "beta, input",
                    "cost_type": None,
                    "token_type": None,
                    "service_tier": None,
                    "context_window": None,
                    "project": None,
                    "amount": Decimal("2.25"),
                    "currency": "USD",
                    "quantity": None,
                    "quantity_unit": None,
                    "polled_at": polled,
                }
            ],
        )
    with db.session() as session:
        session.add(
            ProviderAccount(
                provider="openai",
                label="default",
                key_last4="abcd",
                created_at=polled,
                last_poll_at=polled,
                last_status="ok",
            )
        )
    with db.transaction() as tx:
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (:key, :value)",
            {"key": "last_import:claude-code", "value": "2026-02-01T07:30:00+00:00"},
        )
    if plan:
        set_plan(db, "Claude Max", monthly_fee=Decimal(100), covers=["claude-code"])
    return {task.title: task.id for task in tasks}
