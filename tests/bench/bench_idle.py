"""Idle cost of the tray app: start to tray, CPU over 60 s idle, resident memory, with a year of
history in the ledger. Targets: tray < 2 s, CPU < 1 %, memory < 200 MB.

    python tests/bench/bench_idle.py                 # a year at ~1,000 requests a weekday
    python tests/bench/bench_idle.py --idle 60 --days 365 --per-day 1000 --json

Runs the real app (`python -m tokenworth`) in a child process. With Xvfb and trayer installed it
gets a real X display and system tray; otherwise it runs offscreen (no tray: the dashboard window
is the app, and "start to tray" is the time to that window). Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/: the Xvfb + trayer helper

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def memory_kb(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def log_moment(log: Path, text: str, timeout_s: float) -> float:
    """Wall-clock time (epoch s) of the first log line containing `text`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if log.exists():
            for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
                if text in line:
                    stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
                    return stamp.timestamp()
        time.sleep(0.05)
    raise TimeoutError(f"{text!r} not in {log} after {timeout_s} s")


def wait_for_count(log: Path, text: str, count: int, timeout_s: float) -> None:
    """Wait until `count` log lines contain `text`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if log.exists() and log.read_text(encoding="utf-8", errors="replace").count(text) >= count:
            return
        time.sleep(0.05)
    raise TimeoutError(f"{text!r} not {count} times in {log} after {timeout_s} s")


def write_new_session(claude_dir: Path, requests: int = 20) -> None:
    """A Claude Code session written while the app runs: the live import prices it (which loads
    the price database, as on any day the user works)."""
    folder = claude_dir / "projects" / "-home-dev-work-app"
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    lines = []
    for n in range(requests):
        usage = {
            "input_tokens": 12,
            "output_tokens": 400,
            "cache_read_input_tokens": 30_000,
            "cache_creation_input_tokens": 2_000,
        }
        line = {
            "type": "assistant",
            "sessionId": "bench-live",
            "cwd": "/home/dev/work/app",
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "requestId": f"req_{n}",
            "message": {"id": f"msg_{n}", "model": "claude-sonnet-4-5-20250929", "usage": usage},
        }
        lines.append(json.dumps(line, separators=(",", ":")))
    (folder / "bench-live.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import PySide6

    return (
        f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, PySide6 {PySide6.__version__}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=60.0, help="seconds of idle to measure (default 60)")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=1000)
    parser.add_argument("--offscreen", action="store_true", help="never use Xvfb/trayer")
    parser.add_argument("--first-run", action="store_true", help="measure a first run (dashboard opens)")
    parser.add_argument(
        "--open-dashboard", action="store_true", help="open the dashboard (a second launch) before idling"
    )
    parser.add_argument(
        "--new-usage", action="store_true", help="write a new agent session after start (a working day)"
    )
    parser.add_argument(
        "--claude-logs",
        type=Path,
        metavar="DIR",
        help="a Claude Code log tree (e.g. from generate_logs.py) for the app to import, instead of none",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.claude_logs and args.new_usage:
        parser.error("--new-usage writes into an empty log folder of its own; leave out --claude-logs")

    from make_demo_ledger import demo_events, fill

    from tokenworth.core.app_state import AppState, save_state, state_file
    from tokenworth.core.config import resolve_paths
    from tokenworth.core.db import open_database
    from tokenworth.core.settings import Settings, save_settings
    from xdisplay import xvfb_with_tray

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        home = tmp_path / "home"
        paths = resolve_paths({"TOKENWORTH_HOME": str(home)})
        db = open_database(paths.db_url)
        events = demo_events(datetime.now(UTC).date(), args.days, args.per_day)
        records = fill(db, events)
        db.dispose()
        del events
        save_settings(paths.settings_file, Settings(monthly_budget=Decimal(500)))
        if not args.first_run:  # a returning user: the first-run import happened before
            save_state(state_file(home), AppState(first_import_done=True))
        db_mb = Path(paths.db_url.removeprefix("sqlite:///")).stat().st_size / 1e6

        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(ROOT / "app"),
            TOKENWORTH_HOME=str(home),
            # HOME stays the user's: a fresh HOME has no fontconfig cache, and building one adds
            # seconds to the first start that a real user never sees twice. Agent logs are still
            # pointed at empty folders, so nothing real is read.
            CLAUDE_CONFIG_DIR=str(args.claude_logs or tmp_path / "claude"),
            CODEX_HOME=str(tmp_path / "codex"),
            GEMINI_DATA_DIR=str(tmp_path / "gemini"),
        )
        (tmp_path / "claude" / "projects").mkdir(parents=True)  # a Claude Code user's empty folder
        desktop = ExitStack()
        xvfb, trayer = shutil.which("Xvfb"), shutil.which("trayer")
        display = None if args.offscreen or not (xvfb and trayer) else xvfb_with_tray(xvfb, trayer, settle_s=1.0)
        if display is not None:
            env.update(DISPLAY=desktop.enter_context(display), QT_QPA_PLATFORM="xcb")
            mode = "Xvfb + trayer (real tray)"
        else:
            env["QT_QPA_PLATFORM"] = "offscreen"
            mode = "offscreen (no tray: dashboard window)"
        log = paths.log_file
        started = time.time()
        app = subprocess.Popen(
            [sys.executable, "-m", "tokenworth"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            shown_text = "tray icon shown" if display is not None else "ready: first numbers shown"
            to_tray = log_moment(log, shown_text, 60) - started
            to_numbers = log_moment(log, "ready: first numbers shown", 60) - started
            to_imported = log_moment(log, "import:", 120) - started
            if args.open_dashboard:
                subprocess.run([sys.executable, "-m", "tokenworth"], env=env, capture_output=True, timeout=60)
                log_moment(log, "a second launch asked for the dashboard", 30)
            if args.new_usage:
                write_new_session(tmp_path / "claude")
                wait_for_count(log, "import:", 2, 60)
            time.sleep(3.0)  # let the first refresh, watcher setup and any dashboard drawing settle
            cpu_before, wall_before = cpu_seconds(app.pid), time.monotonic()
            time.sleep(args.idle)
            cpu_used, wall = cpu_seconds(app.pid) - cpu_before, time.monotonic() - wall_before
            memory = memory_kb(app.pid)
        finally:
            app.terminate()
            app.wait(timeout=15)
            desktop.close()
    result = {
        "mode": mode
        + (", dashboard open" if args.open_dashboard else ", in the tray")
        + (", after a live import of new usage" if args.new_usage else ""),
        "records": records,
        "days": args.days,
        "db_mb": round(db_mb, 1),
        "start_to_tray_s": round(to_tray, 2),
        "start_to_first_numbers_s": round(to_numbers, 2),
        "start_to_import_done_s": round(to_imported, 2),
        "idle_s": round(wall, 1),
        "idle_cpu_percent": round(cpu_used / wall * 100, 3),
        "rss_mb": round(memory.get("VmRSS", 0) / 1024, 1),
        "peak_rss_mb": round(memory.get("VmHWM", 0) / 1024, 1),
        "machine": machine(),
        "command": "python " + " ".join([str(Path(__file__).relative_to(ROOT)), *(argv or sys.argv[1:])]),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['records']:,} records over {args.days} days ({result['db_mb']} MB SQLite), {mode}")
        print(f"start to tray:          {result['start_to_tray_s']} s (target < 2 s)")
        print(f"start to first numbers: {result['start_to_first_numbers_s']} s")
        print(f"start to import done:   {result['start_to_import_done_s']} s")
        print(f"CPU over {result['idle_s']} s idle:   {result['idle_cpu_percent']} % (target < 1 %)")
        rss, peak = result["rss_mb"], result["peak_rss_mb"]
        print(f"resident memory:        {rss} MB, peak {peak} MB (target < 200 MB)")
        print(f"machine: {result['machine']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
