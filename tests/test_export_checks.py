"""`tokenworth export` refuses what cannot be meant: a month not begun, an --out whose extension
says another format. An --out extension alone picks the format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from conftest import CliRunner
from tokenworth.services.export import format_for_suffix, target_mismatch

BASE = ("--month", "2026-01", "--tz", "UTC", "--no-import")


def _next_month() -> str:
    today = date.today()
    return f"{today.year + 1}-01" if today.month == 12 else f"{today.year}-{today.month + 1:02d}"


def test_a_month_that_has_not_started_is_refused(cli: CliRunner, tmp_path: Path) -> None:
    result = cli(
        "export", "--month", _next_month(), "--no-import", "--format", "json", "--out", str(tmp_path / "x.json")
    )
    assert result.code == 2
    assert f"--month {_next_month()} has not started yet" in result.err
    assert not (tmp_path / "x.json").exists()
    this_month = f"{date.today():%Y-%m}"
    assert (
        cli("export", "--month", this_month, "--no-import", "--format", "json", "--out", str(tmp_path / "x.json")).code
        == 0
    )


@pytest.mark.parametrize(
    ("fmt", "out", "message"),
    [
        ("pdf", "x.txt", "--format pdf writes a .pdf file; give --out x.pdf"),
        ("json", "x.html", "--format json writes a .json file; give --out x.json"),
        ("md", "notes.txt", "--format md writes a .md or .markdown file; give --out notes.md"),
        ("all", "x.json", "--format all writes a folder holding every format; give --out x/"),
        (
            "csv",
            "tables.csv",
            "--format csv writes a folder of tables, or a .zip archive; give --out tables/ or tables.zip",
        ),
    ],
)
def test_an_out_extension_that_contradicts_the_format_is_refused(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, out: str, message: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = cli("export", *BASE, "--format", fmt, "--out", out)
    assert result.code == 2
    assert message in result.err
    assert list(work.iterdir()) == []  # nothing written, no folder called x.json


def test_out_paths_that_fit(tmp_path: Path) -> None:
    assert target_mismatch("pdf", tmp_path / "x.PDF") is None
    assert target_mismatch("html", tmp_path / "x.htm") is None
    assert target_mismatch("csv", tmp_path / "x.zip") is None
    assert target_mismatch("all", tmp_path / "reports-2026.01") is None  # a folder with a dot
    assert target_mismatch("pdf", tmp_path) is None  # an existing folder gets the default name
    assert target_mismatch("json", tmp_path / "summary") is None  # no suffix: that file


def test_the_out_extension_picks_the_format_when_none_is_given(cli: CliRunner, tmp_path: Path) -> None:
    assert format_for_suffix(".zip") == "csv"
    assert format_for_suffix(".markdown") == "md"
    assert format_for_suffix(".txt") is None
    target = tmp_path / "jan.json"
    result = cli("export", *BASE, "--out", str(target))
    assert result.code == 0, result.err
    assert target.is_file()
    assert json.loads(target.read_text(encoding="utf-8"))["month"] == "2026-01"
    refused = cli("export", *BASE, "--out", str(tmp_path / "jan.txt"))
    assert refused.code == 2
    assert "--format all writes a folder" in refused.err


def test_report_value_refuses_a_month_that_has_not_started_as_export_does(cli: CliRunner) -> None:
    result = cli("report", "value", "--month", _next_month(), "--no-import")
    assert result.code == 2
    assert f"--month {_next_month()} has not started yet" in result.err


def test_plan_basis_with_no_plan_says_the_costs_are_api_equivalent(cli: CliRunner) -> None:
    result = cli("report", "value", "--month", "2026-01", "--basis", "plan", "--tz", "UTC", "--no-import")
    assert result.code == 0, result.err
    assert "No plan covers this month: every cost is API-equivalent" in result.out


def test_a_pdf_export_prints_no_qt_font_notes(tmp_path: Path) -> None:
    """A Devanagari title made Qt print "OpenType support missing ..." on the command's stderr,
    which reads as a failed export. In a process of its own: Qt is set up once per process."""
    env = {**os.environ, "TOKENWORTH_HOME": str(tmp_path / "home"), "TZ": "UTC", "QT_QPA_PLATFORM": "offscreen"}
    env["CLAUDE_CONFIG_DIR"] = str(tmp_path / "no-logs")

    def tokenworth(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tokenworth", *args], capture_output=True, text=True, env=env, timeout=120
        )

    logged = tokenworth(
        "task", "log", "हिन्दी रिपोर्ट", "--value", "5", "--start", "2026-01-05T10:00", "--end", "2026-01-05T11:00"
    )
    assert logged.returncode == 0, logged.stderr
    exported = tokenworth(
        "export", "--month", "2026-01", "--format", "pdf", "--out", str(tmp_path / "jan.pdf"), "--no-import"
    )
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr == ""
