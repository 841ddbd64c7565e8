"""Render the app icon SVG to the PNG sizes desktops and bundles use (run after editing the SVG).

Usage: QT_QPA_PLATFORM=offscreen python packaging/render_icons.py
Writes app/tokenworth/resources/icons/tokenworth-<size>.png for every size in ICON_SIZES, and
packaging/tokenworth.ico (Windows) and packaging/tokenworth.icns (macOS) from them. They are
all committed; the build only reads them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

from tokenworth.core.resources import ICON_SIZES, icon_png, icon_svg  # noqa: E402

ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def write_ico(images: dict[int, QImage], path: Path) -> None:
    """A Windows .ico holding PNG-compressed images (valid since Windows Vista)."""
    import struct

    entries = [(size, png_bytes(images[size])) for size in ICO_SIZES]
    header = struct.pack("<HHH", 0, 1, len(entries))
    offset = 6 + 16 * len(entries)
    directory = b""
    for size, blob in entries:
        edge = 0 if size >= 256 else size
        directory += struct.pack("<BBBBHHII", edge, edge, 0, 0, 1, 32, len(blob), offset)
        offset += len(blob)
    path.write_bytes(header + directory + b"".join(blob for _, blob in entries))


ICNS_TYPES = (
    # (type, pixels): PNG payloads, as macOS 10.7+ reads them.
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic11", 32),  # 16 pt @2x
    (b"ic12", 64),  # 32 pt @2x
    (b"ic13", 256),  # 128 pt @2x
    (b"ic14", 512),  # 256 pt @2x
)


def write_icns(images: dict[int, QImage], path: Path) -> None:
    """A macOS .icns: 'icns', total length, then (type, length, PNG) chunks, big-endian."""
    import struct

    chunks = b"".join(
        kind + struct.pack(">I", 8 + len(blob)) + blob
        for kind, size in ICNS_TYPES
        for blob in (png_bytes(images[size]),)
    )
    path.write_bytes(b"icns" + struct.pack(">I", 8 + len(chunks)) + chunks)


def main() -> None:
    app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(icon_svg()))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {icon_svg()}")
    images = {size: render(renderer, size) for size in ICON_SIZES}
    for size, image in images.items():
        target = icon_png(size)
        target.write_bytes(png_bytes(image))
        print(f"wrote {target.relative_to(ROOT)}")
    ico = ROOT / "packaging" / "tokenworth.ico"
    write_ico(images, ico)
    print(f"wrote {ico.relative_to(ROOT)}")
    icns = ROOT / "packaging" / "tokenworth.icns"
    write_icns(images, icns)
    print(f"wrote {icns.relative_to(ROOT)}")
    del app


if __name__ == "__main__":
    main()
