"""`tokenworth import`: read the local agent logs into the ledger."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tokenworth.cli.base import CliContext, Command, CommandError
from tokenworth.cli.output import ProgressBar, price_steps, write_json
from tokenworth.services.importing import ImportSummary, ImportWorkerDied, default_workers, import_local_logs
from tokenworth.sources.local_logs import LOCAL_SOURCES

if TYPE_CHECKING:
    import threading

    from tokenworth.services.import_child import ProgressLines


def plural(count: int, noun: str) -> str:
    """'1 file', '3 files'."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def folder_argument(text: str) -> Path:
    """A `--path` folder; an empty value is refused (Path('') would quietly mean the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; name a folder (`.` for the current one)")
    return Path(text)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        default="all",
        choices=[*LOCAL_SOURCES, "all"],
        help="which agent's logs to read (default: every one found)",
    )
    parser.add_argument(
        "--path",
        action="append",
        type=folder_argument,
        metavar="DIR",
        help="read this folder instead of the default places (repeatable); for Claude Code a "
        "config folder holding projects/ or projects/ itself",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--progress-lines", action="store_true", help=argparse.SUPPRESS)  # services.import_child


@contextmanager
def stop_on_sigterm() -> Iterator[threading.Event | None]:
    """An event SIGTERM sets while the block runs, so an import stops after the file it is on
    and commits (the tray app stops its child import this way when the user quits). None, and
    SIGTERM's usual effect, off the main thread, where no signal handler can be set."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield None
        return
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_import(
    ctx: CliContext, args: argparse.Namespace, *, quiet: bool = False, stop: threading.Event | None = None
) -> ImportSummary:
    """The import step, shared by `import` and by `report` (which imports first)."""
    progress: ProgressBar | ProgressLines
    if getattr(args, "progress_lines", False):
        from tokenworth.services.import_child import ProgressLines

        progress = ProgressLines(ctx.stderr)
    else:
        progress = ProgressBar(ctx.stderr, "importing", enabled=ctx.stderr_is_tty and not args.json and not quiet)
    try:
        summary = import_local_logs(
            ctx.db(),
            source_names=[args.source] if getattr(args, "source", "all") not in (None, "all") else None,
            paths=getattr(args, "path", None),
            env=ctx.env,
            progress=progress,
            workers=default_workers(),
            stop=stop,
        )
    except ValueError as exc:
        raise CommandError(str(exc), 2) from exc
    except ImportWorkerDied as exc:
        raise CommandError(str(exc), 1) from None
    finally:
        progress.close()
    return summary


def import_first(ctx: CliContext) -> ImportSummary:
    """The quiet incremental import a command runs before it reads the ledger."""
    return run_import(ctx, argparse.Namespace(source="all", path=None, json=True), quiet=True)


def print_summary(ctx: CliContext, summary: ImportSummary) -> None:
    if summary.replays_removed:  # the clean-up an interrupted import did not get to
        ctx.out(f"Removed {summary.replays_removed:,} replayed sidechain records an interrupted import left.")
    ctx.out(
        f"Imported {plural(summary.records_added, 'new record')} from {summary.files_read:,} of "
        f"{plural(summary.files_found, 'file')} ({summary.bytes_read / 1e6:,.1f} MB read, "
        f"{summary.files_unchanged:,} unchanged) in {summary.seconds:.2f} s; "
        f"{plural(summary.records_after, 'record')} in the ledger."
    )
    if summary.stopped:
        ctx.err("warning: stopped before every file was read; the next import reads the rest")
    for folder in summary.missing_dirs:
        ctx.err(f"warning: {folder} does not exist (skipped)")
    if summary.unreadable_files:
        count = len(summary.unreadable_files)
        ctx.err(
            f"warning: could not read {count:,} file{'' if count == 1 else 's'} (the rest was imported; "
            "they are tried again on the next import):"
        )
        for path, reason in sorted(summary.unreadable_files.items()):
            ctx.err(f"  {path}: {reason}")
    if summary.broken_lines:
        ctx.err(
            f"warning: skipped {plural(summary.broken_lines, 'unreadable line')} in "
            f"{plural(len(summary.broken_by_file), 'file')} (everything else was imported):"
        )
        for path, count in sorted(summary.broken_by_file.items(), key=lambda kv: -kv[1])[:10]:
            ctx.err(f"  {count:>6,}  {path}")
        for example in summary.examples_in_order[:5]:
            ctx.err(f"  e.g. {example.path}:{example.line}: {example.reason}")
    if summary.unpriced_models:
        names = ", ".join(f"{model} ({count:,})" for model, count in summary.unpriced_models.most_common())
        ctx.err(
            f"warning: UNPRICED models, their cost is unknown (not $0): {names}. "
            + price_steps([model for model, _ in summary.unpriced_models.most_common()])
        )


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    if args.path and not any(folder.exists() for folder in args.path):
        missing = ", ".join(str(folder) for folder in args.path)
        raise CommandError(f"--path: no such folder: {missing}", 2)
    with stop_on_sigterm() as stop:
        summary = run_import(ctx, args, stop=stop)
    for folder, source, other in summary.mismatched_dirs:
        ctx.err(
            f"warning: {folder} holds {other} logs, not {source}: read with `--source {other}`, "
            "or leave --source out to tell by the files"
        )
    if args.json:
        write_json(ctx.stdout, summary.as_json())
    else:
        if summary.files_found == 0:
            ctx.out(nothing_found(summary, given_paths=bool(args.path)))
        print_summary(ctx, summary)
    if summary.stopped:
        from tokenworth.services.import_child import STOPPED_EXIT  # the exit status the app reads

        return STOPPED_EXIT
    return 0


def nothing_found(summary: ImportSummary, *, given_paths: bool) -> str:
    """Why an import found no logs: the folders it really looked in, and how to point elsewhere."""
    looked = ", ".join(
        f"{folder} ({source or 'no agent logs recognised'}{'' if Path(folder).exists() else ', does not exist'})"
        for source, folder in summary.searched_dirs
    )
    text = f"No agent logs found. Looked in {looked or 'no folder'}."
    if not given_paths:
        text += " Point elsewhere with --path DIR, or set CLAUDE_CONFIG_DIR, CODEX_HOME or GEMINI_DATA_DIR."
    return text


IMPORT = Command(
    name="import",
    help="read local agent logs (Claude Code, Codex, Gemini CLI) into the ledger",
    configure=configure,
    run=run,
)
