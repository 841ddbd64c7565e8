"""Writing export files whole or not at all: a temporary file beside the target, then a rename."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO


class ExportError(Exception):
    """An export could not be written; the message says where and why."""


def _temporary(path: Path) -> Path:
    """A fresh name beside `path` (same folder, so the final rename is atomic)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp{path.suffix}")


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[BinaryIO]:
    """A binary file that becomes `path` only once fully written (a crash leaves the old one).
    Created with ordinary permissions (the umask's), as any file the user saves."""
    tmp = _temporary(path)
    try:
        handle = tmp.open("xb")
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_bytes(path: Path, data: bytes) -> Path:
    with replacing(path) as handle:
        handle.write(data)
    return path


def write_text(path: Path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_with(path: Path, writer: Callable[[Path], object]) -> Path:
    """Let `writer` (which needs a file name, like Qt's PDF writer) create a temporary file, then
    rename it to `path`."""
    tmp = _temporary(path)
    try:
        writer(tmp)
        if not tmp.exists():
            raise ExportError(f"cannot write {path}: nothing was written")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path
