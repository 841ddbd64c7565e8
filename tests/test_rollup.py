"""The usage rollup stays equal to a GROUP BY over the records through every kind of write, and
reports read from it say exactly what reports read from the records say."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tokenworth.core.db import Database
from tokenworth.core.ledger import BULK_MIN_ROWS, drop_sidechain_replays, upsert_rows
from tokenworth.core.rollup import INSERT_TRIGGER_NAME, SLOT_MS
from tokenworth.services.reports import REPORT_KINDS, usage_report

ROLLUP_SQL = (
    "SELECT slot_ms, source, provider, model, project, input_tokens, output_tokens, cache_read_tokens,"
    " cache_write_tokens, reasoning_tokens, requests, records, cost, unpriced FROM usage_rollup"
    " ORDER BY 1, 2, 3, 4, 5"
)
RECORDS_SQL = (
    f"SELECT ts - ts % {SLOT_MS}, source, provider, model, COALESCE(project, ''), SUM(input_tokens),"
    " SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_5m_tokens + cache_write_1h_tokens),"
    " SUM(reasoning_tokens), SUM(request_count), COUNT(*), COALESCE(SUM(cost), 0),"
    " SUM(CASE WHEN cost IS NULL THEN 1 ELSE 0 END) FROM usage_records"
    f" GROUP BY ts - ts % {SLOT_MS}, source, provider, model, COALESCE(project, '') ORDER BY 1, 2, 3, 4, 5"
)
START = datetime(2026, 1, 1, tzinfo=UTC)


def _row(rng: random.Random, key: str) -> dict[str, object]:
    unpriced = rng.random() < 0.2
    return {
        "dedupe_key": key,
        "source": rng.choice(["claude-code", "codex", "openai"]),
        "provider": rng.choice(["anthropic", "openai"]),
        "account": None,
        "model": rng.choice(["m-a", "m-b", "m-c"]),
        # few distinct slots, so most rollup rows sum many records and survive deletes
        "ts": int((START + timedelta(minutes=7 * rng.randrange(0, 12), hours=rng.randrange(0, 3))).timestamp() * 1000),
        "bucket_seconds": 0,
        "input_tokens": rng.randrange(0, 5000),
        "output_tokens": rng.randrange(0, 5000),
        "cache_read_tokens": rng.randrange(0, 50000),
        "cache_write_5m_tokens": rng.randrange(0, 3000),
        "cache_write_1h_tokens": rng.randrange(0, 3000),
        "reasoning_tokens": rng.randrange(0, 100),
        "request_count": rng.randrange(1, 3),
        "cost": None if unpriced else rng.randrange(0, 10**9),
        "cost_provenance": "unpriced" if unpriced else "computed",
        "estimated_cost": None,
        "price_version": None,
        "speed": None,
        "project": rng.choice([None, "/w/app", "/w/lib"]),
        "session_id": rng.choice(["s1", "s2"]),
        "git_branch": None,
        "message_id": f"msg-{rng.randrange(0, 40)}",
        "request_id": key,
        "is_sidechain": rng.random() < 0.3,
        "web_search_requests": 0,
        "imported_at": 0,
    }


def test_rollup_follows_inserts_updates_and_deletes(db: Database) -> None:
    rng = random.Random(7)
    for round_ in range(6):
        rows = [_row(rng, f"k{rng.randrange(0, 300)}") for _ in range(150)]  # many keys repeat: updates
        with db.transaction() as tx:
            upsert_rows(tx, rows, "fullest" if round_ % 2 else "latest")
        with db.transaction() as tx:
            drop_sidechain_replays(tx, "claude-code", [f"msg-{n}" for n in range(40)])
            tx.execute("UPDATE usage_records SET cost = NULL WHERE id % 17 = :r", {"r": round_})
            tx.execute("UPDATE usage_records SET model = 'm-z', project = NULL WHERE id % 23 = :r", {"r": round_})
            tx.execute("DELETE FROM usage_records WHERE id % 29 = :r", {"r": round_})
        assert db.fetch(ROLLUP_SQL) == db.fetch(RECORDS_SQL)
    assert db.fetch("SELECT COUNT(*) FROM usage_rollup WHERE records = 0") == [(0,)]


TRIGGER_SQL = "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name"


def test_large_batches_keep_the_rollup_exact_and_the_trigger_in_place(db: Database) -> None:
    """A large import batch adds its rows to the rollup grouped, not per row; the result is the same."""
    trigger_before = db.fetch(TRIGGER_SQL, {"name": INSERT_TRIGGER_NAME})
    assert trigger_before
    rng = random.Random(5)
    for round_ in range(4):
        # half of each batch's keys were written before: inserts and fuller updates in one batch
        keys = [f"k{rng.randrange(0, 4 * BULK_MIN_ROWS)}" for _ in range(2 * BULK_MIN_ROWS)]
        with db.transaction() as tx:
            upsert_rows(tx, [_row(rng, key) for key in keys], "fullest" if round_ % 2 else "latest")
        with db.transaction() as tx:  # small writes afterwards still go through the trigger
            upsert_rows(tx, [_row(rng, f"small{round_}-{n}") for n in range(3)], "latest")
            tx.execute("DELETE FROM usage_records WHERE id % 31 = :r", {"r": round_})
        assert db.fetch(ROLLUP_SQL) == db.fetch(RECORDS_SQL)
    assert db.fetch(TRIGGER_SQL, {"name": INSERT_TRIGGER_NAME}) == trigger_before


def test_a_failed_large_batch_leaves_records_rollup_and_trigger_as_they_were(db: Database) -> None:
    rng = random.Random(9)
    with db.transaction() as tx:
        upsert_rows(tx, [_row(rng, f"k{n}") for n in range(50)], "latest")
    before = (db.fetch(ROLLUP_SQL), db.fetch("SELECT COUNT(*) FROM usage_records"))
    rows = [_row(rng, f"new{n}") for n in range(BULK_MIN_ROWS + 10)]
    rows[-1]["model"] = None  # NOT NULL: the batch fails after most rows were written
    with pytest.raises(Exception, match="NOT NULL"), db.transaction() as tx:
        upsert_rows(tx, rows, "latest")
    assert (db.fetch(ROLLUP_SQL), db.fetch("SELECT COUNT(*) FROM usage_records")) == before
    assert db.fetch(TRIGGER_SQL, {"name": INSERT_TRIGGER_NAME})
    with db.transaction() as tx:  # and the trigger still works
        upsert_rows(tx, [_row(rng, "after")], "latest")
    assert db.fetch(ROLLUP_SQL) == db.fetch(RECORDS_SQL)


class _RecordsOnly(Database):
    """The same file, read as a database without a rollup (like PostgreSQL)."""

    @property
    def dialect(self) -> str:
        return "generic"


@pytest.mark.parametrize("kind", REPORT_KINDS)
@pytest.mark.parametrize("zone", [UTC, ZoneInfo("Asia/Kolkata"), ZoneInfo("America/Los_Angeles")])
def test_reports_from_the_rollup_equal_reports_from_records(db: Database, kind: str, zone: object) -> None:
    rng = random.Random(11)
    with db.transaction() as tx:
        upsert_rows(tx, [_row(rng, f"k{n}") for n in range(400)], "latest")
    plain = _RecordsOnly(db.url)
    for since, until in ((None, None), (date(2026, 1, 10), date(2026, 1, 20))):
        for filters in ({}, {"sources": ["codex"]}, {"projects": ["/w/app"]}):
            rolled = usage_report(db, kind, zone=zone, since=since, until=until, **filters)  # type: ignore[arg-type]
            direct = usage_report(plain, kind, zone=zone, since=since, until=until, **filters)  # type: ignore[arg-type]
            assert rolled.as_json() == direct.as_json()
