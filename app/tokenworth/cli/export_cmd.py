"""`tokenworth export`: a month's summary as CSV, JSON, Markdown, HTML or PDF files (or all)."""

from __future__ import annotations

import argparse
import os
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tokenworth.cli.base import ZONE_DEFAULT, CliContext, Command, CommandError, refuse_future_month, zone_argument

if TYPE_CHECKING:
    from tokenworth.services.export import ExportFormat

FORMAT_CHOICES = ("csv", "json", "md", "html", "pdf", "all")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--month", metavar="YYYY-MM", help="the month to export (default: this month)")
    parser.add_argument(
        "--format",
        choices=FORMAT_CHOICES,
        help="csv (a folder of tables, or a .zip with --out X.zip), json, md (with a folder of chart PNGs), "
        "html (self-contained), pdf, or all (every format into one folder); default: the one --out's "
        "extension names (x.pdf: pdf), else all",
    )
    parser.add_argument(
        "--out",
        metavar="PATH",
        help="file to write, - for standard output (JSON only), or a folder (existing, or ending in /) to "
        "write the default name into; for csv, the folder of tables (one already holding other files gets "
        "tokenworth-YYYY-MM-csv/ inside it) "
        "(default: tokenworth-YYYY-MM.<ext> in the current folder)",
    )
    parser.add_argument("--tz", metavar="ZONE", help=f"cut days and the month in this IANA zone ({ZONE_DEFAULT})")
    parser.add_argument(
        "--budget",
        metavar="USD",
        help="monthly budget to report against, in dollars with at most two decimals (default: the budget "
        "in the app's settings, if any; an empty value: no budget)",
    )
    parser.add_argument(
        "--page-size", choices=("a4", "letter"), help="PDF paper (default: Letter in US/CA/MX/PH... locales, else A4)"
    )
    parser.add_argument("--no-import", action="store_true", help="skip the incremental import of local logs")


def _budget(ctx: CliContext, text: str | None, from_settings: Decimal | None) -> Decimal | None:
    if text is None:
        return from_settings
    from tokenworth.core.settings import SettingsError, parse_budget  # the Settings dialog's own check

    try:
        return parse_budget(text, "--budget")
    except SettingsError as exc:
        raise CommandError(str(exc), 2) from None


def _out_path(text: str | None, fmt: ExportFormat | Literal["all"], month: str) -> Path | None:
    """`--out` as a path; `dir/` (a trailing slash) means the default name inside that folder."""
    if text is None:
        return None
    path = Path(text)
    if text.endswith(("/", os.sep)) and fmt not in ("csv", "all"):  # csv: see `resolve_target`
        from tokenworth.services.export import default_name

        return path / default_name(month, fmt)
    return path


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from tokenworth.cli.value_cmd import month_argument
    from tokenworth.services.export import (
        ALL,
        ExportHooks,
        default_page_size,
        export_month,
        format_for_suffix,
        system_locale_name,
        target_mismatch,
    )
    from tokenworth.services.export_io import ExportError
    from tokenworth.services.monthly_summary import build_monthly_summary, settings_inputs

    inputs = settings_inputs(ctx.paths.settings_file)
    from tokenworth.core.settings import chosen_time_zone

    zone_named = chosen_time_zone(ctx.paths.settings_file) is not None
    for problem in inputs.problems:
        if not (zone_named and problem.startswith("time_zone")):  # else zone_argument says it again
            ctx.err(f"warning: settings: {problem}")
    zone = zone_argument(ctx, args.tz)  # without --tz: the Settings zone, as every command
    month = month_argument(args.month, zone)
    refuse_future_month(month, zone)
    to_stdout = args.out == "-"
    if to_stdout and args.format not in (None, "json"):
        raise CommandError("--out - (standard output) takes only --format json", 2)
    if to_stdout:
        args.format = "json"
    as_file = args.out is not None and not args.out.endswith(("/", os.sep)) and not to_stdout
    if args.format is None:
        args.format = (format_for_suffix(Path(args.out).suffix) if as_file else None) or ALL
    if as_file:
        mismatch = target_mismatch(args.format, Path(args.out).expanduser())
        if mismatch:
            raise CommandError(mismatch, 2)
    budget = _budget(ctx, args.budget, inputs.budget)
    if not args.no_import:
        from tokenworth.cli.import_cmd import import_first

        import_first(ctx)

    hooks = ExportHooks()
    if args.format in ("md", "html", "pdf", ALL):
        try:
            from tokenworth.ui.export_hooks import qt_export_hooks
        except ImportError as exc:
            if args.format in ("pdf", ALL):
                raise CommandError(f"PDF export needs Qt (PySide6), which cannot be loaded here: {exc}") from exc
            ctx.err(f"warning: charts are left out: Qt (PySide6) cannot be loaded here: {exc}")
        else:
            from tokenworth.core.app_state import load_state, state_file

            hooks = qt_export_hooks(load_state(state_file(ctx.paths.home)).series_colors)  # the dashboard's colours
    summary = build_monthly_summary(ctx.db(), month=month, zone=zone, budget=budget)
    if to_stdout:
        from tokenworth.services.export import summary_json

        ctx.stdout.write(summary_json(summary))
        return 0
    out = _out_path(args.out, args.format, summary.month_key)
    page_size = args.page_size or default_page_size(ctx.env, system_locale_name())
    try:
        results = export_month(
            summary,
            ctx.db(),
            ALL if args.format == ALL else [args.format],
            out=out,
            cwd=Path.cwd(),
            hooks=hooks,
            page_size=page_size,
        )
    except ExportError as exc:
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"cannot write the export: {exc}") from exc
    ctx.out(f"Exported {summary.month_key} (days in {summary.zone_name}):")
    for result in results:
        detail = ""
        if result.format == "csv":
            detail = f" ({len(result.paths)} tables)" if result.target.suffix.lower() != ".zip" else " (zip)"
        elif result.format == "md" and len(result.paths) > 1:
            detail = f" (+{len(result.paths) - 1} chart images in {result.paths[1].parent.name}/)"
        elif result.format == "pdf" and result.pages is not None:
            paper = page_size.upper().replace("LETTER", "Letter")
            detail = f" ({result.pages} pages, {paper})"
        ctx.out(f"  {result.format:<5} {result.target}{detail}")
    notes = sorted({note for result in results for note in result.notes})
    for note in notes:
        ctx.out(f"note: {note}")
    return 0


EXPORT = Command(
    name="export",
    help="a month's summary (spend, value, TFP, tasks, charts) as CSV, JSON, Markdown, HTML or PDF",
    configure=configure,
    run=run,
)
