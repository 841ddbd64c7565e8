"""Colours: light/dark palettes (or the system's), chart colours taken from the palette, and
fixed series/pace colours chosen to read on both light and dark backgrounds."""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable, Mapping

from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from tokenworth.core.budget import Pace
from tokenworth.core.settings import Theme

PACE_COLORS: dict[Pace, str] = {
    Pace.ON_TRACK: "#2e9d57",
    Pace.AHEAD: "#e39b17",
    Pace.OVER: "#d64541",
    Pace.NO_BUDGET: "#4f7cac",
}
"""Tray icon and pace badge colours: green on track, amber ahead, red over, blue no budget."""

SERIES_COLORS = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#7b68ee",
)
"""Tableau 10 with a slate violet for its grey (grey is "other"): hues told apart at a glance,
on the light and the dark chart background alike."""
OTHER_COLOR = "#9a9a9a"

_original_palette: QPalette | None = None


def dark_palette() -> QPalette:
    palette = QPalette()
    window, base, text = QColor("#202124"), QColor("#18191b"), QColor("#e8eaed")
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        palette.setColor(group, QPalette.ColorRole.Window, window)
        palette.setColor(group, QPalette.ColorRole.WindowText, text)
        palette.setColor(group, QPalette.ColorRole.Base, base)
        palette.setColor(group, QPalette.ColorRole.AlternateBase, QColor("#26282b"))
        palette.setColor(group, QPalette.ColorRole.Text, text)
        palette.setColor(group, QPalette.ColorRole.Button, QColor("#2c2e31"))
        palette.setColor(group, QPalette.ColorRole.ButtonText, text)
        palette.setColor(group, QPalette.ColorRole.ToolTipBase, QColor("#2c2e31"))
        palette.setColor(group, QPalette.ColorRole.ToolTipText, text)
        palette.setColor(group, QPalette.ColorRole.Highlight, QColor("#5b8fd6"))
        palette.setColor(group, QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
        palette.setColor(group, QPalette.ColorRole.PlaceholderText, QColor("#9aa0a6"))
        palette.setColor(group, QPalette.ColorRole.Mid, QColor("#3c4043"))
        palette.setColor(group, QPalette.ColorRole.Link, QColor("#8ab4f8"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#7f8388"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#7f8388"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#7f8388"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Window, window)
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Base, base)
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Button, QColor("#2c2e31"))
    return palette


def light_palette() -> QPalette:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app.style().standardPalette()


def apply_theme(theme: Theme) -> None:
    """`system` keeps (or restores) the palette the platform gave; `light`/`dark` force one."""
    global _original_palette
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    if _original_palette is None:
        _original_palette = QPalette(app.palette())
    if theme == "dark":
        app.setPalette(dark_palette())
    elif theme == "light":
        app.setPalette(light_palette())
    else:
        app.setPalette(_original_palette)


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def chart_colors(palette: QPalette) -> tuple[QColor, QColor, QColor]:
    """(background, foreground, muted) for plots, from the widget's palette."""
    background = palette.color(QPalette.ColorRole.Base)
    foreground = palette.color(QPalette.ColorRole.Text)
    muted = QColor(foreground)
    muted.setAlpha(110)
    return background, foreground, muted


def preferred_color(name: str) -> str:
    """The palette colour `name` hashes to: the same in every run, whatever else is drawn."""
    return SERIES_COLORS[zlib.crc32(name.encode("utf-8")) % len(SERIES_COLORS)]


class ColorAssigner:
    """Gives each name (model, category) a colour for good, so a model keeps its colour from one
    month and one run to the next.

    A new name gets the colour it hashes to, or, when another name already holds that one, the
    next least-used colour (two series in one chart must not share a colour). `remembered` holds
    earlier choices (the app keeps them in its state file); `on_assign` is told of each new one.
    """

    def __init__(
        self,
        remembered: Mapping[str, str] | None = None,
        on_assign: Callable[[dict[str, str]], None] | None = None,
    ) -> None:
        self._colors: dict[str, str] = {
            name: color for name, color in (remembered or {}).items() if color in SERIES_COLORS
        }
        self._on_assign = on_assign

    def color(self, name: str) -> str:
        if name == "other":
            return OTHER_COLOR
        found = self._colors.get(name)
        if found is None:
            found = self._pick(name)
            self._colors[name] = found
            if self._on_assign is not None:
                self._on_assign(dict(self._colors))
        return found

    def _pick(self, name: str) -> str:
        used = Counter(self._colors.values())
        start = SERIES_COLORS.index(preferred_color(name))
        candidates = [SERIES_COLORS[(start + step) % len(SERIES_COLORS)] for step in range(len(SERIES_COLORS))]
        return min(candidates, key=lambda color: used[color])  # the first least-used, from the preferred one


TEXT_CONTRAST = 4.5
"""The least contrast for normal text (WCAG AA): the pace amber on a light window read at 2:1."""


def contrast(first: QColor, second: QColor) -> float:
    """WCAG contrast ratio of two colours, 1 (none) to 21 (black on white)."""

    def luminance(color: QColor) -> float:
        def linear(channel: float) -> float:
            return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

        return 0.2126 * linear(color.redF()) + 0.7152 * linear(color.greenF()) + 0.0722 * linear(color.blueF())

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def readable_on(color: str, background: QColor | None = None) -> str:
    """`color` for text: darkened on a light window (lightened on a dark one) until it reads at
    `TEXT_CONTRAST`; the hue stays, so amber still says "ahead". Background: the app's window."""
    background = background or QGuiApplication.palette().color(QPalette.ColorRole.Window)
    text = QColor(color)
    for _step in range(40):
        if contrast(text, background) >= TEXT_CONTRAST:
            break
        text = text.lighter(110) if background.lightness() < 128 else text.darker(110)
    return text.name()


ERROR_COLOR = PACE_COLORS[Pace.OVER]
"""The red of a refusal: a field's border, and (made readable) its message."""
INVALID_STYLE = "border: 1px solid #d64541; background: rgba(214, 69, 65, 0.08);"
"""A field whose text is refused."""


def error_text_style() -> str:
    """The style sheet of an error message: the error red at a readable contrast."""
    return f"color: {readable_on(ERROR_COLOR)};"
