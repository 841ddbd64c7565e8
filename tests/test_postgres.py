"""Tokenworth on a shared PostgreSQL database, against a real server: the schema is migrated from
empty, and every flow a user runs (import, poll, tasks, every report, export, doctor) gives the
same answers as on the local SQLite file fed the same data."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

import routing_ledger
from conftest import SAMPLES, CliRunner, at_once, subprocess_env
from export_ledger import build_export_ledger
from pg_server import PASSWORD, PostgresServer
from provider_fakes import FAKE_KEY, NOW
from task_ledger import at, event, write_events
from tokenworth.core.config import sqlite_url
from tokenworth.core.db import HEAD_REVISION, MIGRATIONS_DIR, Database, current_revision, open_database, upgrade
from tokenworth.core.ledger import TOKEN_COLUMNS, drop_sidechain_replays, replayed_message_ids, upsert_rows
from tokenworth.core.models import Base
from tokenworth.core.periods import parse_period
from tokenworth.core.secrets import SecretStore
from tokenworth.services.accounts import store_key
from tokenworth.services.overview import OverviewQuery, build_overview
from tokenworth.services.polling import poll_accounts
from tokenworth.services.task_overview import value_overview
from tokenworth.services.tasks import Assignment, TaskDraft, log_task
from tokenworth.sources.provider_http import RetryPolicy

pytestmark = pytest.mark.system

TIME_ZONES = ("UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns")
"""Whole-hour and half-hour offsets, east and west: reports slot time by the hour or quarter hour."""


@pytest.fixture
def twins(tmp_path: Path, pg_url: str) -> Iterator[dict[str, Database]]:
    """The same empty ledger twice: a SQLite file and a PostgreSQL database."""
    opened = {"sqlite": open_database(sqlite_url(tmp_path / "ledger.db")), "postgresql": open_database(pg_url)}
    yield opened
    for db in opened.values():
        db.dispose()


WALL_CLOCK = frozenset({"created_at", "updated_at", "accepted_at", "generated_at", "last_poll_at", "last_import_at"})
"""Fields that say when something was done (the wall clock): left out of the comparisons."""
WALL_CLOCK_IN = {"experiments": frozenset({"ended_at"})}
"""...and those that are wall-clock only inside some lists (an experiment ends when it is finished
or cancelled; a task's `ended_at` is data and is compared)."""


def _json(cli: CliRunner, db: Database, *argv: str) -> Any:
    result = cli("--db", db.url, *argv)
    assert result.code == 0, f"{argv} on {db.dialect}: {result.err}"
    return json.loads(result.out)


def _without_wall_clock(doc: Any, also: frozenset[str] = frozenset()) -> Any:
    if isinstance(doc, dict):
        return {
            key: _without_wall_clock(value, WALL_CLOCK_IN.get(key, frozenset()))
            for key, value in doc.items()
            if key not in WALL_CLOCK and key not in also
        }
    if isinstance(doc, list):
        return [_without_wall_clock(item, also) for item in doc]
    return doc


def assert_same(
    cli: CliRunner, twins: dict[str, Database], *argv: str, wall_clock: frozenset[str] = frozenset()
) -> Any:
    """Run one command against both ledgers; the JSON answers must be equal (but for the
    `wall_clock` fields of the top-level object). Returns it."""
    on_sqlite = _without_wall_clock(_json(cli, twins["sqlite"], *argv), wall_clock)
    on_postgres = _without_wall_clock(_json(cli, twins["postgresql"], *argv), wall_clock)
    where = _first_difference(on_sqlite, on_postgres)
    assert where is None, f"`tokenworth {' '.join(argv)}` differs on PostgreSQL at {where}"
    return on_sqlite


def _first_difference(expected: Any, actual: Any, path: str = "") -> str | None:
    """Where two JSON documents first differ, with both values (None when equal)."""
    if isinstance(expected, dict) and isinstance(actual, dict) and expected.keys() == actual.keys():
        found = (_first_difference(expected[key], actual[key], f"{path}.{key}") for key in expected)
        return next((item for item in found if item is not None), None)
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        found = (
            _first_difference(a, b, f"{path}[{index}]")
            for index, (a, b) in enumerate(zip(expected, actual, strict=True))
        )
        return next((item for item in found if item is not None), None)
    return None if expected == actual else f"{path or '(top)'}: SQLite {expected!r}, PostgreSQL {actual!r}"


def _sample_logs(tmp_path: Path) -> None:
    """Every sample agent log where the `home` fixture points each agent."""
    claude = tmp_path / "claude" / "projects" / "-home-dev-tokenworth"
    claude.mkdir(parents=True)
    shutil.copy(SAMPLES / "claude-code.jsonl", claude / "session.jsonl")
    codex = tmp_path / "codex" / "sessions" / "2026" / "01" / "05"
    codex.mkdir(parents=True)
    shutil.copy(SAMPLES / "codex-rollout.jsonl", codex / "rollout-2026-01-05T10-00-00-x.jsonl")
    gemini = tmp_path / "gemini" / "tmp" / "abc" / "chats"
    gemini.mkdir(parents=True)
    shutil.copy(SAMPLES / "gemini-cli-session.jsonl", gemini / "session-1.jsonl")
    shutil.copy(SAMPLES / "gemini-cli-session-legacy.json", gemini / "session-2.json")


def test_an_empty_database_is_migrated_to_head_and_matches_the_models(pg_url: str) -> None:
    db = open_database(pg_url)
    try:
        assert db.dialect == "postgresql"
        assert current_revision(db) == HEAD_REVISION
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
        assert diff == []
    finally:
        db.dispose()
    again = open_database(pg_url)  # at head: opening again changes nothing
    assert current_revision(again) == HEAD_REVISION
    again.dispose()


def test_a_database_at_the_first_revision_is_upgraded_with_its_records_and_downgrades_cleanly(pg_url: str) -> None:
    from alembic import command

    old = Database(pg_url)
    upgrade(old, "0001_ledger")
    with old.transaction() as tx:
        tx.execute(
            "INSERT INTO usage_records (dedupe_key, source, provider, model, ts, cost, cost_provenance, imported_at)"
            " VALUES ('k1', 'claude-code', 'anthropic', 'm', 1767607800000, 12345, 'computed', 0)"
        )
    old.dispose()
    db = open_database(pg_url)
    try:
        assert current_revision(db) == HEAD_REVISION
        assert db.fetch("SELECT COUNT(*), SUM(cost) FROM usage_records") == [(1, 12345)]
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with db.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        assert current_revision(db) is None
        upgrade(db)
        assert current_revision(db) == HEAD_REVISION
    finally:
        db.dispose()


def _random_row(rng: random.Random, key: str) -> dict[str, Any]:
    """A ledger row in storage form; keys repeat across batches, so most writes are updates."""
    unpriced = rng.random() < 0.2
    return {
        "dedupe_key": key,
        "source": "claude-code",
        "provider": "anthropic",
        "account": None,
        "model": rng.choice(["m-a", "m-b"]),
        "ts": 1_767_225_600_000 + rng.randrange(0, 86_400_000),
        "bucket_seconds": 0,
        **{name: rng.randrange(0, 4) * 1000 for name in TOKEN_COLUMNS},  # equal totals happen: ties are broken
        "reasoning_tokens": rng.randrange(0, 100),
        "request_count": 1,
        "cost": None if unpriced else rng.randrange(0, 10**12),
        "cost_provenance": "unpriced" if unpriced else "computed",
        "estimated_cost": None,
        "price_version": None,
        "speed": rng.choice([None, None, "fast"]),
        "project": rng.choice([None, "/w/app"]),
        "session_id": "s1",
        "git_branch": None,
        "message_id": f"msg-{rng.randrange(0, 150)}",  # some shared (replays), some not
        "request_id": key,
        "is_sidechain": rng.random() < 0.4,
        "web_search_requests": 0,
        "imported_at": 0,
    }


def test_upserts_and_sidechain_clean_up_keep_the_same_records(twins: dict[str, Database]) -> None:
    columns = ", ".join(f'"{name}"' for name in ("dedupe_key", *TOKEN_COLUMNS, "cost", "speed", "is_sidechain"))
    dropped: dict[str, int] = {}
    for name, db in twins.items():
        rng = random.Random(5)  # the same writes on both
        dropped[name] = 0
        for round_ in range(8):
            rows = [_random_row(rng, f"k{rng.randrange(0, 120)}") for _ in range(80)]
            with db.transaction() as tx:
                upsert_rows(tx, rows, "fullest" if round_ % 2 else "latest")
            with db.transaction() as tx:
                ids = replayed_message_ids(tx, "claude-code")
                dropped[name] += drop_sidechain_replays(tx, "claude-code", ids)
        assert db.fetch("SELECT COUNT(*) FROM usage_records")[0][0] > 0, name
    stored = {name: sorted(db.fetch(f"SELECT {columns} FROM usage_records")) for name, db in twins.items()}
    assert stored["postgresql"] == stored["sqlite"]  # True == 1: a PostgreSQL boolean equals SQLite's integer
    assert any(row[-1] for row in stored["sqlite"])  # sidechain rows that are no replay stay
    assert dropped["postgresql"] == dropped["sqlite"] > 0


def test_import_and_every_usage_report_match_sqlite(
    cli: CliRunner, twins: dict[str, Database], tmp_path: Path, home: Path
) -> None:
    _sample_logs(tmp_path)
    for db in twins.values():
        log_task(db, TaskDraft("Before the import", Decimal(20), at(5, 0), at(6, 0), category="coding"))
        summary = _json(cli, db, "import", "--json")
        assert summary["records_added"] > 0
        again = _json(cli, db, "import", "--json")  # incremental: nothing new, nothing counted twice
        assert again["records_added"] == 0
    for zone in TIME_ZONES:
        for kind in ("daily", "weekly", "monthly", "models", "projects", "sessions"):
            doc = assert_same(cli, twins, "report", kind, "--json", "--no-import", "--tz", zone)
            assert doc["rows"]
    filtered = assert_same(
        cli, twins, "report", "daily", "--json", "--no-import", "--tz", "UTC", "--source", "claude-code,codex",
        "--since", "2026-01-05", "--until", "2026-01-05",
    )  # fmt: skip
    assert [row["date"] for row in filtered["rows"]] == ["2026-01-05"]
    assert_same(cli, twins, "report", "projects", "--json", "--no-import", "--project", "/home/dev/tokenworth")
    tasks = assert_same(cli, twins, "task", "--tz", "UTC", "list", "--json", "--no-import")  # attributed on import
    assert tasks["tasks"][0]["tokens"] > 0
    assert_same(cli, twins, "report", "value", "--month", "2026-01", "--tz", "UTC", "--json", "--no-import")


def _poll(db: Database, env: dict[str, str], http: httpx.Client) -> None:
    secrets = SecretStore()
    for provider in ("anthropic", "openai", "openrouter"):
        store_key(db, secrets, provider, "default", FAKE_KEY, env=env, check=False)
    summary = poll_accounts(
        db, secrets, env=env, http=http, clock=lambda: NOW, retry=RetryPolicy(sleep=lambda _s: None, jitter=lambda: 0)
    )
    assert summary.ok, summary.as_json()


def test_poll_and_reconcile_match_sqlite(
    cli: CliRunner,
    twins: dict[str, Database],
    tmp_path: Path,
    home: Path,
    memory_keyring: Any,
    fake_env: dict[str, str],
    http: httpx.Client,
) -> None:
    _sample_logs(tmp_path)
    for db in twins.values():
        _json(cli, db, "import", "--json")
        _poll(db, fake_env, http)
        _poll(db, fake_env, http)  # a re-poll updates in place
    reconcile = assert_same(cli, twins, "report", "reconcile", "--json", "--no-import")
    assert any(row["billed_usd"] for row in reconcile["rows"])
    assert_same(
        cli, twins, "report", "reconcile", "--json", "--no-import", "--tz", "Asia/Kolkata", "--since", "2026-01-01"
    )
    for kind in ("daily", "models", "sessions"):
        assert_same(cli, twins, "report", kind, "--json", "--no-import", "--tz", "America/St_Johns")
    for db in twins.values():  # a task holding provider buckets (several requests each) and log records
        log_task(db, TaskDraft("Whole week", Decimal(50), at(4, 0), at(11, 0), category="ops"))
    routing = assert_same(cli, twins, "report", "routing", "--month", "2026-01", "--tz", "UTC", "--json", "--no-import")
    assert routing["models"]
    assert_same(cli, twins, "report", "value", "--month", "2026-01", "--by", "model", "--json", "--no-import")
    accounts = assert_same(cli, twins, "keys", "list", "--json")
    assert len(accounts["accounts"]) == 3


def test_tasks_value_plans_and_export_match_sqlite(
    cli: CliRunner, twins: dict[str, Database], tmp_path: Path, home: Path
) -> None:
    ids = {name: build_export_ledger(db) for name, db in twins.items()}
    assert ids["sqlite"] == ids["postgresql"]
    for zone in ("UTC", "Asia/Kolkata"):
        for by in ("task", "category", "model", "project"):
            for basis in ("api", "plan"):
                doc = assert_same(
                    cli, twins, "report", "value", "--month", "2026-01", "--tz", zone, "--by", by, "--basis", basis,
                    "--json", "--no-import",
                )  # fmt: skip
                assert doc["rows"]
    listed = assert_same(cli, twins, "task", "--tz", "UTC", "list", "--json", "--no-import")
    for task in listed["tasks"]:
        assert_same(cli, twins, "task", "--tz", "UTC", "show", str(task["id"]), "--json")
    assert_same(cli, twins, "task", "--tz", "UTC", "list", "--month", "2026-01", "--json", "--no-import")
    assert_same(cli, twins, "task", "categories", "--json")
    assert_same(cli, twins, "task", "--tz", "UTC", "proposals", "--month", "2026-01", "--json", "--no-import")
    assert_same(cli, twins, "plan", "list", "--month", "2026-01", "--tz", "UTC", "--json")

    preview = ("task", "--tz", "UTC", "log", "Preview", "--value", "10", "--start", "2026-01-05T10:00", "--end")
    previews = [cli("--db", db.url, *preview, "2026-01-05T12:00", "--dry-run") for db in twins.values()]
    assert previews[0].code == previews[1].code == 0, previews
    assert previews[0].out == previews[1].out
    dashboards = [
        build_overview(
            db,
            OverviewQuery(parse_period("2026-01", date(2026, 1, 31))),
            zone=UTC,
            now=at(31, 12),
            budget=Decimal(40),
            value_source=value_overview,
        )
        for db in twins.values()
    ]
    assert dashboards[0] == dashboards[1]
    assert dashboards[0].value.tasks

    exported = {}
    for name, db in twins.items():
        out = tmp_path / f"export-{name}.json"
        result = cli(
            "--db",
            db.url,
            "export",
            "--format",
            "json",
            "--month",
            "2026-01",
            "--tz",
            "UTC",
            "--out",
            str(out),
            "--no-import",
        )
        assert result.code == 0, result.err
        exported[name] = _without_wall_clock(json.loads(out.read_text()))
    assert exported["postgresql"] == exported["sqlite"]


def test_task_changes_repricing_and_plan_changes_match_sqlite(
    cli: CliRunner, twins: dict[str, Database], home: Path
) -> None:
    ids = {name: build_export_ledger(db) for name, db in twins.items()}["sqlite"]
    steps = [
        ("task", "--tz", "UTC", "edit", str(ids["Feature A"]), "--start", "2026-01-05T10:30", "--value", "40"),
        ("task", "--tz", "UTC", "edit", str(ids["Review"]), "--category", "Docs", "--title", "Review (docs)"),
        ("task", "assign", str(ids["Spike"]), "--project", "/p/app", "--branch", "feat-b"),
        ("task", "assign", str(ids["Review"]), "--session", "S3"),
        ("task", "unassign", str(ids["Review"]), "--session", "S3"),
        ("task", "delete", str(ids["Codex work"])),
        ("task", "reattribute"),
        ("prices", "set", "mystery", "--provider", "anthropic", "--input", "3", "--output", "15"),
        ("plan", "set", "Codex Pro", "--monthly-fee", "20", "--covers", "codex", "--from", "2026-01"),
        ("plan", "delete", "Claude Max"),
    ]
    for step in steps:
        for db in twins.values():
            result = cli("--db", db.url, *step)
            assert result.code == 0, f"{step} on {db.dialect}: {result.err}"
    repriced = assert_same(cli, twins, "reprice", "--since", "2026-01-01", "--tz", "UTC", "--json")
    assert repriced["records"] > 0
    tasks = assert_same(cli, twins, "task", "--tz", "UTC", "list", "--json", "--no-import")
    assert "Codex work" not in {task["title"] for task in tasks["tasks"]}
    for by in ("task", "category"):
        for basis in ("api", "plan"):
            assert_same(
                cli, twins, "report", "value", "--month", "2026-01", "--tz", "UTC", "--by", by, "--basis", basis,
                "--json", "--no-import",
            )  # fmt: skip
    daily = assert_same(cli, twins, "report", "daily", "--tz", "UTC", "--json", "--no-import")
    assert "mystery" not in daily["totals"]["unpriced_models"], daily["totals"]  # it has a price now
    assert_same(cli, twins, "task", "--tz", "UTC", "proposals", "--json", "--no-import")
    for db in twins.values():  # the running task (a boolean column) starts and stops on the wall clock
        for step in (("task", "start", "Live"), ("task", "stop", "--value", "7", "--no-import")):
            result = cli("--db", db.url, *step)
            assert result.code == 0, f"{step} on {db.dialect}: {result.err}"
        live = [
            task for task in _json(cli, db, "task", "list", "--json", "--no-import")["tasks"] if task["title"] == "Live"
        ]
        assert [(task["value_usd"], task["active"]) for task in live] == [("7", False)]


def test_routing_and_experiments_match_sqlite(
    cli: CliRunner, twins: dict[str, Database], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for db in twins.values():
        monkeypatch.setattr(routing_ledger, "_serial", count(1))  # the same session names in both
        routing_ledger.build_history(db)
    routing_argv = ("report", "routing", "--month", "2026-01", "--tz", "UTC", "--candidates", "tiny", "--json")
    routing = assert_same(cli, twins, *routing_argv, "--no-import")
    assert routing["suggestions"]
    priced_only = next(s for s in routing["suggestions"] if s["evidence"] == "priced_only")
    accept = ("experiment", "--tz", "UTC", "accept", priced_only["id"], "--month", "2026-01", "--candidates", "tiny")
    assert_same(cli, twins, *accept, "--tasks", "2", "--json", "--no-import")
    for db in twins.values():  # two tasks of that category on the suggested model finish the experiment
        monkeypatch.setattr(routing_ledger, "_serial", count(100))
        for days in (1, 2):  # after the experiment was accepted (now)
            when = (datetime.now(UTC) + timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)
            request = routing_ledger.Request(priced_only["to_model"])
            routing_ledger.task(db, priced_only["category"], when, "90", request)
    listed = assert_same(cli, twins, "experiment", "--tz", "UTC", "list", "--json", "--no-import")
    assert listed["experiments"][0]["status"] == "done"
    assert_same(
        cli,
        twins,
        "experiment",
        "--tz",
        "UTC",
        "show",
        "1",
        "--json",
        "--no-import",
        wall_clock=frozenset({"ended_at"}),
    )
    assert_same(cli, twins, *routing_argv, "--no-import")
    assert_same(cli, twins, "report", "value", "--month", "2026-01", "--tz", "UTC", "--json", "--no-import")
    assert_same(cli, twins, "report", "sessions", "--tz", "UTC", "--json", "--no-import")


NAMES = ("beta", "Alpha", "_under", "alpha", "Zulu")
"""Names a server's collation may order otherwise than SQLite (ICU en-US: _under alpha Alpha beta Zulu)."""


def test_names_are_ordered_by_code_point_whatever_the_servers_collation(
    cli: CliRunner, twins: dict[str, Database], home: Path, memory_keyring: Any, fake_env: dict[str, str]
) -> None:
    for db in twins.values():
        write_events(
            db,
            [
                event(f"n-{name}", at(5, 9, index), model=name, session=name, project=f"/w/{name}", branch=name)
                for index, name in enumerate(NAMES)
            ],
        )
        for index, name in enumerate(NAMES):
            price = ("prices", "set", f"{name}-model", "--provider", "openai", "--input", "1", "--output", "2")
            assert cli("--db", db.url, *price).code == 0
            month = f"2025-{index + 1:02d}"  # plans of one source may not overlap
            plan = ("plan", "set", f"{name} plan", "--monthly-fee", "10", "--covers", "claude-code")
            plan += ("--from", month, "--until", month)
            assert cli("--db", db.url, *plan).code == 0
            store_key(db, SecretStore(), "openai", name.strip("_"), FAKE_KEY, env=fake_env, check=False)
            log_task(db, TaskDraft(f"Task {name}", Decimal(1), at(6, 9), at(6, 10), category=name))
        log_task(
            db,
            TaskDraft(
                "Holds them all",
                Decimal(5),
                category="writing",
                assignments=tuple(Assignment(session_id=name) for name in NAMES)
                + tuple(Assignment(project=f"/w/{name}", branch=name) for name in NAMES),
            ),
        )
    overrides = assert_same(cli, twins, "prices", "list", "--json")
    assert [row["model"] for row in overrides] == sorted(f"{name}-model" for name in NAMES)
    plans = assert_same(cli, twins, "plan", "list", "--month", "2026-01", "--tz", "UTC", "--json")
    assert [row["name"] for row in plans["plans"]] == sorted(f"{name} plan" for name in NAMES)
    categories = assert_same(cli, twins, "task", "categories", "--json")
    spelled = sorted(set(NAMES) - {"alpha"})  # 'alpha', typed after 'Alpha', joins it: one category
    assert [row["category"] for row in categories[: len(spelled)]] == spelled  # used at the same time
    tasks = assert_same(cli, twins, "task", "--tz", "UTC", "list", "--json", "--no-import")
    holder = next(task for task in tasks["tasks"] if task["title"] == "Holds them all")
    shown = assert_same(cli, twins, "task", "--tz", "UTC", "show", str(holder["id"]), "--json")
    assert shown["sessions"] == sorted(NAMES)
    labels = {
        name: [a["label"] for a in _json(cli, db, "keys", "list", "--json")["accounts"]] for name, db in twins.items()
    }
    assert labels["postgresql"] == labels["sqlite"] == sorted(name.strip("_") for name in NAMES)
    for kind in ("models", "projects", "sessions"):
        assert_same(cli, twins, "report", kind, "--tz", "UTC", "--json", "--no-import")
    seen = {
        name: build_overview(
            db, OverviewQuery(parse_period("2026-01", date(2026, 1, 10))), zone=UTC, now=at(10, 12), budget=None
        )
        for name, db in twins.items()
    }
    assert seen["postgresql"].projects_seen == seen["sqlite"].projects_seen == sorted(f"/w/{name}" for name in NAMES)
    assert seen["postgresql"].records_total == seen["sqlite"].records_total == len(NAMES)


def test_doctor_shows_the_revision_and_records_with_the_password_hidden(
    cli: CliRunner, postgres_server: PostgresServer, tmp_path: Path, home: Path
) -> None:
    url = postgres_server.url(postgres_server.create_database(), driver="postgresql")  # as a user types it
    shown = url.replace(f":{PASSWORD}@", ":***@")
    empty = json.loads(cli("--db", url, "doctor", "--json", "--no-tray").out)["checks"]["database"]
    assert (empty["status"], empty["facts"]["revision"]) == ("info", None)  # doctor creates nothing
    _sample_logs(tmp_path)
    assert cli("--db", url, "import").code == 0

    text = cli("--db", url, "doctor", "--no-tray")
    database = json.loads(cli("--db", url, "doctor", "--json", "--no-tray").out)["checks"]["database"]
    assert database["status"] == "ok"
    assert database["facts"]["revision"] == HEAD_REVISION
    assert database["facts"]["records"] == 7
    assert set(database["facts"]["last_import"]) == {"claude-code", "codex", "gemini-cli"}
    assert database["facts"]["url"] == shown
    assert f"{shown}: revision {HEAD_REVISION} (head), 7 records" in text.out
    assert PASSWORD not in text.out + text.err + json.dumps(database)


def test_teammates_starting_at_once_on_an_empty_database_all_get_a_ledger(pg_url: str) -> None:
    """Every teammate's app migrates at start: several at once must not trip over each other."""
    code = "import sys; from tokenworth.core.db import open_database; open_database(sys.argv[1]).dispose()"
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", code, pg_url], env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(3)
    ]
    for process in starts:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode(errors="replace")
    db = open_database(pg_url)
    assert current_revision(db) == HEAD_REVISION
    db.dispose()


def test_two_imports_at_once_each_count_only_their_own_records(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two teammates' imports into one PostgreSQL ledger at the same moment: each says how many
    records it added, and the two add up to what the ledger holds (SQLite's write lock gives
    this; PostgreSQL takes an advisory lock for it)."""
    from tokenworth.services import importing

    monkeypatch.setattr(importing, "FLUSH_ROWS", 40)  # many small transactions, interleaved
    trees = []
    for who in ("ann", "bob"):
        folder = tmp_path / who / "projects" / "app"
        folder.mkdir(parents=True)
        lines = []
        for number in range(1500):
            message = {
                "id": f"msg_{who}_{number}",
                "model": "claude-sonnet-4-5-20250929",
                "usage": {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 0},
            }
            line = {
                "type": "assistant",
                "sessionId": f"s-{who}",
                "requestId": f"req_{who}_{number}",
                "cwd": "/work/app",
                "timestamp": f"2026-01-05T10:{number // 60 % 60:02d}:{number % 60:02d}.000Z",
                "message": message,
            }
            lines.append(json.dumps(line, separators=(",", ":")))
        (folder / "s.jsonl").write_text("\n".join(lines) + "\n")
        trees.append(tmp_path / who)
    open_database(pg_url).dispose()

    def run(db: Database, tree: Path) -> int:
        return importing.import_local_logs(db, source_names=["claude-code"], paths=[tree]).records_added

    added = dict(zip([tree.name for tree in trees], at_once(pg_url, run, trees), strict=True))
    db = open_database(pg_url)
    try:
        ((stored,),) = db.fetch("SELECT COUNT(*) FROM usage_records")
    finally:
        db.dispose()
    assert added == {"ann": 1500, "bob": 1500}
    assert stored == 3000


def test_a_task_logged_while_new_usage_is_attributed_keeps_that_usage(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on SQLite (test_tasks_service): on PostgreSQL the lock is the `meta` row both write first."""
    from test_tasks_service import log_a_task_while_new_usage_is_attributed

    db = open_database(pg_url)
    try:
        log_a_task_while_new_usage_is_attributed(db, monkeypatch)
    finally:
        db.dispose()
