"""Provider polling in real processes: killed mid-poll, and against a real Secret Service."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import require_tool, subprocess_env
from provider_fakes import FAKE_KEY, FakeProviders
from tokenworth.core.config import sqlite_url
from tokenworth.core.db import open_database
from tokenworth.core.secrets import SecretStore
from tokenworth.services.accounts import store_key
from tokenworth.services.polling import poll_accounts
from tokenworth.sources.provider_http import RetryPolicy

TESTS_DIR = Path(__file__).parent


def _rows(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute("SELECT count(*) FROM usage_records").fetchone()[0])


def test_killing_the_process_mid_poll_keeps_the_database_consistent_and_the_next_poll_completes(
    tmp_path: Path, fake: FakeProviders, provider_server: Any, memory_keyring: Any
) -> None:
    now = datetime.now(UTC)
    fake.now = now
    env = fake.base_urls(provider_server)
    home = tmp_path / "home"
    db_path = home / "tokenworth.db"
    db = open_database(sqlite_url(db_path))
    store_key(db, SecretStore(), "anthropic", "default", FAKE_KEY, env=env, check=False)
    db.dispose()

    release = threading.Event()
    hang = fake.fail("/anthropic/v1/organizations/usage_report/messages", "hang", page=3, hang=release)
    child_env = subprocess_env(
        TOKENWORTH_HOME=str(home),
        PYTHON_KEYRING_BACKEND="provider_fakes.EnvKeyring",
        TOKENWORTH_TEST_KEYRING=json.dumps({"anthropic:default": FAKE_KEY}),
        **env,
    )
    child_env["PYTHONPATH"] = os.pathsep.join([child_env["PYTHONPATH"], str(TESTS_DIR)])
    child = subprocess.Popen(
        [sys.executable, "-m", "tokenworth", "poll"],
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert hang.reached.wait(60), "the child never asked for page 3"
        child.kill()  # SIGKILL: no cleanup, no rollback handler, nothing
        child.wait(30)
    finally:
        release.set()
        if child.poll() is None:
            child.kill()
        child.communicate()

    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        next_start = conn.execute("SELECT next_start FROM poll_progress").fetchone()[0]
    assert _rows(db_path) == 62  # two whole pages of 31 daily buckets, nothing of the third
    backfill_start = datetime(now.year, now.month, now.day, tzinfo=UTC) - timedelta(days=90)
    assert next_start == int((backfill_start + timedelta(days=62)).timestamp() * 1000)

    fake.clear_faults()
    db = open_database(sqlite_url(db_path))
    try:
        summary = poll_accounts(db, SecretStore(), env=env, clock=lambda: now, retry=RetryPolicy(sleep=lambda _: None))
    finally:
        db.dispose()
    assert summary.ok, summary.as_json()
    hourly = 24 + now.hour + 1
    assert _rows(db_path) == 89 + hourly  # the whole window, each bucket once


@pytest.mark.system
def test_keys_live_in_a_real_secret_service(tmp_path: Path, fake: FakeProviders, provider_server: Any) -> None:
    """gnome-keyring in a D-Bus session with a throwaway HOME: set, list, poll, delete."""
    dbus = require_tool("dbus-run-session", "a D-Bus session for the Secret Service")
    require_tool("gnome-keyring-daemon", "a real Secret Service for the keyring test")
    fake.now = datetime.now(UTC)
    user_home = tmp_path / "user"
    user_home.mkdir()
    tw_home = tmp_path / "tw"
    env = subprocess_env(HOME=str(user_home), TOKENWORTH_HOME=str(tw_home), **fake.base_urls(provider_server))
    for name in ("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND", "XDG_RUNTIME_DIR"):
        env.pop(name, None)
    python = sys.executable
    script = f"""
set -e
echo throwaway-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null
printf '%s' "$TEST_KEY" | {python} -m tokenworth keys set openrouter --label ci
{python} -m tokenworth keys list --json
{python} -c 'import keyring; print("BACKEND", type(keyring.get_keyring()).__module__)'
{python} -m tokenworth poll --provider openrouter
{python} -m tokenworth keys delete openrouter --label ci
{python} -c 'import keyring; print("AFTER", keyring.get_password("tokenworth", "openrouter:ci"))'
"""
    env["TEST_KEY"] = FAKE_KEY
    done = subprocess.run([dbus, "--", "sh", "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Stored the openrouter key 'ci'" in out
    assert "keyring.backends.SecretService.Keyring" in out
    assert '"account": "openrouter:ci"' in out
    assert "BACKEND keyring.backends.SecretService" in out
    assert "openrouter ci: ok" in out
    assert "AFTER None" in out
    for path in tw_home.rglob("*"):
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), path
    assert FAKE_KEY not in done.stdout + done.stderr
