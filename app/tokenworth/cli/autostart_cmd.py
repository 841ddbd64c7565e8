"""`tokenworth autostart on|off|status`: start the tray app at login (the Settings switch does the same)."""

from __future__ import annotations

import argparse

from tokenworth.cli.base import CliContext, Command, CommandError
from tokenworth.cli.output import write_json


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("on", "off", "status"), help="turn it on, off, or show it")
    parser.add_argument("--json", action="store_true", help="print the state as JSON")


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from tokenworth.core.redact import redact_secrets
    from tokenworth.services import autostart  # imported here: every other command starts faster

    backend = autostart.backend_for(env=ctx.env)
    command = autostart.login_command(ctx.paths, ctx.env)  # this run's state folder and database
    try:
        if args.action == "on":
            state = autostart.enable(backend, command)
        elif args.action == "off":
            removed = autostart.disable(backend)
            state = autostart.status(backend, command)
        else:
            state = autostart.status(backend, command)
    except autostart.AutostartError as exc:
        raise CommandError(str(exc)) from exc
    registered = redact_secrets(state.registered) if state.registered is not None else None
    if args.json:
        write_json(
            ctx.stdout,
            {
                "enabled": state.enabled,
                "location": state.location,
                "command": registered,
                "expected": redact_secrets(state.expected),
                "stale": state.stale,
            },
        )
        return 0
    if args.action == "off":
        ctx.out(f"Removed {state.location}." if removed else "Start at login was already off.")
    if state.enabled:
        ctx.out(f"Start at login: on ({state.location} runs {registered}).")
        if state.stale:
            ctx.err(
                f"warning: that is not what this installation, with this state folder and database, "
                f"would run ({redact_secrets(state.expected)}); run `tokenworth autostart on` to point it here."
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
