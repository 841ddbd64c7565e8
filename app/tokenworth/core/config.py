"""Where Tokenworth keeps its state: resolved once at start, overridable by env and flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "tokenworth"
HOME_ENV = "TOKENWORTH_HOME"
DB_URL_ENV = "TOKENWORTH_DB_URL"


@dataclass(frozen=True)
class AppPaths:
    """Every path the app writes to; nothing else on disk is ours."""

    home: Path
    log_dir: Path
    db_url: str

    @property
    def settings_file(self) -> Path:
        return self.home / "settings.json"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "tokenworth.log"


def resolve_paths(env: Mapping[str, str] | None = None, db_url: str | None = None) -> AppPaths:
    """Paths from `TOKENWORTH_HOME` (all state in one folder) or the platform's user dirs.

    `db_url` (the `--db` flag) wins over `TOKENWORTH_DB_URL`, which wins over the default SQLite
    file in the data dir.
    """
    env = os.environ if env is None else env
    explicit_home = env.get(HOME_ENV)
    if explicit_home:
        home = Path(explicit_home).expanduser().resolve()
        log_dir = home / "logs"
    else:
        import platformdirs

        home = platformdirs.user_data_path(APP_NAME, appauthor=False)
        log_dir = platformdirs.user_log_path(APP_NAME, appauthor=False)
    url = db_url or env.get(DB_URL_ENV) or default_db_url(home)
    return AppPaths(home=home, log_dir=log_dir, db_url=url)


def folder_problem(folder: Path) -> str | None:
    """Why `folder` cannot be made or written in (a file in its way, no permission), or None.

    Looks at the folder or, when it does not exist yet, at its nearest existing parent: what
    creating it would run into."""
    at = folder
    while not at.exists():
        if at.parent == at:
            return None
        at = at.parent
    if not at.is_dir():
        return f"{at} is a file, not a folder"
    if not os.access(at, os.W_OK | os.X_OK):
        return f"cannot write in {at} (permission denied)"
    return None


def default_db_url(home: Path) -> str:
    """The SQLite ledger kept in the state folder when no other database is named."""
    return sqlite_url(home / "tokenworth.db")


def default_export_folder() -> Path:
    """Where automatic exports go unless the user chose a folder: Documents/Tokenworth exports."""
    import platformdirs

    return platformdirs.user_documents_path() / "Tokenworth exports"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"
