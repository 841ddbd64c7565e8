"""What `tokenworth import` tells the user: folders it looked in, files it could not read, prices."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import CliRunner


def test_import_from_only_missing_folders_is_a_usage_error(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("import", "--path", str(tmp_path / "nonexistent"))
    assert result.code == 2
    assert f"no such folder: {tmp_path / 'nonexistent'}" in result.err
    assert "~/.claude" not in result.out + result.err
    assert "Traceback" not in result.err


def test_import_names_the_missing_folder_and_the_folders_it_searched(cli: CliRunner, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("import", "--path", str(tmp_path / "gone"), "--path", str(empty))
    assert result.code == 0, result.err
    assert f"warning: {tmp_path / 'gone'} does not exist" in result.err
    assert f"No agent logs found. Looked in {empty} (no agent logs recognised)." in result.out
    assert "CLAUDE_CONFIG_DIR" not in result.out  # the default places were not searched
    summary = json.loads(cli("import", "--path", str(empty), "--source", "codex", "--json").out)
    assert summary["searched_dirs"] == [{"source": "codex", "path": str(empty)}]


def test_import_without_path_names_the_default_folders_it_searched(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("import")
    assert result.code == 0
    assert f"{tmp_path / 'claude'} (claude-code, does not exist)" in result.out
    assert f"{tmp_path / 'codex'} (codex, does not exist)" in result.out
    assert f"{tmp_path / 'gemini' / 'tmp'} (gemini-cli, does not exist)" in result.out
    assert "~/.claude" not in result.out
