"""Whether the ledger changed under the app: a task logged, a price set or a reprice run from the
command line (or another process) while the tray app shows the month."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tokenworth.core.db import sqlite_file


class LedgerChanges:
    """Asks SQLite's `PRAGMA data_version` on a read-only connection of its own: its value moves
    when any other connection commits, the app's own included, so the app also calls `changed()`
    as each refresh starts (what it reads then is shown). Costs a read of shared memory, no query
    of the tables. Other databases have no such signal: `changed()` is then always False.

    One caller at a time (the app asks from its serial database lane)."""

    def __init__(self, url: str) -> None:
        self._file: Path | None = sqlite_file(url)
        self._conn: sqlite3.Connection | None = None
        self._seen: int | None = None

    def changed(self) -> bool:
        """Whether a commit happened since the last call (the first call only takes note)."""
        if self._file is None:
            return False
        try:
            if self._conn is None:
                uri = f"{self._file.resolve().as_uri()}?mode=ro"
                self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:  # not created yet, or taken away: look again next time
            self.close()
            return False
        changed = self._seen is not None and version != self._seen
        self._seen = version
        return changed

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._seen = None
