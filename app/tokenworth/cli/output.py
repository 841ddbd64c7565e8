"""Plain-text output for the terminal: aligned tables, a progress bar, JSON."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any, TextIO

import orjson


def write_json(stream: TextIO, payload: Any) -> None:
    stream.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
    stream.write("\n")


def display_width(text: str) -> int:
    """Columns `text` takes on a terminal: wide (CJK) characters two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clip_to_width(text: str, width: int) -> str:
    """`text` cut to `width` terminal columns, with an ellipsis where it was cut."""
    if display_width(text) <= width:
        return text
    kept, used = [], 0
    for ch in text:
        used += display_width(ch)
        if used > width - 1:
            break
        kept.append(ch)
    return "".join(kept) + "…"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right_align: Sequence[bool]) -> str:
    """Columns padded to fit (by terminal columns: a Japanese title is twice its length);
    numbers right-aligned. A rule under the header and above a total."""
    widths = [display_width(h) for h in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], display_width(cell))

    def pad(cell: str, index: int) -> str:
        space = " " * (widths[index] - display_width(cell))
        return space + cell if right_align[index] else cell + space

    def fmt(row: Sequence[str]) -> str:
        return "  ".join(pad(cell, i) for i, cell in enumerate(row)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    lines = [fmt(headers), rule]
    lines.extend(fmt(row) for row in rows)
    return "\n".join(lines)


def tokens(value: int) -> str:
    return f"{value:,}"


class ProgressBar:
    """A one-line bar on a terminal stream, redrawn in place; silent when not a terminal."""

    def __init__(self, stream: TextIO, label: str, enabled: bool) -> None:
        self.stream = stream
        self.label = label
        self.enabled = enabled
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        percent = min(100, done * 100 // total)
        if percent == self._last:
            return
        self._last = percent
        filled = percent * 30 // 100
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(f"\r{self.label} [{bar}] {percent:3d}% {done / 1e6:,.0f}/{total / 1e6:,.0f} MB")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._last >= 0:
            self.stream.write("\n")
            self.stream.flush()


def unpriced_note(models: Sequence[str]) -> str:
    """The footer for usage with no known price: which models, and the two steps that price it.

    Setting a price alone changes only records imported afterwards (costs are frozen when stored),
    so the note also says how to apply it to the records already in the ledger.
    """
    verb, pronoun = ("has", "it") if len(models) == 1 else ("have", "them")
    return f"UNPRICED: {', '.join(models)} {verb} no known price; costs marked + leave {pronoun} out. " + price_steps(
        models
    )


def price_steps(models: Sequence[str]) -> str:
    """How to price `models`: set a price, then re-price the stored records with it."""
    model = models[0] if len(models) == 1 else "MODEL"
    return (
        f"Set a price with `tokenworth prices set {model} --input X --output Y`, then apply it to the "
        f"records already stored with `tokenworth reprice --since DATE --model {model}`."
    )
