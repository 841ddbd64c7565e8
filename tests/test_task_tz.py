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
