"""`--until DATE` includes that whole local day everywhere, as in `report --until`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import CliRunner, write_unknown_model_log
from tokenworth.core.timeutil import parse_until_day_or_time


def test_a_day_ends_at_the_start_of_the_next_local_day() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert parse_until_day_or_time("2026-01-05", UTC) == datetime(2026, 1, 6, tzinfo=UTC)
    assert parse_until_day_or_time("2026-01-05", berlin) == datetime(2026, 1, 5, 23, tzinfo=UTC)
    # The day clocks go forward has 23 hours; its end is still the next local midnight.
    assert parse_until_day_or_time("2026-03-29", berlin) == datetime(2026, 3, 29, 22, tzinfo=UTC)


def test_a_full_time_stays_an_instant() -> None:
    assert parse_until_day_or_time("2026-01-05T14:30", UTC) == datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    assert parse_until_day_or_time("2026-01-05T14:30+01:00", UTC) == datetime(2026, 1, 5, 13, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="expected a date"):
        parse_until_day_or_time("tuesday", UTC)


def test_reprice_until_a_day_includes_that_day(cli: CliRunner, claude_dir: Path) -> None:
    write_unknown_model_log(claude_dir)
    cli("import")
    assert cli("prices", "set", "claude-imaginary-9", "--input", "2", "--output", "8").code == 0
    args = ("reprice", "--since", "2026-01-01", "--model", "claude-imaginary-9", "--tz", "UTC", "--json")
    assert json.loads(cli(*args, "--until", "2026-01-05T09:00").out)["records"] == 0  # an instant
    assert json.loads(cli(*args, "--until", "2026-01-05").out)["changed"] == 1
    assert "includ" in cli("reprice", "--help").out


def test_reprice_shows_a_formerly_unpriced_cost_as_unpriced_not_zero(cli: CliRunner, claude_dir: Path) -> None:
    write_unknown_model_log(claude_dir)
    cli("import")
    assert cli("prices", "set", "claude-imaginary-9", "--input", "2", "--output", "8").code == 0
    args = ("reprice", "--since", "2026-01-01", "--model", "claude-imaginary-9", "--tz", "UTC")
    payload = json.loads(cli(*args, "--json").out)
    assert payload["cost_before_usd"] is None  # it had no price: unknown, not $0
    assert payload["cost_before_complete"] is False
    assert payload["was_unpriced"] == 1
    assert payload["cost_after_usd"] == "2"
    assert payload["cost_after_complete"] is True
    text = cli(*args).out  # a second run: now priced on both sides
    assert "computed cost $2.0000 -> $2.0000" in text
    assert cli("prices", "delete", "claude-imaginary-9").code == 0
    unpriced_again = cli(*args)
    assert "computed cost $2.0000 -> unpriced" in unpriced_again.out
    assert "$0.0000" not in unpriced_again.out


def test_an_until_before_since_is_refused_as_report_refuses_it(cli: CliRunner) -> None:
    result = cli("reprice", "--since", "2026-12-01", "--until", "2026-11-01", "--tz", "UTC")
    assert result.code == 2
    assert "--until 2026-11-01 is not after --since 2026-12-01" in result.err
    assert cli("reprice", "--since", "2026-12-01", "--until", "2026-12-01", "--tz", "UTC").code == 0  # one day
