"""Finding log files fast: one `scandir` walk, one `stat` per file, symlinked files included."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path


def walk_files(root: Path, suffixes: tuple[str, ...]) -> Iterator[tuple[Path, os.stat_result]]:
    """(path, stat) of every regular file under `root` whose name ends with one of `suffixes`,
    in a stable (sorted) order. A missing or unreadable folder yields nothing."""
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                listed = sorted(entries, key=lambda entry: entry.name)
        except OSError:
            continue
        subfolders = []
        for entry in listed:
            try:
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(entry.path)
                elif entry.name.endswith(suffixes) and entry.is_file():
                    yield Path(entry.path), entry.stat()
            except OSError:
                continue
        stack.extend(reversed(subfolders))
