"""`--tz` works before or after a task action (`task log ... --tz UTC`), for every action."""

from __future__ import annotations

import json

import pytest

from conftest import CliRunner

SPAN = ("--start", "2026-01-05T09:00", "--end", "2026-01-05T10:00")


def _start_of(cli: CliRunner, task_id: int) -> str:
    shown = cli("task", "show", str(task_id), "--json", "--tz", "UTC")
    assert shown.code == 0, shown.err
    return json.loads(shown.out)["start"]


def test_tz_after_the_action_reads_times_in_that_zone(cli: CliRunner) -> None:
    logged = cli("task", "log", "After", "--value", "1", *SPAN, "--tz", "Asia/Tokyo")
    assert logged.code == 0, logged.err
    assert _start_of(cli, 1) == "2026-01-05T00:00:00+00:00"
    before = cli("task", "--tz", "Asia/Tokyo", "log", "Before", "--value", "1", *SPAN)
    assert before.code == 0, before.err
    assert _start_of(cli, 2) == "2026-01-05T00:00:00+00:00"  # a --tz before the action still counts
    after_wins = cli("task", "--tz", "Asia/Tokyo", "log", "Both", "--value", "1", *SPAN, "--tz", "UTC")
    assert after_wins.code == 0, after_wins.err
    assert _start_of(cli, 3) == "2026-01-05T09:00:00+00:00"
    listed = cli("task", "list", "--no-import", "--tz", "Asia/Tokyo")
    assert "2026-01-05 09:00" in listed.out
    assert cli("task", "list", "--tz", "Mars/Olympus", "--no-import").code == 2


@pytest.mark.parametrize(
    "argv",
    [
        ("start", "T"),
        ("stop", "--no-import"),
        ("list", "--no-import"),
        ("show", "1"),
        ("edit", "1", "--title", "U"),
        ("assign", "1", "--session", "s"),
        ("unassign", "1", "--session", "s"),
        ("categories",),
        ("proposals", "--no-import"),
        ("reattribute",),
        ("delete", "1"),
    ],
)
def test_every_action_accepts_tz_after_it(cli: CliRunner, argv: tuple[str, ...]) -> None:
    result = cli("task", *argv, "--tz", "UTC")
    assert "unrecognized arguments" not in result.err
    assert result.code in (0, 1), result.err


def test_a_local_time_the_clocks_skipped_is_refused_with_the_reason(cli: CliRunner) -> None:
    gap = cli(
        "task", "log", "Gap", "--value", "1", "--tz", "America/New_York",
        "--start", "2026-03-08T02:30", "--end", "2026-03-08T03:30",
    )  # fmt: skip
    assert gap.code == 2
    assert "2026-03-08T02:30 does not exist in America/New_York" in gap.err
    fall_back = cli(
        "task", "log", "Twice", "--value", "1", "--tz", "America/New_York",
        "--start", "2026-11-01T01:30", "--end", "2026-11-01T03:30",
    )  # fmt: skip
    assert fall_back.code == 0, fall_back.err
    assert _start_of(cli, 1) == "2026-11-01T05:30:00+00:00"  # the first 01:30 (EDT)


@pytest.mark.parametrize(
    "argv",
    [
        ("export", "--no-import", "--format", "json", "--out", "-", "--month", "0001-01"),
        ("report", "value", "--no-import", "--month", "9999-12"),
        ("report", "daily", "--no-import", "--until", "9999-12-31"),
        ("task", "log", "Far", "--value", "1", "--start", "9999-12-31T22:00", "--end", "9999-12-31T23:00"),
    ],
)
def test_a_date_at_the_calendars_edge_is_a_usage_error_not_a_crash(cli: CliRunner, argv: tuple[str, ...]) -> None:
    result = cli(*argv)
    assert result.code == 2, (result.err, result.out)
    assert "the year must be between 1970 and 9998" in result.err
