"""What `tokenworth import` tells the user: folders it looked in, files it could not read, prices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SAMPLES, CliRunner


def test_import_from_only_missing_folders_is_a_usage_error(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("import", "--path", str(tmp_path / "nonexistent"))
    assert result.code == 2
    assert f"no such folder: {tmp_path / 'nonexistent'}" in result.err
    assert "~/.claude" not in result.out + result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_path_is_refused_not_read_as_the_current_folder(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty: str
) -> None:
    _unpriced_log(tmp_path / "cwd", "claude-imaginary-9")  # logs under the current folder
    monkeypatch.chdir(tmp_path / "cwd")
    result = cli("import", "--path", empty, "--json")
    assert result.code == 2
    assert "argument --path: an empty path" in result.err
    assert result.out == ""
    listed = json.loads(cli("report", "models", "--json", "--no-import").out)
    assert listed["rows"] == []  # nothing was imported


def test_a_folder_of_another_agents_logs_is_named_when_source_is_given(cli: CliRunner, tmp_path: Path) -> None:
    tree = tmp_path / "claude-tree"
    _unpriced_log(tree, "claude-imaginary-9")
    wrong = cli("import", "--source", "codex", "--path", str(tree))
    assert wrong.code == 0, wrong.err
    assert f"warning: {tree} holds claude-code logs, not codex: read with `--source claude-code`" in wrong.err
    as_json = cli("import", "--source", "codex", "--path", str(tree), "--json")
    assert json.loads(as_json.out)["mismatched_dirs"] == [
        {"path": str(tree), "source": "codex", "looks_like": "claude-code"}
    ]
    assert "holds claude-code logs" in as_json.err
    right = cli("import", "--source", "claude-code", "--path", str(tree), "--json")
    assert json.loads(right.out)["records_added"] == 1
    assert "holds" not in right.err


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


def test_a_missing_folder_named_in_claude_config_dir_is_warned_about(
    cli: CliRunner, claude_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A typo in one of several CLAUDE_CONFIG_DIR folders must not silently lose its spend."""
    _unpriced_log(claude_dir, "claude-imaginary-9")
    typo = tmp_path / "work-claud"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{claude_dir},{typo}")
    (tmp_path / "codex").mkdir()  # the other agents' folders the test home names exist
    (tmp_path / "gemini" / "tmp").mkdir(parents=True)
    result = cli("import")
    assert result.code == 0, result.err
    assert f"warning: {typo} does not exist (skipped)" in result.err
    assert f"warning: {claude_dir}" not in result.err
    summary = json.loads(cli("import", "--json").out)
    assert summary["missing_dirs"] == [str(typo)]
    monkeypatch.setenv("GEMINI_DATA_DIR", str(typo))  # named twice: one warning
    assert cli("import").err.count(f"warning: {typo} does not exist") == 1


def test_the_default_folders_of_an_agent_not_used_are_not_warned_about(
    cli: CliRunner, claude_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _unpriced_log(claude_dir, "claude-imaginary-9")
    monkeypatch.delenv("CODEX_HOME", raising=False)
    monkeypatch.delenv("GEMINI_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(claude_dir.parent / "no-agents-home"))
    result = cli("import", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["missing_dirs"] == []
    assert "does not exist" not in result.err


def _unpriced_log(claude_dir: Path, *models: str) -> None:
    folder = claude_dir / "projects" / "p"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        f'{{"cwd":"/w","sessionId":"s","requestId":"r{n}","type":"assistant","timestamp":"2026-01-05T10:00:00Z",'
        f'"message":{{"id":"m{n}","model":"{model}","usage":{{"input_tokens":10,"output_tokens":5}}}}}}'
        for n, model in enumerate(models)
    ]
    (folder / "s.jsonl").write_text("\n".join(lines) + "\n")


def test_unpriced_warnings_say_how_to_price_the_records_already_stored(cli: CliRunner, claude_dir: Path) -> None:
    _unpriced_log(claude_dir, "claude-imaginary-9")
    imported = cli("import")
    assert "`tokenworth prices set claude-imaginary-9 --input X --output Y`" in imported.err
    assert "`tokenworth reprice --since DATE --model claude-imaginary-9`" in imported.err
    table = cli("report", "daily", "--tz", "UTC", "--no-import")
    assert "UNPRICED: claude-imaginary-9 has no known price; costs marked + leave it out." in table.out
    assert "`tokenworth reprice --since DATE --model claude-imaginary-9`" in table.out


def test_unpriced_footer_grammar_for_several_models(cli: CliRunner, claude_dir: Path) -> None:
    _unpriced_log(claude_dir, "claude-imaginary-9", "claude-imaginary-10")
    table = cli("report", "daily", "--tz", "UTC")
    assert "claude-imaginary-10, claude-imaginary-9 have no known price; costs marked + leave them out." in table.out
    assert "`tokenworth reprice --since DATE --model MODEL`" in table.out


def test_broken_line_examples_are_listed_by_file_then_line(cli: CliRunner, claude_dir: Path, tmp_path: Path) -> None:
    good = (
        '{"cwd":"/w","sessionId":"s","requestId":"r%d","type":"assistant","timestamp":"2026-01-05T10:00:00Z",'
        '"message":{"id":"m%d","model":"claude-sonnet-4-5","usage":{"input_tokens":10,"output_tokens":5}}}'
    )
    lines = [good % (n, n) for n in range(1, 13)]
    lines[9] = '{"type":"user","message":{"content":"cut off'  # line 10: torn, no usage in it
    lines[11] = '{"message":{"usage":{"input_tokens":1'  # line 12: a torn usage line
    folder = claude_dir / "projects" / "p"
    folder.mkdir(parents=True)
    (folder / "b.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "a.jsonl").write_text(good % (99, 99) + "\nnot json\n")
    result = cli("import")
    assert result.code == 0
    examples = [line.split(": ")[0] for line in result.err.splitlines() if line.strip().startswith("e.g.")]
    a, b = folder / "a.jsonl", folder / "b.jsonl"
    assert examples == [f"  e.g. {a}:2", f"  e.g. {b}:10", f"  e.g. {b}:12"]
    again = json.loads(cli("--db", f"sqlite:///{tmp_path / 'other.db'}", "import", "--json").out)
    assert [(e["path"], e["line"]) for e in again["broken_examples"]] == [(str(a), 2), (str(b), 10), (str(b), 12)]


def test_a_corrupt_or_truncated_zst_rollout_is_named_and_read_once_complete(cli: CliRunner, tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    rollout = (SAMPLES / "codex-rollout.jsonl").read_bytes()
    packed = zstandard.ZstdCompressor().compress(rollout)
    day = tmp_path / "codex" / "sessions" / "2026" / "01" / "05"
    day.mkdir(parents=True)
    truncated = day / "rollout-2026-01-05T10-00-00-a.jsonl.zst"
    corrupt = day / "rollout-2026-01-05T11-00-00-b.jsonl.zst"
    truncated.write_bytes(packed[: len(packed) // 2])
    corrupt.write_bytes(b"not zstd at all" * 8)

    first = cli("import")
    assert first.code == 0, first.err
    assert "could not read 2 files" in first.err
    assert f"{truncated}: truncated zstd file" in first.err
    assert f"{corrupt}: corrupt zstd file" in first.err
    assert "Traceback" not in first.err
    summary = json.loads(cli("import", "--json").out)  # still unreadable: tried again, not marked read
    assert sorted(summary["unreadable_files"]) == [str(truncated), str(corrupt)]
    assert (summary["files_read"], summary["broken_lines"], summary["records_added"]) == (0, 0, 0)

    truncated.write_bytes(packed)  # the agent finished writing it
    done = json.loads(cli("import", "--json").out)
    assert list(done["unreadable_files"]) == [str(corrupt)]
    assert done["records_added"] > 0
    report = cli("report", "daily", "--json")
    assert "could not read 1 file (" in report.err  # a report's own import says so too
