"""A large import in a child `tokenworth import` process, with its progress read back.

The tray app's first import reads the user's whole log history. Run inside the app it is single
process (the app has threads, so it cannot fork parse workers) and its peak memory stays with
the app all day; in a child it parses in worker processes and its memory goes when it exits.
The child writes the same database (its URL is passed in the environment, never in argv) and
prints progress lines on stderr and the summary as JSON on stdout.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

import orjson

from tokenworth.core.config import DB_URL_ENV
from tokenworth.core.redact import redact_secrets
from tokenworth.services.importing import ImportSummary, ProgressCallback

if TYPE_CHECKING:
    import subprocess
    import threading

PROGRESS_LINE_PREFIX = "progress "
PROGRESS_FLAG = "--progress-lines"
"""`tokenworth import`'s (undocumented) flag for progress as lines a parent process reads."""
STOPPED_EXIT = 143  # 128 + SIGTERM
"""`tokenworth import`'s exit status when SIGTERM stopped it early (what it read is kept)."""
STOP_GRACE_S = 10.0
"""How long a child asked to stop may take to commit what it read before it is killed."""


class ChildImportError(RuntimeError):
    """The child import could not start, failed, or gave no summary (the caller imports itself)."""


class ProgressLines:
    """Progress as `progress DONE TOTAL` lines (bytes), at most one per percent: the child's side."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        percent = min(100, done * 100 // total) if total > 0 else 100
        if percent == self._last:
            return
        self._last = percent
        self.stream.write(f"{PROGRESS_LINE_PREFIX}{done} {total}\n")
        self.stream.flush()

    def close(self) -> None:
        """Nothing to finish: every line is complete when written."""


def import_in_child(
    db_url: str,
    *,
    env: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> ImportSummary:
    """Import every agent's default log places in a child process; its summary.

    Setting `stop` (the app quitting) asks the child (by SIGTERM: POSIX; the app uses a child on
    Linux only) to stop after its current file; the summary then says `stopped`. Raises
    `ChildImportError` when the child cannot run or fails; whatever it committed before stays
    (imports are incremental), so importing in this process afterwards finishes the job.
    """
    import subprocess
    import threading

    from tokenworth.core.selfexec import child_command

    argv, child_env = child_command(os.environ if env is None else env)
    child_env[DB_URL_ENV] = db_url
    child_env["PYTHONIOENCODING"] = "utf-8"
    try:
        child = subprocess.Popen(
            [*argv, "import", "--json", PROGRESS_FLAG],
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            encoding="utf-8",
            errors="replace",
            # Its own process group: a kill after `STOP_GRACE_S` takes the child's parse workers
            # too, which would otherwise live on holding its pipes (and this reader) open.
            start_new_session=True,
        )
    except OSError as exc:
        raise ChildImportError(f"cannot start the import process: {exc}") from exc
    with child:  # closes both pipes, whatever happens
        summary_stream, message_stream = child.stdout, child.stderr
        assert summary_stream is not None
        assert message_stream is not None
        stdout: list[str] = []
        reader = threading.Thread(target=lambda: stdout.append(summary_stream.read()), daemon=True)
        reader.start()  # stdout is read meanwhile, so a large summary never blocks the child
        if stop is not None:
            threading.Thread(target=_stop_when_asked, args=(child, stop), daemon=True).start()
        last_message = ""  # the child's last other line on stderr: why it failed, if it did
        for line in message_stream:
            if line.startswith(PROGRESS_LINE_PREFIX):
                if progress is not None:
                    done, total = line[len(PROGRESS_LINE_PREFIX) :].split()
                    progress(int(done), int(total))
            elif line.strip():
                last_message = line.strip()
        code = child.wait()
        reader.join()
    output = "".join(stdout)
    if code not in (0, STOPPED_EXIT):
        why = redact_secrets(last_message) or "no message"
        raise ChildImportError(f"the import process failed (exit {code}): {why}")
    try:
        return ImportSummary.from_json(orjson.loads(output))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ChildImportError(f"the import process gave no summary: {exc}") from exc


def _stop_when_asked(child: subprocess.Popen[str], stop: threading.Event) -> None:
    """Until the child exits: once `stop` is set, SIGTERM it (it commits and exits), and kill it
    if it has not within `STOP_GRACE_S` (its last transaction is rolled back, nothing is lost)."""
    import subprocess

    while not stop.wait(0.1):
        if child.poll() is not None:
            return
    if child.poll() is not None:
        return
    child.terminate()  # the child alone: it stops its workers itself, after committing
    try:
        child.wait(STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        kill_group(child)


def kill_group(child: subprocess.Popen[str]) -> None:
    """Kill a child started in its own session, with every process it forked (POSIX; elsewhere
    the child alone)."""
    import signal

    killpg = getattr(os, "killpg", None)
    if killpg is None:
        child.kill()
        return
    try:
        killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        child.kill()
