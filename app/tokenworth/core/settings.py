"""User settings: one typed, versioned schema with defaults, stored as JSON in the app's home.

Bad input never raises out of here into the UI: `parse_*` helpers raise `SettingsError` with a
message meant for the field that was wrong, and `load_settings` falls back to defaults field by
field (keeping a copy of an unreadable file) and reports what it fixed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, get_args

import orjson

from tokenworth.core.budget import DEFAULT_THRESHOLDS_PCT
from tokenworth.core.money import CENT, typed_dollars

SETTINGS_VERSION = 1
"""Bumped only when a stored field changes meaning. A new field with a default keeps it: an older
file lacks the key and gets the default; an older app keeps the key in `extra` and writes it back."""
POLL_INTERVAL_S = 15 * 60
"""Default seconds between background refreshes (local log import backstop + provider poll)."""
MIN_POLL_INTERVAL_S = 60
MAX_POLL_INTERVAL_S = 24 * 60 * 60
MAX_BUDGET = Decimal(10_000_000)

TrayDisplay = Literal["icon", "figure"]
TrayFigure = Literal["spend", "forecast"]
Theme = Literal["system", "light", "dark"]


class SettingsError(ValueError):
    """A setting value the user typed that cannot be used; the message names the fix."""


@dataclass(frozen=True)
class Settings:
    """Everything the user can choose. Money is Decimal; JSON holds it as a decimal string."""

    version: int = SETTINGS_VERSION
    monthly_budget: Decimal | None = None
    alert_thresholds_pct: tuple[int, ...] = DEFAULT_THRESHOLDS_PCT
    notify_budget: bool = True
    poll_interval_s: int = POLL_INTERVAL_S
    log_folders: tuple[str, ...] = ()
    """Extra agent log folders, read besides each agent's default places."""
    tray_display: TrayDisplay = "icon"
    """`icon`: a coloured icon only; `figure`: the icon shows a compact dollar figure."""
    tray_figure: TrayFigure = "spend"
    theme: Theme = "system"
    start_at_login: bool = False
    """Kept here; the OS side lives in services.autostart (packaging)."""
    time_zone: str | None = None
    """IANA zone for cutting days and months; None follows the system."""
    auto_export: bool = False
    """Export last month (every format) once a new month has begun (services.auto_export)."""
    auto_export_folder: str | None = None
    """Where automatic exports go; None: core.config.default_export_folder()."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Keys this version does not know (a newer version wrote them); written back unchanged."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.extra)
        data.update(
            {
                "version": SETTINGS_VERSION,
                "monthly_budget": None if self.monthly_budget is None else format(self.monthly_budget, "f"),
                "alert_thresholds_pct": list(self.alert_thresholds_pct),
                "notify_budget": self.notify_budget,
                "poll_interval_s": self.poll_interval_s,
                "log_folders": list(self.log_folders),
                "tray_display": self.tray_display,
                "tray_figure": self.tray_figure,
                "theme": self.theme,
                "start_at_login": self.start_at_login,
                "time_zone": self.time_zone,
                "auto_export": self.auto_export,
                "auto_export_folder": self.auto_export_folder,
            }
        )
        return data

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def parse_budget(text: str, what: str = "budget") -> Decimal | None:
    """A monthly budget in dollars ('250', '$1,200.50'); empty means no budget.

    The one check for a budget, wherever it is typed (`what` names the field or flag in messages).
    """
    if not text.strip():
        return None
    try:
        value = typed_dollars(text)
    except ValueError as exc:
        raise SettingsError(f"{what}: {exc}") from None
    except InvalidOperation:
        raise SettingsError(f"{what} must be an amount in dollars like 200 or 1,250.50, not {text!r}") from None
    if not value.is_finite():
        raise SettingsError(f"{what} must be a finite amount")
    if value <= 0:
        raise SettingsError(f"{what} must be more than $0 (leave it empty for no budget)")
    if value > MAX_BUDGET:
        raise SettingsError(f"{what} is implausibly large (over $10,000,000 a month)")
    if value != value.quantize(CENT):
        raise SettingsError(f"{what} has more than two decimal places")
    return value.quantize(CENT)


def parse_thresholds(text: str) -> tuple[int, ...]:
    """Alert thresholds in percent of the budget, e.g. '80, 100'."""
    parts = [p.strip().rstrip("%").strip() for p in text.replace(";", ",").split(",") if p.strip()]
    if not parts:
        raise SettingsError("give at least one threshold in percent, e.g. 80, 100")
    values: list[int] = []
    for part in parts:
        try:
            value = int(part)
        except ValueError:
            raise SettingsError(f"thresholds are whole percentages like 80, 100; {part!r} is not") from None
        if not 1 <= value <= 1000:
            raise SettingsError(f"threshold {value}% is out of range (1 to 1000)")
        values.append(value)
    return tuple(sorted(set(values)))


def check_poll_interval(seconds: int) -> int:
    if not MIN_POLL_INTERVAL_S <= seconds <= MAX_POLL_INTERVAL_S:
        raise SettingsError(
            f"poll interval must be between {MIN_POLL_INTERVAL_S // 60} minute and {MAX_POLL_INTERVAL_S // 3600} hours"
        )
    return seconds


def check_time_zone(name: str | None) -> str | None:
    if not name:
        return None
    from tokenworth.core.timeutil import resolve_zone

    try:
        resolve_zone(name)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    return name


def _choice(value: Any, allowed: Any, name: str) -> Any:
    if value not in get_args(allowed):
        raise SettingsError(f"{name} must be one of {', '.join(get_args(allowed))}")
    return value


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(f"{name} must be true or false")
    return value


def _folders(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError("log_folders must be a list of folder paths")
    return tuple(dict.fromkeys(v for v in value if v.strip()))


def check_export_folder(text: str | None) -> str | None:
    """A folder for automatic exports: a full path (`~` allowed); empty means the default."""
    if text is None or not text.strip():
        return None
    folder = text.strip()
    if not Path(folder).expanduser().is_absolute():
        raise SettingsError(f"give the folder's full path (like ~/Documents/Exports), not {folder!r}")
    return folder


def _optional_zone(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise SettingsError("time_zone must be a zone name like Europe/Berlin, or null for the system's")
    return check_time_zone(value)


def _optional_folder(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise SettingsError("auto_export_folder must be a folder path or null")
    return check_export_folder(value)


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(f"{name} must be a whole number")
    return value


_READERS: dict[str, Any] = {
    "monthly_budget": lambda v: None if v is None else parse_budget(str(v)),
    "alert_thresholds_pct": lambda v: (
        parse_thresholds(",".join(str(x) for x in v)) if isinstance(v, list) else parse_thresholds(str(v))
    ),
    "notify_budget": lambda v: _bool(v, "notify_budget"),
    "poll_interval_s": lambda v: check_poll_interval(_int(v, "poll_interval_s")),
    "log_folders": _folders,
    "tray_display": lambda v: _choice(v, TrayDisplay, "tray_display"),
    "tray_figure": lambda v: _choice(v, TrayFigure, "tray_figure"),
    "theme": lambda v: _choice(v, Theme, "theme"),
    "start_at_login": lambda v: _bool(v, "start_at_login"),
    "time_zone": lambda v: _optional_zone(v),
    "auto_export": lambda v: _bool(v, "auto_export"),
    "auto_export_folder": _optional_folder,
}


def settings_from_json(data: Mapping[str, Any]) -> tuple[Settings, list[str]]:
    """Settings from parsed JSON; a bad field falls back to its default and is named in the list."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for name, reader in _READERS.items():
        if name not in data:
            continue
        try:
            values[name] = reader(data[name])
        except (SettingsError, TypeError, ValueError) as exc:
            problems.append(f"{name}: {exc}; using the default")
    known = {f.name for f in fields(Settings)}
    extra = {k: v for k, v in data.items() if k not in known}
    return Settings(extra=extra, **values), problems


def load_settings(path: Path) -> tuple[Settings, list[str]]:
    """The settings in `path` (defaults when absent) and what had to be fixed while reading.

    An unreadable file is kept beside as `<name>.bad` so nothing the user wrote is lost.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings(), []
    except OSError as exc:
        return Settings(), [f"cannot read {path}: {exc.strerror}; using defaults"]
    try:
        data = orjson.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        backup = path.with_name(path.name + ".bad")
        with contextlib.suppress(OSError):
            backup.write_bytes(raw)
        return Settings(), [f"{path} is not valid settings JSON ({exc}); kept as {backup.name}, using defaults"]
    return settings_from_json(data)


def settings_problems(path: Path) -> list[str]:
    """What `load_settings` would have to fix in `path`, read without side effects (`doctor`)."""
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return []
    except OSError as exc:
        return [f"cannot read {path}: {exc.strerror}"]
    except ValueError as exc:
        return [f"{path} is not valid settings JSON ({exc}); the defaults apply"]
    if not isinstance(data, dict):
        return [f"{path} is not valid settings JSON (not a JSON object); the defaults apply"]
    return settings_from_json(data)[1]


def chosen_time_zone(path: Path, warn: Callable[[str], None] | None = None) -> str | None:
    """The zone chosen in Settings ("Days and months in"), if any: read without side effects,
    for every command that cuts days. A file that cannot be read as settings is said to `warn`:
    days would otherwise be cut in another zone without a word."""
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        if warn is not None:
            warn(f"settings: cannot read {path} ({exc}); its time zone is not used")
        return None
    zone = data.get("time_zone") if isinstance(data, dict) else None
    if zone is not None and not isinstance(zone, str) and warn is not None:
        warn(f"settings: time_zone in {path} is not a zone name ({zone!r}); it is not used")
    return zone.strip() or None if isinstance(zone, str) else None


def save_settings(path: Path, settings: Settings) -> None:
    """Write atomically (temp file + rename): a crash mid-write never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = orjson.dumps(settings.to_json(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload + b"\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
