"""Polling the providers' usage and cost APIs against a real HTTP server serving their documented
shapes: pagination, backfill, incremental polls, updates in place, every fault, and reconcile."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from provider_fakes import FAKE_KEY, NOW, SAMPLES, FakeProviders
from tokenworth.core.db import Database
from tokenworth.core.models import UsageRecord
from tokenworth.core.provider_models import BilledCost, PollProgress, ProviderAccount
from tokenworth.core.secrets import SecretStore
from tokenworth.services import polling
from tokenworth.services.accounts import store_key
from tokenworth.services.importing import import_local_logs
from tokenworth.services.polling import PollSummary, plan_windows, poll_accounts
from tokenworth.services.prices import reprice
from tokenworth.services.reconcile import reconcile_report
from tokenworth.services.reports import usage_report
from tokenworth.sources.provider_http import RetryPolicy

DAILY_BUCKETS = 89  # 2025-10-12 .. 2026-01-08
HOURLY_BUCKETS = 37  # 2026-01-09 00:00 .. 2026-01-10 12:00
COST_BUCKETS = 91  # 2025-10-12 .. 2026-01-10


@pytest.fixture
def secrets(memory_keyring: Any) -> SecretStore:
    return SecretStore()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def poll(db: Database, secrets: SecretStore, fake_env: dict[str, str], http: httpx.Client, sleeps: list[float]) -> Any:
    """poll(**kwargs) -> PollSummary, with the fake clock, the test client and a recording sleep."""

    def run(env: dict[str, str] | None = None, **kwargs: Any) -> PollSummary:
        kwargs.setdefault("clock", lambda: NOW)
        kwargs.setdefault("http", http)
        kwargs.setdefault("retry", RetryPolicy(sleep=sleeps.append, jitter=lambda: 0.5))
        return poll_accounts(db, secrets, env=env or fake_env, **kwargs)

    return run


def add_account(
    db: Database,
    secrets: SecretStore,
    env: dict[str, str],
    provider: str,
    label: str = "default",
    key: str = FAKE_KEY,
) -> None:
    store_key(db, secrets, provider, label, key, env=env, check=False)


def count(db: Database, table: Any, **where: Any) -> int:
    query = select(func.count()).select_from(table)
    for name, value in where.items():
        query = query.where(getattr(table.c, name) == value)
    with db.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def usage_rows(db: Database) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(UsageRecord.__table__)).mappings()]


def progress(db: Database) -> dict[str, datetime]:
    with db.engine.connect() as conn:
        return {
            row.endpoint: row.next_start
            for row in conn.execute(select(PollProgress.__table__.c.endpoint, PollProgress.__table__.c.next_start))
        }


def endpoint_result(summary: PollSummary, provider: str, endpoint: str) -> Any:
    account = next(a for a in summary.accounts if a.provider == provider)
    return next(e for e in account.endpoints if e.endpoint == endpoint)


def test_windows_are_daily_then_hourly_for_the_last_two_days() -> None:
    windows = plan_windows(NOW - timedelta(days=90), NOW, ("1d", "1h"))
    assert windows == [
        (datetime(2025, 10, 12, tzinfo=UTC), datetime(2026, 1, 9, tzinfo=UTC), "1d"),
        (datetime(2026, 1, 9, tzinfo=UTC), None, "1h"),
    ]
    assert plan_windows(NOW - timedelta(hours=5), NOW, ("1d", "1h")) == [
        (datetime(2026, 1, 10, tzinfo=UTC), None, "1h")
    ]
    assert plan_windows(NOW - timedelta(days=3), NOW, ("1d",)) == [(datetime(2026, 1, 7, tzinfo=UTC), None, "1d")]


def test_first_openai_poll_backfills_90_days_over_several_pages(
    db: Database, secrets: SecretStore, fake_env: dict[str, str], fake: FakeProviders, poll: Any
) -> None:
    add_account(db, secrets, fake_env, "openai")
    summary = poll()
    assert summary.ok, summary.as_json()
    completions = endpoint_result(summary, "openai", "usage/completions")
    assert completions.pages == 4  # 89 daily buckets at 31 a page, then one hourly page
    assert completions.usage_rows == (DAILY_BUCKETS + HOURLY_BUCKETS) * 2
    assert endpoint_result(summary, "openai", "costs").billed_rows == COST_BUCKETS * 2

    # the requests: aligned to UTC midnight, grouped as documented, cursor sent back as `page`
    first = next(args for path, args, _ in fake.requests if path.endswith("usage/completions"))
    assert first["start_time"] == [str(int(datetime(2025, 10, 12, tzinfo=UTC).timestamp()))]
    assert first["group_by"] == ["model", "project_id", "api_key_id", "batch"]  # batch costs half
    embeddings = next(args for path, args, _ in fake.requests if path.endswith("usage/embeddings"))
    assert embeddings["group_by"] == ["model", "project_id", "api_key_id"]  # it takes no `batch`
    assert first["bucket_width"] == ["1d"]
    assert any(args.get("page") for path, args, _ in fake.requests if path.endswith("usage/completions"))

    rows = [r for r in usage_rows(db) if r["model"] == "gpt-4.1-mini-2025-04-14"]
    day = next(r for r in rows if r["ts"] == datetime(2026, 1, 1, tzinfo=UTC) and r["bucket_seconds"] == 86400)
    # input_tokens 52000 include 30000 cached and 1000 cache writes: 21000 uncached
    assert (day["input_tokens"], day["cache_read_tokens"], day["cache_write_5m_tokens"]) == (
        21000,
        30000,
        1000,
    )
    assert (day["output_tokens"], day["request_count"], day["account"]) == (4100, 37, "openai:default")
    assert day["source"] == "openai"
    assert day["cost_provenance"] == "computed"
    assert day["cost"] > 0
    embeddings = [r for r in usage_rows(db) if r["model"] == "text-embedding-3-small"]
    assert len(embeddings) == DAILY_BUCKETS + HOURLY_BUCKETS
    assert embeddings[0]["input_tokens"] == 120000

    with db.engine.connect() as conn:
        billed = (
            conn.execute(
                select(BilledCost.__table__).where(BilledCost.__table__.c.ts == datetime(2026, 1, 1, tzinfo=UTC))
            )
            .mappings()
            .all()
        )
    assert sorted(row["amount"] for row in billed) == [Decimal("0.00656"), Decimal("0.0412")]
    assert {row["model"] for row in billed} == {"gpt-4.1-mini-2025-04-14"}
    assert {row["currency"] for row in billed} == {"USD"}
    assert progress(db)["usage/completions"] == NOW


def test_repoll_updates_in_place_and_starts_where_the_last_poll_stopped(
    db: Database, secrets: SecretStore, fake_env: dict[str, str], fake: FakeProviders, poll: Any
) -> None:
    add_account(db, secrets, fake_env, "openai")
    poll()
    before_usage, before_billed = count(db, UsageRecord.__table__), count(db, BilledCost.__table__)
    fake.requests.clear()
    fake.scale = 2  # the provider restates its numbers
    summary = poll()
    assert summary.ok
    assert (count(db, UsageRecord.__table__), count(db, BilledCost.__table__)) == (
        before_usage,
        before_billed,
    )
    first = next(args for path, args, _ in fake.requests if path.endswith("usage/completions"))
    # incremental: two days of overlap before where the last poll stopped, not 90 days again
    assert first["start_time"] == [str(int(datetime(2026, 1, 8, tzinfo=UTC).timestamp()))]
    restated = [
        r for r in usage_rows(db) if r["model"] == "gpt-4o-2024-08-06" and r["ts"] >= datetime(2026, 1, 8, tzinfo=UTC)
    ]
    assert restated
    assert all(r["input_tokens"] == 16000 for r in restated)
    older = [
        r for r in usage_rows(db) if r["model"] == "gpt-4o-2024-08-06" and r["ts"] < datetime(2026, 1, 8, tzinfo=UTC)
    ]
    assert older
    assert all(r["input_tokens"] == 8000 for r in older)


def test_a_day_is_never_stored_both_hourly_and_daily(
    db: Database, secrets: SecretStore, fake_env: dict[str, str], fake: FakeProviders, poll: Any
) -> None:
    add_account(db, secrets, fake_env, "anthropic")
    poll()
    later = NOW + timedelta(days=2)
    fake.now = later
    assert poll(clock=lambda: later).ok
    widths_by_day: dict[date, set[int]] = {}
    for row in usage_rows(db):
        widths_by_day.setdefault(row["ts"].date(), set()).add(row["bucket_seconds"])
    assert all(len(widths) == 1 for widths in widths_by_day.values()), widths_by_day
    assert widths_by_day[date(2026, 1, 9)] == {86400}  # was hourly, is now one daily bucket
    assert widths_by_day[date(2026, 1, 11)] == {3600}
    hourly_10th = [r for r in usage_rows(db) if r["ts"].date() == date(2026, 1, 10)]
    assert len(hourly_10th) == 1  # the whole day again as one bucket (fake serves the same per bucket)


def test_anthropic_rows_split_cache_writes_count_searches_and_bill_in_cents(
    db: Database, secrets: SecretStore, fake_env: dict[str, str], fake: FakeProviders, poll: Any
) -> None:
    add_account(db, secrets, fake_env, "anthropic", "org")
    summary = poll()
    assert summary.ok, summary.as_json()
    assert endpoint_result(summary, "anthropic", "usage_report/messages").pages == 4
    assert endpoint_result(summary, "anthropic", "cost_report").pages == 3
    sent = next(args for path, args, _ in fake.requests if path.endswith("usage_report/messages"))
    assert sent["group_by[]"] == ["model", "workspace_id", "api_key_id", "service_tier", "context_window"]
    assert sent["starting_at"] == ["2025-10-12T00:00:00Z"]
    headers = next(h for path, _, h in fake.requests if path.endswith("cost_report"))
    assert headers["Anthropic-Version"] == "2023-06-01"
    row = next(r for r in usage_rows(db) if r["ts"] == datetime(2026, 1, 1, tzinfo=UTC))
    assert (row["input_tokens"], row["cache_read_tokens"], row["output_tokens"]) == (1500, 200000, 5200)
    assert (row["cache_write_5m_tokens"], row["cache_write_1h_tokens"]) == (500, 1000)
    assert row["web_search_requests"] == 2
    assert row["account"] == "anthropic:org"
    with db.engine.connect() as conn:
        amounts = sorted(
            conn.execute(
                select(BilledCost.__table__.c.amount).where(
                    BilledCost.__table__.c.ts == datetime(2026, 1, 1, tzinfo=UTC)
                )
            ).scalars()
        )
    assert amounts == [Decimal("0.0045"), Decimal("0.01"), Decimal("0.06")]  # "0.45", "1.0", "6.0" cents


@pytest.mark.parametrize(
    ("long_context", "cost"),
    [
        # 1,500 input x $3 + 5,200 output x $15 + 200,000 cache reads x $0.30 + 500 5-minute
        # writes x $3.75 + 1,000 1-hour writes x $6, per million (claude-sonnet-4-5)
        (False, Decimal("0.150375")),
        # every token at the long-context tier: $6, $22.50, $0.60, $7.50, $12 per million
        (True, Decimal("0.26175")),
    ],
)
def test_anthropic_bucket_rows_pay_the_tier_one_request_of_them_would(
    db: Database,
    secrets: SecretStore,
    fake_env: dict[str, str],
    fake: FakeProviders,
    poll: Any,
    long_context: bool,
    cost: Decimal,
) -> None:
    fake.long_context = long_context
    add_account(db, secrets, fake_env, "anthropic")
    assert poll().ok
    [row] = [r for r in usage_rows(db) if r["ts"] == datetime(2026, 1, 1, tzinfo=UTC)]
    assert (row["cost"], row["cost_provenance"]) == (cost, "computed")
    # `reprice` with no price changed prices the bucket the same way: not as one 203k-token request
    summary = reprice(db, since=datetime(2026, 1, 1, tzinfo=UTC), until=datetime(2026, 1, 2, tzinfo=UTC))
    assert summary.records == 1
    assert summary.changed == 0
    [again] = [r for r in usage_rows(db) if r["ts"] == datetime(2026, 1, 1, tzinfo=UTC)]
    assert (again["cost"], again["price_version"]) == (cost, row["price_version"])


def test_openrouter_activity_carries_its_own_charge_and_key_totals_are_details(
    db: Database, secrets: SecretStore, fake_env: dict[str, str], fake: FakeProviders, poll: Any
) -> None:
    add_account(db, secrets, fake_env, "openrouter")
    summary = poll()
    assert summary.ok, summary.as_json()
    details = summary.accounts[0].details
    assert details["is_management_key"] is True
    assert (details["usage_daily"], details["limit_remaining"], details["balance"]) == (
        "1.25",
        "74.5",
        "74.75",
    )
    rows = usage_rows(db)
    assert len(rows) == 2
    sonnet = next(r for r in rows if r["model"] == "anthropic/claude-sonnet-4.5")
    assert sonnet["cost"] == Decimal("0.8123")
    assert sonnet["cost_provenance"] == "reported"
    assert (sonnet["input_tokens"], sonnet["output_tokens"], sonnet["request_count"]) == (210000, 12000, 14)
    assert sonnet["ts"] == datetime(2026, 1, 9, tzinfo=UTC)
    assert poll().ok
    assert len(usage_rows(db)) == 2

    fake.management_key = False
    summary = poll()
    assert summary.ok
    assert [e.endpoint for e in summary.accounts[0].endpoints] == []


@pytest.mark.parametrize(
    ("retry_after", "expected_sleep"),
    [(None, 0.75), ("7", 7.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.75)],
)
def test_429_is_retried_with_backoff_honouring_retry_after(
    db: Database,
    secrets: SecretStore,
    fake_env: dict[str, str],
    fake: FakeProviders,
    poll: Any,
    sleeps: list[float],
    retry_after: str | None,
    expected_sleep: float,
) -> None:
    add_account(db, secrets, fake_env, "openai")
    fake.fail("/openai/v1/organization/usage/completions", "429", page=2, times=2, retry_after=retry_after)
    summary = poll()
    assert summary.ok, summary.as_json()
    assert sleeps[0] == expected_sleep  # 1 s base x (0.5 + 0.5 x jitter 0.5), or the server's wish
    assert len(sleeps) == 2
    assert count(db, UsageRecord.__table__, model="gpt-4o-2024-08-06") == DAILY_BUCKETS + HOURLY_BUCKETS


@pytest.mark.parametrize("status", ["500", "502", "503"])
def test_server_errors_exhaust_bounded_retries_then_the_next_poll_resumes(
    db: Database,
    secrets: SecretStore,
    fake_env: dict[str, str],
    fake: FakeProviders,
    poll: Any,
    sleeps: list[float],
    status: str,
) -> None:
    add_account(db, secrets, fake_env, "openai")
    fake.fail("/openai/v1/organization/usage/completions", status, page=3)
    summary = poll()
    account = summary.accounts[0]
    assert account.status == "unavailable"
    assert f"openai usage/completions: server error (HTTP {status}), still after 4 attempts" in account.error
    assert sleeps == [0.75, 1.5, 3.0]  # exponential, bounded
    # pages 1 and 2 were committed, with the progress that says so
    assert count(db, UsageRecord.__table__, model="gpt-4o-2024-08-06") == 62
    assert progress(db)["usage/completions"] == datetime(2025, 12, 13, tzinfo=UTC)
    with db.session() as session:
        stored = session.scalars(select(ProviderAccount)).one()
        assert stored.last_status == "unavailable"
        assert "HTTP" in (stored.last_error or "")

    fake.clear_faults()
    assert poll().ok
    assert count(db, UsageRecord.__table__, model="gpt-4o-2024-08-06") == DAILY_BUCKETS + HOURLY_BUCKETS


def test_connection_refused_is_retried_then_reported(
    db: Database, secrets: SecretStore, fake_env: dict[str, str], poll: Any, sleeps: list[float]
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    env = dict(fake_env, TOKENWORTH_OPENAI_BASE_URL=f"http://127.0.0.1:{closed_port}/v1")
    add_account(db, secrets, env, "openai")
    add_account(db, secrets, env, "anthropic")
    summary = poll(env=env)
    openai = next(a for a in summary.accounts if a.provider == "openai")
    assert openai.status == "unavailable"
    assert "cannot connect (ConnectError" in openai.error
    assert len(openai.endpoints) == 1  # the other endpoints are not hammered too
    assert len(sleeps) == 3
    assert next(a for a in summary.accounts if a.provider == "anthropic").ok


def test_read_timeout_is_retried_then_reported(
    db: Database,
    secrets: SecretStore,
    fake_env: dict[str, str],
    fake: FakeProviders,
    poll: Any,
    sleeps: list[float],
) -> None:
    add_account(db, secrets, fake_env, "openrouter")
    fake.fail("/openrouter/api/v1/key", "slow", times=1)
    with httpx.Client(timeout=httpx.Timeout(0.3)) as quick:
        summary = poll(http=quick)
    assert summary.ok, summary.as_json()  # one timeout, then the second attempt answers
    assert len(sleeps) == 1
    fake.fail("/openrouter/api/v1/key", "slow", times=3)
    with httpx.Client(timeout=httpx.Timeout(0.3)) as quick:
        summary = poll(http=quick)
    assert summary.accounts[0].status == "unavailable"
    assert "openrouter key: timed out (ReadTimeout), still after 2 attempts" in summary.accounts[0].error
    assert len(sleeps) == 2  # a hung endpoint is tried twice, not four times like a 503


def test_a_hung_endpoint_gives_up_within_a_minute() -> None:
    """Worst case with the app's client and policy: every attempt waits a whole read timeout."""
    from tokenworth.services.accounts import HTTP_TIMEOUT

    policy = polling.DEFAULT_RETRY
    assert HTTP_TIMEOUT.read is not None
    assert HTTP_TIMEOUT.read <= 20
    waits = [policy.backoff(n) for n in range(1, policy.timeout_attempts)]
    assert HTTP_TIMEOUT.read * policy.timeout_attempts + sum(waits) < 60
    assert policy.attempts == 4  # 429 and 5xx keep their retries


def test_a_rejected_key_is_not_retried_and_other_accounts_are_still_polled(
    db: Database,
    secrets: SecretStore,
    fake_env: dict[str, str],
    fake: FakeProviders,
    poll: Any,
    sleeps: list[float],
) -> None:
    add_account(db, secrets, fake_env, "openai", "revoked", key="sk-admin-REVOKED0000000000000000")
    add_account(db, secrets, fake_env, "openai", "good")
    fake.fail("/anthropic/v1/organizations/usage_report/messages", "403")
    add_account(db, secrets, fake_env, "anthropic")
    summary = poll()
    by_label = {(a.provider, a.label): a for a in summary.accounts}
    revoked = by_label[("openai", "revoked")]
    assert revoked.status == "key rejected"
    assert "openai usage/completions: the key was rejected (HTTP 401)" in revoked.error
    assert "REVOKED0000" not in revoked.error  # the provider's echo of the key is masked
    assert by_label[("anthropic", "default")].status == "key rejected"
    assert by_label[("openai", "good")].ok
    assert sleeps == []  # no retry storm
    rejected_calls = [p for p, _, h in fake.requests if "REVOKED" in h.get("Authorization", "")]
    assert len(rejected_calls) == 1


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("malformed", "malformed JSON"),
        ("truncated", "truncated JSON"),
        ("missing_field", "page 3, bucket 2025-12-13T00:00:00Z, result 0: missing field 'input_tokens'"),
        ("empty_page", "page 3: empty page"),
        ("repeat_cursor", "page 3: pagination cursor repeated"),
        ("redirect", "redirected (HTTP 302) to https://proxy.example.test/login; not followed"),
    ],
)
def test_a_bad_page_commits_nothing_from_it_and_loses_nothing_stored(
    db: Database,
    secrets: SecretStore,
    fake_env: dict[str, str],
    fake: FakeProviders,
    poll: Any,
    fault: str,
    message: str,
) -> None:
    add_account(db, secrets, fake_env, "openai")
    assert poll().ok
    full = count(db, UsageRecord.__table__)
    fake.fail("/openai/v1/organization/usage/completions", fault, page=3)
    summary = poll(since=datetime(2025, 10, 12, tzinfo=UTC))
    account = summary.accounts[0]
    assert account.status == "bad response"
    assert f"openai usage/completions: {message}" in account.error
    assert count(db, UsageRecord.__table__) == full  # nothing lost, nothing half-written
    # the page before was committed; the progress points at the failed page's start
    assert progress(db)["usage/completions"] == datetime(2025, 12, 13, tzinfo=UTC)
    # a bad page on one endpoint does not stop the others
    assert endpoint_result(summary, "openai", "costs").error is None
    assert endpoint_result(summary, "openai", "usage/embeddings").pages == 4


def test_an_unknown_field_is_ignored(
    db: Database, secrets: SecretStore, fake_env: dict[str, str], fake: FakeProviders, poll: Any
) -> None:
    add_account(db, secrets, fake_env, "anthropic")
    fake.fail("/anthropic/v1/organizations/usage_report/messages", "unknown_field")
    fake.fail("/anthropic/v1/organizations/cost_report", "unknown_field")
    assert poll().ok
    assert count(db, UsageRecord.__table__) == DAILY_BUCKETS + HOURLY_BUCKETS


def test_an_openai_cost_line_without_an_amount_bills_nothing_and_stops_nothing(
    db: Database, secrets: SecretStore, fake_env: dict[str, str], fake: FakeProviders, poll: Any
) -> None:
    """Only `object` is documented as required in a cost result: a line with no amount (a credit
    note, say) is skipped, and the lines beside it and after it are stored as usual."""

    def with_note(provider: str, endpoint: str, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if endpoint != "costs":
            return results
        note = {"object": "organization.costs.result", "line_item": "Credit adjustment"}
        return [*results, note, dict(note, amount=None), dict(note, amount={"currency": "usd", "value": None})]

    fake.restate = with_note
    add_account(db, secrets, fake_env, "openai")
    summary = poll()
    assert summary.ok, summary.as_json()
    assert endpoint_result(summary, "openai", "costs").billed_rows == COST_BUCKETS * 2
    assert progress(db)["costs"] is not None


def test_a_poll_that_died_on_page_3_is_completed_by_the_next_one(
    db: Database,
    secrets: SecretStore,
    fake_env: dict[str, str],
    fake: FakeProviders,
    poll: Any,
    tmp_path: Any,
) -> None:
    add_account(db, secrets, fake_env, "anthropic")
    fake.fail("/anthropic/v1/organizations/usage_report/messages", "500", page=3)
    assert not poll().ok
    assert count(db, UsageRecord.__table__) == 62
    path = db.engine.url.database
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    fake.clear_faults()
    assert poll().ok
    assert count(db, UsageRecord.__table__) == DAILY_BUCKETS + HOURLY_BUCKETS
    starts = sorted(r["ts"] for r in usage_rows(db) if r["bucket_seconds"] == 86400)
    assert starts == [datetime(2025, 10, 12, tzinfo=UTC) + timedelta(days=n) for n in range(DAILY_BUCKETS)]


def test_reconcile_sets_estimates_against_the_bill_without_double_counting(
    db: Database,
    secrets: SecretStore,
    fake_env: dict[str, str],
    fake: FakeProviders,
    poll: Any,
    claude_dir: Any,
    home: Any,
) -> None:
    project = claude_dir / "projects" / "-home-dev-tokenworth"
    project.mkdir(parents=True)
    shutil.copy(SAMPLES / "claude-code.jsonl", project / "session.jsonl")

    import_local_logs(db)
    add_account(db, secrets, fake_env, "anthropic")
    add_account(db, secrets, fake_env, "openai")
    assert poll().ok
    report = reconcile_report(db, zone=UTC, since=date(2026, 1, 5), until=date(2026, 1, 5))
    rows = {(r.provider, r.model): r for r in report.rows}
    sonnet = rows[("anthropic", "claude-sonnet-4-5-20250929")]
    assert sonnet.logs.present
    assert sonnet.usage_api.present
    assert sonnet.billed.amount == Decimal("0.0645")
    assert sonnet.difference == sonnet.billed.amount - sonnet.usage_api.amount
    assert rows[("anthropic", "(Web Search)")].billed.amount == Decimal("0.01")
    mini = rows[("openai", "gpt-4.1-mini-2025-04-14")]
    assert mini.billed.amount == Decimal("0.04776")
    assert mini.usage_api.present
    assert not rows[("openai", "gpt-4o-2024-08-06")].billed.present

    # the normal report counts tokens once and no bill on top of them
    daily = usage_report(db, "daily", zone=UTC, since=date(2026, 1, 5), until=date(2026, 1, 5))
    api_and_logs = sum((r.usage_api.amount or Decimal(0)) + (r.logs.amount or Decimal(0)) for r in report.rows)
    assert daily.totals.cost == api_and_logs


def test_a_daily_page_supersedes_only_its_own_accounts_hourly_rows(
    db: Database, secrets: SecretStore, fake_env: dict[str, str], memory_keyring: Any, poll: Any
) -> None:
    """Labels differing only in case are two accounts (SQLite's LIKE would match both)."""
    add_account(db, secrets, fake_env, "anthropic", label="Team")
    add_account(db, secrets, fake_env, "anthropic", label="team")
    assert poll().ok
    memory_keyring.set_password("tokenworth", "anthropic:Team", "sk-ant-admin01-REVOKED0key0for0tests000000")
    later = NOW + timedelta(days=2)
    poll(clock=lambda: later)  # "Team" is refused; "team" turns 9-10 January into daily rows
    hourly = {r["account"] for r in usage_rows(db) if r["bucket_seconds"] == 3600 and r["ts"] < NOW}
    assert hourly == {"anthropic:Team"}  # still there: polled again once the key is fixed


def _day_totals(db: Database, day: date) -> tuple[int, Decimal]:
    """(input tokens, billed dollars) stored for one UTC day, every width and group."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    rows = [r for r in usage_rows(db) if start <= r["ts"] < start + timedelta(days=1)]
    with db.engine.connect() as conn:
        billed = conn.execute(
            select(func.coalesce(func.sum(BilledCost.__table__.c.amount), 0)).where(
                BilledCost.__table__.c.ts >= start, BilledCost.__table__.c.ts < start + timedelta(days=1)
            )
        ).scalar_one()
    return sum(r["input_tokens"] for r in rows), Decimal(billed)


def test_a_restated_bucket_replaces_what_was_stored_for_it(
    db: Database, secrets: SecretStore, fake_env: dict[str, str], fake: FakeProviders, poll: Any
) -> None:
    """The provider regroups a bucket (the API key of its rows now null) or drops its rows: the
    bucket then holds what the provider says now, never the old rows beside the new."""
    add_account(db, secrets, fake_env, "anthropic")
    assert poll().ok
    day = date(2026, 1, 8)  # inside the next poll's two days of overlap
    before = _day_totals(db, day)
    assert before[0] > 0
    assert before[1] > 0

    def regroup(provider: str, endpoint: str, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [dict(result, api_key_id="apikey_new", workspace_id="wrk_new") for result in results]

    fake.restate = regroup
    assert poll().ok
    assert _day_totals(db, day) == before  # the same usage under new group keys: counted once

    fake.restate = lambda provider, endpoint, results: []
    assert poll().ok
    assert _day_totals(db, day) == (0, Decimal(0))
    assert _day_totals(db, date(2026, 1, 5))[0] == before[0]  # before the overlap: untouched


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_batch_usage_is_priced_at_half_the_list_price(
    db: Database, secrets: SecretStore, fake_env: dict[str, str], fake: FakeProviders, poll: Any, provider: str
) -> None:
    add_account(db, secrets, fake_env, provider)
    assert poll().ok
    standard = {(r["dedupe_key"], r["ts"]): r["cost"] for r in usage_rows(db) if r["cost"]}

    def as_batch(served_by: str, endpoint: str, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if served_by == "anthropic" and endpoint == "usage":
            return [dict(result, service_tier="batch") for result in results]
        if served_by == "openai" and endpoint == "completions":
            return [dict(result, batch=True) for result in results]
        return results

    fake.restate = as_batch
    assert poll().ok
    day = datetime(2026, 1, 9, tzinfo=UTC)  # re-read in the overlap, now as batch rows
    rows = [r for r in usage_rows(db) if r["ts"] >= day and r["cost"] and r["model"] != "text-embedding-3-small"]
    assert rows
    for row in rows:
        assert row["price_version"].endswith(", batch")
    old_costs = sorted(cost for (key, ts), cost in standard.items() if ts >= day and "embeddings" not in key)
    assert sorted(row["cost"] for row in rows) == [cost / 2 for cost in old_costs]
    assert reprice(db, since=day).changed == 0  # `reprice` keeps the half price


def test_an_unpriced_batch_bucket_is_repriced_at_half_the_price_once_one_is_known(
    db: Database, secrets: SecretStore, fake_env: dict[str, str], fake: FakeProviders, poll: Any
) -> None:
    """A batch bucket of a model no price database knows yet keeps that it was batch: priced later
    (`prices set`, then `reprice`), it costs half the list price, like one priced when polled."""
    from tokenworth.services.prices import OverrideInput, set_override

    add_account(db, secrets, fake_env, "anthropic")
    model = "claude-imaginary-9"

    def unknown(batch: bool) -> Any:
        def restate(served_by: str, endpoint: str, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
            tier = {"service_tier": "batch"} if batch else {}
            return [dict(result, model=model, **tier) for result in results] if endpoint == "usage" else results

        return restate

    fake.restate = unknown(batch=True)
    assert poll().ok
    day = datetime(2026, 1, 9, tzinfo=UTC)  # the next poll's overlap: restated there
    batch_rows = [r for r in usage_rows(db) if r["model"] == model and r["ts"] >= day]
    assert batch_rows
    assert all(r["cost"] is None for r in batch_rows)
    set_override(db, OverrideInput("anthropic", model, Decimal(3), Decimal(15)))
    reprice(db, since=datetime(2026, 1, 1, tzinfo=UTC))
    batch_costs = sorted(r["cost"] for r in usage_rows(db) if r["model"] == model and r["ts"] >= day)
    assert all(cost is not None and cost > 0 for cost in batch_costs)

    fake.restate = unknown(batch=False)  # the same usage at list price, for comparison
    assert poll().ok
    list_costs = sorted(r["cost"] for r in usage_rows(db) if r["model"] == model and r["ts"] >= day)
    assert batch_costs == [cost / 2 for cost in list_costs]
