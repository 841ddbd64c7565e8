"""`tokenworth doctor`: the facts to paste into a bug report (no key or secret ever appears)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from tokenworth.cli.base import CliContext, Command
from tokenworth.cli.output import write_json
from tokenworth.core.redact import redact_secrets

if TYPE_CHECKING:
    from tokenworth.services.doctor import DoctorReport

PROBE_TRAY_FLAG = "--probe-tray"
"""Hidden flag: the child process of the tray check, which answers with one JSON line."""
STATUS_LABELS = {"ok": "ok", "info": "info", "warn": "WARN", "error": "ERROR"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--no-tray", action="store_true", help="skip the tray check (it starts Qt)")
    parser.add_argument(PROBE_TRAY_FLAG, action="store_true", help=argparse.SUPPRESS)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    if args.probe_tray:
        return probe_tray(ctx)
    from tokenworth.services.doctor import run_doctor  # imported here: other commands start faster

    probe = None if args.no_tray else ["doctor", PROBE_TRAY_FLAG]
    report = run_doctor(ctx.paths, ctx.env, tray_probe_args=probe)
    if args.json:
        write_json(ctx.stdout, report.as_json())
    else:
        ctx.out(redact_secrets(render_text(report)))
    return 0


def render_text(report: DoctorReport) -> str:
    lines = [
        f"Tokenworth {report.tokenworth}" + (" (app bundle)" if report.frozen else ""),
        f"Python     {report.python}",
        f"Platform   {report.platform}",
        "Versions   " + ", ".join(f"{name} {version or 'not installed'}" for name, version in report.versions.items()),
        "",
    ]
    width = max(len(name) for name in report.checks)
    for key, check in report.checks.items():
        name = key.replace("_", " ")
        lines.append(f"{STATUS_LABELS[check.status]:<6} {name:<{width}}  {check.summary}")
        indent = " " * (6 + 1 + width + 2)
        lines.extend(f"{indent}{line}" for line in check.lines)
        if check.hint:
            lines.append(f"{indent}fix: {check.hint}")
    return "\n".join(lines)


def probe_tray(ctx: CliContext) -> int:
    """The child side of the tray check: start Qt, ask about the tray, answer with one JSON line."""
    import PySide6
    from PySide6.QtWidgets import QApplication, QSystemTrayIcon

    app = QApplication.instance() or QApplication(["tokenworth-doctor"])
    answer = {
        "qt": PySide6.__version__,
        "platform": QApplication.platformName(),
        "tray": QSystemTrayIcon.isSystemTrayAvailable(),
    }
    del app
    ctx.out(json.dumps(answer))
    return 0


DOCTOR = Command(
    name="doctor",
    help="show versions, paths, database, keyring, log folders and tray: paste it into a bug report",
    configure=configure,
    run=run,
)
