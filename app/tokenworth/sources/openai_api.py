"""OpenAI's organization Usage and Costs APIs (admin key) -> usage events and billed cost lines.

Usage (`/organization/usage/completions` and `/embeddings`) is grouped by model, project and api
key; its `input_tokens` include cached and cache-write tokens, so uncached input is
`input_uncached_tokens` when sent, else the difference. Costs (`/organization/costs`) are billed
dollars per line item and project, kept as they are (see core.provider_models for why apart).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tokenworth.sources.provider_http import Where, get_json
from tokenworth.sources.provider_records import (
    BilledCostRow,
    EndpointSpec,
    FieldError,
    Reader,
    bucket_key,
    group_digest,
    utc_from_unix,
)
from tokenworth.sources.records import UsageEvent
from tokenworth.sources.report_poller import BucketReportPoller, PageLimits, Params

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
_LIMITS: PageLimits = {
    ("usage", "1d"): 31,
    ("usage", "1h"): 168,
    ("cost", "1d"): 180,
}


class OpenAIPoller(BucketReportPoller):
    """Reads one OpenAI organization's usage and costs through an injected httpx client."""

    provider = PROVIDER
    endpoint_specs = ENDPOINTS
    usage_group_by = USAGE_GROUP_BY
    cost_group_by = COST_GROUP_BY
    group_by_param = "group_by"
    start_param = "start_time"
    end_param = "end_time"
    page_limits = _LIMITS

    def _get(self, endpoint: str, params: Params) -> Any:
        return get_json(
            self.http,
            f"{self.base_url}/organization/{endpoint}",
            params=params,
            headers={"Authorization": f"Bearer {self.key}"},
            where=Where(PROVIDER, endpoint),
            secret=self.key,
            retry=self.retry,
        )

    def _group_by(self, spec: EndpointSpec) -> tuple[str, ...]:
        # Batch requests cost half; only completions can tell them apart (embeddings take no `batch`).
        return (*USAGE_GROUP_BY, "batch") if spec.name == COMPLETIONS.name else super()._group_by(spec)

    def _batch(self, row: Reader) -> bool:
        return row.obj.get("batch") is True

    def _time_value(self, moment: datetime) -> int:
        return int(moment.timestamp())

    def _read_time(self, reader: Reader, key: str) -> datetime:
        return utc_from_unix(reader.integer(key))

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

    def _cost(self, spec: EndpointSpec, row: Reader, start: datetime, width_s: int) -> BilledCostRow | None:
        amount_reader = row.obj_or_none("amount")
        amount = None if amount_reader is None else amount_reader.money("value", required=False)
        if amount_reader is None or amount is None:
            return None  # only `object` is documented as required: a line with no amount bills nothing
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
