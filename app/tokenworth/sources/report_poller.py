"""What the provider pollers share: a key and an injected httpx client, and for the admin APIs
that serve usage and cost as cursor-paged time buckets (OpenAI, Anthropic), reading those pages.

A bucket report page is `{"data": [bucket...], "has_more", "next_page"}`; each bucket has a start,
an end and `results` rows. The providers differ only in their URLs and headers, how times are
written (Unix seconds or ISO-8601), parameter names, and how a row becomes an event or a cost.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

import httpx

from tokenworth.sources.pagination import follow_pages
from tokenworth.sources.provider_http import RetryPolicy, Where
from tokenworth.sources.provider_records import (
    WIDTH_SECONDS,
    BilledCostRow,
    BucketWidth,
    EndpointKind,
    EndpointSpec,
    FieldError,
    Page,
    Reader,
    iso_z,
    today_utc,
)
from tokenworth.sources.records import UsageEvent

Params = list[tuple[str, str | int]]
PageLimits = Mapping[tuple[EndpointKind, BucketWidth], int]
"""The `limit` (buckets per page) the API allows, per endpoint kind and bucket width."""


class KeyedPoller:
    """One provider account, read with its key through an injected httpx client."""

    provider: ClassVar[str]

    def __init__(self, http: httpx.Client, key: str, *, account: str, base_url: str, retry: RetryPolicy) -> None:
        self.http = http
        self.key = key
        self.account = account
        self.base_url = base_url.rstrip("/")
        self.retry = retry


class BucketReportPoller(KeyedPoller):
    """Usage and cost reports as pages of time buckets; subclasses say how to ask and how to read."""

    endpoint_specs: ClassVar[tuple[EndpointSpec, ...]]
    usage_group_by: ClassVar[tuple[str, ...]]
    cost_group_by: ClassVar[tuple[str, ...]]
    group_by_param: ClassVar[str]
    start_param: ClassVar[str]
    """The request's window start, and the field naming a bucket's start in the reply."""
    end_param: ClassVar[str]
    page_limits: ClassVar[PageLimits]

    def _get(self, endpoint: str, params: Params) -> Any:
        raise NotImplementedError

    def _time_value(self, moment: datetime) -> str | int:
        """A moment as the API takes it in a request."""
        raise NotImplementedError

    def _read_time(self, reader: Reader, key: str) -> datetime:
        """A bucket's start or end as the API writes it in a reply."""
        raise NotImplementedError

    def _usage(self, spec: EndpointSpec, row: Reader, start: datetime, width_s: int) -> UsageEvent:
        raise NotImplementedError

    def _cost(self, spec: EndpointSpec, row: Reader, start: datetime, width_s: int) -> BilledCostRow | None:
        """A result row as a billed line, or None for a row that bills nothing."""
        raise NotImplementedError

    def _long_context(self, row: Reader) -> bool:
        """Whether a usage row's requests were priced at the long-context tier."""
        return False

    def _batch(self, row: Reader) -> bool:
        """Whether a usage row's requests went through the batch API (billed at half price)."""
        return False

    def _group_by(self, spec: EndpointSpec) -> tuple[str, ...]:
        """What an endpoint's rows are grouped by (a provider may offer more on one endpoint)."""
        return self.cost_group_by if spec.kind == "cost" else self.usage_group_by

    def check_key(self) -> dict[str, Any]:
        """One cheap authenticated call: today's single cost bucket."""
        costs = next(spec for spec in self.endpoint_specs if spec.kind == "cost")
        self._get(costs.name, [(self.start_param, self._time_value(today_utc())), ("limit", 1)])
        return {}

    def account_details(self) -> dict[str, Any]:
        return {}

    def endpoints(self, details: Mapping[str, Any]) -> list[EndpointSpec]:
        return list(self.endpoint_specs)

    def pages(self, spec: EndpointSpec, start: datetime, end: datetime | None, width: BucketWidth) -> Iterator[Page]:
        params: Params = [
            (self.start_param, self._time_value(start)),
            ("bucket_width", width),
            ("limit", self.page_limits[(spec.kind, width)]),
        ]
        if end is not None:
            params.append((self.end_param, self._time_value(end)))
        for name in self._group_by(spec):
            params.append((self.group_by_param, name))

        def fetch(cursor: str | None) -> Any:
            return self._get(spec.name, params + ([("page", cursor)] if cursor else []))

        def parse(reader: Reader, number: int) -> Page:
            return self._parse_page(spec, reader, number, WIDTH_SECONDS[width])

        yield from follow_pages(fetch, parse, Where(self.provider, spec.name))

    def _parse_page(self, spec: EndpointSpec, reader: Reader, number: int, width_s: int) -> Page:
        data = reader.items("data")
        if not data:
            raise FieldError(f"page {number}: empty page (no buckets for the requested window)")
        page = Page(spec.name, number, width_s)
        for index, raw in enumerate(data):
            bucket = Reader(raw, f"page {number}, bucket {index}")
            start = self._read_time(bucket, self.start_param)
            end = self._read_time(bucket, self.end_param)
            bucket.where = f"page {number}, bucket {iso_z(start)}"
            page.bucket_starts.append(start)
            for row_index, result in enumerate(bucket.items("results")):
                row = Reader(result, f"{bucket.where}, result {row_index}")
                if spec.kind == "cost":
                    cost = self._cost(spec, row, start, width_s)
                    if cost is not None:
                        page.costs.append(cost)
                else:
                    event = self._usage(spec, row, start, width_s)
                    if self._long_context(row):
                        page.long_context.add(event.dedupe_key)
                    if self._batch(row):
                        page.batch.add(event.dedupe_key)
                    page.events.append(event)
            if page.covered_until is None or end > page.covered_until:
                page.covered_until = end
        return page
