"""Amounts as people read them: a fraction of a cent is not $0.00, JSON keeps the exact value."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from conftest import CliRunner
from tokenworth.core.money import (
    format_budget,
    format_cost,
    format_signed_usd,
    format_usd,
    money_label,
    typed_dollars,
    without_thousands_commas,
)


@pytest.mark.parametrize(
    ("amount", "places", "shown"),
    [
        ("0", 2, "$0.00"),
        ("0.003855", 2, "<$0.01"),
        ("0.0049", 2, "<$0.01"),
        ("0.0051", 2, "$0.01"),
        ("0.003855", 4, "$0.0039"),
        ("0.00004", 4, "<$0.0001"),
        ("0.4", 0, "<$1"),
        ("1234.567", 2, "$1,234.57"),
        ("-23.1", 2, "-$23.10"),
        ("-0.002", 2, "-<$0.01"),
    ],
)
def test_format_usd(amount: str, places: int, shown: str) -> None:
    assert format_usd(Decimal(amount), places) == shown


def test_cost_and_signed_forms_keep_the_small_amount_visible() -> None:
    assert format_cost(Decimal("0.003855"), complete=False) == "<$0.01+"
    assert format_signed_usd(Decimal("0.002")) == "+<$0.01"
    assert format_signed_usd(Decimal("-0.39")) == "-$0.39"
    assert format_usd(None) == "unpriced"


def test_report_table_shows_less_than_a_cent_and_json_the_exact_cost(cli: CliRunner, claude_dir: Path) -> None:
    folder = claude_dir / "projects" / "p"
    folder.mkdir(parents=True)
    (folder / "s.jsonl").write_text(
        '{"cwd":"/w","sessionId":"s","requestId":"r1","type":"assistant","timestamp":"2026-01-05T10:00:00Z",'
        '"message":{"id":"m1","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":1000,"output_tokens":57}}}\n'
    )
    doc = json.loads(cli("report", "daily", "--tz", "UTC", "--json").out)
    assert doc["rows"][0]["cost_usd"] == "0.003855"
    table = cli("report", "daily", "--tz", "UTC", "--no-import").out
    day = next(line for line in table.splitlines() if line.startswith("2026-01-05"))
    assert day.endswith("<$0.01")
    assert "$0.00" not in table


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (0.0, "$0"),
        (0.0001, "$0.0001"),  # a tick below a tenth of a cent keeps its digits, never "$0.000"
        (0.0005, "$0.0005"),
        (0.00012, "$0.00012"),
        (0.005, "$0.005"),
        (0.015, "$0.015"),  # between $0.01 and $0.02, not a second "$0.01"
        (0.05, "$0.05"),
        (0.1 * 3, "$0.30"),  # float noise is not a digit
        (1.25, "$1.25"),
        (2.5, "$2.5"),
        (1500.0, "$1.5k"),
        (1250.0, "$1.25k"),
        (2e6, "$2.0M"),
        (1e9, "$1.0B"),
        (5.55e-17, "$0"),  # float noise from summed ticks is zero, not "$0.0000000000"
    ],
)
def test_chart_tick_labels_stay_distinct_at_both_ends(value: float, label: str) -> None:
    assert money_label(value) == label


@pytest.mark.parametrize("typed", ["99,50", "5,5", "1.234,56", "1,00", ",5", "1,2345"])
def test_a_comma_that_does_not_group_thousands_is_refused(typed: str) -> None:
    """A decimal comma dropped would read 100x the amount meant."""
    with pytest.raises(ValueError, match="comma only groups thousands"):
        without_thousands_commas(typed)


def test_thousands_commas_are_removed() -> None:
    assert without_thousands_commas("1,234,567.5") == "1234567.5"
    assert without_thousands_commas("250") == "250"


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("$1,200.50", "1200.50"), ("-$5", "-5"), ("- $ 5", "-5"), ("$-5", "-5"), ("+$5", "5"), ("1_000", "1000")],
)
def test_typed_dollars_keep_their_sign_wherever_it_was_typed(typed: str, amount: str) -> None:
    assert typed_dollars(typed) == Decimal(amount)


@pytest.mark.parametrize("typed", ["-$-5", "$", "five", "-"])
def test_typed_dollars_without_one_number_are_refused(typed: str) -> None:
    with pytest.raises(InvalidOperation):
        typed_dollars(typed)


def test_a_budget_keeps_its_cents() -> None:
    """$3.50 rounded to "$4" read wrong beside "81% used" (2.84 of 3.50)."""
    assert format_budget(Decimal("3.50")) == "$3.50"
    assert format_budget(Decimal("0.50")) == "$0.50"
    assert format_budget(Decimal("250")) == "$250"
    assert format_budget(Decimal("1250.00")) == "$1,250"
