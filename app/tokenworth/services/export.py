"""Exporting a monthly summary to files: CSV, JSON, Markdown, HTML and PDF (or all of them).

Where things go, by format (`M` is the month, e.g. 2026-01):

- json: `tokenworth-M.json`.
- csv: a folder `tokenworth-M-csv/` with one file per table; a target ending in `.zip` gets a zip
  archive of the same files instead.
- md: `tokenworth-M.md`, with its chart PNGs in `tokenworth-M-charts/` beside it (linked relatively).
- html: `tokenworth-M.html`, self-contained (inline CSS, charts as data: URIs).
- pdf: `tokenworth-M.pdf`, A4 or Letter, page numbers in the footer.
- all: a folder `tokenworth-M/` holding each of the above.

Charts and the PDF need Qt, which services never import: the caller passes `ExportHooks` with a
chart renderer and a PDF writer (the CLI and the tray take them from `tokenworth.ui`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from tokenworth.core.db import Database
from tokenworth.services.export_csv import TABLE_FILES, is_summary_table, write_csv
from tokenworth.services.export_html import render_standalone_html
from tokenworth.services.export_io import ExportError, write_bytes, write_text, write_with
from tokenworth.services.export_markdown import render_markdown
from tokenworth.services.monthly_summary import MonthlySummary
from tokenworth.services.summary_charts import ChartRenderer, RenderedChart, render_charts
from tokenworth.services.summary_document import Chart, SummaryDocument, build_document

ExportFormat = Literal["csv", "json", "md", "html", "pdf"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "json", "md", "html", "pdf")
ALL: Final = "all"
PageSize = Literal["a4", "letter"]
PAGE_SIZES: tuple[PageSize, ...] = ("a4", "letter")
LETTER_TERRITORIES = frozenset({"US", "CA", "MX", "PH", "CL", "CO", "VE", "CR", "GT", "SV", "NI", "PA", "PR", "DO"})
"""Where Letter paper is the norm (CLDR's paper size data); A4 everywhere else."""

PdfWriter = Callable[[SummaryDocument, Path, PageSize], int]
"""Lays the document out on pages and writes the PDF at the path; returns the page count."""


@dataclass(frozen=True)
class ExportHooks:
    """What only the Qt layer can do, passed in by the caller."""

    render_chart: ChartRenderer | None = None
    write_pdf: PdfWriter | None = None
    unprintable: Callable[[Iterable[str]], str] | None = None
    """The characters of these texts no installed font can draw (they show as boxes)."""


@dataclass
class ExportResult:
    """What one format wrote."""

    format: ExportFormat
    target: Path
    paths: list[Path]
    pages: int | None = None
    notes: list[str] = field(default_factory=list)


def default_page_size(env: Mapping[str, str], system_locale: str | None = None) -> PageSize:
    """Letter where the locale's territory uses it, else A4. The locale is LC_ALL, LC_PAPER or LANG
    (`en_US.UTF-8`), else `system_locale` (`en_US`, `en-US`): the one chosen in the OS settings,
    as Windows, and macOS for apps started from the desktop, set no such variable."""
    for name in ("LC_ALL", "LC_PAPER", "LANG"):
        value = env.get(name, "")
        if value:
            return _paper_for(value)
    return _paper_for(system_locale) if system_locale else "a4"


def _paper_for(locale_name: str) -> PageSize:
    parts = locale_name.split(".")[0].split("@")[0].replace("-", "_").split("_")
    territory = parts[-1].upper() if len(parts) > 1 else ""
    return "letter" if territory in LETTER_TERRITORIES else "a4"


def system_locale_name(platform: str | None = None) -> str | None:
    """The locale chosen in the OS settings on Windows and macOS (None elsewhere, or unknown)."""
    platform = sys.platform if platform is None else platform
    try:
        if platform == "win32":
            import ctypes

            buffer = ctypes.create_unicode_buffer(85)
            if ctypes.windll.kernel32.GetUserDefaultLocaleName(buffer, len(buffer)):  # type: ignore[attr-defined,unused-ignore]
                return buffer.value or None
        elif platform == "darwin":
            import subprocess

            done = subprocess.run(
                ["defaults", "read", "-g", "AppleLocale"], capture_output=True, text=True, timeout=5, check=False
            )
            return (done.stdout.strip() or None) if done.returncode == 0 else None
    except Exception:  # best effort (no `defaults`, a timeout, an odd reply): A4 then
        return None
    return None


def default_name(month: str, fmt: ExportFormat | Literal["all"]) -> str:
    """`tokenworth-2026-01.json`; CSV and `all` are folders (`tokenworth-2026-01-csv`, `tokenworth-2026-01`)."""
    if fmt == ALL:
        return f"tokenworth-{month}"
    if fmt == "csv":
        return f"tokenworth-{month}-csv"
    return f"tokenworth-{month}.{fmt}"


def resolve_target(month: str, fmt: ExportFormat | Literal["all"], out: Path | None, cwd: Path) -> Path:
    """Where to write. Without `out`: the default name in `cwd`. For csv and all, `out` is the
    folder the files go into (or, for csv, a `.zip` archive); for one file, `out` is that file.
    An existing folder gets the default name inside it, except for all, and for csv a folder
    that is empty or holds an earlier CSV export (written again, never nested)."""
    if out is None:
        return cwd / default_name(month, fmt)
    out = out.expanduser()
    if not out.is_absolute():
        out = cwd / out
    if fmt != ALL and out.is_dir() and not (fmt == "csv" and _holds_csv_export_only(out)):
        return out / default_name(month, fmt)
    return out


def _holds_csv_export_only(folder: Path) -> bool:
    """Empty, or an earlier CSV export (only its tables, its `summary.csv` ours, and hidden files
    such as a `.DS_Store`): the tables may go (again) into it. Anything else is a folder of the
    user's, whose own `tasks.csv` must not be overwritten."""
    names = {entry.name for entry in folder.iterdir() if not entry.name.startswith(".")}
    if not names:
        return True
    return names <= set(TABLE_FILES) and "summary.csv" in names and is_summary_table(folder / "summary.csv")


FILE_SUFFIXES: Final[Mapping[str, tuple[str, ...]]] = {
    "json": (".json",),
    "md": (".md", ".markdown"),
    "html": (".html", ".htm"),
    "pdf": (".pdf",),
    "csv": (".zip",),
    ALL: (),
}
"""The suffixes a `--out` may end in for each format; csv and all are otherwise folders."""
_FILE_LIKE_SUFFIXES = frozenset({".json", ".md", ".markdown", ".html", ".htm", ".pdf", ".csv", ".zip", ".txt"})


def format_for_suffix(suffix: str) -> ExportFormat | None:
    """The format a file name's suffix names (`.pdf`: pdf, `.zip`: csv), or None."""
    for fmt in EXPORT_FORMATS:
        if suffix.lower() in FILE_SUFFIXES[fmt]:
            return fmt
    return None


def target_mismatch(fmt: ExportFormat | Literal["all"], out: Path) -> str | None:
    """Why `out` does not fit `fmt` (a PDF named `.txt`, a folder named `x.json`), or None.

    An existing folder, or a name with no suffix, always fits: the export goes in it or is it.
    """
    if out.is_dir() or not out.suffix:
        return None
    suffix = out.suffix.lower()
    allowed = FILE_SUFFIXES[fmt]
    if suffix in allowed:
        return None
    if fmt in ("csv", ALL):
        if suffix not in _FILE_LIKE_SUFFIXES:
            return None  # a folder with a dot in its name
        what = "a folder of tables, or a .zip archive" if fmt == "csv" else "a folder holding every format"
        name = out.with_suffix("").name
        fits = f"{name}/ or {name}.zip" if fmt == "csv" else f"{name}/"
        return f"--out {out}: --format {fmt} writes {what}; give --out {fits}"
    expected = " or ".join(allowed)
    return f"--out {out}: --format {fmt} writes a {expected} file; give --out {out.with_suffix(allowed[0])}"


def charts_folder(markdown: Path) -> Path:
    return markdown.with_name(f"{markdown.stem}-charts")


@dataclass
class PreparedExport:
    """A summary with its charts drawn and its document built once, for any number of formats."""

    summary: MonthlySummary
    charts: list[RenderedChart]
    document: SummaryDocument


def prepare(summary: MonthlySummary, hooks: ExportHooks, formats: Sequence[ExportFormat]) -> PreparedExport:
    wants_charts = any(fmt in ("md", "html", "pdf") for fmt in formats)
    charts = render_charts(summary, hooks.render_chart) if wants_charts else []
    return PreparedExport(summary, charts, build_document(summary, charts))


def summary_json(summary: MonthlySummary) -> str:
    """The JSON export's text (a file, or standard output with `--out -`)."""
    return json.dumps(summary.as_json(), indent=2, ensure_ascii=False) + "\n"


def _write_json(prepared: PreparedExport, target: Path) -> list[Path]:
    return [write_text(target, summary_json(prepared.summary))]


def _write_markdown(prepared: PreparedExport, target: Path) -> list[Path]:
    folder = charts_folder(target)
    written = []

    def link(chart: Chart) -> str:
        return f"{folder.name}/{chart.name}.png"

    for block in prepared.document.charts:
        if block.chart.png is not None:
            written.append(write_bytes(folder / f"{block.name}.png", block.chart.png))
    written.insert(0, write_text(target, render_markdown(prepared.document, link)))
    return written


def export_format(
    prepared: PreparedExport,
    db: Database,
    fmt: ExportFormat,
    target: Path,
    hooks: ExportHooks,
    page_size: PageSize = "a4",
) -> ExportResult:
    """Write one format to `target` (a resolved path, see `resolve_target`)."""
    result = ExportResult(fmt, target, [])
    if fmt in ("md", "html", "pdf"):
        result.notes = [f"{c.spec.title}: {c.note}" for c in prepared.charts if c.png is None and c.note]
    if fmt == "json":
        result.paths = _write_json(prepared, target)
    elif fmt == "csv":
        result.paths = write_csv(prepared.summary, db, target)
    elif fmt == "md":
        result.paths = _write_markdown(prepared, target)
    elif fmt == "html":
        result.paths = [write_text(target, render_standalone_html(prepared.document))]
    elif fmt == "pdf":
        writer = hooks.write_pdf
        if writer is None:
            raise ExportError("PDF export needs Qt (PySide6), which is not available here")
        pages: list[int] = []
        result.paths = [write_with(target, lambda path: pages.append(writer(prepared.document, path, page_size)))]
        result.pages = pages[0] if pages else None
        missing = hooks.unprintable(prepared.document.texts()) if hooks.unprintable is not None else ""
        if missing:
            result.notes.append(
                f"no font here can draw {missing[:12]}{'…' if len(missing) > 12 else ''}: the PDF and its charts show "
                "boxes for them (install a font that covers them, e.g. Noto Sans CJK, and export again)"
            )
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return result


def export_month(
    summary: MonthlySummary,
    db: Database,
    formats: Sequence[ExportFormat] | Literal["all"],
    *,
    out: Path | None,
    cwd: Path,
    hooks: ExportHooks,
    page_size: PageSize = "a4",
    into_folder: bool = False,
) -> list[ExportResult]:
    """Export the summary in one format (to `out` or its default name), or in several (`all`:
    every one) into the folder `out` (default `tokenworth-M/`), each under its default name;
    `into_folder` uses the folder even for one format."""
    month = summary.month_key
    chosen: Sequence[ExportFormat] = EXPORT_FORMATS if isinstance(formats, str) else list(dict.fromkeys(formats))
    if not chosen:
        raise ValueError("no export format chosen")
    if formats == ALL or len(chosen) > 1 or into_folder:
        folder = resolve_target(month, ALL, out, cwd)
        if folder.exists() and not folder.is_dir():
            raise ExportError(f"{folder} exists and is not a folder; several formats are written into a folder")
        targets = {fmt: folder / default_name(month, fmt) for fmt in chosen}
    else:
        targets = {fmt: resolve_target(month, fmt, out, cwd) for fmt in chosen}
    prepared = prepare(summary, hooks, chosen)
    return [export_format(prepared, db, fmt, targets[fmt], hooks, page_size) for fmt in chosen]
