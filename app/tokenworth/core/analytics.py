"""Value arithmetic: TFP (value per dollar of spend), pro-rata splits and leverage, exact.

Amounts are exact rationals of money storage units (1e-10 USD, see core.money) while they are
summed and split; they become Decimal dollars only at the end, rounded once, half to even.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Literal, TypeVar

from tokenworth.core.money import from_units

ValueGrouping = Literal["task", "category", "model", "project"]
VALUE_GROUPINGS: tuple[ValueGrouping, ...] = ("task", "category", "model", "project")
CostBasis = Literal["api", "plan"]
COST_BASES: tuple[CostBasis, ...] = ("api", "plan")
BASIS_LABELS = {
    "api": "API-equivalent cost",
    "plan": "plan fees for covered usage, API-equivalent cost for the rest",
}

UNCATEGORIZED = "(uncategorized)"
"""How a task without a category is named in every table, chart and report."""


TFP_PLACES = 4
"""Decimal places of a TFP or leverage figure in JSON (the text output shows two)."""

K = TypeVar("K", bound=Hashable)

NO_SPEND = "no spend"
UNVALUED = "unvalued"
UNPRICED = "unpriced"


def units_to_money(units: Fraction | int) -> Decimal:
    """An exact amount of storage units as Decimal dollars, rounded half to even once."""
    return from_units(round(Fraction(units)))


def rounded_ratio(numerator: Fraction | int, denominator: Fraction | int, places: int = TFP_PLACES) -> Decimal:
    """numerator / denominator as a Decimal with `places` decimals, rounded half to even."""
    exact = Fraction(numerator) / Fraction(denominator)
    scaled = round(exact * 10**places)
    return Decimal(scaled).scaleb(-places)


@dataclass(frozen=True, slots=True)
class Tfp:
    """A TFP figure, or why there is none.

    `ratio` is value / cost; None with `note` "no spend" (cost is zero: never infinity),
    "unvalued" (no value given yet) or "unpriced" (all the usage lacks a price). `complete` is
    False when part of the cost is unknown (unpriced usage) or part of the value is (unvalued
    tasks): the ratio then only covers what is known.
    """

    ratio: Decimal | None
    note: str | None
    complete: bool


def tfp(
    value_units: Fraction | None,
    cost_units: Fraction | None,
    *,
    cost_complete: bool = True,
    value_complete: bool = True,
) -> Tfp:
    """TFP = value / cost, with the edge cases named instead of crashing or dividing by zero.

    `cost_units` None means the usage has no known price at all; `value_units` None means no
    value was given. Zero cost is "no spend" whatever the value.
    """
    complete = cost_complete and value_complete
    if cost_units is None:
        return Tfp(None, UNPRICED, False)
    if cost_units == 0:
        return Tfp(None, NO_SPEND, complete)
    if value_units is None:
        return Tfp(None, UNVALUED, False)
    return Tfp(rounded_ratio(value_units, cost_units), None, complete)


def format_tfp(figure: Tfp, places: int = 2) -> str:
    """'12.50x', or why there is none ('no spend', 'unvalued', 'unpriced'); '*' marks an incomplete figure."""
    if figure.ratio is None:
        return figure.note or "-"
    text = f"{figure.ratio.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN):,}x"
    return text if figure.complete else text + "*"


def exceeds(cost_units: Fraction | None, value_units: Fraction | None) -> bool:
    """True when a known cost is more than a known value (such tasks are flagged)."""
    return cost_units is not None and value_units is not None and cost_units > value_units


def pro_rata(total: Fraction | int, weights: Mapping[K, Fraction | int]) -> dict[K, Fraction]:
    """Split `total` over the keys in proportion to their weights (exactly; sums to `total`).

    All-zero weights split nothing: every key gets zero (the caller decides where it goes).
    """
    weight_sum = sum((Fraction(w) for w in weights.values()), Fraction(0))
    if weight_sum == 0:
        return {key: Fraction(0) for key in weights}
    return {key: Fraction(total) * Fraction(weight) / weight_sum for key, weight in weights.items()}


def overlap(start_a: int, end_a: int, start_b: int, end_b: int) -> int:
    """Length of the overlap of [start_a, end_a) and [start_b, end_b), zero when apart."""
    return max(0, min(end_a, end_b) - max(start_a, start_b))


def leverage(api_equivalent_units: Fraction | int, fee_units: Fraction | int) -> Decimal | None:
    """API-equivalent cost per dollar of plan fee; None for a free plan."""
    if fee_units == 0:
        return None
    return rounded_ratio(api_equivalent_units, fee_units)
