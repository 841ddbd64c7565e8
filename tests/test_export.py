"""`tokenworth export` from a known ledger: every format is written, CSV and JSON say what the CLI
reports say (to the cent and beyond), HTML stands alone, Markdown finds its charts, the PDF has
the right paper and pages."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import CliRunner
from export_ledger import JANUARY_SPEND, UNICODE_TITLE, build_export_ledger
from tokenworth.cli import main
from tokenworth.core.config import sqlite_url
from tokenworth.core.db import open_database
from tokenworth.services.export_csv import TABLE_FILES

MONTH = "2026-01"
BASE = ("--month", MONTH, "--tz", "UTC", "--no-import")


@dataclass
class Exported:
    home: Path
    folder: Path
    out: str

    def run(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), stdout=out, stderr=err, env={"TOKENWORTH_HOME": str(self.home), "TZ": "UTC"})
        return code, out.getvalue(), err.getvalue()

    def report(self, *argv: str) -> dict[str, Any]:
        code, out, err = self.run("report", *argv, "--json", "--no-import", "--tz", "UTC")
        assert code == 0, err
        return json.loads(out)

    def path(self, name: str) -> Path:
        return self.folder / name


def ledger_home(folder: Path) -> Path:
    home = folder / "home"
    home.mkdir(parents=True)
    db = open_database(sqlite_url(home / "tokenworth.db"))
    try:
        build_export_ledger(db)
    finally:
        db.dispose()
    return home


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    """One `--format all` export of the known ledger, shared by the tests that read it."""
    root = tmp_path_factory.mktemp("export")
    result = Exported(ledger_home(root), root / "out", "")
    code, out, err = result.run("export", *BASE, "--format", "all", "--out", str(result.folder), "--budget", "40")
    assert code == 0, err
    result.out = out
    return result


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_all_writes_every_format_under_its_default_name(exported: Exported) -> None:
    names = sorted(p.name for p in exported.folder.iterdir())
    assert names == [
        "tokenworth-2026-01-charts",
        "tokenworth-2026-01-csv",
        "tokenworth-2026-01.html",
        "tokenworth-2026-01.json",
        "tokenworth-2026-01.md",
        "tokenworth-2026-01.pdf",
    ]
    assert sorted(p.name for p in exported.path("tokenworth-2026-01-csv").iterdir()) == sorted(TABLE_FILES)
    assert sorted(p.name for p in exported.path("tokenworth-2026-01-charts").iterdir()) == [
        "cost-per-model.png",
        "spend-per-day.png",
        "value-vs-cost.png",
    ]
    assert "Exported 2026-01 (days in UTC):" in exported.out
    assert re.search(r"pdf +\S+tokenworth-2026-01\.pdf \(\d+ pages, A4\)", exported.out)


def test_json_totals_equal_the_cli_reports_to_the_cent(exported: Exported) -> None:
    data = json.loads(exported.path("tokenworth-2026-01.json").read_text(encoding="utf-8"))
    totals = data["totals"]
    [january] = [row for row in exported.report("monthly")["rows"] if row["month"] == MONTH]
    value = exported.report("value", "--month", MONTH)["totals"]
    plan = exported.report("value", "--month", MONTH, "--basis", "plan")["totals"]
    reconcile = exported.report("reconcile", "--since", "2026-01-01", "--until", "2026-01-31")["totals"]

    assert data["schema_version"] == 1
    assert Decimal(totals["cost_usd"]) == Decimal(january["cost_usd"]) == Decimal(value["cost_usd"]) == JANUARY_SPEND
    for name in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "total_tokens"):
        assert totals[name] == january[name]
    assert totals["requests"] == january["requests"]
    assert Decimal(totals["value_usd"]) == Decimal(value["value_usd"]) == Decimal(88)
    assert totals["tfp"] == value["tfp"]
    assert totals["attributed_tfp"] == value["attributed_tfp"]
    assert totals["attributed_cost_usd"] == value["attributed_cost_usd"]
    assert totals["unattributed_cost_usd"] == value["unattributed_cost_usd"]
    assert totals["plan_basis_cost_usd"] == plan["cost_usd"]
    assert totals["billed_usd"] == reconcile["billed_usd"]
    assert data["budget"]["status"] == "under"


def test_json_to_standard_output_is_the_file_export(
    exported: Exported, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = exported.run("export", *BASE, "--out", "-", "--budget", "40")
    assert code == 0, err
    written, printed = json.loads(exported.path("tokenworth-2026-01.json").read_text(encoding="utf-8")), json.loads(out)
    assert printed.pop("generated_at") >= written.pop("generated_at")
    assert printed == written
    assert list(tmp_path.iterdir()) == []  # no file named "-"
    code, out, err = exported.run("export", *BASE, "--format", "pdf", "--out", "-")
    assert code == 2
    assert "--format json" in err
    assert out == ""


def test_json_money_is_decimal_strings(exported: Exported) -> None:
    data = json.loads(exported.path("tokenworth-2026-01.json").read_text(encoding="utf-8"))

    def walk(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
        if isinstance(node, dict):
            for name, value in node.items():
                yield from walk(value, name)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item, key)
        else:
            yield key, node

    money = [(key, value) for key, value in walk(data) if key.endswith("_usd")]
    assert len(money) > 50
    for key, value in money:
        assert value is None or (isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value)), (key, value)
    assert all(isinstance(v, str) for k, v in walk(data) if k == "tfp" and v is not None)


def test_csv_tables_parse_back_and_match_the_reports(exported: Exported) -> None:
    folder = exported.path("tokenworth-2026-01-csv")
    summary = {row["field"]: row["value"] for row in csv_rows(folder / "summary.csv")}
    [january] = [row for row in exported.report("monthly")["rows"] if row["month"] == MONTH]
    assert Decimal(summary["cost_usd"]) == Decimal(january["cost_usd"])
    assert summary["budget_status"] == "under"
    assert summary["routing_available"] in ("true", "false")

    records = csv_rows(folder / "records.csv")
    assert len(records) == 7
    assert sum(Decimal(r["cost_usd"]) for r in records if r["cost_usd"]) == JANUARY_SPEND
    assert [r["cost_usd"] for r in records if r["model"] == "mystery"] == [""]  # unknown, never 0
    assert sum(int(r["total_tokens"]) for r in records) == january["total_tokens"]
    for record in records:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", record["local_date"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", record["local_time"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", record["utc_time"])

    value_rows = {row["task"]["id"]: row for row in exported.report("value", "--month", MONTH)["rows"]}
    tasks = csv_rows(folder / "tasks.csv")
    assert {int(t["task_id"]) for t in tasks} == set(value_rows)
    for task in tasks:
        expected = value_rows[int(task["task_id"])]
        assert (task["cost_usd"], task["value_usd"], task["tfp"] or None) == (
            expected["cost_usd"],
            expected["value_usd"],
            expected["tfp"],
        )
    assert UNICODE_TITLE in {t["title"] for t in tasks}

    january_models = exported.report("models", "--since", "2026-01-01", "--until", "2026-01-31")["rows"]
    models = {row["model"]: row for row in january_models}
    by_model = csv_rows(folder / "by-model.csv")
    assert {row["model"]: row["cost_usd"] for row in by_model} == {
        name: row["cost_usd"] or "" for name, row in models.items()
    }
    categories = exported.report("value", "--month", MONTH, "--by", "category")["rows"]
    by_category = {row["category"]: row for row in csv_rows(folder / "by-category.csv")}
    for row in categories:
        assert by_category[row["category"]]["cost_usd"] == row["cost_usd"]
        assert by_category[row["category"]]["value_usd"] == row["value_usd"]
    daily = csv_rows(folder / "daily.csv")
    assert sum(Decimal(row["cost_usd"]) for row in daily if row["cost_usd"]) == JANUARY_SPEND


def test_csv_is_plain_rfc_4180_for_spreadsheets(exported: Exported) -> None:
    raw = (exported.path("tokenworth-2026-01-csv") / "tasks.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbftask_id,title,")  # UTF-8 with a BOM, so Excel reads accents
    assert b"\r\n" in raw
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert '"Café ünïcode, ""quoted"""'.encode() in raw  # quoted field, doubled quotes
    for name in ("tasks.csv", "by-model.csv", "records.csv", "daily.csv"):
        for row in csv_rows(exported.path("tokenworth-2026-01-csv") / name):
            for column, value in row.items():
                if column.endswith("_usd") or column == "tfp":
                    assert value == "" or re.fullmatch(r"-?\d+(\.\d+)?", value), (name, column, value)


def test_csv_text_a_spreadsheet_would_run_as_a_formula_stays_text(cli: CliRunner, tmp_path: Path) -> None:
    """A title like `=HYPERLINK(...)` (a shared ledger: someone else typed it) is not a formula
    when the CSV is opened in Excel or LibreOffice; negative amounts stay numbers."""
    titles = ['=HYPERLINK("http://example.invalid","x")', "+1 for the docs", "-rf cleanup", "@mention fix"]
    for day, title in enumerate(titles, start=5):
        span = ("--start", f"2026-01-{day:02d}T09:00", "--end", f"2026-01-{day:02d}T10:00")
        assert cli("task", "log", title, "--value", "5", *span, "--tz", "UTC", "--no-import").code == 0
    out = tmp_path / "csv"
    exported = cli("export", "--format", "csv", "--month", "2026-01", "--tz", "UTC", "--out", str(out))
    assert exported.code == 0, exported.err
    written = {row["title"] for row in csv_rows(out / "tasks.csv")}
    assert written == {"'" + title for title in titles}


def test_csv_can_be_a_zip(exported: Exported, tmp_path: Path) -> None:
    target = tmp_path / "january.zip"
    code, out, err = exported.run("export", *BASE, "--format", "csv", "--out", str(target))
    assert code == 0, err
    assert "(zip)" in out
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == sorted(TABLE_FILES)
        text = archive.read("summary.csv").decode("utf-8-sig")
    summary = {row["field"]: row["value"] for row in csv.DictReader(io.StringIO(text))}
    assert Decimal(summary["cost_usd"]) == JANUARY_SPEND


def test_csv_into_a_folder_of_the_users_never_overwrites_its_files(exported: Exported, tmp_path: Path) -> None:
    mine = tmp_path / "reports"
    mine.mkdir()
    (mine / "summary.csv").write_text("my own summary\n")
    (mine / "notes.txt").write_text("keep\n")
    code, _out, err = exported.run("export", *BASE, "--format", "csv", "--out", str(mine))
    assert code == 0, err
    assert (mine / "summary.csv").read_text() == "my own summary\n"
    assert sorted(p.name for p in (mine / "tokenworth-2026-01-csv").iterdir()) == sorted(TABLE_FILES)
    # A new folder, or one holding only the tables (and hidden files), is the folder of tables.
    code, _out, err = exported.run("export", *BASE, "--format", "csv", "--out", f"{tmp_path / 'new'}/")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == sorted(TABLE_FILES)


@pytest.mark.parametrize("own_files", [("tasks.csv",), ("summary.csv", "records.csv")])
def test_csv_into_a_folder_of_the_users_tables_named_like_ours_never_overwrites_them(
    exported: Exported, tmp_path: Path, own_files: tuple[str, ...]
) -> None:
    """A `tasks.csv` of one's own is a common name: only a folder an export wrote (its
    `summary.csv` ours) takes the tables again."""
    mine = tmp_path / "budget"
    mine.mkdir()
    for name in own_files:
        (mine / name).write_text("id,title\n1,my own\n")
    code, _out, err = exported.run("export", *BASE, "--format", "csv", "--out", str(mine))
    assert code == 0, err
    assert all((mine / name).read_text() == "id,title\n1,my own\n" for name in own_files)
    assert sorted(p.name for p in (mine / "tokenworth-2026-01-csv").iterdir()) == sorted(TABLE_FILES)


def test_csv_exported_again_to_its_folder_replaces_it_in_place(exported: Exported, tmp_path: Path) -> None:
    target = tmp_path / "january"
    for out in (str(target), f"{target}/"):  # as typed, or with the slash a shell's completion adds
        code, _out, err = exported.run("export", *BASE, "--format", "csv", "--out", out)
        assert code == 0, err
        (target / ".DS_Store").write_bytes(b"")  # a file manager's note is no file of the user's
    assert sorted(p.name for p in target.iterdir() if not p.name.startswith(".")) == sorted(TABLE_FILES)


def test_html_is_one_self_contained_file(exported: Exported) -> None:
    page = exported.path("tokenworth-2026-01.html").read_text(encoding="utf-8")
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) == 3
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")
    lowered = page.lower()
    for external in ("http://", "https://", "<link", "<script", "url(", "@import", "href=", "//cdn"):
        assert external not in lowered, external
    assert "<style>" in page
    assert "Feature A" in page
    assert "Café ünïcode, &quot;quoted&quot;" in page
    assert "routing suggestions: not available" in page or "Routing suggestions" in page
    assert "$33.60+" in page  # the month's spend; + as mystery is unpriced


def test_a_task_the_value_chart_cannot_draw_is_named_under_it(exported: Exported) -> None:
    """A $0 value has no place on the log scale: the export says which task it leaves out, as
    the dashboard's chart does, in every format."""
    note = "Not shown: 2 with $0 cost or value ('Codex work', 'Spike')"  # $0 value; no spend
    text = exported.path("tokenworth-2026-01.md").read_text(encoding="utf-8")
    after_chart = text.split("value-vs-cost.png)", 1)[1].lstrip().splitlines()[0]
    assert note in after_chart
    assert note.replace("'", "&#x27;") in exported.path("tokenworth-2026-01.html").read_text(encoding="utf-8")


def test_markdown_links_its_chart_files(exported: Exported) -> None:
    text = exported.path("tokenworth-2026-01.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert links == [
        "tokenworth-2026-01-charts/spend-per-day.png",
        "tokenworth-2026-01-charts/cost-per-model.png",
        "tokenworth-2026-01-charts/value-vs-cost.png",
    ]
    for link in links:
        assert (exported.folder / link).read_bytes().startswith(b"\x89PNG")
    assert "| Model | Provider | Input |" in text
    assert "|---|---|---:|" in text
    assert "# Tokenworth monthly summary: January 2026" in text


def pdf_pages(path: Path) -> list[tuple[float, float]]:
    """(width, height) in points of each page, read from the page objects Qt writes."""
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = re.findall(rb"/Type /Page\b.*?/MediaBox \[([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)\]", data, re.S)
    return [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in pages]


def test_pdf_has_a4_pages(exported: Exported) -> None:
    pages = pdf_pages(exported.path("tokenworth-2026-01.pdf"))
    assert len(pages) >= 2
    assert all(round(w) == 595 and round(h) == 842 for w, h in pages)
    assert f"({len(pages)} pages, A4)" in exported.out


def test_pdf_on_letter_paper(exported: Exported, tmp_path: Path) -> None:
    code, out, err = exported.run("export", *BASE, "--format", "pdf", "--page-size", "letter", "--out", str(tmp_path))
    assert code == 0, err
    target = tmp_path / "tokenworth-2026-01.pdf"  # --out names a folder: the default name goes in it
    pages = pdf_pages(target)
    assert pages
    assert all(round(w) == 612 and round(h) == 792 for w, h in pages)
    assert "Letter)" in out


def test_default_names_in_the_current_folder(cli: CliRunner, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = open_database(sqlite_url(home / "tokenworth.db"))
    build_export_ledger(db)
    db.dispose()
    work = home.parent / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert cli("export", *BASE, "--format", "json").code == 0
    assert cli("export", *BASE, "--format", "csv").code == 0
    assert sorted(p.name for p in work.iterdir()) == ["tokenworth-2026-01-csv", "tokenworth-2026-01.json"]
    assert cli("export", *BASE, "--format", "html", "--out", "reports/").code == 0  # a new folder, by the slash
    assert (work / "reports" / "tokenworth-2026-01.html").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--month", "2026-13"), "month must look like 2026-01"),
        (("--month", "2026-01", "--budget", "lots"), "--budget must be an amount in dollars"),
        (("--month", "2026-01", "--budget", "0"), "--budget must be more than $0"),
        (("--month", "2026-01", "--budget", "-5"), "--budget must be more than $0"),
        (("--month", "2026-01", "--budget", "1.234"), "--budget has more than two decimal places"),
        (("--month", "2026-01", "--tz", "Mars/Olympus"), "unknown time zone"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    cli: CliRunner, argv: tuple[str, ...], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # were the input accepted, the export lands here, not in the checkout
    result = cli("export", *argv, "--format", "json", "--no-import")
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err


def test_an_unwritable_target_is_a_clear_error(cli: CliRunner, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = cli("export", *BASE, "--format", "json", "--out", str(blocker / "x.json"))
    assert result.code == 1
    assert result.err.startswith("tokenworth: cannot write")
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("env", "paper"),
    [
        ({"LANG": "en_US.UTF-8"}, "letter"),
        ({"LANG": "en_CA.UTF-8"}, "letter"),
        ({"LANG": "de_DE.UTF-8"}, "a4"),
        ({"LANG": "en_US.UTF-8", "LC_PAPER": "en_GB.UTF-8"}, "a4"),
        ({"LC_ALL": "C"}, "a4"),
        ({}, "a4"),
    ],
)
def test_paper_follows_the_locale(env: dict[str, str], paper: str) -> None:
    from tokenworth.services.export import default_page_size

    assert default_page_size(env) == paper


@pytest.mark.parametrize(
    ("env", "system", "paper"),
    [
        ({}, "en-US", "letter"),  # Windows' form
        ({}, "en_US", "letter"),  # macOS' and Qt's form
        ({}, "es_MX@rg=mxzzzz", "letter"),
        ({}, "en_GB", "a4"),
        ({}, "zh_Hans_CN", "a4"),
        ({"LANG": "de_DE.UTF-8"}, "en_US", "a4"),  # a variable the user set still wins
    ],
)
def test_without_a_locale_variable_the_systems_locale_chooses_the_paper(
    env: dict[str, str], system: str, paper: str
) -> None:
    """Windows, and macOS for an app started from the desktop, set no LANG: a US user's PDF was A4."""
    from tokenworth.services.export import default_page_size

    assert default_page_size(env, system) == paper


def test_budget_and_zone_come_from_the_settings_unless_given(cli: CliRunner, home: Path, tmp_path: Path) -> None:
    from tokenworth.core.settings import Settings, save_settings

    db = open_database(sqlite_url(home / "tokenworth.db"))
    build_export_ledger(db)
    db.dispose()
    save_settings(home / "settings.json", Settings(monthly_budget=Decimal(30), time_zone="Asia/Tokyo"))
    target = tmp_path / "x.json"
    result = cli("export", "--month", MONTH, "--no-import", "--format", "json", "--out", str(target))
    assert result.code == 0, result.err
    data = json.loads(target.read_text(encoding="utf-8"))
    assert (data["time_zone"], data["budget"]["budget_usd"], data["budget"]["status"]) == ("Asia/Tokyo", "30", "over")

    result = cli("export", *BASE, "--format", "json", "--budget", "1000", "--out", str(target))
    assert result.code == 0, result.err
    data = json.loads(target.read_text(encoding="utf-8"))
    assert (data["time_zone"], data["budget"]["budget_usd"], data["budget"]["status"]) == ("UTC", "1000", "under")


def test_markdown_cells_show_a_title_as_typed() -> None:
    from tokenworth.services.export_markdown import escape_cell

    # `&amp;` would read "&", `|` end the cell, `*x*` turn italic, `<b>` vanish as HTML.
    assert escape_cell("R&D &amp; ops | *fast* <b>") == r"R\&D \&amp; ops \| \*fast\* \<b\>"


def test_value_outside_every_model_row_is_stated(exported: Exported) -> None:
    """ "Spike" ($50) has no usage in January: the Value columns by model and project cannot carry
    it, and their sum falls short of the month's value by exactly that, said in words."""
    page = exported.path("tokenworth-2026-01.md").read_text(encoding="utf-8")
    assert "Tasks with no usage this month carry $50.00 of value, in no model's row." in page
    assert "Tasks with no usage this month carry $50.00 of value, in no project's row." in page
