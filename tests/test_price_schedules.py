"""Price schedules kept between runs: an import of new lines from known models never loads the
price snapshot, and prices exactly as a lookup in the snapshot would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tokenworth.core.db import Database
from tokenworth.core.pricing import PriceDatabase
from tokenworth.services.importing import import_local_logs
from tokenworth.services.prices import PRICE_SCHEDULES_KEY, load_price_book

MODELS = [
    ("anthropic", "claude-sonnet-4-5-20250929"),  # long-context tiers
    ("anthropic", "claude-sonnet-4-6"),  # a dated price change (2026-03-13)
    ("anthropic", "claude-opus-4-5"),
    ("openai", "gpt-5"),
    ("openai", "text-embedding-3-small"),  # no output price
    ("deepseek", "deepseek-v4-pro"),  # off-peak hours: never kept, always looked up
    ("anthropic", "no-such-model-2099"),  # unknown: unpriced, and kept as unknown
]
MOMENTS = [
    datetime(2026, 3, 12, 23, 59, tzinfo=UTC),
    datetime(2026, 3, 13, 0, 0, tzinfo=UTC),
    datetime(2026, 9, 1, 3, 0, tzinfo=UTC),
    datetime(2026, 9, 1, 18, 0, tzinfo=UTC),
]


def test_kept_schedules_price_exactly_like_the_snapshot() -> None:
    looked_up = PriceDatabase()
    expected = {(p, m, at): looked_up.rates(p, m, at) for p, m in MODELS for at in MOMENTS}
    assert looked_up.learned
    kept = json.loads(json.dumps(looked_up.known_schedules()))  # through JSON, as stored

    fresh = PriceDatabase(kept)
    got = {(p, m, at): fresh.rates(p, m, at) for p, m in MODELS for at in MOMENTS}

    assert got == expected
    assert (
        expected[("anthropic", "claude-sonnet-4-6", MOMENTS[0])]
        != expected[("anthropic", "claude-sonnet-4-6", MOMENTS[1])]
    )
    assert expected[("anthropic", "no-such-model-2099", MOMENTS[0])] is None
    # only the hour-dependent model needed the snapshot again
    assert set(fresh._models) == {("deepseek", "deepseek-v4-pro")}
    assert not fresh.learned


def test_schedules_of_another_price_database_version_are_ignored() -> None:
    kept = PriceDatabase()
    kept.rates("anthropic", "claude-opus-4-5", MOMENTS[0])
    stale = {**kept.known_schedules(), "version": "genai-prices 0.0.1"}
    fresh = PriceDatabase(stale)
    fresh.rates("anthropic", "claude-opus-4-5", MOMENTS[0])
    assert fresh.learned  # looked up again


def test_damaged_kept_schedules_are_looked_up_again(db: Database, tmp_path: Path) -> None:
    """A hand-edited or half-written entry never stops an import: it is rebuilt from the snapshot."""
    version = PriceDatabase().version
    damaged = {"version": version, "models": {"anthropic\tclaude-sonnet-4-5-20250929": [[None, {"input": "x"}]]}}
    with db.transaction() as tx:
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (:key, :value)",
            {"key": PRICE_SCHEDULES_KEY, "value": json.dumps(damaged)},
        )
    projects = tmp_path / "claude" / "projects" / "-w-app"
    projects.mkdir(parents=True)
    (projects / "s1.jsonl").write_text(_claude_lines(datetime(2026, 11, 2, 9, tzinfo=UTC), 2, "a"), encoding="utf-8")

    summary = import_local_logs(db, source_names=["claude-code"], paths=[tmp_path / "claude"])

    assert summary.records_added == 2
    assert db.fetch("SELECT COUNT(*) FROM usage_records WHERE cost_provenance = 'computed'") == [(2,)]
    kept = json.loads(db.fetch("SELECT value FROM meta WHERE key = :key", {"key": PRICE_SCHEDULES_KEY})[0][0])
    assert PriceDatabase(kept).rates("anthropic", "claude-sonnet-4-5-20250929", datetime.now(UTC)) is not None


def _claude_lines(start: datetime, count: int, prefix: str) -> str:
    lines = []
    for n in range(count):
        line = {
            "type": "assistant",
            "sessionId": "s1",
            "cwd": "/w/app",
            "timestamp": (start + timedelta(minutes=n)).isoformat().replace("+00:00", "Z"),
            "requestId": f"{prefix}-req-{n}",
            "message": {
                "id": f"{prefix}-msg-{n}",
                "model": "claude-sonnet-4-5-20250929",
                "usage": {"input_tokens": 10, "output_tokens": 200, "cache_read_input_tokens": 5000},
            },
        }
        lines.append(json.dumps(line, separators=(",", ":")) + "\n")
    return "".join(lines)


def test_an_import_of_new_lines_from_known_models_does_not_load_the_snapshot(db: Database, tmp_path: Path) -> None:
    projects = tmp_path / "claude" / "projects" / "-w-app"
    projects.mkdir(parents=True)
    log = projects / "s1.jsonl"
    log.write_text(_claude_lines(datetime(2026, 11, 2, 9, tzinfo=UTC), 3, "a"), encoding="utf-8")
    import_local_logs(db, source_names=["claude-code"], paths=[tmp_path / "claude"])
    assert db.fetch("SELECT COUNT(*) FROM meta WHERE key = :key", {"key": PRICE_SCHEDULES_KEY}) == [(1,)]
    first_cost = db.fetch("SELECT cost FROM usage_records ORDER BY ts LIMIT 1")

    with log.open("a", encoding="utf-8") as handle:
        handle.write(_claude_lines(datetime(2026, 11, 3, 9, tzinfo=UTC), 3, "b"))
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from tokenworth.core.db import open_database\n"
        "from tokenworth.services.importing import import_local_logs\n"
        f"db = open_database({db.url!r})\n"
        f"s = import_local_logs(db, source_names=['claude-code'], paths=[Path({str(tmp_path / 'claude')!r})])\n"
        "print(s.records_added, 'genai_prices.data_snapshot' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "app")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["3", "False"]
    costs = db.fetch("SELECT cost, cost_provenance FROM usage_records ORDER BY ts")
    assert [cost for cost, _p in costs] == [first_cost[0][0]] * 6  # the same tokens, the same price
    assert {provenance for _c, provenance in costs} == {"computed"}
    assert load_price_book(db).database.rates("anthropic", "claude-sonnet-4-5-20250929", datetime.now(UTC))
