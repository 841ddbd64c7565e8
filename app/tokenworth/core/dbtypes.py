"""Column types that keep money exact and times in UTC on every database."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from tokenworth.core.money import from_units, to_units
from tokenworth.core.timeutil import from_epoch_ms, to_epoch_ms


class Money(TypeDecorator[Decimal]):
    """A Decimal amount of US dollars stored as BigInteger units of 1e-10 USD."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(f"money must be Decimal, got {type(value).__name__}")
        return to_units(Decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return from_units(int(value))


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as BigInteger epoch milliseconds (UTC): exact, sortable, portable."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if not isinstance(value, datetime):
            raise TypeError(f"expected datetime, got {type(value).__name__}")
        return to_epoch_ms(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return from_epoch_ms(int(value))
