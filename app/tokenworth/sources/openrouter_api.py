"""OpenRouter: `/key` (any key: usage and limit), `/credits` and `/activity` (management key).

`/activity` gives, per completed UTC day of the last 30, each model's requests, tokens and the
dollars OpenRouter charged: usage events carrying their own reported cost (tokens and money in
one row, so nothing to reconcile apart). `/key` and `/credits` give account totals (usage today,
this month, limit, balance), kept as the account's details, not as usage records. None of these
endpoints is paginated; older history than 30 days cannot be fetched.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from tokenworth.sources.provider_http import BadResponse, Where, get_json
from tokenworth.sources.provider_records import (
    BucketWidth,
    EndpointSpec,
    FieldError,
    Page,
    Reader,
    bucket_key,
    group_digest,
)
from tokenworth.sources.records import UsageEvent
from tokenworth.sources.report_poller import KeyedPoller

PROVIDER = "openrouter"
SOURCE = "openrouter"
DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
BASE_URL_ENV = "TOKENWORTH_OPENROUTER_BASE_URL"
KEY_HINT = "any OpenRouter key (sk-or-v1-…); a management key also gives daily activity per model"
DAY_S = 86400

ACTIVITY = EndpointSpec("activity", "usage", ("1d",), windowed=False)

_KEY_MONEY = ("limit", "limit_remaining", "usage", "usage_daily", "usage_weekly", "usage_monthly")


class OpenRouterPoller(KeyedPoller):
    """Reads one OpenRouter key's totals and, with a management key, its daily activity."""

    provider = PROVIDER

    def _get(self, endpoint: str) -> Any:
        return get_json(
            self.http,
            f"{self.base_url}/{endpoint}",
            headers={"Authorization": f"Bearer {self.key}"},
            where=Where(PROVIDER, endpoint),
            secret=self.key,
            retry=self.retry,
        )

    def _data(self, endpoint: str) -> Reader:
        body = self._get(endpoint)
        try:
            top = Reader(body, "reply")
            data = top.obj_or_none("data")
            if data is None:
                raise FieldError("reply: missing field 'data'")
        except FieldError as exc:
            raise Where(PROVIDER, endpoint).error(BadResponse, str(exc)) from None
        return data

    def check_key(self) -> dict[str, Any]:
        """One cheap authenticated call: `/key`, which also says whether it is a management key."""
        return self._key_details()

    def _key_details(self) -> dict[str, Any]:
        data = self._data("key")
        try:
            details: dict[str, Any] = {
                "is_management_key": data.flag("is_management_key", required=False)
                or data.flag("is_provisioning_key", required=False),
                "limit_reset": data.string("limit_reset", required=False),
            }
            for name in _KEY_MONEY:
                amount = data.money(name, required=False)
                details[name] = None if amount is None else format(amount, "f")
        except FieldError as exc:
            raise Where(PROVIDER, "key").error(BadResponse, str(exc)) from None
        return details

    def account_details(self) -> dict[str, Any]:
        details = self._key_details()
        if details["is_management_key"]:
            data = self._data("credits")
            try:
                credits = data.amount("total_credits")
                used = data.amount("total_usage")
            except FieldError as exc:
                raise Where(PROVIDER, "credits").error(BadResponse, str(exc)) from None
            details["total_credits"] = format(credits, "f")
            details["total_usage"] = format(used, "f")
            details["balance"] = format(credits - used, "f")
        return details

    def endpoints(self, details: Mapping[str, Any]) -> list[EndpointSpec]:
        return [ACTIVITY] if details.get("is_management_key") else []

    def pages(self, spec: EndpointSpec, start: datetime, end: datetime | None, width: BucketWidth) -> Iterator[Page]:
        body = self._get(spec.name)
        try:
            yield self._parse(Reader(body, "reply"))
        except FieldError as exc:
            raise Where(PROVIDER, spec.name).error(BadResponse, str(exc)) from None

    def _parse(self, reply: Reader) -> Page:
        page = Page(ACTIVITY.name, 1, DAY_S)
        for index, raw in enumerate(reply.items("data")):
            row = Reader(raw, f"item {index}")
            day_text = row.text("date")
            try:
                day = date.fromisoformat(day_text[:10])
            except ValueError:
                raise FieldError(f"item {index}: field 'date' is not a date: {day_text[:40]!r}") from None
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            row.where = f"item {index} ({day.isoformat()})"
            model = row.text("model")
            group = {
                "model_permaslug": row.string("model_permaslug", required=False) or model,
                "endpoint_id": row.string("endpoint_id", required=False),
                "workspace_id": row.string("workspace_id", required=False),
            }
            usage = row.amount("usage")
            event = UsageEvent(
                source=SOURCE,
                provider=PROVIDER,
                model=model,
                timestamp=start,
                dedupe_key=bucket_key(SOURCE, ACTIVITY.name, self.account, start, DAY_S, group_digest(group)),
                input_tokens=row.integer("prompt_tokens"),
                output_tokens=row.integer("completion_tokens"),
                reasoning_tokens=row.integer("reasoning_tokens", required=False),
                request_count=row.integer("requests"),
                reported_cost=usage,  # credits charged; BYOK inference is billed by the upstream provider
                bucket_seconds=DAY_S,
                account=self.account,
                project=group["workspace_id"],
            )
            page.events.append(event)
            page.bucket_starts.append(start)
            end = datetime.fromtimestamp(start.timestamp() + DAY_S, UTC)
            if page.covered_until is None or end > page.covered_until:
                page.covered_until = end
        return page
