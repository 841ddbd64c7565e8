"""Start-up time of the CLI: `--version` and `report daily --no-import`, min and median of N runs.

Usage: python tests/bench/bench_startup.py [--runs 30] [--app DIR ...]
Each `--app` is a folder holding a `tokenworth` package (default: this checkout's app/), so two
versions can be compared on the same machine, runs interleaved to share the noise.
"""

from __future__ import annotations

import argparse
import os
import resource
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
    with tempfile.TemporaryDirectory() as homes:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached after the first run
        samples: dict[tuple[Path, tuple[str, ...]], list[tuple[float, float]]] = {}
        for app in apps:  # warm-up, and create the database once
            for command in COMMANDS:
                run(app, command, env, homes)
        for _ in range(args.runs):
            for command in COMMANDS:
                for app in apps:
                    samples.setdefault((app, command), []).append(run(app, command, env, homes))
    for (app, command), pairs in samples.items():
        wall = [w * 1000 for w, _ in pairs]
        cpu = [c * 1000 for _, c in pairs]
        print(
            f"{' '.join(command):<26} wall min {min(wall):6.1f} ms, median {statistics.median(wall):6.1f}"
            f" | CPU min {min(cpu):6.1f} ms, median {statistics.median(cpu):6.1f}  ({len(pairs)} runs, {app})"
        )


def run(app: Path, command: tuple[str, ...], env: dict[str, str], homes: str) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run; CPU time suffers less from a busy machine.
    Each checkout gets its own data folder (their schemas may differ)."""
    home = Path(homes) / str(abs(hash(str(app))))
    child_env = dict(env, PYTHONPATH=str(app), TOKENWORTH_HOME=str(home))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tokenworth", *command], env=child_env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


if __name__ == "__main__":
    main()
