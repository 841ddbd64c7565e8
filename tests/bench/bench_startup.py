"""Start-up time of the CLI: `--version` and `report daily --no-import`, min and median of N runs.

Usage: python tests/bench/bench_startup.py [--runs 30] [--app DIR ...]
Each `--app` is a folder holding a `tokenworth` package (default: this checkout's app/), so two
versions can be compared on the same machine, runs interleaved to share the noise.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = (("--version",), ("report", "daily", "--no-import"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--app", action="append", type=Path)
    args = parser.parse_args()
    apps = args.app or [Path(__file__).resolve().parents[2] / "app"]
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, TOKENWORTH_HOME=home, QT_QPA_PLATFORM="offscreen")
        samples: dict[tuple[Path, tuple[str, ...]], list[float]] = {}
        for app in apps:  # warm-up, and create the database once
            for command in COMMANDS:
                run(app, command, env)
        for _ in range(args.runs):
            for command in COMMANDS:
                for app in apps:
                    samples.setdefault((app, command), []).append(run(app, command, env))
    for (app, command), times in samples.items():
        print(
            f"{' '.join(command):<28} min {min(times) * 1000:7.1f} ms  "
            f"median {statistics.median(times) * 1000:7.1f} ms  ({len(times)} runs, {app})"
        )


def run(app: Path, command: tuple[str, ...], env: dict[str, str]) -> float:
    child_env = dict(env, PYTHONPATH=str(app))
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tokenworth", *command], env=child_env, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
