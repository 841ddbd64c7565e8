"""A guard against a PySide6 6.12.0 bug on Python 3.11: many calls drop a reference to None or
True that they never took (every void method such as `setVisible`, `processEvents`,
`setToolTip`; `Signal.emit`'s True), so after a few thousand calls CPython frees the singleton
and aborts with "none_dealloc" / "bool_dealloc". Python 3.12+ makes these objects immortal
(no harm there) and PySide6 6.11.3 is fine. On the affected combination we add a very large
number of references up front, so the stray decrements can never reach zero in a process's life.
"""

from __future__ import annotations

import sys

_AFFECTED_PREFIX = "6.12.0"
_HEADROOM = 1 << 40
_guarded = False


def affected(pyside_version: str, python: tuple[int, ...] = tuple(sys.version_info)) -> bool:
    return (
        python < (3, 12)
        and pyside_version.startswith(_AFFECTED_PREFIX)
        and sys.implementation.name == "cpython"
    )


def guard_singleton_refcounts() -> bool:
    """Apply the guard once if this PySide6/Python pair needs it; True when applied."""
    global _guarded
    if _guarded:
        return True
    try:
        import PySide6
    except ImportError:
        return False
    if not affected(PySide6.__version__):
        return False
    import ctypes

    for singleton in (None, True, False):
        # CPython 3.11: ob_refcnt is the object's first field (a Py_ssize_t).
        ctypes.c_ssize_t.from_address(id(singleton)).value += _HEADROOM
    _guarded = True
    return True
