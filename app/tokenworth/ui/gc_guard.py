"""Python's cyclic garbage collector, run on the main thread only.

Automatic collection runs in whichever thread happens to allocate. When a worker thread (an
import, a preview) collects a reference cycle that holds a Qt object (a closed dialog and its
slots), the object is deleted off the main thread and Qt crashes later (a dangling socket
notifier, a freed widget). So the app turns automatic collection off and collects from a timer
on the main thread instead, by the same generation thresholds (pyqtgraph's GarbageCollector
does the same for the same reason).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_INTERVAL_MS = 1_000


class MainThreadGc(QObject):
    """While started, garbage cycles are collected only here, on the main thread."""

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = CHECK_INTERVAL_MS) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)

    def start(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        if self._was_enabled:
            gc.enable()

    def collect_due(self) -> int:
        """Collect the oldest generation whose count passed its threshold (as automatic GC would)."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                return gc.collect(generation)
        return 0
