"""The PDF's pages turned into images (poppler's pdftoppm): every page shows something, the first
shows the charts in colour, and the page count is what the export reported."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import CliRunner, require_tool, subprocess_env
from export_ledger import build_export_ledger
from test_export_charts import pixels, share_of
from tokenworth.core.config import sqlite_url
from tokenworth.core.db import open_database
from tokenworth.ui.export_charts import SERIES_COLORS


@pytest.mark.system
@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_pdf_pages_render_with_tables_and_charts(cli: CliRunner, home: Path, tmp_path: Path, paper: str) -> None:
    pdftoppm = require_tool("pdftoppm", "turns PDF pages into images")
    db = open_database(sqlite_url(home / "tokenworth.db"))
    build_export_ledger(db)
    db.dispose()
    target = tmp_path / "summary.pdf"
    result = cli(
        "export", "--month", "2026-01", "--tz", "UTC", "--no-import", "--format", "pdf",
        "--page-size", paper, "--out", str(target),
    )  # fmt: skip
    assert result.code == 0, result.err
    reported = int(re.search(r"\((\d+) pages", result.out).group(1))  # type: ignore[union-attr]

    subprocess.run([pdftoppm, "-r", "50", "-png", str(target), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    assert len(images) == reported > 1
    width, height = {"a4": (413, 585), "letter": (425, 550)}[paper]  # points * 50 / 72
    for path in images:
        page = pixels(path.read_bytes())
        assert abs(page.shape[1] - width) <= 1
        assert abs(page.shape[0] - height) <= 1
        ink = (page.astype(np.int16).sum(axis=2) < 600).mean()  # share of non-white pixels
        assert page.std() > 8, f"{path.name} is blank"
        assert ink > 0.005, f"{path.name} is blank"
        footer = page[int(height * 0.9) :, :]
        assert (footer.astype(np.int16).sum(axis=2) < 600).mean() > 0.001, f"{path.name} has no page number"
    coloured = [path.name for path in images if share_of(pixels(path.read_bytes()), SERIES_COLORS[0]) > 0.001]
    assert coloured[:1] in (["page-1.png"], ["page-2.png"])  # the charts, in colour, right after the glance


@pytest.mark.system
def test_a_realistic_month_fills_its_pages(tmp_path: Path) -> None:
    """A month of agent sessions, an API organisation and eighteen tasks: no page is left nearly
    empty by a heading pushed away from its table (only the last page may be short)."""
    pdftoppm = require_tool("pdftoppm", "turns PDF pages into images")
    from datetime import UTC, datetime

    from export_sample import SAMPLE_BUDGET, SAMPLE_MONTH, build_sample_ledger
    from tokenworth.services.export import export_month
    from tokenworth.services.monthly_summary import build_monthly_summary
    from tokenworth.ui.export_hooks import qt_export_hooks

    db = open_database(sqlite_url(tmp_path / "sample.db"))
    try:
        build_sample_ledger(db)
        summary = build_monthly_summary(
            db, month=SAMPLE_MONTH, zone=UTC, budget=SAMPLE_BUDGET, now=datetime(2026, 4, 1, tzinfo=UTC), routing=None
        )
        [result] = export_month(summary, db, ["pdf"], out=tmp_path / "march.pdf", cwd=tmp_path, hooks=qt_export_hooks())
    finally:
        db.dispose()
    assert result.pages is not None
    assert result.pages >= 4
    subprocess.run([pdftoppm, "-r", "40", "-png", str(result.target), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    assert len(images) == result.pages
    for path in images[:-1]:
        page = pixels(path.read_bytes())
        body = page[: int(page.shape[0] * 0.9)]  # above the footer
        inked_rows = np.nonzero((body.astype(np.int16).sum(axis=2) < 600).any(axis=1))[0]
        assert inked_rows.max() > body.shape[0] * 0.6, f"{path.name} is mostly empty"


@pytest.mark.system
def test_a_row_of_several_lines_is_never_cut_by_a_page_edge(tmp_path: Path) -> None:
    """Long task titles wrap over several lines: each row stays on one page (Qt alone spreads
    such a row over two), and the table goes on under its header there."""
    pdftotext = require_tool("pdftotext", "reads a PDF page's text")
    from tokenworth.services.summary_document import Heading, SummaryDocument, Table
    from tokenworth.ui.export_pdf import write_pdf

    rows = []
    for number in range(1, 121):
        words = f"start{number} " + "and more words " * 30 + f"end{number}" if number % 4 == 0 else f"task {number}"
        rows.append([f"#{number}", words, "$1.00"])
    document = SummaryDocument(
        "Tasks",
        "rows of one and of several lines",
        [Heading("All tasks"), Table(["#", "Task", "Spend"], rows, [False, False, True])],
    )
    target = tmp_path / "tasks.pdf"
    assert write_pdf(document, target, "a4") > 2
    boxes = subprocess.run([pdftotext, "-bbox", str(target), "-"], capture_output=True, text=True, check=True).stdout
    body = (16 / 25.4 * 72, 842 - (16 + 9) / 25.4 * 72)  # A4 points between the margins, above the footer
    pages: list[set[str]] = []  # the words shown on each page: text clipped at a page edge is left out
    for page in boxes.split("<page ")[1:]:
        pages.append(
            {
                word
                for top, bottom, word in re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]+)<', page)
                if body[0] - 1 <= float(top) and float(bottom) <= body[1] + 1
            }
        )
    for number in range(4, 121, 4):
        [page] = [index for index, words in enumerate(pages) if f"start{number}" in words]
        assert f"end{number}" in pages[page], f"task {number}'s title goes on to the next page"
    for words in pages[1:]:
        assert "Spend" in words  # the header row again on every page


@pytest.mark.system
def test_a_heading_moved_to_the_next_page_is_in_the_pdfs_text_once(tmp_path: Path) -> None:
    """A heading pushed to the next page kept its top margin on the page before, where it was drawn
    clipped: invisible, but in the text layer, so a search or a copy found it twice."""
    pdftotext = require_tool("pdftotext", "reads a PDF's text")
    from tokenworth.services.summary_document import Heading, SummaryDocument, Table
    from tokenworth.ui.export_pdf import write_pdf

    counts = []
    after = Table(["Model", "Cost"], [["alpha", "$1.00"]] * 3, [False, True])
    for rows in range(30, 38):  # some of these leave the heading at the first page's foot
        table = Table(["#", "Task"], [[f"#{n}", f"task {n}"] for n in range(rows)], [False, False])
        document = SummaryDocument("T", "s", [table, Heading("Needle heading"), after])
        target = tmp_path / f"rows{rows}.pdf"
        write_pdf(document, target, "a4")
        text = subprocess.run([pdftotext, str(target), "-"], capture_output=True, text=True, check=True).stdout
        counts.append(text.count("Needle heading"))
    assert counts == [1] * len(counts)


@pytest.mark.system
def test_a_note_under_a_table_never_starts_a_page_alone(tmp_path: Path) -> None:
    """The remark under a table (what its figures mean) goes to the next page with the table's
    last row, never alone at the top of a page the table is not on."""
    pdftotext = require_tool("pdftotext", "reads a PDF's text")
    from tokenworth.services.summary_document import Paragraph, SummaryDocument, Table
    from tokenworth.ui.export_pdf import write_pdf

    alone = []
    for rows in range(34, 46):  # one of these ends the table at the first page's foot
        table = Table(["#", "Task"], [[f"#{n}", f"task {n}"] for n in range(rows)], [False, False])
        document = SummaryDocument("T", "s", [table, Paragraph("Needle note about the table.", note=True)])
        target = tmp_path / f"rows{rows}.pdf"
        write_pdf(document, target, "a4")
        text = subprocess.run([pdftotext, "-layout", str(target), "-"], capture_output=True, text=True, check=True)
        page = next(page for page in text.stdout.split("\f") if "Needle note" in page)
        alone.append(not re.search(r"task \d+", page))
    assert not any(alone)


def test_characters_no_font_can_draw_are_named_not_left_as_boxes(cli: CliRunner, tmp_path: Path) -> None:
    """A title in a script no installed font covers (Linear A here; a Japanese one on a machine
    without a CJK font) shows as boxes in the PDF: the export says so, with what to do."""
    from tokenworth.ui.export_pdf import unprintable

    assert unprintable(["Café 𐘀𐘁 plain"]) == "𐘀𐘁"  # é is in the export's font
    span = ("--start", "2026-01-05T09:00", "--end", "2026-01-05T10:00")
    assert cli("task", "--tz", "UTC", "log", "Tablet 𐘀𐘁", "--value", "5", *span, "--no-import").code == 0
    out = tmp_path / "jan.pdf"
    exported = cli("export", "--month", "2026-01", "--tz", "UTC", "--format", "pdf", "--out", str(out), "--no-import")
    assert exported.code == 0, exported.err
    assert "note: no font here can draw 𐘀𐘁: the PDF and its charts show boxes" in exported.out
    html = cli("export", "--month", "2026-01", "--tz", "UTC", "--format", "html", "--out", str(tmp_path / "j.html"))
    assert "no font here" not in html.out  # a browser picks its own fonts


def test_a_pdf_cut_short_by_a_full_disk_fails_and_keeps_the_earlier_one(tmp_path: Path) -> None:
    """Qt says nothing when its writes fail midway: the export checks the PDF ends as one, says
    the disk may be full, and the good PDF already there stays (here the file size limit of the
    process stands in for a full disk)."""
    script = tmp_path / "write.py"
    script.write_text(
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "from tokenworth.services.export_io import write_with\n"
        "from tokenworth.services.summary_document import SummaryDocument, Table\n"
        "from tokenworth.ui.export_pdf import write_pdf\n"
        "rows = [[f'#{n}', f'task number {n} with a longer title to fill the page'] for n in range(900)]\n"
        "document = SummaryDocument('T', 's', [Table(['#', 'Task'], rows, [False, False])])\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, as on a full disk\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))\n"
        "try:\n"
        "    write_with(Path(sys.argv[1]), lambda path: write_pdf(document, path, 'a4'))\n"
        "except OSError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(3)\n"
    )
    target = tmp_path / "month.pdf"
    target.write_bytes(b"%PDF-1.4 the good one\n%%EOF\n")
    result = subprocess.run(
        [sys.executable, str(script), str(target)], capture_output=True, text=True, env=subprocess_env()
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "the PDF was cut short (is the disk full?)" in result.stdout
    assert target.read_bytes() == b"%PDF-1.4 the good one\n%%EOF\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left
