"""Moving work off the GUI thread: run a callable in a pool, get (result, error) back by signal.

Database work goes to one serial lane (a pool of one thread), so writes never race and a
Session never crosses threads: each job opens and closes its own session inside the worker.
Network work (provider polls) may run in parallel on its own lane. Workers never touch widgets;
results come back to the main thread through a queued signal. Tests use `InlineRunner`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

DoneCallback = Callable[[Any, BaseException | None], None]
ProgressSink = Callable[[Any], None]


class Lane(StrEnum):
    DB = "db"  # serial: imports, reports, settings that touch the ledger
    NET = "net"  # parallel: provider polls (phase 2)


class _Relay(QObject):
    """Lives on the main thread; the worker emits, Qt queues, the callback runs on the main thread."""

    done = Signal(object, object)
    progressed = Signal(object)

    def __init__(self, on_done: DoneCallback | None, on_progress: ProgressSink | None) -> None:
        super().__init__()
        self._on_done = on_done
        self._on_progress = on_progress
        self.done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self.progressed.connect(self._deliver_progress, Qt.ConnectionType.QueuedConnection)
        self.finished_callbacks: list[Callable[[_Relay], None]] = []

    @Slot(object, object)
    def _deliver(self, result: Any, error: BaseException | None) -> None:
        try:
            if self._on_done is not None:
                self._on_done(result, error)
        finally:
            for callback in self.finished_callbacks:
                callback(self)

    @Slot(object)
    def _deliver_progress(self, value: Any) -> None:
        if self._on_progress is not None:
            self._on_progress(value)


class _Job(QRunnable):
    def __init__(self, fn: Callable[..., Any], relay: _Relay, with_progress: bool) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._relay = relay
        self._with_progress = with_progress

    def run(self) -> None:
        try:
            result = self._fn(self._relay.progressed.emit) if self._with_progress else self._fn()
        except BaseException as exc:  # delivered to the caller, who decides what the user sees
            log.debug("background job failed", exc_info=True)
            self._relay.done.emit(None, exc)
        else:
            self._relay.done.emit(result, None)


class TaskRunner(QObject):
    """Submit callables to a lane; `on_done(result, error)` runs later on the main thread."""

    def __init__(self, parent: QObject | None = None, *, net_threads: int = 4) -> None:
        super().__init__(parent)
        self._pools = {Lane.DB: QThreadPool(self), Lane.NET: QThreadPool(self)}
        self._pools[Lane.DB].setMaxThreadCount(1)
        self._pools[Lane.NET].setMaxThreadCount(net_threads)
        self._relays: set[_Relay] = set()

    def submit(
        self,
        fn: Callable[..., Any],
        on_done: DoneCallback | None = None,
        *,
        lane: Lane = Lane.DB,
        on_progress: ProgressSink | None = None,
    ) -> None:
        """Run `fn()` (or `fn(progress)` when `on_progress` is given) in `lane`'s pool."""
        relay = _Relay(on_done, on_progress)
        self._relays.add(relay)
        relay.finished_callbacks.append(self._forget)
        self._pools[lane].start(_Job(fn, relay, on_progress is not None))

    def _forget(self, relay: _Relay) -> None:
        self._relays.discard(relay)
        relay.deleteLater()

    @property
    def pending(self) -> int:
        """Jobs submitted whose result has not been delivered yet."""
        return len(self._relays)

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Block until every lane is idle (at shutdown and in tests)."""
        return all(pool.waitForDone(timeout_ms) for pool in self._pools.values())


def if_alive(owner: QObject, callback: DoneCallback) -> DoneCallback:
    """`callback`, skipped when `owner` (the widget that asked) was deleted before the worker
    answered: a closed dialog's late answer is dropped instead of raising on a dead widget."""
    from shiboken6 import isValid

    def deliver(result: Any, error: BaseException | None) -> None:
        if isValid(owner):
            callback(result, error)

    return deliver


class InlineRunner:
    """Runs each job at once on the calling thread: for tests that want plain sequencing."""

    pending = 0

    def submit(
        self,
        fn: Callable[..., Any],
        on_done: DoneCallback | None = None,
        *,
        lane: Lane = Lane.DB,
        on_progress: ProgressSink | None = None,
    ) -> None:
        try:
            result = fn(on_progress) if on_progress is not None else fn()
        except Exception as exc:
            if on_done is not None:
                on_done(None, exc)
        else:
            if on_done is not None:
                on_done(result, None)

    def wait(self, timeout_ms: int = 30_000) -> bool:
        return True
