"""`tokenworth autostart on|off|status`: start the tray app at login (the Settings switch does the same)."""

from __future__ import annotations

import argparse

from tokenworth.cli.base import CliContext, Command, CommandError
from tokenworth.cli.output import write_json


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("on", "off", "status"), help="turn it on, off, or show it")
    parser.add_argument("--json", action="store_true", help="print the state as JSON")


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from tokenworth.services import autostart  # imported here: every other command starts faster

    backend = autostart.backend_for(env=ctx.env)
    try:
        if args.action == "on":
            state = autostart.enable(backend)
        elif args.action == "off":
            removed = autostart.disable(backend)
            state = autostart.status(backend)
        else:
            state = autostart.status(backend)
    except autostart.AutostartError as exc:
        raise CommandError(str(exc)) from exc
    if args.json:
        write_json(
            ctx.stdout,
            {
                "enabled": state.enabled,
                "location": state.location,
                "command": state.registered,
                "expected": state.expected,
                "stale": state.stale,
            },
        )
        return 0
    if args.action == "off":
        ctx.out(f"Removed {state.location}." if removed else "Start at login was already off.")
    if state.enabled:
        ctx.out(f"Start at login: on ({state.location} runs {state.registered}).")
        if state.stale:
            ctx.err(
                f"warning: that is not this installation ({state.expected}); "
                "run `tokenworth autostart on` to point it here."
            )
    else:
        ctx.out("Start at login: off.")
    return 0


AUTOSTART = Command(
    name="autostart",
    help="start the tray app when you log in: on, off, or status",
    configure=configure,
    run=run,
)
