"""After a big import the tray app hands freed memory back to the system instead of sitting at
its peak all day (glibc Linux; elsewhere the call does nothing)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tokenworth.core.memory import release_freed_memory


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim is Linux-only")
def test_freed_heap_memory_goes_back_to_the_system() -> None:
    # 1 kB blocks come from malloc's heap (not mmap); the last one stays alive and pins the top of
    # the heap, so free() alone cannot shrink it: only a trim returns the pages below it.
    blocks = [bytes(1000) + i.to_bytes(4, "little") for i in range(150_000)]
    keep = blocks[-1]
    grown = _rss_kb()
    del blocks
    before_trim = _rss_kb()
    assert release_freed_memory()
    after_trim = _rss_kb()
    assert keep
    assert before_trim - after_trim > 0.5 * 150_000 * 1000 / 1024, (grown, before_trim, after_trim)
