"""`tokenworth price`: a prompt's tokens and cost on each model, cheapest first, offline."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import tiktoken

from conftest import CliRunner, subprocess_env
from tiktoken_reference import block_network, build_reference
from tokenworth.core import tokens
from tokenworth.core.pricing import PriceBook, rates_from_override
from tokenworth.services.prompt_pricing import (
    DEFAULT_OUTPUT_RATIO,
    POPULAR_MODELS,
    OutputAssumption,
    decode_prompt,
    default_models,
    price_prompt,
)

PROMPT = (
    "You are reviewing a pull request.\n\n"
    "```python\ndef total(items: list[Decimal]) -> Decimal:\n    return sum(items, Decimal(0))\n```\n\n"
    "Explain the change in two sentences, then list risks. Merci beaucoup! 谢谢 🙏\n"
)
ROW_KEYS = {"model", "input_tokens", "output_tokens", "cost_usd", "estimate"}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tiktoken.Encoding]:
    return build_reference(tmp_path_factory.mktemp("reference-tiktoken-cache"))


@pytest.fixture
def prompt_file(tmp_path: Path) -> Path:
    path = tmp_path / "prompt.md"
    path.write_text(PROMPT, encoding="utf-8")
    return path


def rows_of(output: str) -> list[dict[str, object]]:
    document = json.loads(output)
    rows = document["rows"]
    assert all(set(row) == ROW_KEYS for row in rows), rows
    return rows


def by_model(rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(row["model"]): row for row in rows}


def test_counts_match_tiktokens_own(cli: CliRunner, prompt_file: Path, reference: dict[str, tiktoken.Encoding]) -> None:
    result = cli("price", str(prompt_file), "--json", "--models", "gpt-4o,gpt-4,claude-sonnet-4-5,o3")
    assert result.code == 0, result.err
    rows = by_model(rows_of(result.out))
    o200k = len(reference["o200k_base"].encode(PROMPT))
    cl100k = len(reference["cl100k_base"].encode(PROMPT))
    assert o200k != cl100k, "the sample must tell the two encodings apart"
    assert rows["gpt-4o"]["input_tokens"] == o200k
    assert rows["o3"]["input_tokens"] == o200k
    assert rows["gpt-4"]["input_tokens"] == cl100k
    assert rows["claude-sonnet-4-5"]["input_tokens"] == o200k


def test_json_rows_cheapest_first_with_exact_costs(cli: CliRunner, prompt_file: Path) -> None:
    assert cli("prices", "set", "house-small", "--provider", "openai", "--input", "1", "--output", "2").code == 0
    assert cli("prices", "set", "house-large", "--provider", "openai", "--input", "3", "--output", "9").code == 0
    result = cli("price", str(prompt_file), "--json", "--output-tokens", "1000", "--models", "house-large,house-small")
    assert result.code == 0, result.err
    rows = rows_of(result.out)
    assert [row["model"] for row in rows] == ["house-small", "house-large"]
    n = rows[0]["input_tokens"]
    assert isinstance(n, int)
    assert rows[0]["output_tokens"] == rows[1]["output_tokens"] == 1000
    assert rows[0]["cost_usd"] == str((Decimal(n) * 1 + 1000 * 2) / 1_000_000)
    assert rows[1]["cost_usd"] == str((Decimal(n) * 3 + 1000 * 9) / 1_000_000)
    assert json.loads(result.out)["output_assumption"] == {"tokens": 1000, "ratio": None}


def test_default_models_are_priced_across_providers_cheapest_first(cli: CliRunner, prompt_file: Path) -> None:
    result = cli("price", str(prompt_file), "--json")
    assert result.code == 0, result.err
    rows = rows_of(result.out)
    assert len(rows) >= 10
    assert {row["model"] for row in rows} <= set(POPULAR_MODELS)
    costs = [Decimal(str(row["cost_usd"])) for row in rows]
    assert costs == sorted(costs)
    assert all(cost > 0 for cost in costs)
    names = [str(row["model"]) for row in rows]
    for family in ("gpt-", "claude-", "gemini-", "deepseek-"):
        assert any(name.startswith(family) for name in names), family
    document = json.loads(result.out)
    assert document["output_assumption"] == {"tokens": None, "ratio": str(DEFAULT_OUTPUT_RATIO)}
    for row in rows:
        assert row["output_tokens"] == int(
            (int(row["input_tokens"]) * DEFAULT_OUTPUT_RATIO).to_integral_value(rounding=ROUND_HALF_UP)
        )


def test_estimate_flags_and_unpriced_models(cli: CliRunner, prompt_file: Path) -> None:
    models = "gemini-2.5-flash,no-such-model-xyz,gpt-4o-mini,gpt-3.5-turbo,deepseek-chat,openai/gpt-4.1"
    result = cli("price", str(prompt_file), "--json", "--models", models)
    assert result.code == 0, result.err
    rows = rows_of(result.out)
    flags = {row["model"]: row["estimate"] for row in rows}
    assert flags == {
        "gemini-2.5-flash": True,
        "no-such-model-xyz": True,
        "gpt-4o-mini": False,
        "gpt-3.5-turbo": False,
        "deepseek-chat": True,
        "openai/gpt-4.1": False,
    }
    assert rows[-1]["model"] == "no-such-model-xyz", "unpriced rows come last"
    assert rows[-1]["cost_usd"] is None, "an unknown model is unpriced, never $0"
    assert all(row["cost_usd"] is not None for row in rows[:-1])


def test_a_provider_named_that_does_not_sell_the_model_leaves_it_unpriced(cli: CliRunner, prompt_file: Path) -> None:
    """`openai/claude-opus-4-5` was shown under another provider at Opus' price; like
    `anthropic/gpt-5`, it is unpriced, not somebody else's price."""
    from tokenworth.services.prompt_pricing import price_prompt

    models = ["openai/claude-opus-4-5", "deepseek/claude-opus-4-5", "anthropic/claude-opus-4-5"]
    rows = {row.model: row for row in price_prompt("Summarise this file.", models=models)}
    assert rows["anthropic/claude-opus-4-5"].provider == "anthropic"
    assert rows["anthropic/claude-opus-4-5"].cost is not None
    for name in models[:2]:
        assert (rows[name].provider, rows[name].cost) == (None, None)
    [router] = price_prompt("Summarise this file.", models=["google/gemma-2-9b-it"])  # a router's own name
    assert router.provider == "openrouter"
    assert router.cost is not None
    shown = cli("price", str(prompt_file), "--json", "--models", ",".join(models))
    costs = {row["model"]: row["cost_usd"] for row in rows_of(shown.out)}
    assert costs["openai/claude-opus-4-5"] is None
    assert (
        "Unpriced (no price known, not $0): deepseek/claude-opus-4-5, openai/claude-opus-4-5"
        in cli("price", str(prompt_file), "--models", ",".join(models)).out
    )


def test_table_says_what_it_assumes(cli: CliRunner, prompt_file: Path) -> None:
    result = cli("price", str(prompt_file), "--models", "claude-haiku-4-5,gpt-4o,mystery-model")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["Model", "Provider", "Input", "Output", "Cost", "Tokenizer"]
    body = [line.split()[0] for line in lines[2:5]]
    assert body == ["claude-haiku-4-5", "gpt-4o", "mystery-model"]
    assert lines[2].endswith("o200k_base (estimate)")
    assert lines[3].endswith("o200k_base")
    assert "unpriced" in lines[4]
    assert "$0.000000" not in lines[4]
    assert "output = 0.25 x input tokens (the default)" in result.out
    assert "(estimate): the model's own tokenizer is not public" in result.out
    assert "Unpriced (no price known, not $0): mystery-model." in result.out


def test_output_ratio(cli: CliRunner, prompt_file: Path, reference: dict[str, tiktoken.Encoding]) -> None:
    result = cli("price", str(prompt_file), "--json", "--output-ratio", "2", "--models", "gpt-4o")
    assert result.code == 0, result.err
    (row,) = rows_of(result.out)
    assert row["output_tokens"] == 2 * len(reference["o200k_base"].encode(PROMPT))


def test_too_long_for_a_models_context_is_flagged(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("word " * 70_000, encoding="utf-8")
    result = cli("price", str(path), "--models", "deepseek-chat,gpt-4.1", "--output-tokens", "0")
    assert result.code == 0, result.err
    assert "Too long for deepseek-chat:" in result.out
    assert "Too long for gpt-4.1" not in result.out


def test_stdin_dash_and_no_file(cli: CliRunner, reference: dict[str, tiktoken.Encoding]) -> None:
    expected = len(reference["o200k_base"].encode(PROMPT))
    for argv in (["price", "-"], ["price"]):
        result = cli(*argv, "--json", "--models", "gpt-5", stdin=PROMPT)
        assert result.code == 0, result.err
        assert rows_of(result.out)[0]["input_tokens"] == expected


def test_a_terminal_on_stdin_is_refused_not_waited_on(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    result = cli("price")
    assert result.code == 2
    assert "no text to price: give a FILE, or pipe text in" in result.err


def test_real_stdin_bytes_in_a_child_process_never_touch_the_network(
    tmp_path: Path, reference: dict[str, tiktoken.Encoding]
) -> None:
    """The installed entry point, reading UTF-8 bytes (with a BOM) from a pipe, with sockets and
    DNS disabled in the child by a sitecustomize and tiktoken's cache empty."""
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(
        "import socket\n"
        "def _refuse(*args, **kwargs):\n"
        "    raise SystemExit('network access attempted')\n"
        "socket.socket.connect = _refuse\n"
        "socket.socket.connect_ex = _refuse\n"
        "socket.getaddrinfo = _refuse\n"
        "socket.create_connection = _refuse\n",
        encoding="utf-8",
    )
    empty_cache = tmp_path / "empty-cache"
    empty_cache.mkdir()
    env = subprocess_env(TOKENWORTH_HOME=str(tmp_path / "home"), TIKTOKEN_CACHE_DIR=str(empty_cache))
    env["PYTHONPATH"] = os.pathsep.join([str(guard), env["PYTHONPATH"]])
    probe = subprocess.run(
        [sys.executable, "-c", "import socket; socket.getaddrinfo('example.com', 443)"],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert b"network access attempted" in probe.stderr, "the guard must be active in the child"
    completed = subprocess.run(
        [sys.executable, "-m", "tokenworth", "price", "-", "--json", "--models", "gpt-4o,gpt-4"],
        input=b"\xef\xbb\xbf" + PROMPT.encode(),
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr.decode()
    rows = by_model(rows_of(completed.stdout.decode()))
    assert rows["gpt-4o"]["input_tokens"] == len(reference["o200k_base"].encode(PROMPT))
    assert rows["gpt-4"]["input_tokens"] == len(reference["cl100k_base"].encode(PROMPT))
    assert list(empty_cache.iterdir()) == []


def test_utf16_file_with_bom(cli: CliRunner, tmp_path: Path, reference: dict[str, tiktoken.Encoding]) -> None:
    path = tmp_path / "windows.txt"
    path.write_bytes(PROMPT.encode("utf-16"))
    result = cli("price", str(path), "--json", "--models", "gpt-4o")
    assert result.code == 0, result.err
    assert rows_of(result.out)[0]["input_tokens"] == len(reference["o200k_base"].encode(PROMPT))


def test_empty_input_costs_nothing_but_is_still_priced(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    result = cli("price", str(path), "--json", "--models", "gpt-4o")
    assert result.code == 0, result.err
    assert rows_of(result.out) == [
        {"model": "gpt-4o", "input_tokens": 0, "output_tokens": 0, "cost_usd": "0", "estimate": False}
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing.txt"], "missing.txt: no such file"),
        (["."], ".: is a folder, not a text file"),
        (
            ["-", "--output-tokens", "10", "--output-ratio", "0.5"],
            "give --output-tokens or --output-ratio, not both",
        ),
        (["-", "--output-tokens", "-5"], "--output-tokens must be zero or more, got '-5'"),
        (["-", "--output-tokens", "ten"], "--output-tokens must be a whole number of tokens, got 'ten'"),
        (["-", "--output-ratio", "-0.5"], "--output-ratio must be zero or more, got '-0.5'"),
        (["-", "--output-ratio", "lots"], "--output-ratio must be a number such as 0.5, got 'lots'"),
        (["-", "--output-ratio", "nan"], "--output-ratio must be a number such as 0.5, got 'nan'"),
        (["-", "--models", " , "], "--models names no model"),
    ],
)
def test_usage_errors(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("price", *argv, stdin="some text")
    assert result.code == 2
    assert result.err == f"tokenworth: {message}\n"
    assert result.out == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "looks like a binary file (it contains NUL bytes); give text",
        ),
        (
            "caf\u00e9 cr\u00e8me".encode("latin-1"),
            "is not UTF-8 text (undecodable byte at offset 3); convert it to UTF-8 first",
        ),
    ],
)
def test_binary_or_undecodable_files_are_refused(cli: CliRunner, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "input.bin"
    path.write_bytes(content)
    result = cli("price", str(path))
    assert result.code == 2
    assert result.err == f"tokenworth: {path} {message}\n"
    assert result.out == ""


def test_a_missing_encoding_is_a_clear_error_and_no_download(
    cli: CliRunner, prompt_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = block_network(monkeypatch)
    empty = tmp_path / "empty-cache"
    empty.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(empty))
    monkeypatch.setattr(tokens, "BUNDLE_PACKAGE", "no_such_package_for_tokenworth")
    tokens.clear_encoding_cache()
    try:
        result = cli("price", str(prompt_file), "--models", "gpt-4")
    finally:
        tokens.clear_encoding_cache()
    assert result.code == 1
    assert result.err.startswith("tokenworth: the cl100k_base token encoding is not available offline")
    assert "Reinstall Tokenworth" in result.err
    assert result.out == ""
    assert attempts == []


def test_service_prices_with_a_book_and_no_database() -> None:
    """What the dashboard calls: overrides win over the database, ratio rounds half up."""
    book = PriceBook(
        {
            ("openai", "gpt-4o"): rates_from_override(
                input_mtok=Decimal(10),
                output_mtok=Decimal(20),
                cache_read_mtok=None,
                cache_write_5m_mtok=None,
                cache_write_1h_mtok=None,
                version="override test",
            )
        }
    )
    (row,) = price_prompt("hello world", models=["gpt-4o"], output=OutputAssumption(ratio=Decimal("0.25")), book=book)
    assert (row.input_tokens, row.output_tokens) == (2, 1)  # 0.5 rounds up
    assert row.cost == Decimal("0.00004")
    assert row.price_version == "override test"
    assert row.as_json() == {
        "model": "gpt-4o",
        "input_tokens": 2,
        "output_tokens": 1,
        "cost_usd": "0.00004",
        "estimate": False,
    }


def test_default_models_all_exist_in_the_price_database() -> None:
    assert default_models(PriceBook()) == list(POPULAR_MODELS)


def test_decoding_rules() -> None:
    assert decode_prompt("naïve".encode(), "x") == "naïve"
    assert decode_prompt(b"\xef\xbb\xbfhi", "x") == "hi"
    assert decode_prompt(b"\xfe\xff" + "hi ✓".encode("utf-16-be"), "x") == "hi ✓"
    for codec in ("utf-32", "utf-32-le", "utf-32-be"):  # FF FE 00 00 also starts like UTF-16's BOM
        data = "hello world ✓".encode(codec)
        if codec != "utf-32":
            data = ("\ufeff" + "hello world ✓").encode(codec)
        assert decode_prompt(data, "x") == "hello world ✓"


def test_an_embedding_model_is_priced_for_its_input_alone(cli: CliRunner, prompt_file: Path) -> None:
    """An input-only model writes no tokens: --output-tokens does not apply to it (never $0 for
    output that was counted but not priced)."""
    result = cli("price", str(prompt_file), "--json", "--output-tokens", "1000", "--models", "text-embedding-3-small")
    assert result.code == 0, result.err
    (row,) = rows_of(result.out)
    assert row["output_tokens"] == 0
    assert Decimal(row["cost_usd"]) == Decimal(row["input_tokens"]) * Decimal("0.02") / 1_000_000


def test_a_model_priced_by_the_hour_says_its_cost_is_this_hours(cli: CliRunner, prompt_file: Path) -> None:
    result = cli("price", str(prompt_file), "--models", "deepseek-chat,claude-haiku-4-5")
    assert result.code == 0, result.err
    [note] = [line for line in result.out.splitlines() if line.startswith("Priced by the hour")]
    assert "deepseek-chat" in note
    assert "claude-haiku" not in note
