"""What the provider pollers return (pages of usage events and billed costs) and how they read fields.

Every field read says where it was (`page 2, bucket 2026-01-01T00:00:00Z, result 0: ...`), so a
malformed reply is reported precisely. Unknown fields are ignored: providers add fields over time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Protocol

from tokenworth.sources.records import UsageEvent

BucketWidth = Literal["1h", "1d"]
WIDTH_SECONDS: dict[str, int] = {"1m": 60, "1h": 3600, "1d": 86400}
EndpointKind = Literal["usage", "cost"]


class FieldError(ValueError):
    """A field is missing or has the wrong type; the message says which and where."""


@dataclass(frozen=True)
class EndpointSpec:
    """One endpoint a poller reads: its name, what it returns, the bucket widths it offers, and
    whether it takes a time window at all (OpenRouter's activity always covers the last 30 days)."""

    name: str
    kind: EndpointKind
    widths: tuple[BucketWidth, ...] = ("1d",)
    windowed: bool = True


@dataclass(slots=True)
class BilledCostRow:
    """One line of a cost report: billed money for one bucket, in dollars (or the bill's currency)."""

    source: str
    provider: str
    account: str
    dedupe_key: str
    start: datetime
    bucket_seconds: int
    amount: Decimal
    currency: str
    model: str | None = None
    line_item: str | None = None
    cost_type: str | None = None
    token_type: str | None = None
    service_tier: str | None = None
    context_window: str | None = None
    project: str | None = None
    quantity: Decimal | None = None
    quantity_unit: str | None = None


@dataclass(slots=True)
class Page:
    """One page of one endpoint, checked whole before anything from it is stored."""

    endpoint: str
    number: int
    width_seconds: int
    events: list[UsageEvent] = field(default_factory=list)
    costs: list[BilledCostRow] = field(default_factory=list)
    bucket_starts: list[datetime] = field(default_factory=list)
    covered_until: datetime | None = None
    """End of the last bucket on the page: everything before it is now stored."""
    long_context: set[str] = field(default_factory=set)
    """Dedupe keys of events whose requests were long-context (priced at the upper tier)."""
    batch: set[str] = field(default_factory=set)
    """Dedupe keys of events whose requests went through the batch API (half price)."""


class ProviderClient(Protocol):
    """What the poll service needs from each provider's poller."""

    provider: str
    account: str

    def check_key(self) -> dict[str, Any]: ...

    def account_details(self) -> dict[str, Any]: ...

    def endpoints(self, details: Mapping[str, Any]) -> list[EndpointSpec]: ...

    def pages(
        self, spec: EndpointSpec, start: datetime, end: datetime | None, width: BucketWidth
    ) -> Iterator[Page]: ...


def group_digest(values: Mapping[str, Any]) -> str:
    """A short stable digest of a row's group-by values, for dedupe keys of bounded length."""
    text = json.dumps({k: values[k] for k in sorted(values)}, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def bucket_key(source: str, endpoint: str, account: str, start: datetime, width_s: int, group: str) -> str:
    """`source|endpoint|account|start|width|group`: a re-poll of the same bucket updates in place."""
    return f"{key_prefix(source, endpoint, account)}{int(start.timestamp())}|{width_s}|{group}"


def key_prefix(source: str, endpoint: str, account: str) -> str:
    return f"{source}|{endpoint}|{account}|"


def utc_from_unix(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def floor_to(moment: datetime, width_s: int) -> datetime:
    """The start of the UTC bucket of `width_s` seconds that holds `moment`."""
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % width_s, UTC)


def today_utc() -> datetime:
    """The start of the current UTC day."""
    return floor_to(datetime.now(UTC), 86400)


class Reader:
    """Typed field access on one JSON object, naming `where` in every error."""

    def __init__(self, obj: Any, where: str) -> None:
        if not isinstance(obj, dict):
            raise FieldError(f"{where}: expected an object, got {_json_type(obj)}")
        self.obj: dict[str, Any] = obj
        self.where = where

    def _get(self, key: str, required: bool) -> Any:
        if key not in self.obj:
            if required:
                raise FieldError(f"{self.where}: missing field '{key}'")
            return None
        return self.obj[key]

    def _wrong(self, key: str, expected: str, value: Any) -> FieldError:
        return FieldError(f"{self.where}: field '{key}' should be {expected}, got {_json_type(value)}")

    def integer(self, key: str, *, required: bool = True) -> int:
        value = self._get(key, required)
        if value is None and not required:
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, Decimal) and value == value.to_integral_value() and value.is_finite():
                return int(value)
            raise self._wrong(key, "an integer", value)
        if value < 0:
            raise FieldError(f"{self.where}: field '{key}' is negative ({value})")
        return value

    def string(self, key: str, *, required: bool = True) -> str | None:
        value = self._get(key, required)
        if value is None:
            if required:
                raise self._wrong(key, "a string", value)
            return None
        if not isinstance(value, str):
            raise self._wrong(key, "a string", value)
        return value

    def text(self, key: str) -> str:
        """A required, non-null string."""
        value = self.string(key)
        assert value is not None
        return value

    def amount(self, key: str) -> Decimal:
        """A required, non-null amount."""
        value = self.money(key)
        assert value is not None
        return value

    def flag(self, key: str, *, required: bool = True) -> bool:
        value = self._get(key, required)
        if value is None and not required:
            return False
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false", value)
        return value

    def items(self, key: str, *, required: bool = True) -> list[Any]:
        value = self._get(key, required)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            raise self._wrong(key, "a list", value)
        return value

    def obj_or_none(self, key: str) -> Reader | None:
        value = self._get(key, False)
        if value is None:
            return None
        return Reader(value, f"{self.where}, {key}")

    def money(self, key: str, *, required: bool = True) -> Decimal | None:
        """A decimal amount from a JSON number or decimal string, exactly as written."""
        value = self._get(key, required)
        if value is None:
            if required:
                raise self._wrong(key, "an amount", value)
            return None
        if isinstance(value, bool):
            raise self._wrong(key, "an amount", value)
        if isinstance(value, Decimal | int):
            amount = Decimal(value)
        elif isinstance(value, str):
            try:
                amount = Decimal(value.strip())
            except InvalidOperation:
                raise FieldError(f"{self.where}: field '{key}' is not a number: {value[:40]!r}") from None
        else:
            raise self._wrong(key, "an amount", value)
        if not amount.is_finite():
            raise FieldError(f"{self.where}: field '{key}' is not a finite number")
        return amount


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
