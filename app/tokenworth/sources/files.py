"""Finding log files fast: one `scandir` walk, one `stat` per file, symlinked files included."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class LogFile:
    """A log file found on disk: its path, and its `stat` when the walk already made one (so a
    run that finds nothing new stats each file once and builds no `Path` objects)."""

    path: str
    stat: os.stat_result | None = None

    def is_under(self, folder: Path) -> bool:
        return Path(self.path).is_relative_to(folder)


_ID_BITS = (1 << 63) - 1
"""File ids kept within a signed 64-bit column: Windows' are unsigned 64-bit numbers."""

SCANDIR_STAT_HAS_NO_ID = sys.platform == "win32"
"""On Windows a directory listing's stat has st_dev and st_ino 0: each file is stat'ed itself."""


def file_identity(stat: os.stat_result) -> tuple[int, int] | None:
    """(device, inode) naming a file across renames, as stored; None when the stat carries none."""
    if not stat.st_ino and not stat.st_dev:
        return None
    return _fit(stat.st_dev), _fit(stat.st_ino)


def _fit(value: int) -> int:
    """`value` itself when it fits the column, else a 63-bit hash of it (not its low bits, which
    two large ids can share: ReFS file ids are 128-bit)."""
    if 0 <= value <= _ID_BITS:
        return value
    import hashlib

    digest = hashlib.blake2b(value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True), digest_size=8)
    return int.from_bytes(digest.digest(), "little") & _ID_BITS


def log_files(paths: Iterable[Path]) -> list[LogFile]:
    """Files found some other way (no stat yet)."""
    return [LogFile(str(path)) for path in paths]


def path_text(path: str | os.PathLike[str]) -> str:
    """A path as text that can be stored and printed. A file name that is not UTF-8 (bytes the
    file system allows, such as Latin-1 `caf\xe9`) keeps those bytes as `\xe9` escapes: as they
    came, it could not be written to the ledger, and every import stopped on it."""
    path = os.fspath(path)
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")
    return path


def walk_files(root: Path, suffixes: tuple[str, ...]) -> Iterator[LogFile]:
    """Every regular file under `root` whose name ends with one of `suffixes`, with its stat, in
    a stable (sorted) order. A missing or unreadable folder yields nothing. A folder linked in (a
    project moved to another disk and linked back) is followed, each real folder once: a link
    back up the tree is no loop."""
    stack = [str(root)]
    linked: list[str] = []  # followed once every real folder is walked: a link to one is no second way in
    visited: set[tuple[int, int]] = set()
    while stack or linked:
        folder = stack.pop() if stack else linked.pop(0)
        try:
            real = os.stat(folder)
            if real.st_ino:  # a file system without ids (FAT) has no links to loop through either
                if (real.st_dev, real.st_ino) in visited:
                    continue
                visited.add((real.st_dev, real.st_ino))
            with os.scandir(folder) as entries:
                listed = sorted(entries, key=lambda entry: entry.name)
        except OSError:
            continue
        subfolders = []
        for entry in listed:
            try:
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(entry.path)
                elif entry.is_dir():  # a link to a folder
                    linked.append(entry.path)
                elif entry.name.endswith(suffixes) and entry.is_file():
                    yield LogFile(entry.path, os.stat(entry.path) if SCANDIR_STAT_HAS_NO_ID else entry.stat())
            except OSError:
                continue
        stack.extend(reversed(subfolders))
