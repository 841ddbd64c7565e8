"""Importing from a real user's untidy home: a file or folder that cannot be read (left root's
by `sudo claude`), a file name that is not UTF-8, a line nested thousands deep, empty files.
Each is one file's problem, said plainly; every other file is imported."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLES, require_tool, subprocess_env
from test_importing import _line
from tokenworth.core.db import Database
from tokenworth.services.importing import import_local_logs


def _unprivileged(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """`python -m tokenworth ARGV` without root's power to read any file (tests run as root in
    CI), so file modes count as they do for a user."""
    setpriv = require_tool("setpriv", "drops root's power over file modes")
    caps = "-dac_override,-dac_read_search"
    command = [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}", sys.executable, "-m", "tokenworth", *argv]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def _claude_session(claude: Path, project: str, name: str, *lines: str) -> Path:
    folder = claude / "projects" / project
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.mark.system
def test_a_file_unreadable_since_the_last_import_is_named_and_the_rest_imported(tmp_path: Path) -> None:
    claude = tmp_path / "claude"
    locked = _claude_session(claude, "a", "s1.jsonl", _line("m1", 5))
    env = subprocess_env(TOKENWORTH_HOME=str(tmp_path / "home"), CLAUDE_CONFIG_DIR=str(claude), TZ="UTC")
    env.update(CODEX_HOME=str(tmp_path / "none"), GEMINI_DATA_DIR=str(tmp_path / "none"))
    first = _unprivileged(env, "import", "--json")
    assert first.returncode == 0, first.stderr
    with locked.open("a", encoding="utf-8") as handle:
        handle.write(_line("m2", 7) + "\n")
    locked.chmod(0)
    _claude_session(claude, "b", "s2.jsonl", _line("m3", 9))
    try:
        second = _unprivileged(env, "import", "--json")
    finally:
        locked.chmod(0o644)
    assert second.returncode == 0, second.stderr
    assert "Traceback" not in second.stderr
    summary = json.loads(second.stdout)
    assert str(locked) in summary["unreadable_files"]
    assert summary["records_added"] == 1  # the other session's line


@pytest.mark.system
def test_an_agent_folder_that_cannot_be_opened_is_said_and_the_others_imported(tmp_path: Path) -> None:
    claude, codex = tmp_path / "claude", tmp_path / "codex"
    _claude_session(claude, "a", "s1.jsonl", _line("m1", 5))
    (codex / "sessions").mkdir(parents=True)
    codex.chmod(0)  # as `sudo codex` leaves it
    env = subprocess_env(TOKENWORTH_HOME=str(tmp_path / "home"), CLAUDE_CONFIG_DIR=str(claude), TZ="UTC")
    env.update(CODEX_HOME=str(codex), GEMINI_DATA_DIR=str(tmp_path / "none"))
    try:
        result = _unprivileged(env, "import", "--json")
    finally:
        codex.chmod(0o755)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["records_added"] == 1
    assert "permission denied" in summary["unreadable_files"][str(codex)]


@pytest.mark.skipif(sys.platform != "linux", reason="macOS and Windows refuse file names that are not UTF-8")
def test_a_file_name_that_is_not_utf8_is_imported_once(db: Database, claude_dir: Path) -> None:
    folder = claude_dir / "projects" / os.fsdecode(b"-home-dev-caf\xe9")
    folder.mkdir(parents=True)
    (folder / os.fsdecode(b"sess\xff.jsonl")).write_text(_line("m1", 5) + "\n", encoding="utf-8")
    shutil.copy(SAMPLES / "claude-code.jsonl", claude_dir / "projects" / "plain.jsonl")
    first = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    assert first.records_added == 4  # its line and the sample's three
    again = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    assert (again.records_added, again.files_read, again.files_unchanged) == (0, 0, 2)


def test_a_line_nested_thousands_deep_is_one_broken_line(db: Database, claude_dir: Path, home: Path) -> None:
    deep = '{"type":"user","toolUseResult":' + "[" * 5000 + "]" * 5000 + ',"message":{"usage":{}}}'
    _claude_session(claude_dir, "a", "s1.jsonl", deep, _line("m1", 5))
    gemini = home.parent / "gemini" / "tmp" / "p1" / "chats"
    gemini.mkdir(parents=True)
    (gemini / "session.jsonl").write_text('{"x":"\\u00e9","y":' + "[" * 5000 + "]" * 5000 + "}\n")
    summary = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    assert (summary.records_added, summary.broken_lines) == (1, 1)
    summary = import_local_logs(db, source_names=["gemini-cli"], env=os.environ)
    assert summary.broken_lines == 1


def test_empty_log_files_are_not_read_again_on_every_import(db: Database, claude_dir: Path) -> None:
    for number in range(3):
        _claude_session(claude_dir, "a", f"new{number}.jsonl")  # a session just opened, no line yet
    import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    again = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    assert (again.files_read, again.files_unchanged) == (0, 3)


def test_a_project_folder_linked_in_is_read_and_a_link_back_up_is_no_loop(
    db: Database, claude_dir: Path, tmp_path: Path
) -> None:
    moved = tmp_path / "other-disk" / "-home-dev-app"  # moved to another disk, linked back
    moved.mkdir(parents=True)
    (moved / "s1.jsonl").write_text(_line("m1", 5) + "\n", encoding="utf-8")
    (claude_dir / "projects").mkdir(exist_ok=True)
    (claude_dir / "projects" / "-home-dev-app").symlink_to(moved, target_is_directory=True)
    (moved / "up").symlink_to(claude_dir, target_is_directory=True)  # a loop, as links allow
    summary = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    assert (summary.records_added, summary.files_found) == (1, 1)


def test_linked_in_codex_and_gemini_folders_are_read(db: Database, tmp_path: Path) -> None:
    codex_day = tmp_path / "elsewhere" / "01"
    codex_day.mkdir(parents=True)
    shutil.copy(SAMPLES / "codex-rollout.jsonl", codex_day / "rollout-2026-01-05T09-10-00-a.jsonl")
    (tmp_path / "codex" / "sessions" / "2026").mkdir(parents=True)
    (tmp_path / "codex" / "sessions" / "2026" / "01").symlink_to(codex_day, target_is_directory=True)
    chats = tmp_path / "elsewhere" / "p1" / "chats"
    chats.mkdir(parents=True)
    shutil.copy(SAMPLES / "gemini-cli-session.jsonl", chats / "session-a.jsonl")
    (tmp_path / "gemini" / "tmp").mkdir(parents=True)
    (tmp_path / "gemini" / "tmp" / "p1").symlink_to(chats.parent, target_is_directory=True)
    env = {"CODEX_HOME": str(tmp_path / "codex"), "GEMINI_DATA_DIR": str(tmp_path / "gemini" / "tmp")}
    summary = import_local_logs(db, source_names=["codex", "gemini-cli"], env=env)
    assert summary.files_found == 2
    assert summary.records_added > 0


def test_a_line_written_after_a_crash_leftover_of_nul_bytes_counts(db: Database, claude_dir: Path) -> None:
    """After a crash a file can end in NUL bytes where its last writes were; the agent's next
    line then follows them with no newline between. That line's request is spend all the same."""
    session = _claude_session(claude_dir, "a", "s1.jsonl", _line("m1", 5))
    with session.open("ab") as handle:
        handle.write(b"\0" * 4096 + _line("m2", 7).encode() + b"\n")
    summary = import_local_logs(db, paths=[claude_dir], source_names=["claude-code"])
    assert summary.records_added == 2


@pytest.mark.skipif(sys.platform != "linux", reason="macOS and Windows refuse file names that are not UTF-8")
def test_a_folder_whose_name_is_not_utf8_is_named_in_the_json_summary(cli, tmp_path: Path) -> None:
    folder = tmp_path / os.fsdecode(b"logs-caf\xe9") / "projects" / "p"
    folder.mkdir(parents=True)
    (folder / os.fsdecode(b"s\xff.jsonl")).write_text(_line("m1", 5) + "\n{torn\n" + _line("m2", 6) + "\n")
    result = cli("import", "--json", "--source", "claude-code", "--path", str(folder.parent.parent))
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["records_added"] == 2
    [name] = summary["broken_by_file"]
    assert name.endswith("logs-caf\\xe9/projects/p/s\\xff.jsonl")
    missing = cli("import", "--json", "--source", "claude-code", "--path", os.fsdecode(b"/nowhere-\xff"))
    assert missing.code == 2
    assert "no such folder" in missing.err


def test_a_link_sorted_before_its_folder_and_a_link_loop_find_each_file_once(db: Database, tmp_path: Path) -> None:
    projects = tmp_path / "claude" / "projects"
    real = projects / "-home-dev-app"
    real.mkdir(parents=True)
    (real / "s1.jsonl").write_text(_line("m1", 5) + "\n", encoding="utf-8")
    (projects / "-a-old-name").symlink_to(real, target_is_directory=True)  # sorts first
    days = tmp_path / "codex" / "sessions" / "2026"
    (days / "01").mkdir(parents=True)
    shutil.copy(SAMPLES / "codex-rollout.jsonl", days / "01" / "rollout-2026-01-05T09-10-00-a.jsonl")
    (days / "01" / "again").symlink_to(days, target_is_directory=True)  # a loop
    env = {"CLAUDE_CONFIG_DIR": str(tmp_path / "claude"), "CODEX_HOME": str(tmp_path / "codex")}
    summary = import_local_logs(db, source_names=["claude-code", "codex"], env=env)
    assert summary.files_found == 2
    stored = {row[0] for row in db.fetch("SELECT path FROM imported_files")}
    assert str(real / "s1.jsonl") in stored  # by the folder itself, not by the link's name
