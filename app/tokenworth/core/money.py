"""Money is Decimal US dollars; in the database, an exact integer count of 1e-10 USD.

SQLite has no exact decimal column (NUMERIC becomes a float), so amounts are stored as integers
of 1e-10 US dollars (see core.dbtypes). Sums in SQL stay exact and portable.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

MONEY_SCALE = 10**10
_QUANTUM = Decimal(1) / MONEY_SCALE
ZERO = Decimal(0)
CENT = Decimal("0.01")


def to_units(amount: Decimal) -> int:
    """Decimal dollars to integer storage units (1e-10 USD), rounding half to even."""
    return int((amount * MONEY_SCALE).to_integral_value(rounding=ROUND_HALF_EVEN))


def from_units(units: int) -> Decimal:
    """Integer storage units back to Decimal dollars, normalised to at most 10 places."""
    return (Decimal(units) / MONEY_SCALE).quantize(_QUANTUM)


def quantize_money(amount: Decimal) -> Decimal:
    """The exact value the database will hold for `amount`."""
    return from_units(to_units(amount))


def format_usd(amount: Decimal | None, places: int = 2) -> str:
    """`$1,234.56`, `-$23.10`, or `unpriced` for an unknown amount; never silently `$0`.

    A real amount too small to show at `places` reads `<$0.01` (a fraction of a cent spent is not
    nothing spent); only an exact zero reads `$0.00`.
    """
    if amount is None:
        return "unpriced"
    quantum = Decimal(1).scaleb(-places)
    shown = amount.quantize(quantum, rounding=ROUND_HALF_EVEN)
    sign = "-" if amount < 0 else ""
    if not shown and amount:
        return f"{sign}<${quantum:f}"
    return f"{sign}${abs(shown):,}"


def format_budget(amount: Decimal | None) -> str:
    """A budget as the user typed it: `$250` when whole, `$3.50` with its cents (never rounded,
    or the share of it spent reads wrong beside it)."""
    if amount is not None and amount == amount.to_integral_value():
        return format_usd(amount, 0)
    return format_usd(amount)


def format_cost(amount: Decimal | None, complete: bool = True, places: int = 2) -> str:
    """`$1.23`; `$1.23+` when some of the usage is unpriced (the figure is a lower bound); `unpriced`."""
    return format_usd(amount, places) + ("" if complete or amount is None else "+")


def format_signed_usd(amount: Decimal | None) -> str:
    """`+$0.03` / `-$0.39`: which way a difference goes; `-` when it is unknown."""
    if amount is None:
        return "-"
    return ("-" if amount < 0 else "+") + format_usd(abs(amount))


def decimal_str(amount: Decimal | None) -> str | None:
    """A JSON-safe decimal string (no exponent), or None."""
    if amount is None:
        return None
    return format(amount.normalize(), "f")


def money_label(value: float) -> str:
    """Short dollar labels for chart axes: $0.0005, $0.015, $0.05, $3, $1.25, $120, $1.5k, $12k,
    $1.2M, $1.0B (the dashboard's and the exported charts' ticks alike). Each tick keeps the digits
    that tell it from its neighbours: $0.015 is not rounded into $0.01 or $0.02."""
    size = abs(value)
    if size < 1e-12 or not math.isfinite(value):  # float noise around zero; no tick is infinite
        return "$0" if math.isfinite(value) else "$—"
    if size >= 1e9:
        return f"${_shortest(value / 1e9, 1)}B"
    if size >= 1e6:
        return f"${_shortest(value / 1e6, 1)}M"
    if size >= 1e4:
        return f"${_shortest(value / 1e3, 0)}k"
    if size >= 1e3:
        return f"${_shortest(value / 1e3, 1)}k"
    if size >= 1 or value == 0:
        return f"${_shortest(value, 0, 2)}"
    return f"${_shortest(value, 2)}"


def _shortest(number: float, min_places: int, max_places: int = 10) -> str:
    """`number` with the fewest decimals (at least `min_places`) that still show it exactly, to a
    billionth of its size: tick values are round numbers carrying float noise (0.1 * 3)."""
    tolerance = abs(number) * 1e-9
    for places in range(min_places, max_places):
        if abs(round(number, places) - number) <= tolerance:
            return f"{number:.{places}f}"
    return f"{number:.{max_places}f}"


_GROUPED_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


def without_thousands_commas(text: str) -> str:
    """Typed dollars with their thousands commas removed: `1,234.50` -> `1234.50`.

    ValueError for a comma anywhere else: `99,50` or `1.234,56` use a decimal comma, and dropping
    it would read a hundred times the amount meant.
    """
    if "," not in text:
        return text
    if not _GROUPED_THOUSANDS.fullmatch(text):
        raise ValueError(f"a comma only groups thousands (1,250.50); write cents with a point, not {text!r}")
    return text.replace(",", "")


def typed_dollars(text: str) -> Decimal:
    """Dollars as a person types them: `120`, `$1,200.50`, `1_000`, `-$5` or `$-5` (the sign is
    kept, for the caller to refuse with its own words). ValueError for a decimal comma,
    InvalidOperation for no number at all."""
    cleaned = text.strip().replace("_", "")
    sign = ""
    if cleaned.startswith(("+", "-")) and cleaned[1:].lstrip().startswith("$"):
        sign, cleaned = cleaned[0], cleaned[1:].lstrip()
    cleaned = cleaned.removeprefix("$").strip()
    if sign and cleaned.startswith(("+", "-")):
        raise InvalidOperation(text)
    return Decimal(sign + without_thousands_commas(cleaned))
