"""The `tokenworth` command: no arguments starts the tray app; subcommands work headless."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

from tokenworth import __version__
from tokenworth.cli.autostart_cmd import AUTOSTART
from tokenworth.cli.base import CliContext, Command, CommandError
from tokenworth.cli.doctor_cmd import DOCTOR
from tokenworth.cli.import_cmd import IMPORT
from tokenworth.cli.prices_cmd import PRICES, REPRICE
from tokenworth.cli.report_cmd import REPORT
from tokenworth.core.logsetup import install_crash_handler, setup_logging

_log = logging.getLogger(__name__)

COMMANDS: tuple[Command, ...] = (IMPORT, REPORT, PRICES, REPRICE, DOCTOR, AUTOSTART)
"""Every subcommand, registered from this one table."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tokenworth",
        description="What your LLM tokens cost, per model and task, and whether the work was worth it. "
        "Without a command, starts the tray app.",
    )
    parser.add_argument("--version", action="version", version=f"tokenworth {__version__}")
    parser.add_argument(
        "--db", metavar="URL", help="any SQLAlchemy database URL (default: SQLite in the data dir)"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log more detail, to stderr as well as the log file"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        sub = subparsers.add_parser(
            command.name, help=command.help, description=command.description or command.help
        )
        command.configure(sub)
        sub.set_defaults(_command=command)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run one command; returns the process exit code (0 ok, 1 failed, 2 bad usage)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse's own --help/--version/usage errors
        return int(exc.code or 0)
    ctx = CliContext(args=args, stdout=stdout, stderr=stderr, env=dict(os.environ if env is None else env))
    command: Command | None = getattr(args, "_command", None)
    # Cheap: the log file is opened only when something is logged; crashes land there too.
    setup_logging(ctx.paths.log_file, verbose=args.verbose, stderr=stderr)
    install_crash_handler()
    try:
        if command is None:
            return _start_app(ctx)
        _log.debug("running %s", command.name)
        return command.run(ctx, args)
    except CommandError as exc:
        _log.info("%s failed: %s", command.name if command else "app", exc)
        print(f"tokenworth: {exc}", file=stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("tokenworth: interrupted; everything imported so far is kept", file=stderr)
        return 130
    finally:
        ctx.close()


def _start_app(ctx: CliContext) -> int:
    try:
        from tokenworth.ui.app import run_app
    except ImportError as exc:
        raise CommandError(f"the tray app is not available: {exc}") from exc
    return run_app(ctx.paths, argv=[])
