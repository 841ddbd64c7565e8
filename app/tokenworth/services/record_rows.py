"""An event priced into a ledger row: the cost frozen into the record at import or poll time.

Rows are in storage form (money in integer units of 1e-10 USD, times in epoch ms). Kept apart
from `importing` so that finding nothing new to import never loads the pricing code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tokenworth.core.dedupe import ConflictPolicy
from tokenworth.core.ledger import COLUMNS
from tokenworth.core.pricing import RatesLookup, cost_units
from tokenworth.core.timeutil import to_epoch_ms
from tokenworth.sources.records import UsageEvent, collapse_events

_COMPUTED, _REPORTED, _UNPRICED = "computed", "reported", "unpriced"


def event_row(event: UsageEvent, book: RatesLookup, imported_at: int) -> dict[str, Any]:
    """A ledger row for one event, priced now: the cost is frozen into the record.

    Values are in storage form (money in integer units of 1e-10 USD, times in epoch ms), ready
    for `core.ledger.upsert_rows`. A reported cost (what the source says was billed) wins; the
    token-based estimate is kept beside it.
    """
    return dict(zip(COLUMNS, event_values(event, book, imported_at), strict=True))


def event_values(event: UsageEvent, book: RatesLookup, imported_at: int) -> tuple[Any, ...]:
    """`event_row` as a tuple in `core.ledger.COLUMNS` order, for `write_values`: an import
    builds one per record."""
    rates = book.rates(event.provider, event.model, event.timestamp)
    if rates is not None and not rates.prices(event.output_tokens):
        rates = None
    estimate = None
    if rates is not None:
        estimate = cost_units(
            rates,
            event.input_tokens,
            event.output_tokens,
            event.cache_read_tokens,
            event.cache_write_5m_tokens,
            event.cache_write_1h_tokens,
        )
    if event.reported_cost is not None:
        from tokenworth.core.money import to_units

        cost: int | None = to_units(event.reported_cost)
        provenance, estimated = _REPORTED, estimate
    elif estimate is not None:
        cost, provenance, estimated = estimate, _COMPUTED, None
    else:
        cost, provenance, estimated = None, _UNPRICED, None
    return (
        event.dedupe_key,
        event.source,
        event.provider,
        event.account,
        event.model,
        to_epoch_ms(event.timestamp),
        event.bucket_seconds,
        event.input_tokens,
        event.output_tokens,
        event.cache_read_tokens,
        event.cache_write_5m_tokens,
        event.cache_write_1h_tokens,
        event.reasoning_tokens,
        event.request_count,
        cost,
        provenance,
        estimated,
        book.unpriced_version if rates is None else rates.version,
        event.speed,
        event.project,
        event.session_id,
        event.git_branch,
        event.message_id,
        event.request_id,
        event.is_sidechain,
        event.web_search_requests,
        imported_at,
    )


def priced_rows(
    events: Iterable[UsageEvent], policy: ConflictPolicy, book: RatesLookup, imported_at: int
) -> list[tuple[Any, ...]]:
    """`event_values` of each dedupe key's surviving event: streamed copies are collapsed first,
    so each record is priced once."""
    return [event_values(event, book, imported_at) for event in collapse_events(events, policy)]
