"""`tokenworth report daily` agrees with `ccusage daily` on the same Claude Code log tree.

The issue's correctness bar: per UTC day and per model, input, output, cache-read and
cache-write tokens are equal, and costs agree within 1% where both tools price the model. The
tree comes from the benchmark's generator (fixed seed, a few MB) and holds every dedupe case:
streamed lines sharing one id, a sidechain replay under another requestId, resumed sessions that
copy earlier lines, Task results carrying a `"usage":{` object, `<synthetic>` errors, a legacy
`costUSD` session and torn lines. The generator also writes the totals a correct reader must
report, a third opinion that says which of the two tools is wrong when they differ.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import CliRunner, require_tool

pytestmark = pytest.mark.system

TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
COST_TOLERANCE = Decimal("0.01")


def _generator() -> ModuleType:
    """tests/bench/generate_logs.py (a script folder, not a package) as a module."""
    name = "tokenworth_bench_generate_logs"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).parent / "bench" / "generate_logs.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def ccusage_binary() -> str:
    """$TOKENWORTH_CCUSAGE (what CI sets), else `ccusage` on PATH, else skip (fail under CI)."""
    configured = os.environ.get("TOKENWORTH_CCUSAGE")
    if configured:
        if not os.access(configured, os.X_OK):
            pytest.fail(f"TOKENWORTH_CCUSAGE={configured} is not an executable")
        return configured
    return require_tool("ccusage", "the correctness anchor for Claude Code totals")


def ccusage_daily(
    binary: str, claude_dir: Path, tmp_path: Path, zone: str = "UTC"
) -> dict[tuple[str, str], dict[str, Any]]:
    """ccusage's per (day, model) figures, with only `claude_dir` visible to it."""
    empty = tmp_path / "ccusage-home"
    empty.mkdir(parents=True)
    env = {
        **os.environ,
        "HOME": str(empty),
        "CLAUDE_CONFIG_DIR": str(claude_dir),
        "CODEX_HOME": str(empty / "codex"),
    }
    done = subprocess.run(
        [binary, "daily", "--json", "--offline", "-z", zone],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = {}
    for day in json.loads(done.stdout)["daily"]:
        for model in day["modelBreakdowns"]:
            figures[(day["period"], model["modelName"])] = {
                "input_tokens": model["inputTokens"],
                "output_tokens": model["outputTokens"],
                "cache_read_tokens": model["cacheReadTokens"],
                "cache_write_tokens": model["cacheCreationTokens"],
                # ccusage prints floats; their shortest repr is the decimal it means.
                "cost": Decimal(repr(model["cost"])),
            }
    return figures


def tokenworth_daily(cli: CliRunner, zone: str = "UTC") -> dict[tuple[str, str], dict[str, Any]]:
    """Our per (day, model) figures from the everyday command (which imports first)."""
    result = cli("report", "daily", "--json", "--tz", zone)
    assert result.code == 0, result.err
    figures = {}
    for row in json.loads(result.out)["rows"]:
        for model in row["by_model"]:
            figures[(row["date"], model["model"])] = {
                **{name: model[name] for name in TOKEN_FIELDS},
                "cost": None if model["cost_usd"] is None else Decimal(model["cost_usd"]),
            }
    return figures


def expected_daily(tree: Path, generator: ModuleType) -> dict[tuple[str, str], dict[str, Any]]:
    truth = json.loads((tree / generator.EXPECTED_FILE).read_text())
    return {(day, model): figures for day, models in truth["days"].items() for model, figures in models.items()}


def _tokens(figures: dict[str, Any]) -> tuple[int, ...]:
    return tuple(figures[name] for name in TOKEN_FIELDS)


def _cost_gap(ours: Decimal, theirs: Decimal) -> Decimal:
    return abs(ours - theirs) / theirs


@pytest.fixture
def generator() -> ModuleType:
    return _generator()


def _generate(generator: ModuleType, claude_dir: Path, **options: Any) -> dict[str, Any]:
    expected: dict[str, Any] = generator.generate(
        claude_dir, generator.parse_size("4MB"), seed=20260105, days=21, **options
    )
    counts = expected["counts"]
    for case in (
        "sidechain_replays",
        "resumed_copies",
        "task_usage_results",
        "synthetic_lines",
        "torn_lines",
    ):
        assert counts[case] >= 1, f"the generated tree lost its {case} case: {counts}"
    assert counts["legacy_lines"] == 2
    return expected


def assert_same_figures(
    ours: dict[tuple[str, str], dict[str, Any]],
    theirs: dict[tuple[str, str], dict[str, Any]],
    truth: dict[tuple[str, str], dict[str, Any]] | None = None,
) -> None:
    """Same (day, model) rows, equal tokens, costs within 1%, every model priced by both."""
    assert sorted(ours) == sorted(theirs)
    if truth is not None:
        assert sorted(ours) == sorted(truth)
    token_differences = {
        key: {
            "tokenworth": _tokens(ours[key]),
            "ccusage": _tokens(theirs[key]),
            "truth": None if truth is None else _tokens(truth[key]),
        }
        for key in ours
        if _tokens(ours[key]) != _tokens(theirs[key])
        or (truth is not None and _tokens(ours[key]) != _tokens(truth[key]))
    }
    assert token_differences == {}
    unpriced = [key for key in ours if ours[key]["cost"] is None or theirs[key]["cost"] <= 0]
    assert unpriced == [], "every model of the tree has a price in both tools"
    cost_differences = {
        key: (ours[key]["cost"], theirs[key]["cost"])
        for key in ours
        if _cost_gap(ours[key]["cost"], theirs[key]["cost"]) > COST_TOLERANCE
    }
    assert cost_differences == {}


def test_daily_tokens_and_costs_match_ccusage(
    cli: CliRunner, claude_dir: Path, tmp_path: Path, generator: ModuleType
) -> None:
    binary = ccusage_binary()
    _generate(generator, claude_dir)

    assert_same_figures(
        tokenworth_daily(cli),
        ccusage_daily(binary, claude_dir, tmp_path / "first"),
        expected_daily(claude_dir, generator),
    )


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Kolkata"])
def test_days_cut_in_other_zones_match_ccusage(
    cli: CliRunner, claude_dir: Path, tmp_path: Path, generator: ModuleType, zone: str
) -> None:
    """Sessions run across midnight in these zones; a half-hour offset moves every cut."""
    binary = ccusage_binary()
    _generate(generator, claude_dir)

    assert_same_figures(tokenworth_daily(cli, zone), ccusage_daily(binary, claude_dir, tmp_path, zone))


def test_report_stays_equal_as_the_logs_grow(
    cli: CliRunner, claude_dir: Path, tmp_path: Path, generator: ModuleType
) -> None:
    """The everyday case: Claude Code finishes a half-written line and starts a new session;
    the next `report daily` (an incremental import) still equals ccusage reading it all."""
    binary = ccusage_binary()
    expected = _generate(generator, claude_dir)
    tokenworth_daily(cli)

    torn = expected["torn_tail"]
    with (claude_dir / torn["path"]).open("a", encoding="utf-8") as transcript:
        transcript.write(torn["rest"])
    added = generator.append_session(claude_dir, seed=99)

    ours = tokenworth_daily(cli)
    theirs = ccusage_daily(binary, claude_dir, tmp_path / "grown")
    assert_same_figures(ours, theirs)
    assert added
    before = expected_daily(claude_dir, generator)
    assert sum(f["output_tokens"] for f in ours.values()) > sum(f["output_tokens"] for f in before.values())


def test_long_context_requests_cost_more_than_ccusage_says(
    cli: CliRunner, claude_dir: Path, tmp_path: Path, generator: ModuleType
) -> None:
    """Requests above 200k input tokens on Sonnet 4.5: same tokens; different (known) prices.

    Anthropic bills every token of such a request at the long-context rate (genai-prices'
    tiers, which Tokenworth uses); ccusage prices only each token category's part above 200k
    at that rate, per line. So on those days Tokenworth's cost is higher; elsewhere they agree.
    """
    binary = ccusage_binary()
    _generate(generator, claude_dir, long_context_share=0.5)

    ours = tokenworth_daily(cli)
    theirs = ccusage_daily(binary, claude_dir, tmp_path)
    truth = expected_daily(claude_dir, generator)

    assert sorted(ours) == sorted(theirs) == sorted(truth)
    for key, figures in truth.items():
        assert _tokens(ours[key]) == _tokens(theirs[key]) == _tokens(figures), key
    long_days = {key for key, figures in truth.items() if figures["long_context_requests"]}
    assert long_days, "the tree has requests above 200k input tokens"
    for key in ours:
        our_cost, their_cost = ours[key]["cost"], theirs[key]["cost"]
        if key in long_days:
            assert our_cost > their_cost, key
        else:
            assert _cost_gap(our_cost, their_cost) <= COST_TOLERANCE, key
