"""Source names a user types are checked: a typo is a usage error naming the known sources."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import SAMPLES, CliRunner
from tokenworth.core.db import Database
from tokenworth.services.accounts import PROVIDERS
from tokenworth.services.plans import PlanInputError, set_plan
from tokenworth.services.source_names import PROVIDER_SOURCES


def _claude_sample(claude_dir: Path) -> None:
    folder = claude_dir / "projects" / "p"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLES / "claude-code.jsonl", folder / "s.jsonl")


def test_provider_source_names_match_the_pollers() -> None:
    assert set(PROVIDER_SOURCES) == set(PROVIDERS)


def test_report_with_an_unknown_source_is_a_usage_error(cli: CliRunner, claude_dir: Path) -> None:
    _claude_sample(claude_dir)
    result = cli("report", "daily", "--source", "foo")
    assert result.code == 2
    assert "unknown source 'foo'" in result.err
    for name in ("claude-code", "codex", "gemini-cli", "openai", "anthropic", "openrouter"):
        assert name in result.err
    assert "No usage" not in result.out
    assert "Traceback" not in result.err


def test_report_accepts_known_and_ledger_only_sources(cli: CliRunner, claude_dir: Path, home: Path) -> None:
    _claude_sample(claude_dir)
    assert cli("import").code == 0
    both = cli("report", "daily", "--tz", "UTC", "--json", "--no-import", "--source", "claude-code,openai")
    assert both.code == 0, both.err
    assert len(json.loads(both.out)["rows"]) == 2
    provider_only = cli("report", "daily", "--json", "--no-import", "--source", "openrouter")
    assert provider_only.code == 0
    assert json.loads(provider_only.out)["rows"] == []
    # A source the ledger holds from elsewhere (an older version, a CSV import) is a known name too.
    import sqlite3

    with sqlite3.connect(home / "tokenworth.db") as conn:
        conn.execute("UPDATE usage_records SET source = 'csv'")
    from_ledger = cli("report", "daily", "--json", "--no-import", "--source", "csv")
    assert from_ledger.code == 0, from_ledger.err
    assert len(json.loads(from_ledger.out)["rows"]) == 2
    several = cli("report", "daily", "--no-import", "--source", "csv,nope,claude")
    assert several.code == 2
    assert "unknown sources 'nope', 'claude'" in several.err
    assert "csv" in several.err


def test_plan_refuses_a_source_it_does_not_know(cli: CliRunner, db: Database) -> None:
    refused = cli("plan", "set", "Max", "--monthly-fee", "200", "--covers", "claude-code,nosuch")
    assert refused.code == 2
    assert "unknown source 'nosuch'" in refused.err
    assert "claude-code, codex, gemini-cli, openai, anthropic, openrouter" in refused.err
    assert json.loads(cli("plan", "list", "--json").out)["plans"] == []
    accepted = cli("plan", "set", "Max", "--monthly-fee", "200", "--covers", "claude-code,openai")
    assert accepted.code == 0, accepted.err
    with pytest.raises(PlanInputError, match="unknown source 'nosuch'"):
        set_plan(db, "Pro", monthly_fee="20", covers=["nosuch"])
