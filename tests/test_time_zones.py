"""Which zone days are cut in: `--tz` must name a zone; a `TZ` the system cannot use is said, not hidden."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import CliRunner, write_unknown_model_log
from tokenworth.core.timeutil import resolve_zone, zone_name


def _never(message: str) -> None:
    raise AssertionError(f"unexpected warning: {message}")


@pytest.mark.parametrize("empty", ["", " "])
def test_an_empty_tz_flag_is_a_usage_error_like_an_unknown_zone(cli: CliRunner, empty: str) -> None:
    for argv in (("report", "daily"), ("export", "--month", "2026-01", "--format", "json"), ("report", "reconcile")):
        result = cli(*argv, "--tz", empty, "--no-import")
        assert result.code == 2, argv
        assert "empty time zone name" in result.err
    with pytest.raises(ValueError, match="empty time zone"):
        resolve_zone(empty)


def test_a_bad_tz_variable_falls_back_to_utc_with_a_warning(
    cli: CliRunner, claude_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_unknown_model_log(claude_dir)
    assert cli("import").code == 0
    monkeypatch.setenv("TZ", "Nonsense/X")
    result = cli("report", "daily", "--no-import")
    assert result.code == 0, result.err
    assert "(days in UTC)" in result.out
    assert "Nonsense" not in result.out
    [line] = result.err.splitlines()
    assert line.startswith("warning: TZ='Nonsense/X' is not a time zone this system knows; using UTC")
    as_json = cli("report", "daily", "--no-import", "--json")
    assert json.loads(as_json.out)["time_zone"] == "UTC"  # the warning stays on stderr
    given = cli("report", "daily", "--no-import", "--tz", "Europe/Berlin")
    assert (given.code, given.err) == (0, "")  # --tz wins; TZ is not consulted


def test_usable_tz_values_are_taken_without_a_word(tmp_path: Path) -> None:
    assert resolve_zone(None, env={"TZ": "Europe/Berlin"}, warn=_never) == ZoneInfo("Europe/Berlin")
    assert resolve_zone(None, env={"TZ": ":Asia/Tokyo"}, warn=_never) == ZoneInfo("Asia/Tokyo")
    assert resolve_zone(None, env={"TZ": "UTC"}, warn=_never) is UTC
    zone_file = tmp_path / "localtime"
    zone_file.write_bytes(b"TZif")
    for posix in ("CET-1CEST,M3.5.0,M10.5.0/3", "EST5EDT,M3.2.0,M11.1.0", "<+0330>-3:30", f":{zone_file}"):
        resolve_zone(None, env={"TZ": posix}, warn=_never)  # the C library's local zone follows these


def test_without_a_warning_callback_a_bad_tz_is_logged_never_raised() -> None:
    """The tray app resolves its zone this way: it must keep running, in UTC."""
    assert zone_name(resolve_zone(None, env={"TZ": "Nonsense/X"})) == "UTC"


def test_the_system_zone_is_found_by_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """/etc/localtime links into the zone database: that zone, with its daylight saving, not the
    fixed offset of today."""
    from tokenworth.core import timeutil

    entry = tmp_path / "usr" / "share" / "zoneinfo" / "Europe" / "Berlin"
    entry.parent.mkdir(parents=True)
    entry.write_bytes(b"TZif")
    link = tmp_path / "localtime"
    link.symlink_to(entry)
    monkeypatch.setattr(timeutil, "LOCALTIME_FILE", str(link))
    assert resolve_zone(None, env={}, warn=_never) == ZoneInfo("Europe/Berlin")
    unnamed = tmp_path / "copied-localtime"
    unnamed.write_bytes(b"TZif")
    monkeypatch.setattr(timeutil, "LOCALTIME_FILE", str(unnamed))
    assert isinstance(resolve_zone(None, env={}, warn=_never), timeutil.LocalTime)


@pytest.mark.parametrize(
    ("rule", "name"),
    [
        ("CET-1CEST,M3.5.0,M10.5.0/3", "Europe/Berlin"),
        ("<-04>4<-03>,M9.1.6/24,M4.1.6/24", "America/Santiago"),  # clocks jump at midnight
    ],
)
def test_a_posix_rule_keeps_its_daylight_saving(monkeypatch: pytest.MonkeyPatch, rule: str, name: str) -> None:
    """TZ='CET-1CEST,...': the C library's rule decides each date's offset, exactly as the named
    zone would: instants (a repeated hour's two passes told apart by fold), wall times of both
    folds (a skipped one read with the offset before), and where each day starts. Today's offset
    for every date put 2026-09-25 22:14 UTC on the 25th; in summer time it is the 26th."""
    import time
    from datetime import date, datetime, timedelta

    from tokenworth.core.timeutil import local_day_start

    monkeypatch.setenv("TZ", rule)
    time.tzset()
    try:
        zone = resolve_zone(None, env={"TZ": rule}, warn=_never)
        named = ZoneInfo(name)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        for step in range(0, 365 * 24 * 4, 3):  # every 45 minutes through the year
            moment = start + timedelta(minutes=15 * step)
            local, expected = moment.astimezone(zone), moment.astimezone(named)
            assert (local.replace(tzinfo=None), local.utcoffset(), local.fold) == (
                expected.replace(tzinfo=None),
                expected.utcoffset(),
                expected.fold,
            ), moment
            assert local.astimezone(UTC) == moment
            wall = moment.replace(tzinfo=None)
            for fold in (0, 1):
                assert wall.replace(fold=fold, tzinfo=zone).astimezone(UTC) == wall.replace(
                    fold=fold, tzinfo=named
                ).astimezone(UTC), (wall, fold)
        for day in (date(2026, 1, 1) + timedelta(days=n) for n in range(365)):
            assert local_day_start(day, zone) == local_day_start(day, named), day
        if name == "Europe/Berlin":
            assert datetime(2026, 9, 25, 22, 14, tzinfo=UTC).astimezone(zone).day == 26
    finally:
        monkeypatch.undo()
        time.tzset()


def test_reports_cut_days_in_the_zone_chosen_in_settings(
    cli: CliRunner, claude_dir: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app, its tray and exports use "Days and months in" from Settings; so do the commands,
    unless --tz says otherwise (two month totals for one month, with no flag, read as a bug)."""
    from tokenworth.core.config import resolve_paths

    write_unknown_model_log(claude_dir)
    assert cli("import").code == 0
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    resolve_paths().settings_file.write_text(json.dumps({"time_zone": "Pacific/Kiritimati"}))
    chosen = cli("report", "daily", "--no-import", "--json")
    assert json.loads(chosen.out)["time_zone"] == "Pacific/Kiritimati"
    flag = cli("report", "daily", "--no-import", "--json", "--tz", "UTC")
    assert json.loads(flag.out)["time_zone"] == "UTC"
    resolve_paths().settings_file.write_text(json.dumps({"time_zone": "Mars/Olympus"}))
    fallback = cli("report", "daily", "--no-import", "--json")
    assert json.loads(fallback.out)["time_zone"] == "America/Los_Angeles"
    assert "warning: settings: unknown time zone 'Mars/Olympus'" in fallback.err
