"""Reporting periods (this month, last month, a named month, a custom range) as local dates."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from tokenworth.core.timeutil import parse_month

PeriodKind = Literal["this-month", "last-month", "month", "custom"]


@dataclass(frozen=True)
class Period:
    """An inclusive range of local days, and how the user named it."""

    kind: PeriodKind
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    @property
    def is_whole_month(self) -> bool:
        return self.start.day == 1 and self.end == month_end(self.start)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def label(self) -> str:
        if self.is_whole_month:
            return self.start.strftime("%B %Y")
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_period(year: int, month: int, kind: PeriodKind = "month") -> Period:
    start = date(year, month, 1)
    return Period(kind, start, month_end(start))


def this_month(today: date) -> Period:
    return month_period(today.year, today.month, "this-month")


def last_month(today: date) -> Period:
    previous = today.replace(day=1) - timedelta(days=1)
    return month_period(previous.year, previous.month, "last-month")


def custom_period(start: date, end: date) -> Period:
    return Period("custom", start, end)


def parse_period(text: str, today: date) -> Period:
    """`this-month`, `last-month` or `YYYY-MM`, with a clear message for anything else."""
    text = text.strip().lower()
    if text == "this-month":
        return this_month(today)
    if text == "last-month":
        return last_month(today)
    try:
        year, month = parse_month(text)
    except ValueError:
        raise ValueError(f"period must be this-month, last-month or a month like 2026-01, got {text!r}") from None
    return month_period(year, month)
