"""Giving memory freed by a large piece of work back to the operating system.

A first import of a big log tree reads hundreds of megabytes in a long-running tray app. Python
frees the objects, but glibc keeps the freed heap pages mapped, so the app would sit at its peak
all day. `malloc_trim` hands them back; elsewhere (macOS, Windows, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache
from typing import Any


@cache
def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return libc


def release_freed_memory() -> bool:
    """Return freed heap memory to the OS; True when something was released."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
