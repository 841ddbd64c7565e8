"""Logs: a file only when something is logged, --verbose to stderr, keys masked, crashes kept."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import CliRunner, subprocess_env
from tokenworth.core import logsetup
from tokenworth.core.redact import redact_secrets

FAKE_KEYS = (
    "sk-ant-api03-FAKElogTESTkey0123456789abcdef",
    "sk-or-v1-0123456789abcdefFAKEFAKEFAKE",
    "sk-admin-FAKEadminKEY0123456789",
    "sk-proj-FAKEprojectKEY0123456789",
    "sk-FAKEplainDeepSeekKey0123456789",
)


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "logs" / "tokenworth.log"
    yield path
    logsetup.setup_logging(None)  # detach from the test's folder


@pytest.mark.parametrize("key", FAKE_KEYS)
def test_redaction_keeps_the_kind_and_drops_the_key(key: str) -> None:
    masked = redact_secrets(f"calling with {key} now")

    assert key not in masked
    assert masked.startswith("calling with sk-")
    assert masked.endswith("*** now")


def test_ordinary_words_are_left_alone() -> None:
    text = "task-manager risk-assessment sk-learn claude-sonnet-4-5 msg_01EXAMPLE"

    assert redact_secrets(text) == text


def test_nothing_logged_means_no_file(log_file: Path) -> None:
    logsetup.setup_logging(log_file)

    logging.getLogger("tokenworth.test").debug("below the level")

    assert not log_file.parent.exists()


def test_records_are_written_with_keys_masked(log_file: Path) -> None:
    logsetup.setup_logging(log_file)
    log = logging.getLogger("tokenworth.test")

    log.info("polling with key %s", FAKE_KEYS[0])
    try:
        raise RuntimeError(f"provider rejected {FAKE_KEYS[1]}")
    except RuntimeError:
        log.exception("poll failed")
    logging.getLogger("some.library").warning("header Authorization: Bearer %s", FAKE_KEYS[2])

    text = log_file.read_text(encoding="utf-8")
    assert "polling with key sk-ant-api03-***" in text
    assert "RuntimeError: provider rejected sk-or-v1-***" in text
    assert "Traceback (most recent call last)" in text
    assert "Authorization: Bearer ***" in text
    for key in FAKE_KEYS:
        assert key not in text


def test_a_log_file_that_cannot_be_rotated_keeps_every_record(
    log_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Windows refuses to rename a file another process (the tray) has open: a command's records
    still land in the log, with no logging error printed per record."""
    monkeypatch.setattr(logsetup, "LOG_FILE_MAX_BYTES", 2_000)
    log_file.parent.mkdir(parents=True)
    backups = {
        log_file.with_name(f"{log_file.name}.{n}"): f"backup {n}\n" for n in range(1, logsetup.LOG_FILE_BACKUPS + 1)
    }
    for path, text in backups.items():
        path.write_text(text, encoding="utf-8")
    real_rename = os.rename

    def sharing_violation(source: str, target: str) -> None:
        if str(source) == str(log_file):  # open in the tray: Windows refuses to move it
            raise PermissionError(32, "The process cannot access the file because it is being used by another process")
        real_rename(source, target)

    monkeypatch.setattr(os, "rename", sharing_violation)
    logsetup.setup_logging(log_file)
    log = logging.getLogger("tokenworth.test")
    for number in range(100):
        log.warning("record %03d %s", number, "x" * 40)

    text = log_file.read_text(encoding="utf-8")
    assert all(f"record {number:03d}" in text for number in range(100))
    assert "Logging error" not in capsys.readouterr().err
    assert {path: path.read_text(encoding="utf-8") for path in backups} == backups  # none lost or shifted


def test_a_log_file_that_cannot_be_opened_is_one_line_and_the_command_goes_on(
    cli: CliRunner, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A `logs` folder the user cannot write (made by `sudo tokenworth`; here a file in its place):
    one line says so, not a logging traceback per record, and the command's own answer follows."""
    (home / "logs").write_text("not a folder")
    result = cli("task", "show", "999")
    logging.getLogger("tokenworth.test").warning("a second record of the same run")
    streams = capsys.readouterr().err + result.err
    assert result.code == 1
    assert "task #999" in result.err
    assert "Logging error" not in streams
    assert "Traceback" not in streams
    assert streams.count("cannot write the log file") == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a disk that is always full)")
def test_a_log_file_on_a_full_disk_is_one_line_not_a_traceback_per_record(
    log_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Writes failing (no space left): said once, as for a file that cannot be opened; the run
    goes on without a logging traceback for every line it logs."""
    log_file.parent.mkdir(parents=True)
    log_file.symlink_to("/dev/full")
    logsetup.setup_logging(log_file)
    for number in range(5):
        logging.getLogger("tokenworth.test").warning("record %d", number)
    err = capsys.readouterr().err
    assert "Logging error" not in err
    assert "Traceback" not in err
    assert err.count("cannot write the log file") == 1
    assert "No space left on device" in err


def test_a_full_log_file_still_rotates_into_its_backups(log_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logsetup, "LOG_FILE_MAX_BYTES", 2_000)
    logsetup.setup_logging(log_file)
    log = logging.getLogger("tokenworth.test")
    for number in range(200):
        log.warning("record %03d %s", number, "x" * 40)
    logsetup.setup_logging(None)
    names = sorted(path.name for path in log_file.parent.iterdir())
    assert names == ["tokenworth.log", *(f"tokenworth.log.{n}" for n in range(1, logsetup.LOG_FILE_BACKUPS + 1))]
    assert "record 199" in log_file.read_text(encoding="utf-8")
    assert "record 1" in log_file.with_name("tokenworth.log.1").read_text(encoding="utf-8")


def test_verbose_also_logs_debug_to_stderr(log_file: Path) -> None:
    stderr = io.StringIO()
    logsetup.setup_logging(log_file, verbose=True, stderr=stderr)

    logging.getLogger("tokenworth.test").debug("detail %s", FAKE_KEYS[3])

    assert stderr.getvalue() == "DEBUG tokenworth.test: detail sk-proj-***\n"
    assert "detail sk-proj-***" in log_file.read_text(encoding="utf-8")


def test_setting_up_again_replaces_the_handlers(log_file: Path, tmp_path: Path) -> None:
    logsetup.setup_logging(log_file)
    second = tmp_path / "second.log"
    logsetup.setup_logging(second)

    logging.getLogger("tokenworth.test").warning("once")

    assert not log_file.exists()
    assert second.read_text(encoding="utf-8").count("once") == 1
    assert logsetup.log_file_of() == second


def test_cli_verbose_flag_logs_to_stderr_and_the_file(cli: CliRunner, home: Path) -> None:
    quiet = cli("report", "daily", "--no-import")
    verbose = cli("--verbose", "report", "daily", "--no-import")

    assert "DEBUG" not in quiet.err
    assert "DEBUG tokenworth.cli: running report" in verbose.err
    assert "running report" in (home / "logs" / "tokenworth.log").read_text(encoding="utf-8")
    logsetup.setup_logging(None)


def test_install_chains_to_the_hooks_already_there() -> None:
    seen: list[str] = []
    logsetup.uninstall_crash_handler()  # an earlier in-process CLI run may have installed it
    previous = threading.excepthook
    threading.excepthook = lambda args: seen.append(str(args.exc_value))
    try:
        logsetup.install_crash_handler(notifier=seen.append)
        thread = threading.Thread(target=lambda: 1 / 0, name="worker")
        thread.start()
        thread.join()
    finally:
        logsetup.uninstall_crash_handler()
        threading.excepthook = previous

    assert seen == ["ZeroDivisionError: division by zero", "division by zero"]


CRASH_SCRIPT = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from tokenworth.core import logsetup

    log_file = Path(sys.argv[1])
    notes = log_file.with_name("notes.txt")
    logsetup.setup_logging(log_file)
    logsetup.install_crash_handler(lambda text: notes.open("a").write(text + "\\n"))
    worker = threading.Thread(target=lambda: {}["missing " + sys.argv[2]], name="poller")
    worker.start()
    worker.join()
    raise RuntimeError("gave up with " + sys.argv[2])
    """
)


def test_a_crash_leaves_a_traceback_in_the_log_and_tells_the_notifier(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "tokenworth.log"

    done = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, str(log_file), FAKE_KEYS[0]],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1
    text = log_file.read_text(encoding="utf-8")
    assert "uncaught exception in poller" in text
    assert "uncaught exception in main thread" in text
    assert text.count("Traceback (most recent call last)") == 2
    assert "RuntimeError: gave up with sk-ant-api03-***" in text
    notes = (tmp_path / "logs" / "notes.txt").read_text(encoding="utf-8").splitlines()
    assert notes == ["KeyError: 'missing sk-ant-api03-***'", "RuntimeError: gave up with sk-ant-api03-***"]
    assert "RuntimeError: gave up with sk-ant-api03-***" in done.stderr
    assert f"(also written to {log_file})" in done.stderr
    for output in (text, done.stderr, "\n".join(notes)):
        assert FAKE_KEYS[0] not in output


def test_a_hard_crash_leaves_the_python_stacks_in_faults_log(tmp_path: Path) -> None:
    script = (
        "import faulthandler, sys; from pathlib import Path; from tokenworth.core import logsetup; "
        "logsetup.enable_fault_log(Path(sys.argv[1])); faulthandler._sigsegv()"
    )

    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "logs")],
        env=subprocess_env(),
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert done.returncode != 0
    text = (tmp_path / "logs" / "faults.log").read_text(encoding="utf-8")
    assert "Fatal Python error: Segmentation fault" in text


LATE_IMPORT_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from tokenworth.core import logsetup

    logsetup.setup_logging(Path(sys.argv[1]))
    logsetup.install_crash_handler()
    print("logging" in sys.modules, "threading" in sys.modules)
    import logging, threading
    logging.getLogger("tokenworth.late").warning("imported late with %s", sys.argv[2])
    worker = threading.Thread(target=lambda: 1 / 0, name="late-thread")
    worker.start()
    worker.join()
    """
)


def test_setting_up_loads_nothing_yet_hooks_in_when_logging_and_threading_arrive(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "tokenworth.log"

    done = subprocess.run(
        [sys.executable, "-c", LATE_IMPORT_SCRIPT, str(log_file), FAKE_KEYS[2]],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False False"  # a quick CLI run pays for neither import
    text = log_file.read_text(encoding="utf-8")
    assert "imported late with sk-admin-***" in text
    assert "uncaught exception in late-thread" in text
    assert "ZeroDivisionError" in text
    assert FAKE_KEYS[2] not in text + done.stderr
