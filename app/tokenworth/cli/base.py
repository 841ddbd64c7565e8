"""What every subcommand shares: the context it runs in, and how it reports a failure."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TextIO

from tokenworth.core.config import AppPaths, resolve_paths
from tokenworth.core.db import Database, DatabaseError, open_database


class CommandError(Exception):
    """A failure the user can act on: printed as one line, no traceback."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class CliContext:
    """Streams, environment and the lazily opened database of one command run."""

    args: argparse.Namespace
    stdout: TextIO
    stderr: TextIO
    env: dict[str, str]
    _paths: AppPaths | None = field(default=None, repr=False)
    _db: Database | None = field(default=None, repr=False)

    @property
    def paths(self) -> AppPaths:
        if self._paths is None:
            self._paths = resolve_paths(self.env, getattr(self.args, "db", None))
        return self._paths

    def db(self) -> Database:
        if self._db is None:
            try:
                self._db = open_database(self.paths.db_url)
            except DatabaseError as exc:
                raise CommandError(str(exc)) from exc
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None

    def out(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def err(self, text: str) -> None:
        print(text, file=self.stderr)

    @property
    def stderr_is_tty(self) -> bool:
        isatty = getattr(self.stderr, "isatty", None)
        return bool(isatty and isatty())


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, help, arguments, and what it does (returns an exit code)."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[CliContext, argparse.Namespace], int]
    description: str | None = None


ZONE_DEFAULT = "default: the zone set in Settings, else TZ, else the system's"
"""How every `--tz` help states its default (see `zone_argument`)."""


def zone_argument(ctx: CliContext, name: str | None) -> tzinfo:
    """The zone a `--tz` flag names (None: the zone chosen in Settings, as the app and exports cut
    days; else `TZ`, else the system's); an empty or unknown `--tz` is a usage error, an unusable
    `TZ` or setting a warning."""
    from tokenworth.core.timeutil import resolve_zone  # zoneinfo loads only for commands that cut days

    def warn(message: str) -> None:
        ctx.err(f"warning: {message}")

    if name is None:
        from tokenworth.core.settings import chosen_time_zone

        chosen = chosen_time_zone(ctx.paths.settings_file, warn)
        if chosen is not None:
            try:
                return resolve_zone(chosen)
            except ValueError as exc:
                warn(f"settings: {exc}; using TZ or the system's zone")
    try:
        return resolve_zone(name, env=ctx.env, warn=warn)
    except ValueError as exc:
        raise CommandError(str(exc), 2) from exc


def refuse_future_month(month: tuple[int, int], zone: tzinfo) -> None:
    """A month that has not begun has nothing to show; an empty summary would only mislead."""
    from tokenworth.core.timeutil import month_key, utc_now

    now = utc_now().astimezone(zone)
    if month > (now.year, now.month):
        raise CommandError(
            f"--month {month_key(*month)} has not started yet (it is {month_key(now.year, now.month)} now)", 2
        )


def project_argument(text: str) -> str:
    """A project as `report projects` shows it: a folder typed with a trailing separator (as tab
    completion leaves it) names the same project."""
    stripped = text.strip()
    trimmed = stripped.rstrip("/\\")
    return trimmed or stripped


MAX_ID = 2**63 - 1
"""The largest id a database row can have (a signed 64-bit integer, in SQLite and PostgreSQL)."""


def id_argument(what: str) -> Callable[[str], int]:
    """An argparse type for ids like `3` or `#3`; `what` names it in the message ('a task id')."""

    def parse(text: str) -> int:
        try:
            value = int(text.lstrip("#"))
        except ValueError:
            value = 0
        if value < 1:
            raise argparse.ArgumentTypeError(f"{what} is a number like 3, got {text!r}")
        if value > MAX_ID:
            raise argparse.ArgumentTypeError(f"{what} is at most {MAX_ID}, got {text!r}")
        return value

    return parse


@contextmanager
def user_errors(*, not_found: tuple[type[Exception], ...], bad_input: tuple[type[Exception], ...]) -> Iterator[None]:
    """A service's errors as one-line messages: something not found exits 1, bad input 2."""
    try:
        yield
    except not_found as exc:
        raise CommandError(str(exc.args[0]), 1) from exc
    except bad_input as exc:
        raise CommandError(str(exc), 2) from exc


def require_display(env: dict[str, str], platform: str | None = None) -> None:
    """Refuse, in plain words, to start the tray app where there is no screen to show it on.

    Without a display Qt aborts the process with a message about xcb plugins; on a headless
    Linux box the commands still work, so say that instead.
    """
    import sys

    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM"):
        return
    raise CommandError(
        "no display to show the tray app on (neither DISPLAY nor WAYLAND_DISPLAY is set). Start it from "
        "a desktop session; on a headless machine use the commands instead, e.g. `tokenworth report daily` "
        "(`tokenworth --help` lists them), or `tokenworth dashboard --screenshot FILE.png`.",
        1,
    )
