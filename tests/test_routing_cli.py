"""`tokenworth report routing` and `tokenworth experiment` as a user runs them: JSON, text, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CliRunner
from routing_ledger import copy_ledger, history_file

ROUTING = ("report", "routing", "--month", "2026-01", "--tz", "UTC", "--candidates", "tiny", "--no-import")
MONEY_KEYS = ("current_cost_usd", "projected_cost_usd", "savings_usd")


@pytest.fixture(scope="module")
def history_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return history_file(tmp_path_factory.mktemp("routing-cli"))


@pytest.fixture
def ledger(home: Path, history_source: Path) -> Path:
    """The known history as the CLI's own database."""
    copy_ledger(history_source, home / "tokenworth.db").dispose()
    return home


def routing_json(cli: CliRunner, *extra: str) -> dict:
    result = cli(*ROUTING, "--json", *extra)
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_report_routing_json_shape(cli: CliRunner, ledger: Path) -> None:
    payload = routing_json(cli)
    assert set(payload) >= {"report", "month", "suggestions", "flags", "experiments", "models", "totals"}
    assert (payload["report"], payload["month"], payload["time_zone"]) == ("routing", "2026-01", "UTC")
    assert set(payload["flags"]) == {"tfp_below_one", "caching"}
    suggestions = payload["suggestions"]
    assert [s["evidence"] for s in suggestions] == ["measured", "thin", "priced_only", "priced_only", "priced_only"]
    for item in suggestions:
        assert set(item) >= {
            "id",
            "category",
            "from_model",
            "to_model",
            "tasks",
            *MONEY_KEYS,
            "evidence",
            "from_tasks",
            "to_tasks",
        }
        assert all(isinstance(item[key], str) for key in MONEY_KEYS)  # decimal strings, never floats
        assert len(item["id"]) == 8
    measured = suggestions[0]
    assert {key: measured[key] for key in ("category", "from_model", "to_model", *MONEY_KEYS)} == {
        "category": "docs",
        "from_model": "big",
        "to_model": "mid",
        "current_cost_usd": "14",
        "projected_cost_usd": "2.8",
        "savings_usd": "11.2",
    }
    assert payload["experiments"] == []


def test_report_routing_text_says_the_evidence_plainly(cli: CliRunner, ledger: Path) -> None:
    result = cli(*ROUTING)
    assert result.code == 0, result.err
    text = result.out
    assert "Routing for 2026-01 (months in UTC): task spend $28.03; $2.00 in no task" in text
    assert "measured on 6 of your docs tasks (value/task $95.00 vs $100.00 on big)" in text
    assert (
        "thin: only 2 of your coding tasks so far (value/task $80.00 vs $100.00 on big: worth less so far, "
        "an experiment would tell); 5 make it measured" in text
    )
    assert "priced only: try nano for the next 5 docs tasks" in text
    assert "task #25 Deep dive [research]: cost $3.00, value $2.00, TFP 0.67x" in text
    assert "category research (2 tasks): cost $6.00, value $3.00, TFP 0.50x" in text
    assert "`tokenworth experiment accept ID --month 2026-01`" in text


def test_accept_show_list_and_cancel_an_experiment(cli: CliRunner, ledger: Path) -> None:
    priced_only = next(s for s in routing_json(cli)["suggestions"] if s["evidence"] == "priced_only")
    accepted = cli(
        "experiment",
        "--tz",
        "UTC",
        "accept",
        priced_only["id"],
        "--month",
        "2026-01",
        "--candidates",
        "tiny",
        "--tasks",
        "3",
        "--no-import",
    )
    assert accepted.code == 0, accepted.err
    assert "Experiment #1: try nano instead of big for the next 3 docs tasks" in accepted.out

    shown = cli("experiment", "--tz", "UTC", "show", "1", "--json", "--no-import")
    assert shown.code == 0, shown.err
    view = json.loads(shown.out)
    assert (view["status"], view["tasks"], view["suggestion_id"], view["to_model"]) == (
        "running",
        3,
        priced_only["id"],
        "nano",
    )
    assert view["baseline"] == {"tasks": 7, "value_per_task_usd": "100", "cost_per_task_usd": "2", "tfp": "50"}
    assert view["progress"] == {"counted": 0, "task_ids": [], "running_task_ids": []}

    text = cli("experiment", "--tz", "UTC", "show", "1", "--no-import").out
    assert "#1 docs: nano instead of big, 0 of 3 tasks counted" in text
    assert "No task counted yet: finish docs tasks that run mostly on nano." in text

    linked = next(s for s in routing_json(cli)["suggestions"] if s["id"] == priced_only["id"])
    assert linked["experiment"] == {"id": 1, "status": "running"}

    cancelled = cli("experiment", "cancel", "1")
    assert (cancelled.code, cancelled.out.strip()) == (0, "Cancelled experiment #1 after 0 of 3 tasks.")
    listed = json.loads(cli("experiment", "list", "--json", "--no-import").out)["experiments"]
    assert [(e["id"], e["status"]) for e in listed] == [(1, "cancelled")]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (("report", "routing", "--month", "2026-13", "--no-import"), 2, "month must look like 2026-01, got '2026-13'"),
        (("report", "routing", "--since", "2026-01-01", "--no-import"), 2, "report routing takes --month"),
        (
            ("report", "daily", "--candidates", "tiny", "--no-import"),
            2,
            "--candidates applies to `report routing` only",
        ),
        (("report", "routing", "--candidates", ",", "--no-import"), 2, "--candidates needs model names"),
        (
            ("experiment", "accept", "deadbeef", "--month", "2026-01", "--no-import"),
            1,
            "no suggestion deadbeef in 2026-01",
        ),
        (("experiment", "accept", "xyz", "--no-import"), 2, "a suggestion id is 8 hex characters"),
        (("experiment", "accept", "deadbeef", "--month", "26-1", "--no-import"), 2, "month must look like 2026-01"),
        (("experiment", "accept", "deadbeef", "--tasks", "0"), 2, "--tasks must be 1 to 100"),
        (("experiment", "show", "99", "--no-import"), 1, "no experiment #99"),
        (("experiment", "cancel", "abc"), 2, "an experiment id is a number"),
    ],
)
def test_bad_input_exits_with_a_clear_message_and_changes_nothing(
    cli: CliRunner, ledger: Path, argv: tuple[str, ...], code: int, message: str
) -> None:
    result = cli(*argv)
    assert result.code == code
    assert message in result.err
    assert "Traceback" not in result.err
    assert json.loads(cli("experiment", "list", "--json", "--no-import").out) == {"experiments": []}


def test_routing_text_names_categories_that_span_projects(cli: CliRunner, home: Path) -> None:
    from routing_ledger import Request, at, set_prices, task
    from tokenworth.core.config import resolve_paths
    from tokenworth.core.db import open_database

    db = open_database(resolve_paths().db_url)
    try:
        set_prices(db)
        task(db, "docs", at(2026, 1, 3), "100", Request("big"), project="/p/app")
        task(db, "docs", at(2026, 1, 5), "20", Request("big"), project="/p/site")
    finally:
        db.dispose()
    result = cli("report", "routing", "--month", "2026-01", "--tz", "UTC", "--no-import")
    assert result.code == 0, result.err
    assert "Categories whose work spans projects" in result.out
    assert "docs · /p/site · big: 1 task, $2.00 ($2.00/task), worth $20.00 ($20.00/task), TFP 10.00x" in result.out


def test_an_unknown_candidate_is_named_on_stderr_and_json_stays_valid(cli: CliRunner, ledger: Path) -> None:
    argv = ("report", "routing", "--month", "2026-01", "--tz", "UTC", "--candidates", "tiny,nosuchmodel", "--no-import")
    result = cli(*argv, "--json")
    assert result.code == 0, result.err
    payload = json.loads(result.out)  # the warning goes to stderr only
    assert [c["model"] for c in payload["candidates"]].count("tiny") == 1
    assert [s["model"] for s in payload["skipped_candidates"]] == ["nosuchmodel"]
    assert "warning: --candidates nosuchmodel left out" in result.err
    assert "tiny" not in result.err.splitlines()[0]
    assert "claude-haiku-4-5" in result.err  # what a known name looks like
    assert "`tokenworth prices list`" in result.err
    text = cli(*argv)
    assert text.code == 0
    assert "nosuchmodel" in text.err
    assert "nosuchmodel" not in text.out
    quiet = cli(*ROUTING)
    assert quiet.err == ""


def test_a_candidate_typed_in_another_case_is_the_databases_model(cli: CliRunner, ledger: Path) -> None:
    """`GPT-5-NANO` is gpt-5-nano: one name, so accepting the same switch twice stays refused."""
    argv = ("report", "routing", "--month", "2026-01", "--tz", "UTC", "--no-import", "--json")
    shouted = json.loads(cli(*argv, "--candidates", "GPT-5-NANO").out)
    assert "gpt-5-nano" in [c["model"] for c in shouted["candidates"]]
    assert "GPT-5-NANO" not in [c["model"] for c in shouted["candidates"]]
    assert shouted["skipped_candidates"] == []


def test_an_override_named_in_capitals_stays_a_candidate(cli: CliRunner, ledger: Path) -> None:
    assert cli("prices", "set", "House-Mini", "--provider", "openai", "--input", "0.01", "--output", "0.02").code == 0
    argv = ("report", "routing", "--month", "2026-01", "--tz", "UTC", "--no-import", "--json")
    for name in ("House-Mini", "openai/House-Mini"):
        payload = json.loads(cli(*argv, "--candidates", name).out)
        assert "House-Mini" in [c["model"] for c in payload["candidates"]], name
        assert payload["skipped_candidates"] == []
