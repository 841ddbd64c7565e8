"""Anthropic's Admin Usage and Cost APIs (admin key) -> usage events and billed cost lines.

Only organizations have the Admin API: individual accounts (Free/Pro/Max) cannot make admin keys,
so Claude Code users on those plans rely on their local logs. Usage rows are already split into
uncached input, cache reads, 5-minute and 1-hour cache writes and output, plus web searches; a
`200k-1M` context window prices at the long-context tier. Cost amounts are decimal strings in
cents ("123.45" is $1.2345).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from tokenworth import __version__
from tokenworth.core.timeutil import parse_timestamp
from tokenworth.sources.provider_http import Where, get_json
from tokenworth.sources.provider_records import (
    BilledCostRow,
    EndpointSpec,
    FieldError,
    Reader,
    bucket_key,
    group_digest,
    iso_z,
)
from tokenworth.sources.records import UsageEvent
from tokenworth.sources.report_poller import BucketReportPoller, PageLimits, Params

PROVIDER = "anthropic"
SOURCE = "anthropic"
DEFAULT_BASE_URL = "https://api.anthropic.com"
BASE_URL_ENV = "TOKENWORTH_ANTHROPIC_BASE_URL"
API_VERSION = "2023-06-01"
KEY_HINT = "an Anthropic Admin key (sk-ant-admin…), which only organization admins can make"
LONG_CONTEXT = "200k-1M"
CENTS_PER_DOLLAR = Decimal(100)

MESSAGES = EndpointSpec("usage_report/messages", "usage", ("1d", "1h"))
COST_REPORT = EndpointSpec("cost_report", "cost", ("1d",))
ENDPOINTS = (MESSAGES, COST_REPORT)

USAGE_GROUP_BY = ("model", "workspace_id", "api_key_id", "service_tier", "context_window")
COST_GROUP_BY = ("workspace_id", "description")
_GROUP_FIELDS = (*USAGE_GROUP_BY, "inference_geo", "speed", "account_id", "service_account_id")
_LIMITS: PageLimits = {
    ("usage", "1d"): 31,
    ("usage", "1h"): 168,
    ("cost", "1d"): 31,
}


class AnthropicPoller(BucketReportPoller):
    """Reads one Anthropic organization's usage and cost reports through an injected httpx client."""

    provider = PROVIDER
    endpoint_specs = ENDPOINTS
    usage_group_by = USAGE_GROUP_BY
    cost_group_by = COST_GROUP_BY
    group_by_param = "group_by[]"
    start_param = "starting_at"
    end_param = "ending_at"
    page_limits = _LIMITS

    def _get(self, endpoint: str, params: Params) -> Any:
        return get_json(
            self.http,
            f"{self.base_url}/v1/organizations/{endpoint}",
            params=params,
            headers={
                "x-api-key": self.key,
                "anthropic-version": API_VERSION,
                "User-Agent": f"tokenworth/{__version__}",
            },
            where=Where(PROVIDER, endpoint),
            secret=self.key,
            retry=self.retry,
        )

    def _time_value(self, moment: datetime) -> str:
        return iso_z(moment)

    def _read_time(self, reader: Reader, key: str) -> datetime:
        text = reader.text(key)
        try:
            return parse_timestamp(text)
        except ValueError:
            raise FieldError(f"{reader.where}: field '{key}' is not a timestamp: {text[:40]!r}") from None

    def _long_context(self, row: Reader) -> bool:
        return row.obj.get("context_window") == LONG_CONTEXT

    def _batch(self, row: Reader) -> bool:
        return row.obj.get("service_tier") == "batch"

    def _usage(self, spec: EndpointSpec, row: Reader, start: datetime, width_s: int) -> UsageEvent:
        cache = row.obj_or_none("cache_creation")
        write_5m = 0 if cache is None else cache.integer("ephemeral_5m_input_tokens", required=False)
        write_1h = 0 if cache is None else cache.integer("ephemeral_1h_input_tokens", required=False)
        tools = row.obj_or_none("server_tool_use")
        group = {name: row.obj.get(name) for name in _GROUP_FIELDS if row.obj.get(name) is not None}
        return UsageEvent(
            source=SOURCE,
            provider=PROVIDER,
            model=row.string("model", required=False) or "unknown",
            timestamp=start,
            dedupe_key=bucket_key(SOURCE, spec.name, self.account, start, width_s, group_digest(group)),
            input_tokens=row.integer("uncached_input_tokens"),
            output_tokens=row.integer("output_tokens"),
            cache_read_tokens=row.integer("cache_read_input_tokens"),
            cache_write_5m_tokens=write_5m,
            cache_write_1h_tokens=write_1h,
            request_count=0,  # the usage report does not count requests
            bucket_seconds=width_s,
            account=self.account,
            project=row.string("workspace_id", required=False),
            speed=row.string("speed", required=False),
            web_search_requests=0 if tools is None else tools.integer("web_search_requests", required=False),
        )

    def _cost(self, spec: EndpointSpec, row: Reader, start: datetime, width_s: int) -> BilledCostRow:
        cents = row.amount("amount")
        currency = (row.string("currency", required=False) or "USD").upper()
        group = {
            name: row.obj.get(name)
            for name in (
                "workspace_id",
                "description",
                "model",
                "cost_type",
                "token_type",
                "service_tier",
                "context_window",
                "inference_geo",
                "speed",
            )
            if row.obj.get(name) is not None
        }
        return BilledCostRow(
            source=SOURCE,
            provider=PROVIDER,
            account=self.account,
            dedupe_key=bucket_key(SOURCE, spec.name, self.account, start, width_s, group_digest(group)),
            start=start,
            bucket_seconds=width_s,
            amount=cents / CENTS_PER_DOLLAR,
            currency=currency,
            model=row.string("model", required=False),
            line_item=row.string("description", required=False),
            cost_type=row.string("cost_type", required=False),
            token_type=row.string("token_type", required=False),
            service_tier=row.string("service_tier", required=False),
            context_window=row.string("context_window", required=False),
            project=row.string("workspace_id", required=False),
        )
