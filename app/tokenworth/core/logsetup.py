"""Logging for the CLI and the tray: a rotating file, `--verbose` to stderr, keys masked, crashes kept.

Cheap on purpose, because the CLI calls it on every run and a quick `report` loads neither
`logging` nor `threading`: setting up costs no import. The handlers are attached the moment
anything imports `logging` (at once if it already has), the thread crash hook the moment anything
imports `threading`, the file is opened at the first record, and a routine run writes nothing.

`tokenworth.cli.main` sets up logging and the crash hooks before any command, the tray included.
The tray app then only adds, once its QApplication exists: `set_crash_notifier(fn)` (fn gets a
one-line summary from any thread: emit a signal, show a tray message) and
`enable_fault_log(paths.log_dir)` (hard crashes inside Qt).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO, cast

from tokenworth.core.redact import redact_secrets

if TYPE_CHECKING:
    import logging
    import logging.handlers
    import threading
    from importlib.machinery import ModuleSpec
    from types import ModuleType

LOGGER_NAME = "tokenworth"
LOG_FILE_MAX_BYTES = 1_000_000
LOG_FILE_BACKUPS = 3
FILE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"
STDERR_FORMAT = "%(levelname)s %(name)s: %(message)s"

CrashNotifier = Callable[[str], None]
"""Called with a one-line summary after a crash was logged. It may run on any thread: a Qt
notifier should emit a signal rather than touch widgets."""

_HANDLER_MARK = "_tokenworth_handler"


# --- run code right after a module is first imported ----------------------------------------------


class _ChainedLoader:
    """Loads a module with its own loader, then runs the callbacks waiting for it."""

    def __init__(self, loader: Any, callbacks: list[Callable[[], None]]) -> None:
        self._loader = loader
        self._callbacks = callbacks

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return cast("ModuleType | None", self._loader.create_module(spec))

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader  # look like any other module (linecache, get_source)
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        for callback in self._callbacks:
            with contextlib.suppress(Exception):  # setting up logging must never break an import
                callback()


class _AfterImport:
    """A meta-path finder that only watches for a few module names, then steps aside."""

    def __init__(self) -> None:
        self.waiting: dict[str, list[Callable[[], None]]] = {}

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        callbacks = self.waiting.pop(name, None)
        if callbacks is None:
            return None
        if not self.waiting and self in sys.meta_path:
            sys.meta_path.remove(self)
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = cast("ModuleSpec | None", find(name, path, target))
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = cast(Any, _ChainedLoader(spec.loader, callbacks))
                return spec
        return None


_after_import = _AfterImport()


def when_imported(name: str, callback: Callable[[], None]) -> None:
    """Run `callback` once module `name` is loaded: now if it is, else right after its import."""
    if name in sys.modules:
        callback()
        return
    waiting = _after_import.waiting.setdefault(name, [])
    if callback not in waiting:
        waiting.append(callback)
    if _after_import not in sys.meta_path:
        sys.meta_path.insert(0, _after_import)


# --- the log file and --verbose --------------------------------------------------------------------


class _LogConfig:
    """What the last `setup_logging` asked for (a plain class: a dataclass costs start-up time)."""

    def __init__(self, log_file: Path | None, verbose: bool, stderr: TextIO | None) -> None:
        self.log_file = log_file
        self.verbose = verbose
        self.stderr = stderr


_config: _LogConfig | None = None


def setup_logging(log_file: Path | None, *, verbose: bool = False, stderr: TextIO | None = None) -> None:
    """Write Tokenworth's records (INFO, or DEBUG when verbose) and every library's warnings to a
    rotating `log_file`; when verbose, to `stderr` too. A later call replaces what an earlier one
    installed, so calling it once per command run is safe."""
    global _config
    _config = _LogConfig(log_file, verbose, stderr)
    if verbose:
        import logging  # noqa: F401  (verbose runs log at once; the hook below then applies it)
    when_imported("logging", _apply_config)


def _apply_config() -> None:
    import logging

    config = _config
    if config is None:
        return
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
        handler.close()
    level = logging.DEBUG if config.verbose else logging.INFO
    logging.getLogger(LOGGER_NAME).setLevel(level)
    handlers: list[logging.Handler] = []
    if config.log_file is not None:
        handlers.append(_file_handler(config.log_file))
    if config.verbose:
        stream = logging.StreamHandler(config.stderr if config.stderr is not None else sys.stderr)
        stream.setFormatter(logging.Formatter(STDERR_FORMAT))
        handlers.append(stream)
    for handler in handlers:
        handler.setLevel(level)
        handler.addFilter(RedactingFilter())
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)


def logger(name: str) -> logging.Logger:
    """`logging.getLogger(name)`, importing logging only when a record is really due."""
    import logging

    return logging.getLogger(name)


class RedactingFilter:
    """Masks key-like text in a record's message, arguments and traceback (defence in depth)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw parts, masked
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact_secrets(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            import traceback

            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_secrets(record.stack_info)
        return True


@cache
def _shared_rotating_file_handler_class() -> type[logging.handlers.RotatingFileHandler]:
    import logging.handlers

    class SharedRotatingFileHandler(logging.handlers.RotatingFileHandler):
        """One log file for the tray and every command: when the rename that rotates it fails
        (Windows refuses to rename a file another process has open), this process keeps
        appending and leaves rotating to a later run, instead of a logging error per record."""

        def doRollover(self) -> None:
            """The base file is moved aside first: if that is refused, nothing else moved and
            no backup was lost (the standard order deletes the oldest backup first)."""
            if self.stream:
                self.stream.close()
                self.stream = None
            base = self.baseFilename
            parked = f"{base}.rotating-{os.getpid()}"
            try:
                os.rename(base, parked)
            except OSError:
                self.maxBytes = 0  # kept open elsewhere: append, and leave rotating to a later run
            else:
                with contextlib.suppress(OSError):  # a backup in use: the parked file stays, named
                    for number in range(self.backupCount - 1, 0, -1):
                        older, newer = f"{base}.{number}", f"{base}.{number + 1}"
                        if os.path.exists(older):
                            os.replace(older, newer)
                    os.replace(parked, f"{base}.1")
            self.stream = self._open()

    return SharedRotatingFileHandler


@cache
def _deferred_file_handler_class() -> Callable[[Path], logging.Handler]:
    import logging

    class DeferredRotatingFileHandler(logging.Handler):
        """A rotating file made at the first record: a run that logs nothing creates and opens
        nothing."""

        def __init__(self, path: Path) -> None:
            super().__init__()
            self.baseFilename = str(path)
            self._file: logging.Handler | None = None
            self._unwritable = False

        def emit(self, record: logging.LogRecord) -> None:
            if self._unwritable:
                return
            try:
                if self._file is None:
                    try:
                        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
                        self._file = _shared_rotating_file_handler_class()(
                            self.baseFilename,
                            maxBytes=LOG_FILE_MAX_BYTES,
                            backupCount=LOG_FILE_BACKUPS,
                            encoding="utf-8",
                            errors="backslashreplace",  # a path that is not UTF-8 is logged, not a traceback
                        )
                    except OSError as exc:
                        self._give_up(exc)
                        return
                    self._file.setFormatter(self.formatter)
                    self._file.handleError = self._write_failed  # type: ignore[method-assign]
                self._file.emit(record)
            except Exception:
                self.handleError(record)

        def _write_failed(self, record: logging.LogRecord) -> None:
            """A write that fails (a full disk) is said once, in one line, like a file that cannot
            be opened; not a traceback for every line logged after it."""
            failure = sys.exc_info()[1]
            if isinstance(failure, OSError):
                self._give_up(failure)
            else:
                logging.Handler.handleError(self, record)

        def _give_up(self, exc: OSError) -> None:
            """A log file that cannot be opened (a folder made by `sudo tokenworth`, a read-only
            home) is said once, in one line; the command itself goes on."""
            self._unwritable = True
            stream = sys.stderr
            if stream is not None:
                reason = exc.strerror or str(exc)
                stream.write(f"tokenworth: cannot write the log file {self.baseFilename} ({reason}); not logging\n")

        def flush(self) -> None:
            if self._file is not None and not self._unwritable:
                try:
                    self._file.flush()
                except OSError as exc:
                    self._give_up(exc)

        def close(self) -> None:
            if self._file is not None:
                with contextlib.suppress(OSError):  # its last lines could not be written (a full disk): said
                    self._file.close()
                self._file = None
            super().close()

    return DeferredRotatingFileHandler


def _file_handler(log_file: Path) -> logging.Handler:
    import logging

    handler = _deferred_file_handler_class()(log_file)
    handler.setFormatter(logging.Formatter(FILE_FORMAT))
    return handler


def log_file_of() -> Path | None:
    """The file our handlers write to, if any (so a message can point the user at it)."""
    if "logging" not in sys.modules:
        return _config.log_file if _config is not None else None
    import logging

    for handler in logging.getLogger().handlers:
        filename = getattr(handler, "baseFilename", None)
        if filename and getattr(handler, _HANDLER_MARK, False) and not getattr(handler, "_unwritable", False):
            return Path(filename)
    return None


# --- crashes -----------------------------------------------------------------------------------


class _CrashHooks:
    """The installed excepthooks and what they chain to."""

    def __init__(self) -> None:
        self.installed = False
        self.notifier: CrashNotifier | None = None
        self.previous_sys_hook: Callable[..., object] = sys.excepthook
        self.previous_thread_hook: Callable[[threading.ExceptHookArgs], object] | None = None


_hooks = _CrashHooks()


def install_crash_handler(notifier: CrashNotifier | None = None) -> None:
    """Log every uncaught exception (main thread and other threads) with its traceback, then call
    `notifier` so a windowed app can say so instead of vanishing. Idempotent; a later call only
    replaces the notifier. Hooks installed before this one (e.g. a test runner's) still run."""
    if notifier is not None:
        _hooks.notifier = notifier
    if _hooks.installed:
        return
    _hooks.installed = True
    _hooks.previous_sys_hook = sys.excepthook
    sys.excepthook = _on_uncaught
    when_imported("threading", _install_thread_hook)


def _install_thread_hook() -> None:
    import threading

    if not _hooks.installed or threading.excepthook is _on_uncaught_in_thread:
        return
    _hooks.previous_thread_hook = threading.excepthook
    threading.excepthook = _on_uncaught_in_thread


def set_crash_notifier(notifier: CrashNotifier | None) -> None:
    """Replace (or with None remove) the callback told about crashes."""
    _hooks.notifier = notifier


def uninstall_crash_handler() -> None:
    """Put back the hooks that were there before `install_crash_handler` (for tests and shutdown)."""
    if not _hooks.installed:
        return
    if sys.excepthook is _on_uncaught:
        sys.excepthook = _hooks.previous_sys_hook
    if "threading" in sys.modules:
        import threading

        if threading.excepthook is _on_uncaught_in_thread and _hooks.previous_thread_hook is not None:
            threading.excepthook = _hooks.previous_thread_hook
    _hooks.installed = False
    _hooks.notifier = None
    _hooks.previous_thread_hook = None


_fault_file: TextIO | None = None


def enable_fault_log(log_dir: Path) -> Path:
    """For the long-running tray: a hard crash below Python (a segfault in Qt) still leaves the
    Python stacks in `faults.log` beside the log. The file stays open for the process's life."""
    import faulthandler

    global _fault_file
    path = log_dir / "faults.log"
    if _fault_file is None:
        log_dir.mkdir(parents=True, exist_ok=True)
        _fault_file = path.open("a", encoding="utf-8")
        faulthandler.enable(file=_fault_file, all_threads=True)
    return path


def disable_fault_log() -> None:
    """Close faults.log and stop writing hard crashes there (for tests that ran the tray in-process)."""
    global _fault_file
    if _fault_file is None:
        return
    import faulthandler

    faulthandler.disable()
    _fault_file.close()
    _fault_file = None


def crash_summary(exc_type: type[BaseException], exc_value: BaseException | None) -> str:
    """One short, key-free line for a notification: the exception's type and first line."""
    first_line = str(exc_value).strip().splitlines()[0] if exc_value is not None and str(exc_value) else ""
    text = f"{exc_type.__name__}: {first_line}" if first_line else exc_type.__name__
    text = redact_secrets(text)
    return text if len(text) <= 200 else text[:197] + "..."


def _on_uncaught(exc_type: type[BaseException], exc_value: BaseException, exc_tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        _hooks.previous_sys_hook(exc_type, exc_value, exc_tb)
        return
    _record_crash(_current_thread_name(), exc_type, exc_value, exc_tb)
    if _hooks.previous_sys_hook is sys.__excepthook__:
        _print_redacted(exc_type, exc_value, exc_tb)
    else:
        _hooks.previous_sys_hook(exc_type, exc_value, exc_tb)


def _current_thread_name() -> str:
    """Where sys.excepthook runs: usually the main thread, but Qt's pool threads call it too
    (an exception escaping a QRunnable)."""
    if "threading" not in sys.modules:
        return "main thread"
    import threading

    current = threading.current_thread()
    return "main thread" if current is threading.main_thread() else f"thread {current.name}"


def _on_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    import threading

    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "a thread"
    _record_crash(name, args.exc_type, args.exc_value, args.exc_traceback)
    previous = _hooks.previous_thread_hook
    if previous is None or previous is threading.__excepthook__:
        _print_redacted(args.exc_type, args.exc_value, args.exc_traceback, thread=name)
    else:
        previous(args)


def _record_crash(
    where: str,
    exc_type: type[BaseException],
    exc_value: BaseException | None,
    exc_tb: TracebackType | None,
) -> None:
    try:
        import logging  # attaches our handlers if nothing had imported logging yet

        exc_info = cast(
            "tuple[type[BaseException], BaseException, TracebackType | None]", (exc_type, exc_value, exc_tb)
        )
        logging.getLogger(f"{LOGGER_NAME}.crash").critical("uncaught exception in %s", where, exc_info=exc_info)
        for handler in logging.getLogger().handlers:
            handler.flush()
    except Exception:  # logging must never turn one crash into two
        pass
    notifier = _hooks.notifier
    if notifier is not None:
        with contextlib.suppress(Exception):
            notifier(crash_summary(exc_type, exc_value))


def _print_redacted(
    exc_type: type[BaseException],
    exc_value: BaseException | None,
    exc_tb: TracebackType | None,
    thread: str | None = None,
) -> None:
    import traceback

    stream = sys.stderr
    if stream is None:  # a windowed app on Windows has no console
        return
    text = "".join(traceback.format_exception(exc_type, exc_value, exc_tb))
    if thread is not None:
        text = f"Exception in thread {thread}:\n{text}"
    where = log_file_of()
    if where is not None:
        text += f"(also written to {where})\n"
    try:
        stream.write(redact_secrets(text))
        stream.flush()
    except Exception:
        pass
