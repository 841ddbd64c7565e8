"""The `tokenworth` command: no arguments starts the tray app; subcommands work headless.

Subcommands are registered in one table and imported only when chosen, so a quick command
(`report daily`) never pays for the libraries of the others (Qt, keyring, HTTP, tiktoken).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from tokenworth import __version__
from tokenworth.cli.base import CliContext, Command, CommandError, require_display
from tokenworth.core.logsetup import install_crash_handler, logger, setup_logging


@dataclass(frozen=True)
class CommandEntry:
    """Where a subcommand lives: `module.attribute` is its `Command`."""

    name: str
    module: str
    attribute: str

    def load(self) -> Command:
        command = getattr(importlib.import_module(self.module), self.attribute)
        if not isinstance(command, Command) or command.name != self.name:
            raise TypeError(f"{self.module}.{self.attribute} is not the {self.name!r} command")
        return command


COMMANDS: tuple[CommandEntry, ...] = (
    CommandEntry("import", "tokenworth.cli.import_cmd", "IMPORT"),
    CommandEntry("report", "tokenworth.cli.report_cmd", "REPORT"),
    CommandEntry("prices", "tokenworth.cli.prices_cmd", "PRICES"),
    CommandEntry("reprice", "tokenworth.cli.prices_cmd", "REPRICE"),
    CommandEntry("price", "tokenworth.cli.price_cmd", "PRICE"),
    CommandEntry("keys", "tokenworth.cli.keys_cmd", "KEYS"),
    CommandEntry("poll", "tokenworth.cli.poll_cmd", "POLL"),
    CommandEntry("task", "tokenworth.cli.task_cmd", "TASK"),
    CommandEntry("plan", "tokenworth.cli.plan_cmd", "PLAN"),
    CommandEntry("experiment", "tokenworth.cli.experiment_cmd", "EXPERIMENT"),
    CommandEntry("dashboard", "tokenworth.cli.dashboard_cmd", "DASHBOARD"),
    CommandEntry("export", "tokenworth.cli.export_cmd", "EXPORT"),
    CommandEntry("doctor", "tokenworth.cli.doctor_cmd", "DOCTOR"),
    CommandEntry("autostart", "tokenworth.cli.autostart_cmd", "AUTOSTART"),
)
"""Every subcommand, registered from this one table."""

_GLOBAL_OPTIONS_WITH_VALUE = ("--db",)
AMOUNT_OPTIONS = frozenset(
    {"--monthly-fee", "--value", "--budget", "--input", "--output", "--cache-read", "--cache-write", "--cache-write-1h"}
)
"""The options that take dollars: the only ones a negative amount is attached to."""
_NEGATIVE_AMOUNT = re.compile(r"-\s*\$?\s*[\d.,_]+")
"""A whole word such as `-$200` or `-1,000`: argparse takes it for an option, unlike a bare `-5`."""


def negative_amounts_attached(argv: Sequence[str]) -> list[str]:
    """`--monthly-fee -$200` as `--monthly-fee=-$200`, so that argparse hands the amount to the
    command, which says why it is refused, instead of "expected one argument". Only after an
    option that takes dollars: after `--dry-run`, `-5` is a task's title."""
    joined: list[str] = []
    words = list(argv)
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--":
            return joined + words[index:]
        following = words[index + 1] if index + 1 < len(words) else ""
        if word in AMOUNT_OPTIONS and _NEGATIVE_AMOUNT.fullmatch(following):
            joined.append(f"{word}={following}")
            index += 2
        else:
            joined.append(word)
            index += 1
    return joined


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named in `argv` (the first word that is not a global option)."""
    skip = False
    for word in argv:
        if skip:
            skip = False
            continue
        if word in _GLOBAL_OPTIONS_WITH_VALUE:
            skip = True
            continue
        if word.startswith("-"):
            continue
        return word
    return None


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The argument parser; only the chosen subcommand (or all, for `--help`) is configured."""
    parser = argparse.ArgumentParser(
        prog="tokenworth",
        description="What your LLM tokens cost, per model and task, and whether the work was worth it. "
        "Without a command, starts the tray app.",
    )
    parser.add_argument("--version", action="version", version=f"tokenworth {__version__}")
    parser.add_argument("--db", metavar="URL", help="any SQLAlchemy database URL (default: SQLite in the data dir)")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log more detail, to stderr as well as the log file"
    )
    parser.add_argument(
        "--show-dashboard",
        action="store_true",
        help="without a command: open the dashboard at once, not only the tray icon (`tokenworth dashboard` too)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = chosen_command(argv)
    wants_help = chosen is None and any(word in ("-h", "--help") for word in argv)
    for entry in COMMANDS:
        if entry.name == chosen or wants_help:
            command = entry.load()
            sub = subparsers.add_parser(
                command.name, help=command.help, description=command.description or command.help
            )
            command.configure(sub)
            sub.set_defaults(_command=command)
        else:
            subparsers.add_parser(entry.name)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run one command; returns the process exit code (0 ok, 1 failed, 2 bad usage)."""
    if stdout is None and stderr is None:
        _writable_streams(os.environ)
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    argv = negative_amounts_attached(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    usage_errors = io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(usage_errors):
            args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse's own --help/--version/usage errors
        _write_usage_errors(usage_errors.getvalue(), stderr)
        return int(exc.code or 0)
    ctx = CliContext(args=args, stdout=stdout, stderr=stderr, env=dict(os.environ if env is None else env))
    command: Command | None = getattr(args, "_command", None)
    # Costs no import: handlers attach when something imports logging; crashes land there too.
    setup_logging(ctx.paths.log_file, verbose=args.verbose, stderr=stderr)
    install_crash_handler()
    try:
        if command is None:
            return _start_app(ctx)
        if args.verbose:
            logger(__name__).debug("running %s", command.name)
        return command.run(ctx, args)
    except CommandError as exc:
        logger(__name__).info("%s failed: %s", command.name if command else "app", exc)
        print(f"tokenworth: {exc}", file=stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"tokenworth: interrupted{_INTERRUPTED_IMPORT if _imports_logs(args) else ''}", file=stderr)
        return 130
    except BrokenPipeError:  # `tokenworth report daily | head`: the reader left; no traceback
        if stdout is sys.stdout:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as exc:
        from tokenworth.core.db import (
            LedgerFileGone,
            database_problem,
            from_database,
            safe_url,
            sqlite_file_advice,
        )

        if isinstance(exc, LedgerFileGone):  # deleted or moved while the command ran
            print(f"tokenworth: {exc}", file=stderr)
            return 1
        if not from_database(exc):
            raise
        problem = database_problem(exc)
        logger(__name__).warning("database error in %s: %s", command.name if command else "app", problem, exc_info=True)
        advice = sqlite_file_advice(problem, ctx.paths.db_url)
        where = f" ({safe_url(ctx.paths.db_url)})" if advice else ""
        print(f"tokenworth: database error{where}: {problem}.{advice}", file=stderr)
        return 1
    finally:
        ctx.close()


def _writable_streams(env: Mapping[str, str]) -> None:
    """Task titles, paths and model names hold any script: output piped or redirected is UTF-8
    (Windows would use its ANSI code page), and a character the console or a chosen
    PYTHONIOENCODING cannot show is replaced, never a UnicodeEncodeError halfway through."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:  # no console at all (the windowed bundle), or replaced
            continue
        try:
            if stream.isatty() or env.get("PYTHONIOENCODING"):
                reconfigure(errors="replace")
            else:
                reconfigure(encoding="utf-8", errors="replace")
        except (OSError, ValueError):
            continue


def _write_usage_errors(text: str, stderr: TextIO) -> None:
    """argparse's usage error, which repeats what was typed: a database URL's password masked, and
    where `--db` goes when it came after the command."""
    if not text:
        return
    from tokenworth.core.redact import redact_secrets

    text = redact_secrets(text)
    unrecognized = text.split("unrecognized arguments:", 1)[1].split() if "unrecognized arguments:" in text else []
    if any(word == "--db" or word.startswith("--db=") for word in unrecognized):
        text = text.rstrip("\n") + "\n(--db goes before the command: tokenworth --db URL report daily)\n"
    stderr.write(text)


_INTERRUPTED_IMPORT = "; nothing is half-written, and the next import carries on from its last commit"


def _imports_logs(args: argparse.Namespace) -> bool:
    """Whether the interrupted command was (or may have been) importing logs."""
    command: Command | None = getattr(args, "_command", None)
    return command is not None and (command.name == "import" or not getattr(args, "no_import", True))


def _start_app(ctx: CliContext) -> int:
    require_display(ctx.env)
    try:
        from tokenworth.ui.app import run_app
    except ImportError as exc:
        raise CommandError(f"the tray app is not available: {exc}") from exc
    return run_app(ctx.paths, argv=["--show-dashboard"] if ctx.args.show_dashboard else [])
