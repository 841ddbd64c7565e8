"""Import and report speed on a Claude Code log tree, side by side with ccusage's native binary.

Each step runs as its own process (`python -m tokenworth ...` with this checkout's code) N times
(default 3); the table shows the median wall time, the ratio to ccusage's
`daily --json --offline -z UTC` on the same tree, and the peak RSS (from wait4's rusage of that
process). Files are read once before timing, so every step sees a warm page cache.

Steps:
- cold import: `tokenworth import --json` into a fresh TOKENWORTH_HOME;
- cold report: `tokenworth report daily --json` into a fresh home (first run: import + report);
- nothing new: `tokenworth import --json` again;
- one new session: the tree plus one new ~1.5 MB session (removed again afterwards);
- report: `tokenworth report daily --json` (its incremental import finds nothing new: the
  everyday command, the drop-in for `ccusage daily`);
- report --no-import;
- ccusage daily --json --offline -z UTC.

    python tests/bench/generate_logs.py --size 200MB --out /work/bench-data/200mb
    python tests/bench/bench_import.py /work/bench-data/200mb /work/bench-data/1gb
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
APP_DIR = ROOT / "app"
OUT_DIR = HERE / "out"
sys.path.insert(0, str(HERE))

from generate_logs import append_session  # noqa: E402


def subprocess_env(**extra: str) -> dict[str, str]:
    """As tests/conftest.py: this checkout's code first on the path, offscreen Qt, plus `extra`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(APP_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["QT_QPA_PLATFORM"] = env.get("QT_QPA_PLATFORM", "offscreen")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode is cached after the first run
    env.update(extra)
    return env


def find_ccusage(explicit: str | None, *, native: bool = True) -> str:
    """--ccusage, else $TOKENWORTH_CCUSAGE, else PATH; the npm wrapper is swapped for the
    native binary it would spawn (the wrapper adds a Node start-up of ~0.15 s)."""
    candidate = explicit or os.environ.get("TOKENWORTH_CCUSAGE") or shutil.which("ccusage")
    if not candidate:
        raise SystemExit("ccusage not found: pass --ccusage PATH or set TOKENWORTH_CCUSAGE")
    if native:
        real = Path(candidate).resolve()
        for parent in real.parents:
            if parent.name == "node_modules":
                for binary in sorted(parent.glob("@ccusage/ccusage-*/bin/ccusage")):
                    if os.access(binary, os.X_OK):
                        return str(binary)
                break
    return candidate


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    """User + system CPU time: steadier than wall time when other jobs share the cores."""
    peak_rss_mb: float


@dataclass
class Step:
    name: str
    command: str
    runs: list[Run] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def cpu_median(self) -> float:
        return statistics.median(r.cpu_seconds for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.peak_rss_mb for r in self.runs)


def run_measured(argv: Sequence[str], env: dict[str, str], stdout_path: Path) -> Run:
    """Run one process to completion; wall time and its own peak RSS (wait4 rusage)."""
    with stdout_path.open("wb") as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(argv), env=env, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(
                f"{' '.join(argv)} failed ({proc.returncode}):\n{err.read().decode(errors='replace')[-3000:]}"
            )
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def warm_cache(tree: Path) -> tuple[int, int]:
    """Read every file once so all steps see the same (warm) page cache; returns (files, bytes)."""
    files = size = 0
    for path in (tree / "projects").rglob("*.jsonl"):
        with path.open("rb") as handle:
            while chunk := handle.read(8 << 20):
                size += len(chunk)
        files += 1
    return files, size


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "os": f"{platform.system()} {platform.release()}",
    }


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


class Bench:
    def __init__(self, tree: Path, ccusage: str, repeat: int, work: Path) -> None:
        self.tree = tree
        self.ccusage = ccusage
        self.repeat = repeat
        self.work = work
        empty = work / "empty"
        for sub in ("home", "codex", "gemini/tmp"):
            (empty / sub).mkdir(parents=True, exist_ok=True)
        # Only the tree is visible: no real ~/.claude, ~/.codex or ~/.gemini of this machine.
        self.isolation = {
            "HOME": str(empty / "home"),
            "CLAUDE_CONFIG_DIR": str(tree),
            "CODEX_HOME": str(empty / "codex"),
            "GEMINI_DATA_DIR": str(empty / "gemini" / "tmp"),
        }
        self.python = [sys.executable, "-m", "tokenworth"]
        self.steps: list[Step] = []
        self.outputs: dict[str, Path] = {}

    def _env(self, home: Path) -> dict[str, str]:
        return subprocess_env(TOKENWORTH_HOME=str(home), **self.isolation)

    def _fresh_home(self, name: str) -> Path:
        home = self.work / name
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        return home

    def measure(
        self,
        name: str,
        args: Sequence[str],
        *,
        home: Callable[[], Path] | None,
        before: Callable[[], Any] | None = None,
        after: Callable[[], Any] | None = None,
        ccusage: bool = False,
    ) -> Step:
        shown = " ".join(["ccusage" if ccusage else "tokenworth", *args])
        step = Step(name, shown)
        output = self.work / f"{name.replace(' ', '_')}.out"
        for _ in range(self.repeat):
            if before:
                before()
            if ccusage:
                argv, env = [self.ccusage, *args], {**os.environ, **self.isolation}
            else:
                assert home is not None
                argv, env = [*self.python, *args], self._env(home())
            step.runs.append(run_measured(argv, env, output))
            if after:
                after()
        self.outputs[name] = output
        self.steps.append(step)
        print(
            f"  {name:<26} median {step.median:7.2f} s  cpu {step.cpu_median:7.2f} s  "
            f"peak {step.peak_mb:6.0f} MB  "
            f"runs {', '.join(f'{r.seconds:.2f}' for r in step.runs)}",
            file=sys.stderr,
        )
        return step

    def run_all(self) -> None:
        base = self.work / "base-home"
        self.measure("cold import", ["import", "--json"], home=lambda: self._fresh_home("base-home"))
        self.measure(
            "cold report",
            ["report", "daily", "--json", "--tz", "UTC"],
            home=lambda: self._fresh_home("cold-report-home"),
        )
        shutil.rmtree(self.work / "cold-report-home", ignore_errors=True)
        self.measure("nothing new: import", ["import", "--json"], home=lambda: base)

        appended: list[Path] = []
        append_home = self.work / "append-home"

        def add_session() -> None:
            shutil.rmtree(append_home, ignore_errors=True)
            shutil.copytree(base, append_home)
            appended[:] = append_session(self.tree, seed=4242)

        def remove_session() -> None:
            folders = {parent for path in appended for parent in path.parents if self.tree in parent.parents}
            for path in appended:
                path.unlink()
            for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
                if folder.is_dir() and not any(folder.iterdir()):  # the new session's subagents/
                    folder.rmdir()
            shutil.rmtree(append_home, ignore_errors=True)

        self.measure(
            "one new session: import",
            ["import", "--json"],
            home=lambda: append_home,
            before=add_session,
            after=remove_session,
        )
        self.measure("report daily", ["report", "daily", "--json", "--tz", "UTC"], home=lambda: base)
        self.measure(
            "report daily --no-import",
            ["report", "daily", "--json", "--tz", "UTC", "--no-import"],
            home=lambda: base,
        )
        self.measure("ccusage daily", ["daily", "--json", "--offline", "-z", "UTC"], home=None, ccusage=True)

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    def parity(self) -> str:
        """Grand token totals of our report and ccusage's on the same tree (a sanity check)."""
        ours = json.loads(self.outputs["report daily"].read_text())["totals"]
        theirs = json.loads(self.outputs["ccusage daily"].read_text())["totals"]
        pairs = {
            "input": (ours["input_tokens"], theirs["inputTokens"]),
            "output": (ours["output_tokens"], theirs["outputTokens"]),
            "cache read": (ours["cache_read_tokens"], theirs["cacheReadTokens"]),
            "cache write": (ours["cache_write_tokens"], theirs["cacheCreationTokens"]),
        }
        unequal = [f"{k} {a:,} vs {b:,}" for k, (a, b) in pairs.items() if a != b]
        our_cost = float(ours["cost_usd"] or 0)
        their_cost = float(theirs["totalCost"])
        diff = (our_cost - their_cost) / their_cost if their_cost else 0.0
        tokens = "token totals equal" if not unequal else "TOKEN TOTALS DIFFER: " + "; ".join(unequal)
        return f"{tokens}; cost ${our_cost:,.2f} vs ${their_cost:,.2f} ({diff:+.3%})"


def render(bench: Bench, files: int, size: int, loads: tuple[str, str], command: str) -> str:
    cc = bench.step("ccusage daily").median
    cc_cpu = bench.step("ccusage daily").cpu_median
    lines = [
        f"### {size / 1e6:,.0f} MB of Claude Code logs ({files:,} files)",
        "",
        "| Step | Median s | Ratio to ccusage | CPU s | CPU ratio | Peak RSS MB | Runs (s) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for step in bench.steps:
        ratio = f"{step.median / cc:.2f}"
        cpu_ratio = f"{step.cpu_median / cc_cpu:.2f}"
        runs = ", ".join(f"{r.seconds:.2f}" for r in step.runs)
        lines.append(
            f"| {step.name} (`{step.command}`) | {step.median:.2f} | {ratio} | "
            f"{step.cpu_median:.2f} | {cpu_ratio} | {step.peak_mb:.0f} | {runs} |"
        )
    cold_sum = bench.step("cold import").median + bench.step("report daily --no-import").median
    cold_one = bench.step("cold report").median
    everyday = bench.step("report daily").median
    ours_peak = max(s.peak_mb for s in bench.steps if s.name != "ccusage daily")
    lines += [
        "",
        f"- Cold import + report: {cold_sum:.2f} s as two commands, {cold_one:.2f} s as one "
        f"(`report daily` on a fresh home): ratio {cold_sum / cc:.2f} / {cold_one / cc:.2f} "
        f"(target <= 1.0: {'met' if cold_one / cc <= 1.0 else 'NOT met'}).",
        f"- Nothing new, `report daily`: {cc / everyday:.1f}x faster than ccusage "
        f"(target >= 10x: {'met' if cc / everyday >= 10 else 'NOT met'}).",
        f"- CPU time instead of wall time (steadier on a shared machine): cold report "
        f"{bench.step('cold report').cpu_median / cc_cpu:.2f}x ccusage's; nothing-new report "
        f"{cc_cpu / bench.step('report daily').cpu_median:.1f}x faster.",
        f"- Peak memory (ours): {ours_peak:.0f} MB (target < 300 MB: {'met' if ours_peak < 300 else 'NOT met'}).",
        f"- Same tree, same answer: {bench.parity()}.",
        f"- Load average (1/5/15 min) before: {loads[0]}; after: {loads[1]}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", type=Path, help="log trees made by generate_logs.py")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step (median reported)")
    parser.add_argument("--ccusage", help="ccusage binary (default: $TOKENWORTH_CCUSAGE, then PATH)")
    parser.add_argument("--ccusage-wrapper", action="store_true", help="time the npm wrapper, not the native binary")
    parser.add_argument("--work", type=Path, help="scratch folder for homes (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where the markdown snippet goes")
    args = parser.parse_args(argv)

    ccusage = find_ccusage(args.ccusage, native=not args.ccusage_wrapper)
    version = subprocess.run([ccusage, "--version"], capture_output=True, text=True).stdout.strip()
    info = machine()
    command = "python tests/bench/bench_import.py " + " ".join(
        [*(str(t) for t in args.trees), *(["--repeat", str(args.repeat)] if args.repeat != 3 else [])]
    )
    sections = [
        "## Benchmark",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['os']}; Python {info['python']}, "
        f"SQLite {info['sqlite']}; {version} (`{ccusage}`).",
        f"Command: `{command}` (trees from `tests/bench/generate_logs.py`; median of "
        f"{args.repeat} runs, warm page cache).",
    ]
    for tree in args.trees:
        if not (tree / "projects").is_dir():
            raise SystemExit(f"{tree} has no projects/ folder: generate it with generate_logs.py")
        print(f"{tree}:", file=sys.stderr)
        files, size = warm_cache(tree)
        before = _load()
        with tempfile.TemporaryDirectory(prefix="tokenworth-bench-", dir=args.work) as scratch:
            bench = Bench(tree, ccusage, args.repeat, Path(scratch))
            bench.run_all()
            sections += ["", render(bench, files, size, (before, _load()), command)]
    text = "\n".join(sections) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = args.out / f"bench-{stamp}.md"
    target.write_text(text)
    print(text)
    print(f"(written to {target})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
