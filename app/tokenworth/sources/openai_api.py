"""OpenAI's organization Usage and Costs APIs (admin key) -> usage events and billed cost lines.

Usage (`/organization/usage/completions` and `/embeddings`) is grouped by model, project and api
key; its `input_tokens` include cached and cache-write tokens, so uncached input is
`input_uncached_tokens` when sent, else the difference. Costs (`/organization/costs`) are billed
dollars per line item and project, kept as they are (see core.provider_models for why apart).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import httpx

from tokenworth.sources.pagination import follow_pages
from tokenworth.sources.provider_http import RetryPolicy, Where, get_json
from tokenworth.sources.provider_records import (
    WIDTH_SECONDS,
    BilledCostRow,
    BucketWidth,
    EndpointSpec,
    FieldError,
    Page,
    Reader,
    bucket_key,
    group_digest,
    iso_z,
    today_utc,
    utc_from_unix,
)
from tokenworth.sources.records import UsageEvent

PROVIDER = "openai"
SOURCE = "openai"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
BASE_URL_ENV = "TOKENWORTH_OPENAI_BASE_URL"
KEY_HINT = "an OpenAI organization Admin key (sk-admin-…), made by an organization Owner"

COMPLETIONS = EndpointSpec("usage/completions", "usage", ("1d", "1h"))
EMBEDDINGS = EndpointSpec("usage/embeddings", "usage", ("1d", "1h"))
COSTS = EndpointSpec("costs", "cost", ("1d",))
ENDPOINTS = (COMPLETIONS, EMBEDDINGS, COSTS)

USAGE_GROUP_BY = ("model", "project_id", "api_key_id")
COST_GROUP_BY = ("line_item", "project_id")
_GROUP_FIELDS = ("model", "project_id", "api_key_id", "user_id", "batch", "service_tier")
_LIMITS = {("usage", "1d"): 31, ("usage", "1h"): 168, ("cost", "1d"): 180}


class OpenAIPoller:
    """Reads one OpenAI organization's usage and costs through an injected httpx client."""

    provider = PROVIDER

    def __init__(self, http: httpx.Client, key: str, *, account: str, base_url: str, retry: RetryPolicy) -> None:
        self.http = http
        self.key = key
        self.account = account
        self.base_url = base_url.rstrip("/")
        self.retry = retry

    def _get(self, endpoint: str, params: list[tuple[str, str | int]]) -> Any:
        return get_json(
            self.http,
            f"{self.base_url}/organization/{endpoint}",
            params=params,
            headers={"Authorization": f"Bearer {self.key}"},
            where=Where(PROVIDER, endpoint),
            secret=self.key,
            retry=self.retry,
        )

    def check_key(self) -> dict[str, Any]:
        """One cheap authenticated call: today's single cost bucket."""
        start = today_utc()
        self._get(COSTS.name, [("start_time", int(start.timestamp())), ("limit", 1)])
        return {}

    def account_details(self) -> dict[str, Any]:
        return {}

    def endpoints(self, details: Mapping[str, Any]) -> list[EndpointSpec]:
        return list(ENDPOINTS)

    def pages(self, spec: EndpointSpec, start: datetime, end: datetime | None, width: BucketWidth) -> Iterator[Page]:
        params: list[tuple[str, str | int]] = [
            ("start_time", int(start.timestamp())),
            ("bucket_width", width),
            ("limit", _LIMITS[(spec.kind, width)]),
        ]
        if end is not None:
            params.append(("end_time", int(end.timestamp())))
        for name in COST_GROUP_BY if spec.kind == "cost" else USAGE_GROUP_BY:
            params.append(("group_by", name))

        def fetch(cursor: str | None) -> Any:
            return self._get(spec.name, params + ([("page", cursor)] if cursor else []))

        def parse(reader: Reader, number: int) -> Page:
            return self._parse_page(spec, reader, number, WIDTH_SECONDS[width])

        yield from follow_pages(fetch, parse, Where(PROVIDER, spec.name))

    def _parse_page(self, spec: EndpointSpec, reader: Reader, number: int, width_s: int) -> Page:
        data = reader.items("data")
        if not data:
            raise FieldError(f"page {number}: empty page (no buckets for the requested window)")
        page = Page(spec.name, number, width_s)
        for index, raw in enumerate(data):
            bucket = Reader(raw, f"page {number}, bucket {index}")
            start = utc_from_unix(bucket.integer("start_time"))
            end = utc_from_unix(bucket.integer("end_time"))
            bucket.where = f"page {number}, bucket {iso_z(start)}"
            page.bucket_starts.append(start)
            for row_index, result in enumerate(bucket.items("results")):
                row = Reader(result, f"{bucket.where}, result {row_index}")
                if spec.kind == "cost":
                    page.costs.append(self._cost(spec, row, start, width_s))
                else:
                    page.events.append(self._usage(spec, row, start, width_s))
            if page.covered_until is None or end > page.covered_until:
                page.covered_until = end
        return page

    def _usage(self, spec: EndpointSpec, row: Reader, start: datetime, width_s: int) -> UsageEvent:
        input_total = row.integer("input_tokens")
        requests = row.integer("num_model_requests")
        group = {name: row.obj.get(name) for name in _GROUP_FIELDS if row.obj.get(name) is not None}
        model = row.string("model", required=False) or "unknown"
        if spec.name == EMBEDDINGS.name:
            output = cached = cache_write = 0
            uncached = input_total
        else:
            output = row.integer("output_tokens")
            cached = row.integer("input_cached_tokens", required=False)
            cache_write = row.integer("input_cache_write_tokens", required=False)
            if row.obj.get("input_uncached_tokens") is not None:
                uncached = row.integer("input_uncached_tokens")
            else:
                uncached = input_total - cached - cache_write
            if uncached < 0:
                raise FieldError(f"{row.where}: input_tokens is smaller than its cached part")
        return UsageEvent(
            source=SOURCE,
            provider=PROVIDER,
            model=model,
            timestamp=start,
            dedupe_key=bucket_key(SOURCE, spec.name, self.account, start, width_s, group_digest(group)),
            input_tokens=uncached,
            output_tokens=output,
            cache_read_tokens=cached,
            cache_write_5m_tokens=cache_write,
            request_count=requests,
            bucket_seconds=width_s,
            account=self.account,
            project=row.string("project_id", required=False),
        )

    def _cost(self, spec: EndpointSpec, row: Reader, start: datetime, width_s: int) -> BilledCostRow:
        amount_reader = row.obj_or_none("amount")
        if amount_reader is None:
            raise FieldError(f"{row.where}: missing field 'amount'")
        amount = amount_reader.amount("value")
        currency = (amount_reader.string("currency", required=False) or "usd").upper()
        line_item = row.string("line_item", required=False)
        project = row.string("project_id", required=False)
        group = {"line_item": line_item, "project_id": project, "api_key_id": row.obj.get("api_key_id")}
        quantity = row.money("quantity", required=False)
        return BilledCostRow(
            source=SOURCE,
            provider=PROVIDER,
            account=self.account,
            dedupe_key=bucket_key(SOURCE, spec.name, self.account, start, width_s, group_digest(group)),
            start=start,
            bucket_seconds=width_s,
            amount=amount,
            currency=currency,
            model=model_of_line_item(line_item),
            line_item=line_item,
            project=project,
            quantity=quantity,
            quantity_unit=row.string("quantity_unit", required=False),
        )


def model_of_line_item(line_item: str | None) -> str | None:
    """The model a cost line item names ('gpt-4.1-mini-2025-04-14, input' -> the model), or None.

    The line item text is not documented; a leading word with no spaces before ', ' is taken as
    the model, anything else (e.g. 'Web search tool calls') is left unmatched.
    """
    if not line_item or ", " not in line_item:
        return None
    head = line_item.split(", ", 1)[0].strip()
    return head if head and " " not in head else None
