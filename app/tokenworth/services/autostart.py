"""Start at login: an XDG autostart entry (Linux), a LaunchAgent (macOS) or a Run value (Windows).

Turning it off removes exactly what turning it on added, and nothing the user made by hand.
The CLI (`tokenworth autostart`) and the Settings dialog both call `enable`, `disable`, `status`.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from configparser import ConfigParser
from configparser import Error as ConfigParserError
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tokenworth.core.config import DB_URL_ENV, HOME_ENV, AppPaths, default_db_url, resolve_paths
from tokenworth.core.resources import icon_png
from tokenworth.core.selfexec import launch_command

APP_NAME = "Tokenworth"
DESKTOP_FILE_NAME = "tokenworth.desktop"
OWNER_KEY = "X-Tokenworth-Autostart"
"""Marks a desktop entry as ours: one without it is the user's and is never removed."""
LAUNCH_AGENT_LABEL = "org.tokenworth.app"
RUN_KEY_PATH = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE_NAME = "Tokenworth"


class AutostartError(RuntimeError):
    """Start at login cannot be changed; the message says why and what to do."""


@dataclass(frozen=True)
class AutostartState:
    """Whether Tokenworth starts at login, where that is recorded, and with which command."""

    enabled: bool
    location: str
    registered: str | None
    """What the entry runs, as written (None when there is no entry of ours)."""
    expected: str
    """What an entry made now would run."""

    @property
    def stale(self) -> bool:
        """On, but for another installation (the app moved or was reinstalled elsewhere)."""
        return self.enabled and self.registered is not None and self.registered != self.expected


class AutostartBackend(Protocol):
    location: str

    def write(self, command: Sequence[str]) -> None: ...
    def remove(self) -> bool: ...
    def registered(self) -> str | None: ...
    def render(self, command: Sequence[str]) -> str: ...


# --- Linux: XDG autostart ---------------------------------------------------------------------


def desktop_exec(command: Sequence[str]) -> str:
    """`command` as a desktop entry's Exec value (quoting per the Desktop Entry spec)."""
    parts = []
    for arg in command:
        arg = arg.replace("%", "%%")
        if arg and not any(ch in arg for ch in " \t\n\"'\\><~|&;$*?#()`="):
            parts.append(arg)
            continue
        quoted = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
        parts.append(f'"{quoted}"')
    # The string-value escape rule applies on top of the quoting rule: every backslash doubles.
    return " ".join(parts).replace("\\", "\\\\")


def desktop_entry(command: Sequence[str], icon: str) -> str:
    """The text of the XDG autostart entry that runs `command` at login."""
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={APP_NAME}\n"
        "GenericName=LLM token spend tracker\n"
        "Comment=Tray icon showing what your LLM tokens cost this month\n"
        f"Exec={desktop_exec(command)}\n"
        f"Icon={icon}\n"
        "Terminal=false\n"
        "Categories=Utility;\n"
        "X-GNOME-Autostart-enabled=true\n"
        f"{OWNER_KEY}=true\n"
    )


def read_desktop_entry(path: Path) -> dict[str, str]:
    """The `[Desktop Entry]` keys of a .desktop file (case kept), or {} if unreadable."""
    parser = ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ConfigParserError):
        return {}
    return dict(parser["Desktop Entry"]) if parser.has_section("Desktop Entry") else {}


class XdgAutostart:
    """`$XDG_CONFIG_HOME/autostart/tokenworth.desktop` (default `~/.config/autostart`)."""

    def __init__(self, env: Mapping[str, str], home: Path) -> None:
        config_home = env.get("XDG_CONFIG_HOME", "").strip()
        base = Path(config_home) if config_home and Path(config_home).is_absolute() else home / ".config"
        self.path = base / "autostart" / DESKTOP_FILE_NAME
        self.location = str(self.path)

    def render(self, command: Sequence[str]) -> str:
        return desktop_exec(command)

    def write(self, command: Sequence[str]) -> None:
        existing = read_desktop_entry(self.path) if self.path.exists() else None
        if existing is not None and existing.get(OWNER_KEY) != "true":
            raise AutostartError(f"{self.path} exists and was not made by Tokenworth; remove or rename it first")
        icon = icon_png(256)
        _write_atomically(self.path, desktop_entry(command, str(icon) if icon.exists() else "tokenworth"))

    def remove(self) -> bool:
        if not self.path.exists() or read_desktop_entry(self.path).get(OWNER_KEY) != "true":
            return False
        self.path.unlink()
        return True

    def registered(self) -> str | None:
        if not self.path.exists():
            return None
        entry = read_desktop_entry(self.path)
        if entry.get(OWNER_KEY) != "true" or entry.get("Hidden", "false").lower() == "true":
            return None
        if entry.get("X-GNOME-Autostart-enabled", "true").lower() == "false":
            return None
        return entry.get("Exec")


# --- macOS: LaunchAgent -----------------------------------------------------------------------


def launch_agent_plist(command: Sequence[str]) -> bytes:
    """The LaunchAgent property list that runs `command` once at each graphical login."""
    payload: dict[str, Any] = {
        "Label": LAUNCH_AGENT_LABEL,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        "KeepAlive": False,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
    }
    return plistlib.dumps(payload, fmt=plistlib.FMT_XML)


class LaunchAgent:
    """`~/Library/LaunchAgents/org.tokenworth.app.plist`, loaded by launchd at the next login."""

    def __init__(self, home: Path) -> None:
        self.path = home / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"
        self.location = str(self.path)

    def render(self, command: Sequence[str]) -> str:
        return shlex.join(command)

    def write(self, command: Sequence[str]) -> None:
        _write_atomically(self.path, launch_agent_plist(command))

    def remove(self) -> bool:
        if self._read() is None:
            return False
        self.path.unlink()
        return True

    def registered(self) -> str | None:
        payload = self._read()
        if payload is None:
            return None
        return self.render([str(arg) for arg in payload.get("ProgramArguments", [])])

    def _read(self) -> dict[str, Any] | None:
        try:
            payload = plistlib.loads(self.path.read_bytes())
        except (OSError, plistlib.InvalidFileException, ValueError):
            return None
        if not isinstance(payload, dict) or payload.get("Label") != LAUNCH_AGENT_LABEL:
            return None
        return payload


# --- Windows: the Run key ---------------------------------------------------------------------


def run_key_value(command: Sequence[str]) -> str:
    """The `HKCU\\...\\Run` value (a command line, quoted the Windows way) that runs `command`."""
    return subprocess.list2cmdline(list(command))


class RunKey:
    """The `Tokenworth` value under `HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run`."""

    location = f"HKCU\\{RUN_KEY_PATH}\\{RUN_VALUE_NAME}"

    def render(self, command: Sequence[str]) -> str:
        return run_key_value(command)

    def write(self, command: Sequence[str]) -> None:
        import winreg  # type: ignore[import-not-found,unused-ignore]

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY_PATH) as key:
            winreg.SetValueEx(key, RUN_VALUE_NAME, 0, winreg.REG_SZ, run_key_value(command))

    def remove(self) -> bool:
        import winreg  # type: ignore[import-not-found,unused-ignore]

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY_PATH, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, RUN_VALUE_NAME)
        except FileNotFoundError:
            return False
        return True

    def registered(self) -> str | None:
        import winreg  # type: ignore[import-not-found,unused-ignore]

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY_PATH) as key:
                value, _kind = winreg.QueryValueEx(key, RUN_VALUE_NAME)
        except FileNotFoundError:
            return None
        return str(value)


# --- the service --------------------------------------------------------------------------------

ENV_PROGRAM = "/usr/bin/env"
"""Sets the variables for the program it starts (Linux and macOS): a desktop session or launchd
does not see what a shell exported."""


TRANSLOCATED = "/AppTranslocation/"
"""Where macOS runs a downloaded app that was not moved yet: a random path, gone after a restart."""


def login_command(
    paths: AppPaths | None = None, env: Mapping[str, str] | None = None, platform: str | None = None
) -> list[str]:
    """What an entry made now runs: this installation, with the state folder, database and agent
    log folders this run uses when they are not the defaults (relative paths made absolute), or
    the app started at login would open another, empty ledger and miss those logs. On Windows the
    Run value is a command line: the database goes as `--db`; variables set with `setx` reach it.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    command = launch_command()
    paths = resolve_paths(env) if paths is None else paths
    own_db = paths.db_url != default_db_url(paths.home)
    if platform == "win32":  # no variables in a Run value; a flag is the one way to name the ledger
        return [*command, "--db", _absolute_db_url(paths.db_url)] if own_db else command
    assignments = []
    if env.get(HOME_ENV):
        assignments.append(f"{HOME_ENV}={paths.home}")
    if own_db:
        assignments.append(f"{DB_URL_ENV}={_absolute_db_url(paths.db_url)}")
    from tokenworth.sources.local_logs import LOCAL_SOURCES

    for source in LOCAL_SOURCES.values():  # the agents' log folders the app imports from
        folders = [part.strip() for part in env.get(source.env_var, "").split(",") if part.strip()]
        if folders:
            absolute = ",".join(str(Path(folder).expanduser().absolute()) for folder in folders)
            assignments.append(f"{source.env_var}={absolute}")
    return [ENV_PROGRAM, *assignments, *command] if assignments else command


def _absolute_db_url(url: str) -> str:
    """A SQLite URL with a relative path made absolute: a login session starts in another folder."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return url
    path, query_mark, query = url[len(prefix) :].partition("?")
    if not path or path == ":memory:" or Path(path).is_absolute():
        return url
    return f"{prefix}{Path(path).absolute()}{query_mark}{query}"


def backend_for(
    platform: str | None = None, env: Mapping[str, str] | None = None, home: Path | None = None
) -> AutostartBackend:
    """The mechanism this desktop uses to start programs at login."""
    platform = sys.platform if platform is None else platform
    env = os.environ if env is None else env
    home = Path(env.get("HOME") or Path.home()) if home is None else home
    if platform == "win32":
        return RunKey()
    if platform == "darwin":
        return LaunchAgent(home)
    return XdgAutostart(env, home)


def status(backend: AutostartBackend | None = None, command: Sequence[str] | None = None) -> AutostartState:
    """Whether start at login is on, and whether it points at this installation."""
    backend = backend or backend_for()
    registered = backend.registered()
    expected = backend.render(command or login_command())
    return AutostartState(
        enabled=registered is not None, location=backend.location, registered=registered, expected=expected
    )


def is_enabled(backend: AutostartBackend | None = None) -> bool:
    return status(backend).enabled


def enable(backend: AutostartBackend | None = None, command: Sequence[str] | None = None) -> AutostartState:
    """Start Tokenworth at login with `command` (default: `login_command()`)."""
    backend = backend or backend_for()
    command = list(command or login_command())
    if any(TRANSLOCATED in part for part in command):
        raise AutostartError(
            "macOS is running Tokenworth from a temporary copy (it was opened where it was downloaded), "
            "which is gone after a restart: move Tokenworth to Applications, open it from there, "
            "and turn start at login on again"
        )
    try:
        backend.write(command)
    except OSError as exc:
        raise AutostartError(f"cannot write {backend.location}: {exc.strerror or exc}") from exc
    return status(backend, command)


def disable(backend: AutostartBackend | None = None) -> bool:
    """Stop starting at login; True if an entry of ours was removed."""
    backend = backend or backend_for()
    try:
        return backend.remove()
    except OSError as exc:
        raise AutostartError(f"cannot remove {backend.location}: {exc.strerror or exc}") from exc


def set_start_at_login(
    enabled: bool, backend: AutostartBackend | None = None, command: Sequence[str] | None = None
) -> AutostartState:
    """The Settings switch: on or off in one call (the UI's `AppHooks.set_start_at_login`)."""
    backend = backend or backend_for()
    if enabled:
        return enable(backend, command)
    disable(backend)
    return status(backend)


def _write_atomically(path: Path, content: str | bytes) -> None:
    """Readable by the user alone: the entry may hold a database URL with its password."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    data = content.encode("utf-8") if isinstance(content, str) else content
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
