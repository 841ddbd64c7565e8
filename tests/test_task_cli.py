"""`tokenworth task|plan|report value` as a user runs them: output, JSON, exit codes, no damage."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import SAMPLES, CliRunner

UTC = ("--tz", "UTC")


def tasks_json(cli: CliRunner) -> list[dict]:
    result = cli("task", *UTC, "list", "--json", "--no-import")
    assert result.code == 0, result.err
    return json.loads(result.out)["tasks"]


def test_log_shows_the_usage_of_the_work_just_done(cli: CliRunner, claude_dir: Path) -> None:
    """Logging work whose usage is in the agent logs but not imported yet: the task shows it at
    once, not '0 tokens, $0.00, no spend' (the log imports first, as `stop` and `list` do)."""
    (claude_dir / "projects" / "p").mkdir()
    shutil.copy(SAMPLES / "claude-code.jsonl", claude_dir / "projects" / "p" / "s.jsonl")
    span = ("--start", "2026-01-05T00:00", "--end", "2026-01-06T00:00")
    preview = cli("task", *UTC, "log", "Fix login bug", "--value", "300", *span, "--dry-run")
    assert preview.code == 0, preview.err
    assert "0 tokens" not in preview.out
    logged = cli("task", *UTC, "log", "Fix login bug", "--value", "300", *span)
    assert logged.code == 0, logged.err
    assert "0 tokens" not in logged.out
    assert "no spend" not in logged.out
    shown = cli("task", *UTC, "show", "1")
    assert shown.out.splitlines()[0] == logged.out.splitlines()[0].removeprefix("Logged ")


def test_edit_with_nothing_to_change_names_the_real_flags(cli: CliRunner) -> None:
    assert cli("task", "start", "Something").code == 0
    result = cli("task", "edit", "1")
    assert result.code == 2
    assert "--link-branch" in result.err
    assert cli("task", "edit", "1", "--link-branch", "main").code == 0


def test_log_then_import_attributes_the_new_usage(cli: CliRunner, claude_dir: Path) -> None:
    logged = cli(
        "task",
        *UTC,
        "log",
        "Sample work",
        "--value",
        "10",
        "--start",
        "2026-01-05T09:00",
        "--end",
        "2026-01-05T10:00",
        "--category",
        "coding",
        "--no-import",
    )
    assert logged.code == 0, logged.err
    assert "#1 'Sample work' [coding]" in logged.out
    assert "0 tokens" in logged.out

    (claude_dir / "projects" / "p").mkdir()
    shutil.copy(SAMPLES / "claude-code.jsonl", claude_dir / "projects" / "p" / "s.jsonl")
    report = cli("report", "value", "--month", "2026-01", *UTC, "--json")  # imports first
    assert report.code == 0, report.err
    payload = json.loads(report.out)
    sessions = json.loads(cli("report", "sessions", "--no-import", "--json", *UTC).out)["rows"]
    session_cost = next(r["cost_usd"] for r in sessions if r["session"].endswith("aa"))
    [row] = payload["rows"]
    assert row["task"] == {"id": 1, "title": "Sample work"}
    assert row["category"] == "coding"
    assert row["cost_usd"] == session_cost
    expected_tfp = (Decimal(10) / Decimal(session_cost)).quantize(Decimal("0.0001"))
    assert Decimal(row["tfp"]) == expected_tfp
    assert set(payload["totals"]) >= {"tokens", "cost_usd", "value_usd", "tfp", "unattributed_cost_usd"}
    assert payload["totals"]["unattributed_cost_usd"] == "0"  # the other session is from 2025

    proposals = json.loads(cli("task", *UTC, "proposals", "--json", "--no-import").out)["proposals"]
    assert [(p["kind"], p["session_id"] or p["branch"]) for p in proposals] == [
        ("session", "00000000-0000-4000-8000-0000000000bb"),
        ("branch", None),
    ]
    assert proposals[1]["project"] == "/home/dev/tokenworth"


def test_start_stop_and_the_text_report(cli: CliRunner) -> None:
    started = cli("task", "start", "Write docs", "--category", "docs")
    assert started.code == 0
    assert "Started task #1" in started.out
    again = cli("task", "start", "Something else")
    assert again.code == 2
    assert "is running" in again.err
    assert "task stop" in again.err
    stopped = cli("task", "stop", "--value", "25")
    assert stopped.code == 0, stopped.err
    assert "value $25.00" in stopped.out
    assert "TFP no spend" in stopped.out
    assert cli("task", "stop").code == 1
    text = cli("report", "value", "--no-import")
    assert text.code == 0, text.err
    assert "#1 Write docs" in text.out
    assert "no spend" in text.out
    assert "(unattributed)" in text.out
    assert "cost basis: API-equivalent cost" in text.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--value", "-5", "--start", "2026-01-05T10:00", "--end", "2026-01-05T11:00"), "zero or more"),
        (("--value", "ten", "--start", "2026-01-05T10:00", "--end", "2026-01-05T11:00"), "number of dollars"),
        (("--value", "5", "--start", "2026-01-05T11:00", "--end", "2026-01-05T10:00"), "is before the start"),
        (("--value", "5", "--start", "yesterday", "--end", "2026-01-05T10:00"), "--start"),
        (("--value", "5", "--start", "2026-01-05T11:00"), "both --start and --end"),
        (("--value", "5"), "--start and --end"),
    ],
)
def test_bad_log_input_exits_2_and_changes_nothing(cli: CliRunner, args: tuple[str, ...], message: str) -> None:
    result = cli("task", *UTC, "log", "Bad", *args)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err
    assert tasks_json(cli) == []


def test_unknown_task_id_exits_1(cli: CliRunner) -> None:
    for args in (
        ("edit", "7", "--value", "3"),
        ("delete", "7"),
        ("show", "7"),
        ("assign", "7", "--session", "x"),
    ):
        result = cli("task", *args)
        assert result.code == 1, args
        assert "no task #7" in result.err
    assert cli("task", "delete", "seven").code == 2


def test_edit_delete_and_list(cli: CliRunner) -> None:
    cli(
        "task",
        *UTC,
        "log",
        "First",
        "--value",
        "5",
        "--start",
        "2026-01-05T10:00",
        "--end",
        "2026-01-05T11:00",
    )
    bad = cli("task", *UTC, "edit", "1", "--end", "2026-01-05T09:00")
    assert bad.code == 2
    assert "is before the start" in bad.err
    assert tasks_json(cli)[0]["end"] == "2026-01-05T11:00:00+00:00"
    edited = cli("task", *UTC, "edit", "1", "--title", "Renamed", "--value", "7.5", "--url", "https://x/pr/1")
    assert edited.code == 0, edited.err
    [task] = tasks_json(cli)
    assert (task["title"], task["value_usd"], task["link_url"]) == ("Renamed", "7.5", "https://x/pr/1")
    assert set(task) >= {
        "id",
        "category",
        "start",
        "end",
        "active",
        "notes",
        "git_branch",
        "created_at",
        "updated_at",
    }
    assert cli("task", "edit", "1").code == 2  # nothing to change
    deleted = cli("task", "delete", "1")
    assert deleted.code == 0
    assert "unattributed again" in deleted.out
    assert tasks_json(cli) == []
    listing = cli("task", "list", "--month", "2026-13", "--no-import")
    assert listing.code == 2
    assert "2026-01" in listing.err


def test_categories_history(cli: CliRunner) -> None:
    cli(
        "task",
        *UTC,
        "log",
        "A",
        "--value",
        "1",
        "--start",
        "2026-01-05T10:00",
        "--end",
        "2026-01-05T11:00",
        "--category",
        "legal",
    )
    result = cli("task", "categories", "--json")
    names = [item["category"] for item in json.loads(result.out)]
    assert names[0] == "legal"
    assert "coding" in names


def test_plans(cli: CliRunner) -> None:
    added = cli("plan", "set", "Claude Max", "--monthly-fee", "200", "--covers", "claude-code")
    assert added.code == 0, added.err
    assert "$200.00 a month for claude-code" in added.out
    assert "no usage recorded from claude-code" in added.err
    assert cli("plan", "set", "X", "--monthly-fee", "-1", "--covers", "codex").code == 2
    assert cli("plan", "set", "X", "--monthly-fee", "10", "--covers", "claude-code").code == 2  # overlap
    listing = json.loads(cli("plan", "list", "--json", "--month", "2026-01", *UTC).out)["plans"]
    assert listing[0]["name"] == "Claude Max"
    assert listing[0]["monthly_fee_usd"] == "200"
    value = json.loads(cli("report", "value", "--basis", "plan", "--month", "2026-01", "--no-import", "--json").out)
    assert value["basis"] == "plan"
    assert value["totals"]["cost_usd"] == "200"
    assert value["plans"][0]["leverage"] == "0"
    assert cli("plan", "delete", "Claude Max").code == 0
    assert cli("plan", "delete", "Claude Max").code == 1


def test_a_plan_name_is_one_plan_however_its_accents_were_typed(cli: CliRunner) -> None:
    decomposed, precomposed = "Cafe\u0301 Max", "Caf\u00e9 Max"  # both show as "Café Max"
    assert cli("plan", "set", decomposed, "--monthly-fee", "20", "--covers", "claude-code").code == 0
    again = cli("plan", "set", precomposed, "--monthly-fee", "30", "--covers", "claude-code")
    assert again.code == 0, again.err  # the same plan, replaced: not an overlapping second one
    plans = json.loads(cli("plan", "list", "--json").out)["plans"]
    assert [(plan["name"], plan["monthly_fee_usd"]) for plan in plans] == [(precomposed, "30")]
    assert cli("plan", "delete", decomposed).code == 0


def test_a_plan_fee_is_whole_cents_as_a_budget_is(cli: CliRunner) -> None:
    result = cli("plan", "set", "P", "--monthly-fee", "1e-9", "--covers", "claude-code")
    assert result.code == 2
    assert "more than two decimal places" in result.err
    assert cli("plan", "set", "P", "--monthly-fee", "19.99", "--covers", "claude-code").code == 0


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "set", "P", "--monthly-fee", "-$200", "--covers", "claude-code"),
        ("task", *UTC, "log", "Bad", "--value", "-$1,000", "--start", "2026-01-05T10:00", "--end", "2026-01-05T11:00"),
        ("prices", "set", "gpt-x", "--provider", "openai", "--input", "-$1", "--output", "2"),
    ],
)
def test_a_negative_dollar_amount_gets_the_commands_own_answer(cli: CliRunner, args: tuple[str, ...]) -> None:
    result = cli(*args)  # argparse alone takes `-$200` for an option: "expected one argument"
    assert result.code == 2
    assert "must be zero or more, got '-$" in result.err
    assert "expected one argument" not in result.err


@pytest.mark.parametrize("title", ["-5", "-$5 off the bill"])
def test_a_title_that_starts_like_an_amount_stays_a_title(cli: CliRunner, title: str) -> None:
    when = ("--start", "2026-01-05T10:00", "--end", "2026-01-05T11:00")
    logged = cli("task", *UTC, "log", "--no-import", title, "--value", "10", *when)
    assert logged.code == 0, logged.err
    assert [task["title"] for task in tasks_json(cli)] == [title]


def test_assign_and_unassign_through_the_cli(cli: CliRunner, claude_dir: Path) -> None:
    (claude_dir / "projects" / "p").mkdir()
    shutil.copy(SAMPLES / "claude-code.jsonl", claude_dir / "projects" / "p" / "s.jsonl")
    assert cli("import").code == 0
    cli("task", *UTC, "log", "Old", "--value", "3", "--start", "2025-05-01", "--end", "2025-05-02")
    missing = cli("task", "assign", "1", "--session", "nope")
    assert missing.code == 2
    assert "no usage recorded" in missing.err
    both = cli("task", "assign", "1", "--session", "a", "--project", "b")
    assert both.code == 2
    assigned = cli("task", "assign", "1", "--project", "/home/dev/tokenworth/")  # as tab completion types it
    assert assigned.code == 0, assigned.err
    [task] = tasks_json(cli)
    assert task["attributed_by"] == "assignments"
    assert task["tokens"] == 4_560
    assert cli("task", "unassign", "1", "--project", "/home/dev/tokenworth").code == 0
    assert tasks_json(cli)[0]["tokens"] == 0
    via_log = cli(
        "task",
        *UTC,
        "log",
        "Session aa",
        "--value",
        "1",
        "--session",
        "00000000-0000-4000-8000-0000000000aa",
        "--dry-run",
    )
    assert via_log.code == 0
    assert "Nothing saved" in via_log.out
    assert len(tasks_json(cli)) == 1


def test_existing_report_kinds_still_work(cli: CliRunner) -> None:
    result = cli("report", "daily", "--json", "--no-import")
    assert result.code == 0
    assert json.loads(result.out)["report"] == "daily"
    misuse = cli("report", "daily", "--by", "model", "--no-import")
    assert misuse.code == 2
    assert "report value" in misuse.err
    assert cli("report", "value", "--since", "2026-01-01", "--no-import").code == 2


def test_categories_text_marks_the_suggestions_and_counts_tasks_properly(cli: CliRunner) -> None:
    fresh = cli("task", "categories")
    assert fresh.code == 0, fresh.err
    assert fresh.out.splitlines()[0] == "coding  (suggested, not used yet)"
    assert all(line.endswith("(suggested, not used yet)") for line in fresh.out.splitlines())
    assert "suggested" in cli("task", "categories", "--help").out
    logged = cli(
        "task", *UTC, "log", "A", "--value", "1", "--start", "2026-01-05T10:00", "--end", "2026-01-05T11:00",
        "--category", "legal",
    )  # fmt: skip
    assert logged.code == 0, logged.err
    lines = cli("task", "categories").out.splitlines()
    assert lines[0] == "legal  (1 task)"
    assert "coding  (suggested, not used yet)" in lines
    assert not any(line.startswith("legal") for line in lines[1:])


def test_routing_flags_a_one_task_category_in_the_singular(cli: CliRunner, claude_dir: Path) -> None:
    folder = claude_dir / "projects" / "p"
    folder.mkdir(parents=True)
    (folder / "s.jsonl").write_text(
        '{"cwd":"/w","sessionId":"s","requestId":"r1","type":"assistant","timestamp":"2026-01-05T10:00:00Z",'
        '"message":{"id":"m1","model":"claude-sonnet-4-5","usage":{"input_tokens":1000000,"output_tokens":5}}}\n'
    )
    assert cli("import").code == 0
    logged = cli(
        "task", *UTC, "log", "A", "--value", "1", "--start", "2026-01-05T09:00", "--end", "2026-01-05T11:00",
        "--category", "coding",
    )  # fmt: skip
    assert logged.code == 0, logged.err
    text = cli("report", "routing", "--month", "2026-01", "--tz", "UTC", "--no-import").out
    assert "category coding (1 task): cost $6.00" in text
    assert "(1 tasks)" not in text


@pytest.mark.parametrize(
    ("encoding_env", "expected"),
    [
        # Redirected output in an ASCII locale (Windows: its ANSI code page): written as UTF-8.
        ({"LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}, "Fix 🐛 in 日本 parser"),
        # An encoding the user chose that cannot show the title: replaced, not a crash.
        ({"PYTHONIOENCODING": "cp1252"}, "Fix ? in ?? parser"),
    ],
)
def test_titles_in_any_script_survive_redirected_output(
    cli: CliRunner, encoding_env: dict[str, str], expected: str
) -> None:
    assert cli("task", "start", "Fix 🐛 in 日本 parser").code == 0
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONIOENCODING", "PYTHONUTF8")}
    done = subprocess.run(
        [sys.executable, "-m", "tokenworth", "task", "list", "--no-import"],
        capture_output=True,
        env={**env, **encoding_env},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert expected in done.stdout.decode("utf-8")


def test_an_empty_month_is_said_as_such(cli: CliRunner) -> None:
    assert (
        cli("task", *UTC, "log", "Jan work", "--value", "5", "--start", "2026-01-05", "--end", "2026-01-06").code == 0
    )
    listed = cli("task", *UTC, "list", "--month", "2024-02", "--no-import")
    assert "No task touches 2024-02" in listed.out
    assert "No tasks yet" not in listed.out
    proposed = cli("task", *UTC, "proposals", "--month", "2024-02", "--no-import")
    assert "Nothing to propose in 2024-02: no spend is left without a valued task." in proposed.out


def _sample_imported(cli: CliRunner, claude_dir: Path) -> None:
    (claude_dir / "projects" / "p").mkdir()
    shutil.copy(SAMPLES / "claude-code.jsonl", claude_dir / "projects" / "p" / "s.jsonl")
    assert cli("import").code == 0


SESSION_AA = "00000000-0000-4000-8000-0000000000aa"


def test_an_edit_may_not_move_a_task_into_the_future(cli: CliRunner) -> None:
    """A typo'd year in `task edit` would claim usage not made yet and block `task start` until
    then; it is refused as `task log` refuses it."""
    span = ("--start", "2026-01-05T09:00", "--end", "2026-01-05T10:00")
    assert cli("task", *UTC, "log", "Done", "--value", "5", *span, "--no-import").code == 0
    late_end = cli("task", *UTC, "edit", "1", "--end", "2099-03-01T10:00")
    assert late_end.code == 2
    assert "in the future" in late_end.err
    assert tasks_json(cli)[0]["end"].startswith("2026-01-05T10:00")
    assert cli("task", "start", "Next").code == 0
    late_start = cli("task", *UTC, "edit", "2", "--start", "2099-01-01T10:00")
    assert late_start.code == 2
    assert "in the future" in late_start.err
    assert cli("task", "stop", "--no-import").code == 0
    assert cli("task", *UTC, "edit", "1", "--start", "2026-01-05T08:00").code == 0  # the past is fine


def test_a_dry_run_fails_as_the_save_would(cli: CliRunner) -> None:
    span = ("--start", "2026-01-05T09:00", "--end", "2099-01-01T00:00")
    dry = cli("task", *UTC, "log", "Typo", "--value", "1", *span, "--no-import", "--dry-run")
    assert dry.code == 2
    assert "in the future" in dry.err
    assert "Nothing saved" not in dry.out


def test_a_task_id_too_large_for_the_database_is_refused_plainly(cli: CliRunner) -> None:
    too_large = cli("task", "show", "9223372036854775808", "--no-import")
    assert too_large.code == 2
    assert "at most 9223372036854775807" in too_large.err
    assert "Traceback" not in too_large.err
    largest = cli("task", "delete", "9223372036854775807")
    assert largest.code == 1
    assert "no task #9223372036854775807" in largest.err


def test_a_category_typed_in_another_case_is_the_same_category(cli: CliRunner) -> None:
    """'coding' and 'Coding' are one row in the reports and one history for routing."""
    for day, category in (("05", "Coding"), ("06", "coding"), ("07", " CODING ")):
        span = ("--start", f"2026-01-{day}T09:00", "--end", f"2026-01-{day}T10:00")
        logged = cli("task", *UTC, "log", "Work", "--value", "5", *span, "--category", category, "--no-import")
        assert logged.code == 0, logged.err
    assert {task["category"] for task in tasks_json(cli)} == {"Coding"}
    value = json.loads(cli("report", "value", "--month", "2026-01", *UTC, "--by", "category", "--json").out)
    assert [row["category"] for row in value["rows"] if row["category"]] == ["Coding"]
    assert cli("task", "edit", "2", "--category", "docs").code == 0
    assert cli("task", "edit", "2", "--category", "CODING").code == 0  # joins the others' spelling
    assert tasks_json(cli)[1]["category"] == "Coding"


def test_a_category_held_by_one_task_can_be_recased(cli: CliRunner) -> None:
    span = ("--start", "2026-01-05T09:00", "--end", "2026-01-05T10:00")
    assert cli("task", *UTC, "log", "Work", "--value", "5", *span, "--category", "ml", "--no-import").code == 0
    assert cli("task", "edit", "1", "--category", "ML").code == 0
    assert tasks_json(cli)[0]["category"] == "ML"


def test_a_task_logged_from_a_session_keeps_its_last_request_once_unassigned(cli: CliRunner, claude_dir: Path) -> None:
    """The span taken from a session's usage ends after its last request (a span's end is
    exclusive): unassigned, the task is attributed by that span and holds the same usage."""
    _sample_imported(cli, claude_dir)
    logged = cli("task", *UTC, "log", "Session work", "--value", "50", "--session", SESSION_AA, "--no-import")
    assert logged.code == 0, logged.err
    [assigned] = tasks_json(cli)
    assert assigned["tokens"] > 0
    assert cli("task", "unassign", "1", "--session", SESSION_AA).code == 0
    [by_span] = tasks_json(cli)
    assert by_span["attributed_by"] == "time"
    assert (by_span["tokens"], by_span["cost_usd"]) == (assigned["tokens"], assigned["cost_usd"])


def test_giving_a_session_to_a_task_says_what_it_took_from_another(cli: CliRunner, claude_dir: Path) -> None:
    """A session is given wholesale: spend a valued task held by its span moves with it, and the
    user is told, not only in a dry run."""
    _sample_imported(cli, claude_dir)
    span = ("--start", "2026-01-05T00:00", "--end", "2026-01-06T00:00")
    assert cli("task", *UTC, "log", "Valued", "--value", "300", *span, "--no-import").code == 0
    held = tasks_json(cli)[0]["tokens"]
    assert held > 0
    logged = cli("task", *UTC, "log", "Session", "--value", "10", "--session", SESSION_AA, "--no-import")
    assert logged.code == 0, logged.err
    assert "were task #1's until now" in logged.out
    assert cli("task", "delete", "2").code == 0
    assert cli("task", *UTC, "log", "Later", "--value", "1", "--start", "2026-02-01", "--end", "2026-02-02").code == 0
    assigned = cli("task", "assign", "3", "--session", SESSION_AA)
    assert assigned.code == 0, assigned.err
    assert "were task #1's until now" in assigned.out
    again = cli("task", "assign", "3", "--session", SESSION_AA)  # nothing more to take
    assert "until now" not in again.out


def test_a_japanese_title_keeps_the_task_tables_columns_in_line(cli: CliRunner) -> None:
    """A wide character takes two terminal columns: padding by character count pushed the
    columns after a Japanese title to the right, and a long one past its 40-column width."""
    from tokenworth.cli.output import display_width

    for day, title in (("05", "請求書のOCRプロトタイプ" * 3), ("06", "Plain title")):
        span = ("--start", f"2026-01-{day}T09:00", "--end", f"2026-01-{day}T10:00")
        assert cli("task", *UTC, "log", title, "--value", "5", *span, "--category", "ocr", "--no-import").code == 0
    listed = cli("task", *UTC, "list", "--no-import")
    rows = [line for line in listed.out.splitlines() if "ocr" in line]
    assert len(rows) == 2
    columns = {display_width(row[: row.index("ocr")]) for row in rows}
    assert len(columns) == 1  # the category starts at the same column on both rows
    wide = next(row for row in rows if "請求書" in row)
    assert display_width(wide.split("  ")[1].strip()) <= 40
