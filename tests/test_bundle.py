"""The built app bundle runs headless: version, doctor, an import and a report on sample logs.

CI builds the bundle (packaging/build.sh) and exports TOKENWORTH_BUNDLE=<its executable>; under
CI=true a missing bundle fails, locally these tests skip unless you point the variable at one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import IN_CI, SAMPLES, require_tool, subprocess_env
from tokenworth import __version__
from tokenworth.core.db import HEAD_REVISION
from xdisplay import xvfb_with_tray

pytestmark = pytest.mark.system

BUNDLE_ENV = "TOKENWORTH_BUNDLE"
TIMEOUT_S = 120


@pytest.fixture(scope="module")
def bundle() -> Path:
    configured = os.environ.get(BUNDLE_ENV)
    if not configured:
        message = f"{BUNDLE_ENV} is not set (packaging/build.sh builds the bundle; .ci/run sets it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    path = Path(configured).resolve()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"{BUNDLE_ENV}={configured} is not an executable file: build it with packaging/build.sh")
    return path


@pytest.fixture
def sandbox(tmp_path: Path) -> dict[str, str]:
    """An environment where the bundle sees only our sample logs and a fresh data folder."""
    claude = tmp_path / "claude" / "projects" / "-home-dev-tokenworth"
    claude.mkdir(parents=True)
    shutil.copy(SAMPLES / "claude-code.jsonl", claude / "session.jsonl")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DISPLAY", "WAYLAND_DISPLAY", "PYTHONPATH", "TOKENWORTH_DB_URL")
    }
    env.update(
        TOKENWORTH_HOME=str(tmp_path / "home"),
        HOME=str(tmp_path / "user"),
        CLAUDE_CONFIG_DIR=str(tmp_path / "claude"),
        CODEX_HOME=str(tmp_path / "codex"),
        GEMINI_DATA_DIR=str(tmp_path / "gemini"),
        QT_QPA_PLATFORM="offscreen",
    )
    return env


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        argv,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_version(bundle: Path, sandbox: dict[str, str]) -> None:
    assert run([str(bundle), "--version"], sandbox).stdout.strip() == f"tokenworth {__version__}"


def test_doctor_finds_everything_the_bundle_ships(bundle: Path, sandbox: dict[str, str]) -> None:
    text = run([str(bundle), "doctor"], sandbox).stdout
    report = json.loads(run([str(bundle), "doctor", "--json"], sandbox).stdout)

    assert text.startswith(f"Tokenworth {__version__} (app bundle)")
    assert report["frozen"] is True
    assert all(report["versions"].values()), report["versions"]
    checks = report["checks"]
    assert checks["migrations"]["status"] == "ok", checks["migrations"]
    assert checks["migrations"]["facts"]["heads"] == [HEAD_REVISION]
    assert checks["migrations"]["facts"]["schema_script"] is True
    assert checks["prices"]["status"] == "ok", checks["prices"]
    assert checks["token_encodings"]["status"] == "ok", checks["token_encodings"]
    for encoding in ("o200k_base", "cl100k_base"):
        assert checks["token_encodings"]["facts"][encoding].endswith("checksum ok")
    # Qt and its offscreen platform plugin load inside the bundle.
    assert checks["tray"]["facts"]["platform"] == "offscreen", checks["tray"]
    assert checks["agent_logs"]["facts"]["files"] == 1


def test_import_and_report_match_the_source_checkout(bundle: Path, sandbox: dict[str, str], tmp_path: Path) -> None:
    report_args = ["report", "daily", "--no-import", "--json", "--tz", "UTC"]

    imported = run([str(bundle), "import", "--path", sandbox["CLAUDE_CONFIG_DIR"]], sandbox).stdout
    from_bundle = json.loads(run([str(bundle), *report_args], sandbox).stdout)
    after = json.loads(run([str(bundle), "doctor", "--json", "--no-tray"], sandbox).stdout)

    source_env = subprocess_env(**{**sandbox, "TOKENWORTH_HOME": str(tmp_path / "source-home")})
    source_env["PYTHONPATH"] = subprocess_env()["PYTHONPATH"]
    python = [sys.executable, "-m", "tokenworth"]
    run([*python, "import", "--path", sandbox["CLAUDE_CONFIG_DIR"]], source_env)
    from_source = json.loads(run([*python, *report_args], source_env).stdout)

    assert imported.startswith("Imported 3 new records")
    assert from_bundle["rows"]
    assert from_bundle["totals"]["cost_complete"] is True
    assert from_bundle == from_source
    assert after["checks"]["database"]["status"] == "ok"
    assert after["checks"]["database"]["facts"]["records"] == 3


def test_counts_prompt_tokens_offline_like_the_source(bundle: Path, sandbox: dict[str, str], tmp_path: Path) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Summarise this pull request in three bullet points, please.\n" * 20, encoding="utf-8")
    price_args = ["price", str(prompt), "--models", "gpt-4o,gpt-4", "--json"]  # o200k_base and cl100k_base

    from_bundle = json.loads(run([str(bundle), *price_args], sandbox).stdout)
    source_env = subprocess_env(**sandbox)
    source_env["PYTHONPATH"] = subprocess_env()["PYTHONPATH"]
    from_source = json.loads(run([sys.executable, "-m", "tokenworth", *price_args], source_env).stdout)

    tokens = {row["model"]: row["input_tokens"] for row in from_bundle["rows"]}
    assert set(tokens) == {"gpt-4o", "gpt-4"}
    assert all(count > 200 for count in tokens.values())
    assert from_bundle == from_source


@pytest.fixture
def x_display_with_tray() -> Iterator[str]:
    """A real X server (Xvfb) with a system tray (trayer) on it."""
    xvfb = require_tool("Xvfb", "a real X server for the bundle's tray check")
    trayer = require_tool("trayer", "a real system tray for the bundle's tray check")
    with xvfb_with_tray(xvfb, trayer, settle_s=0) as display:
        yield display


def test_doctor_sees_a_real_tray(bundle: Path, sandbox: dict[str, str], x_display_with_tray: str) -> None:
    env = {key: value for key, value in sandbox.items() if key != "QT_QPA_PLATFORM"}
    env["DISPLAY"] = x_display_with_tray
    answers = []
    for _attempt in range(10):  # trayer takes a moment to claim the tray selection
        tray = json.loads(run([str(bundle), "doctor", "--json"], env).stdout)["checks"]["tray"]
        answers.append(tray)
        if tray["status"] == "ok":
            break
    assert tray["status"] == "ok", answers
    assert tray["facts"]["platform"] == "xcb"
