"""The app icon in every size a desktop asks for, and the menu entry, ship with the package."""

from __future__ import annotations

import struct
from configparser import ConfigParser

import pytest

from tokenworth.core.resources import ICON_SIZES, RESOURCES_DIR, icon_png, icon_svg

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("size", ICON_SIZES)
def test_png_icon_has_its_size(size: int) -> None:
    data = icon_png(size).read_bytes()

    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    assert (width, height) == (size, size)


def test_svg_icon_and_menu_entry_are_there() -> None:
    assert icon_svg().read_text(encoding="utf-8").lstrip().startswith("<?xml")
    entry = ConfigParser(interpolation=None)
    entry.read(RESOURCES_DIR / "tokenworth.desktop", encoding="utf-8")
    assert entry["Desktop Entry"]["Exec"] == "tokenworth"
    assert entry["Desktop Entry"]["Icon"] == "tokenworth"


def test_unknown_icon_size_is_refused() -> None:
    with pytest.raises(ValueError, match="no 20px icon"):
        icon_png(20)


def test_the_checkout_resources_folder_holds_the_same_icons_and_menu_entry() -> None:
    """`resources/` at the top of the repository links to the packaged copies (one source)."""
    top = RESOURCES_DIR.parents[2] / "resources"
    assert (top / "tokenworth.desktop").resolve() == (RESOURCES_DIR / "tokenworth.desktop").resolve()
    for size in ICON_SIZES:
        assert (top / "icons" / f"tokenworth-{size}.png").read_bytes() == icon_png(size).read_bytes()
