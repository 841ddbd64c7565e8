"""The PDF's pages turned into images (poppler's pdftoppm): every page shows something, the first
shows the charts in colour, and the page count is what the export reported."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import CliRunner, require_tool
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
