"""Polling every stored provider key: backfill on first run, then incrementally, one page per commit.

Per account and endpoint, `poll_progress.next_start` is the end of the last committed page. The
first poll starts `BACKFILL_DAYS` back (or at `--since`); later polls start `REPOLL_OVERLAP` before
where the last one stopped, because providers restate recent buckets (re-polled rows update in
place: their dedupe key is source, endpoint, account, bucket start and width, and every group-by
value). Each page is written in one transaction together with the new progress, so a poll that
dies half-way leaves a consistent database and the next poll completes the window.

Usage endpoints are read in daily buckets, and in hourly ones for the last `HOURLY_DAYS` days (so
today shows by the hour). A day is never stored at both widths: hourly days only move into the
daily range as time passes, and storing a daily bucket first deletes that day's hourly rows of the
same endpoint and account (the daily bucket holds the same usage, whole).

Usage buckets are priced from tokens (`computed`); as they sum many requests, the price tier is the
one a single request would pay (Anthropic's `200k-1M` context window rows pay the long-context
tier), never the bucket's total. Billed money from cost endpoints goes to `billed_costs`.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Connection, Table, delete, func, insert, select, update

from tokenworth.core.db import Database
from tokenworth.core.ledger import upsert_rows
from tokenworth.core.models import UsageRecord
from tokenworth.core.money import from_units, to_units
from tokenworth.core.pricing import ModelRates, PriceBook, bucket_rates, unpriced_bucket_version
from tokenworth.core.provider_models import BilledCost, PollProgress, ProviderAccount
from tokenworth.core.secrets import SecretStore, account_name
from tokenworth.core.timeutil import to_epoch_ms, utc_now
from tokenworth.services.accounts import make_poller, new_http_client, provider_info
from tokenworth.services.prices import keep_learned_prices, load_price_book
from tokenworth.services.record_rows import event_row
from tokenworth.sources.provider_http import (
    BadResponse,
    KeyRejected,
    ProviderError,
    ProviderUnavailable,
    RetryPolicy,
)
from tokenworth.sources.provider_records import (
    BilledCostRow,
    BucketWidth,
    EndpointKind,
    EndpointSpec,
    Page,
    ProviderClient,
    floor_to,
    key_prefix,
)

log = logging.getLogger(__name__)

DAY_S = 86_400
BACKFILL_DAYS = 90
HOURLY_DAYS = 2
REPOLL_OVERLAP = timedelta(days=2)
UNWINDOWED_DAYS = 30
"""How far back an endpoint without a time window reaches (OpenRouter's activity)."""

DEFAULT_RETRY = RetryPolicy()
"""What the CLI and app retry with; tests swap in one with a recording sleep."""

ProgressCallback = Callable[[str], None]


@dataclass
class EndpointResult:
    """What one endpoint's poll did."""

    endpoint: str
    pages: int = 0
    usage_rows: int = 0
    billed_rows: int = 0
    start: datetime | None = None
    until: datetime | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "pages": self.pages,
            "usage_rows": self.usage_rows,
            "billed_rows": self.billed_rows,
            "from": self.start.isoformat() if self.start else None,
            "until": self.until.isoformat() if self.until else None,
            "error": self.error,
        }


@dataclass
class AccountResult:
    """What one account's poll did, and the status it leaves in `keys list`."""

    provider: str
    label: str
    status: str = "ok"
    errors: list[str] = field(default_factory=list)
    endpoints: list[EndpointResult] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def error(self) -> str | None:
        return "; ".join(self.errors) if self.errors else None

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "label": self.label,
            "account": account_name(self.provider, self.label),
            "status": self.status,
            "error": self.error,
            "endpoints": [result.as_json() for result in self.endpoints],
            "details": self.details,
        }


@dataclass
class PollSummary:
    accounts: list[AccountResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(account.ok for account in self.accounts)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "accounts": [account.as_json() for account in self.accounts],
            "usage_rows": sum(e.usage_rows for a in self.accounts for e in a.endpoints),
            "billed_rows": sum(e.billed_rows for a in self.accounts for e in a.endpoints),
            "seconds": round(self.seconds, 3),
        }


def plan_windows(
    start: datetime, now: datetime, widths: Sequence[BucketWidth]
) -> list[tuple[datetime, datetime | None, BucketWidth]]:
    """(start, end or None for "up to now", width) windows: daily, then hourly for recent days."""
    start = floor_to(start, DAY_S)
    if "1h" not in widths:
        return [(start, None, "1d")]
    hourly_from = floor_to(now, DAY_S) - timedelta(days=HOURLY_DAYS - 1)
    if start >= hourly_from:
        return [(start, None, "1h")]
    return [(start, hourly_from, "1d"), (hourly_from, None, "1h")]


class _TierRates:
    """`bucket_rates` of one kind (base or long-context tier, list or batch price) per model and
    day, looked up once per poll."""

    def __init__(self, book: PriceBook, *, long_context: bool, batch: bool = False) -> None:
        self.book = book
        self.long_context = long_context
        self.batch = batch
        self.unpriced_version = unpriced_bucket_version(long_context=long_context, batch=batch)
        self._cache: dict[tuple[str, str, int], ModelRates | None] = {}

    def rates(self, provider: str, model: str, at: datetime) -> ModelRates | None:
        key = (provider, model, at.toordinal())
        if key not in self._cache:
            rates = self.book.rates(provider, model, at)
            self._cache[key] = (
                None if rates is None else bucket_rates(rates, long_context=self.long_context, batch=self.batch)
            )
        return self._cache[key]


class _BucketPrices:
    """The base and the long-context rates of one poll's price book."""

    def __init__(self, book: PriceBook) -> None:
        self.tiers = {
            (long_context, batch): _TierRates(book, long_context=long_context, batch=batch)
            for long_context in (False, True)
            for batch in (False, True)
        }

    def of(self, page: Page, key: str) -> _TierRates:
        return self.tiers[(key in page.long_context, key in page.batch)]


def _usage_rows(page: Page, prices: _BucketPrices, polled_ms: int) -> list[dict[str, Any]]:
    return [event_row(event, prices.of(page, event.dedupe_key), polled_ms) for event in page.events]


def _billed_row(cost: BilledCostRow, polled_at: datetime) -> dict[str, Any]:
    return {
        "dedupe_key": cost.dedupe_key,
        "source": cost.source,
        "provider": cost.provider,
        "account": cost.account,
        "ts": cost.start,
        "bucket_seconds": cost.bucket_seconds,
        "model": cost.model,
        "line_item": cost.line_item[:256] if cost.line_item else None,
        "cost_type": cost.cost_type,
        "token_type": cost.token_type,
        "service_tier": cost.service_tier,
        "context_window": cost.context_window,
        "project": cost.project,
        "amount": from_units(to_units(cost.amount)),
        "currency": cost.currency,
        "quantity": None if cost.quantity is None else format(cost.quantity, "f"),
        "quantity_unit": cost.quantity_unit,
        "polled_at": polled_at,
    }


def upsert_billed(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert billed cost lines, or replace the stored line with the same dedupe key."""
    if not rows:
        return
    table = BilledCost.__table__
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert  # type: ignore[assignment]
        stmt = dialect_insert(table)
        names = [name for name in rows[0] if name != "dedupe_key"]
        stmt = stmt.on_conflict_do_update(
            index_elements=["dedupe_key"], set_={name: stmt.excluded[name] for name in names}
        )
        conn.execute(stmt, list(rows))
        return
    for row in rows:
        found = conn.execute(select(table.c.id).where(table.c.dedupe_key == row["dedupe_key"])).first()
        if found is None:
            conn.execute(insert(table).values(row))
        else:
            conn.execute(update(table).where(table.c.id == found[0]).values(row))


def _set_progress(conn: Connection, account_id: int, endpoint: str, next_start: datetime, now: datetime) -> None:
    table = PollProgress.__table__
    found = conn.execute(
        select(table.c.id).where(table.c.account_id == account_id, table.c.endpoint == endpoint)
    ).first()
    values = {"next_start": next_start, "updated_at": now}
    if found is None:
        conn.execute(insert(table).values(account_id=account_id, endpoint=endpoint, **values))
    else:
        conn.execute(update(table).where(table.c.id == found[0]).values(values))


def _read_progress(db: Database, account_id: int, endpoint: str) -> datetime | None:
    table = PollProgress.__table__
    with db.engine.connect() as conn:
        row = conn.execute(
            select(table.c.next_start).where(table.c.account_id == account_id, table.c.endpoint == endpoint)
        ).first()
    return None if row is None else row[0]


def _drop_superseded(conn: Connection, table: Table, prefix: str, page: Page, kept: set[str]) -> None:
    """Delete the stored rows of this endpoint and account, within the page's buckets, that the
    page no longer holds: finer rows a whole day's bucket replaces, and the rows of a bucket the
    provider restated (a group that is gone, a group key that changed). The page is the provider's
    whole account of its buckets; keeping such rows beside it would count their usage twice."""
    if not page.bucket_starts:
        return
    c = table.c
    first, last = min(page.bucket_starts), max(page.bucket_starts)
    stored = conn.execute(
        select(c.id, c.dedupe_key).where(
            # not LIKE: SQLite's ignores case, and labels differing in case are two accounts
            func.substr(c.dedupe_key, 1, len(prefix)) == prefix,
            c.bucket_seconds <= page.width_seconds,
            c.ts >= first,
            c.ts < last + timedelta(seconds=page.width_seconds),
        )
    ).all()
    gone = [row_id for row_id, key in stored if key not in kept]
    for start in range(0, len(gone), 500):
        conn.execute(delete(table).where(c.id.in_(gone[start : start + 500])))


def _store_page(
    db: Database,
    account_id: int,
    poller: ProviderClient,
    kind: EndpointKind,
    page: Page,
    prices: _BucketPrices,
    now: datetime,
) -> None:
    """One transaction: the page's rows, the stored rows they supersede, and the new progress."""
    polled_ms = to_epoch_ms(now)
    prefix = key_prefix(poller.provider, page.endpoint, poller.account)
    with db.engine.begin() as conn:
        if kind == "usage":
            rows = _usage_rows(page, prices, polled_ms)
            _drop_superseded(conn, UsageRecord.__table__, prefix, page, {row["dedupe_key"] for row in rows})
            if rows:
                upsert_rows(conn, rows, "latest")
        else:
            billed = [_billed_row(cost, now) for cost in page.costs]
            _drop_superseded(conn, BilledCost.__table__, prefix, page, {row["dedupe_key"] for row in billed})
            upsert_billed(conn, billed)
        if page.covered_until is not None:
            _set_progress(conn, account_id, page.endpoint, min(page.covered_until, now), now)


def _poll_endpoint(
    db: Database,
    account_id: int,
    poller: ProviderClient,
    spec: EndpointSpec,
    *,
    since: datetime | None,
    now: datetime,
    prices: _BucketPrices,
    result: EndpointResult,
) -> None:
    if spec.windowed:
        stopped_at = _read_progress(db, account_id, spec.name)
        if since is not None:
            start = since
        elif stopped_at is not None:
            start = stopped_at - REPOLL_OVERLAP
        else:
            start = now - timedelta(days=BACKFILL_DAYS)
        windows = plan_windows(start, now, spec.widths)
    else:
        # e.g. OpenRouter's activity: always the last 30 completed days, one request
        windows = [(floor_to(now, DAY_S) - timedelta(days=UNWINDOWED_DAYS), None, "1d")]
    result.start = windows[0][0]
    for window_start, window_end, width in windows:
        log.info("polling %s %s from %s (%s buckets)", poller.account, spec.name, window_start.isoformat(), width)
        for page in poller.pages(spec, window_start, window_end, width):
            _store_page(db, account_id, poller, spec.kind, page, prices, now)
            result.pages += 1
            result.usage_rows += len(page.events)
            result.billed_rows += len(page.costs)
            if page.covered_until is not None:
                result.until = min(page.covered_until, now)


def _poll_account(
    db: Database,
    row: ProviderAccount,
    key: str | None,
    *,
    http: httpx.Client,
    env: Mapping[str, str],
    retry: RetryPolicy,
    since: datetime | None,
    now: datetime,
    prices: _BucketPrices,
) -> AccountResult:
    result = AccountResult(row.provider, row.label)
    if key is None:
        result.status = "key missing"
        result.errors.append(
            f"no key for {row.account} in the keyring; store it again with "
            f"`tokenworth keys set {row.provider} --label {row.label}`"
        )
        return result
    try:
        poller = make_poller(row.provider, http, key, label=row.label, env=env, retry=retry)
        result.details = poller.account_details()
        specs = poller.endpoints(result.details)
    except ProviderError as exc:
        result.status = exc.status
        result.errors.append(str(exc))
        return result
    for spec in specs:
        endpoint_result = EndpointResult(spec.name)
        result.endpoints.append(endpoint_result)
        try:
            _poll_endpoint(db, row.id, poller, spec, since=since, now=now, prices=prices, result=endpoint_result)
        except (KeyRejected, ProviderUnavailable) as exc:
            endpoint_result.error = str(exc)
            result.status = exc.status
            result.errors.append(str(exc))
            break  # the same key or connection fails the other endpoints too: no retry storm
        except BadResponse as exc:
            endpoint_result.error = str(exc)
            if result.ok:
                result.status = exc.status
            result.errors.append(str(exc))
    return result


def _record(db: Database, account_id: int, result: AccountResult, now: datetime) -> None:
    with db.session() as session:
        row = session.get(ProviderAccount, account_id)
        if row is None:
            return
        row.last_poll_at = now
        row.last_status = result.status
        row.last_error = result.error
        if result.details:
            row.details = json.dumps(result.details, sort_keys=True)


def stop_polling() -> None:
    """The app is quitting: a poll under way stops waiting and requesting now."""
    from tokenworth.sources.provider_http import stop_requests

    stop_requests()


def poll_accounts(
    db: Database,
    secrets: SecretStore,
    *,
    providers: Sequence[str] | None = None,
    since: datetime | None = None,
    env: Mapping[str, str] | None = None,
    http: httpx.Client | None = None,
    retry: RetryPolicy | None = None,
    clock: Callable[[], datetime] = utc_now,
    progress: ProgressCallback | None = None,
) -> PollSummary:
    """Poll every stored key (or those of `providers`); one account's failure never stops the rest.

    Raises KeyringUnavailable when the keyring cannot be read at all.
    """
    started = time.perf_counter()
    env = os.environ if env is None else env
    wanted = [provider_info(name).name for name in providers] if providers else None
    now = clock()
    if since is not None and since > now:
        raise ValueError("--since is in the future")
    with db.session() as session:
        query = select(ProviderAccount)
        if wanted:
            query = query.where(ProviderAccount.provider.in_(wanted))
        accounts = sorted(session.scalars(query), key=lambda row: (row.provider, row.label))  # any collation
        book = load_price_book(db)
        prices = _BucketPrices(book)
    summary = PollSummary()
    client = http or new_http_client()
    try:
        for row in accounts:
            if progress:
                progress(row.account)
            key = secrets.get(row.provider, row.label)
            result = _poll_account(
                db,
                row,
                key,
                http=client,
                env=env,
                retry=retry or DEFAULT_RETRY,
                since=since,
                now=now,
                prices=prices,
            )
            _record(db, row.id, result, now)
            log.info("polled %s: %s", row.account, result.status)
            summary.accounts.append(result)
    finally:
        if http is None:
            client.close()
    if book.database.learned:
        with db.transaction() as tx:
            keep_learned_prices(tx, book)
    summary.seconds = time.perf_counter() - started
    return summary
