"""Money is Decimal US dollars; in the database, an exact integer count of 1e-10 USD.

SQLite has no exact decimal column (NUMERIC becomes a float), so amounts are stored as integers
of 1e-10 US dollars (see core.dbtypes). Sums in SQL stay exact and portable.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

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
    """Short dollar labels for chart axes: $0.05, $3, $120, $1.5k, $12k, $1.2M (the dashboard's
    and the exported charts' ticks alike)."""
    size = abs(value)
    if size >= 1e6:
        return f"${value / 1e6:.1f}M"
    if size >= 1e4:
        return f"${value / 1e3:.0f}k"
    if size >= 1e3:
        return f"${value / 1e3:.1f}k"
    if size >= 10 or value == 0:
        return f"${value:.0f}"
    if size >= 1:
        return f"${value:.1f}".replace(".0", "")
    if size >= 0.01:
        return f"${value:.2f}"
    return f"${value:.3f}"
