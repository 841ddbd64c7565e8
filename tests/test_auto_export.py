"""Exporting last month automatically: due from the first day of a new month until written once,
never twice, skipped for an empty month, months cut in the user's zone; the clock is injected."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from export_ledger import build_export_ledger
from tokenworth.core.db import Database
from tokenworth.services.auto_export import auto_export_decision, exported_at, run_auto_export
from tokenworth.services.export import ExportHooks

NO_QT = ExportHooks()


def clock(month: int, day: int, hour: int = 9, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.fixture
def ledger(db: Database) -> Database:
    build_export_ledger(db, plan=False)
    return db


def test_due_on_the_first_of_the_month_then_done_once(ledger: Database, tmp_path: Path) -> None:
    decision = auto_export_decision(ledger, now=clock(2, 1, 0), zone=UTC, folder=tmp_path)
    assert (decision.due, decision.month_key) == (True, "2026-01")
    assert decision.target == tmp_path / "tokenworth-2026-01"

    outcome = run_auto_export(ledger, now=clock(2, 1, 0), zone=UTC, folder=tmp_path, hooks=NO_QT, formats=["json"])
    assert outcome.written
    written = tmp_path / "tokenworth-2026-01" / "tokenworth-2026-01.json"
    assert json.loads(written.read_text())["totals"]["cost_usd"] == "33.6"
    assert exported_at(ledger, (2026, 1)) == "2026-02-01T00:00:00+00:00"
    first_write = written.stat().st_mtime_ns

    for later in (clock(2, 1, 23), clock(2, 2), clock(2, 28)):
        again = run_auto_export(ledger, now=later, zone=UTC, folder=tmp_path, hooks=NO_QT, formats=["json"])
        assert not again.written
        assert again.decision.reason == "2026-01 was exported on 2026-02-01T00:00:00+00:00"
    assert written.stat().st_mtime_ns == first_write  # not written again


def test_a_missed_first_day_is_caught_up(ledger: Database, tmp_path: Path) -> None:
    outcome = run_auto_export(ledger, now=clock(2, 9), zone=UTC, folder=tmp_path, hooks=NO_QT, formats=["json"])
    assert outcome.written
    assert outcome.decision.month_key == "2026-01"


def test_an_empty_month_is_not_exported(ledger: Database, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    decision = auto_export_decision(ledger, now=clock(3, 1), zone=UTC, folder=folder)
    assert (decision.due, decision.reason) == (False, "nothing was recorded in 2026-02")
    outcome = run_auto_export(ledger, now=clock(3, 1), zone=UTC, folder=folder, hooks=NO_QT, formats=["json"])
    assert not outcome.written
    assert not folder.exists()


def test_switched_off_means_never(ledger: Database, tmp_path: Path) -> None:
    decision = auto_export_decision(ledger, now=clock(2, 1), zone=UTC, folder=tmp_path, enabled=False)
    assert (decision.due, decision.reason) == (False, "automatic export is off")


def test_the_new_month_begins_in_the_users_zone(ledger: Database, tmp_path: Path) -> None:
    just_before_midnight_utc = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 February in Berlin
    berlin = auto_export_decision(ledger, now=just_before_midnight_utc, zone=ZoneInfo("Europe/Berlin"), folder=tmp_path)
    assert (berlin.due, berlin.month_key) == (True, "2026-01")
    utc = auto_export_decision(ledger, now=just_before_midnight_utc, zone=UTC, folder=tmp_path)
    assert utc.month_key == "2025-12"  # still January in UTC: last month is December (which has usage)
    assert utc.due


def test_the_tray_export_writes_every_format(ledger: Database, tmp_path: Path) -> None:
    from tokenworth.ui.export_hooks import qt_export_hooks

    outcome = run_auto_export(ledger, now=clock(2, 1), zone=UTC, folder=tmp_path, hooks=qt_export_hooks())
    assert [result.format for result in outcome.results] == ["csv", "json", "md", "html", "pdf"]
    folder = tmp_path / "tokenworth-2026-01"
    assert (folder / "tokenworth-2026-01.pdf").read_bytes().startswith(b"%PDF-")
    assert (folder / "tokenworth-2026-01-csv" / "records.csv").exists()
