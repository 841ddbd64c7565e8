"""Where the files shipped with the app (icons, the desktop entry) are, installed or frozen."""

from __future__ import annotations

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent.parent / "resources"
ICONS_DIR = RESOURCES_DIR / "icons"
ICON_SIZES: tuple[int, ...] = (16, 22, 24, 32, 48, 64, 128, 256, 512)
"""The PNG sizes rendered from the SVG (packaging/render_icons.py)."""


def icon_svg() -> Path:
    """The scalable app icon."""
    return ICONS_DIR / "tokenworth.svg"


def icon_png(size: int) -> Path:
    """The app icon at `size` pixels square (one of ICON_SIZES)."""
    if size not in ICON_SIZES:
        raise ValueError(f"no {size}px icon; sizes: {', '.join(map(str, ICON_SIZES))}")
    return ICONS_DIR / f"tokenworth-{size}.png"
