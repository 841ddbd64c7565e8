"""Amounts as people read them: a fraction of a cent is not $0.00, JSON keeps the exact value."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import CliRunner
from tokenworth.core.money import format_cost, format_signed_usd, format_usd


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
