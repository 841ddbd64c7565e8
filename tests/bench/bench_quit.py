"""How long quitting the tray app takes while its first import runs, and what it keeps.

    python tests/bench/bench_quit.py --claude-logs /work/bench-data/1gb --after 2 --mode child
    python tests/bench/bench_quit.py --claude-logs /work/bench-data/1gb --after 2 --mode in-process

Builds the real app (offscreen, no tray: the dashboard is the app) on a fresh home whose only
agent logs are the given Claude Code tree, lets its first import run for `--after` seconds, then
times `shutdown()`, the step that quitting waits for. Prints the records kept and whether the
next start will still treat the import as a first run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "app"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claude-logs", type=Path, required=True, help="a Claude Code config folder (holds projects/)")
    parser.add_argument("--after", type=float, default=2.0, help="seconds into the first import to quit")
    parser.add_argument("--mode", choices=["child", "in-process"], default="child", help="where the app imports")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tokenworth-quit-") as scratch:
        home = Path(scratch)
        os.environ.update(
            TOKENWORTH_HOME=str(home / "home"),
            HOME=str(home / "user"),
            CLAUDE_CONFIG_DIR=str(args.claude_logs),
            CODEX_HOME=str(home / "none"),
            GEMINI_DATA_DIR=str(home / "none"),
            QT_QPA_PLATFORM="offscreen",
            TZ="UTC",
        )
        from PySide6.QtCore import QEventLoop, QTimer
        from PySide6.QtWidgets import QApplication

        from tokenworth.core.config import resolve_paths
        from tokenworth.core.db import open_database
        from tokenworth.core.settings import Settings
        from tokenworth.ui.shell import TokenworthApp
        from tokenworth.ui.workers import TaskRunner

        qt = QApplication([])
        paths = resolve_paths()
        db = open_database(paths.db_url)
        app = TokenworthApp(
            paths=paths,
            db=db,
            settings=Settings(),
            runner=TaskRunner(),
            tray_available=False,
            first_import_in_child=args.mode == "child",
        )
        app.start()
        loop = QEventLoop()
        QTimer.singleShot(int(args.after * 1000), loop.quit)
        loop.exec()
        started = time.perf_counter()
        app.shutdown()
        took = time.perf_counter() - started
        kept = db.fetch("SELECT COUNT(*) FROM usage_records")[0][0]
        print(
            f"{args.mode}: quit {args.after:g} s into the first import took {took:.2f} s; "
            f"{kept:,} records kept; next start is a first run: {not app.controller.state.first_import_done}"
        )
        app.dashboard.close()
        db.dispose()
        del qt
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
