"""What the app remembers between runs that is not a user choice: alerts already given, etc."""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import orjson

STATE_VERSION = 1
KEEP_ALERT_MONTHS = 3


@dataclass(frozen=True)
class AppState:
    """Remembered facts; a lost or broken file only means an alert may be repeated once."""

    alerts_sent: frozenset[str] = field(default_factory=frozenset)
    """Budget alert keys (`YYYY-MM:measure:pct:budget`; older ones without the budget) already shown."""
    unpriced_notified: frozenset[str] = field(default_factory=frozenset)
    """Models already announced as having no price."""
    first_import_done: bool = False
    series_colors: dict[str, str] = field(default_factory=dict, hash=False)
    """Chart colour of each model and category (name -> #rrggbb), so they keep it across runs."""

    def with_alerts(self, keys: set[str] | frozenset[str] | tuple[str, ...]) -> AppState:
        merged = set(self.alerts_sent) | set(keys)
        months = sorted({key.split(":", 1)[0] for key in merged}, reverse=True)[:KEEP_ALERT_MONTHS]
        return replace(self, alerts_sent=frozenset(k for k in merged if k.split(":", 1)[0] in months))

    def with_unpriced(self, models: set[str] | frozenset[str]) -> AppState:
        return replace(self, unpriced_notified=self.unpriced_notified | frozenset(models))


def state_file(home: Path) -> Path:
    return home / "state.json"


def load_state(path: Path) -> AppState:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, ValueError):
        return AppState()
    if not isinstance(data, dict):
        return AppState()

    def strings(name: str) -> frozenset[str]:
        value = data.get(name)
        return frozenset(v for v in value if isinstance(v, str)) if isinstance(value, list) else frozenset()

    return AppState(
        alerts_sent=strings("alerts_sent"),
        unpriced_notified=strings("unpriced_notified"),
        first_import_done=data.get("first_import_done") is True,
        series_colors=_string_map(data.get("series_colors")),
    )


def _string_map(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def save_state(path: Path, state: AppState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "version": STATE_VERSION,
        "alerts_sent": sorted(state.alerts_sent),
        "unpriced_notified": sorted(state.unpriced_notified),
        "first_import_done": state.first_import_done,
        "series_colors": dict(sorted(state.series_colors.items())),
    }
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2) + b"\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
