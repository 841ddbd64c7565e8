"""A model keeps its chart colour: across months, refreshes and runs of the app."""

from __future__ import annotations

from datetime import UTC, datetime

from uihelpers import add_spend

from tokenworth.core.app_state import load_state, state_file
from tokenworth.ui.dashboard import DashboardWindow
from tokenworth.ui.theme import OTHER_COLOR, SERIES_COLORS, ColorAssigner, preferred_color


def _names_with_the_same_preferred_color() -> tuple[str, str]:
    seen: dict[str, str] = {}
    for n in range(100):
        name = f"model-{n}"
        color = preferred_color(name)
        if color in seen:
            return seen[color], name
        seen[color] = name
    raise AssertionError("no two names share a colour")


def test_a_name_gets_the_colour_it_hashes_to_and_never_shares_one_while_any_is_free() -> None:
    first, second = _names_with_the_same_preferred_color()
    colors = ColorAssigner()
    assert colors.color(first) == preferred_color(first)
    assert colors.color(second) != colors.color(first)
    many = [colors.color(f"m{n}") for n in range(len(SERIES_COLORS) - 2)]
    assert len({colors.color(first), colors.color(second), *many}) == len(SERIES_COLORS)
    assert colors.color("other") not in SERIES_COLORS


def _lab(color: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of `#rrggbb`: distances in it follow what eyes tell apart."""

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(color[i : i + 2], 16) / 255) for i in (1, 3, 5))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def test_every_two_model_colours_can_be_told_apart() -> None:
    import math
    from itertools import combinations

    for first, second in combinations((*SERIES_COLORS, OTHER_COLOR), 2):
        assert math.dist(_lab(first), _lab(second)) > 15, f"{first} and {second} look alike"


def test_remembered_colours_win_and_new_ones_are_reported() -> None:
    told: list[dict[str, str]] = []
    colors = ColorAssigner({"opus": SERIES_COLORS[3], "bad": "not a colour"}, on_assign=told.append)
    assert colors.color("opus") == SERIES_COLORS[3]
    assert told == []
    colors.color("haiku")
    assert told[-1]["opus"] == SERIES_COLORS[3]
    assert "haiku" in told[-1]
    assert "bad" not in told[-1]


def test_models_keep_their_colours_across_months_and_runs(qtbot, make_controller, ledger, paths) -> None:
    # December: opus costs most; January: haiku costs most, and a new model appears.
    add_spend(
        ledger,
        (datetime(2025, 12, 10, 9, tzinfo=UTC), "opus", "9"),
        (datetime(2025, 12, 11, 9, tzinfo=UTC), "haiku", "1"),
        (datetime(2026, 1, 10, 9, tzinfo=UTC), "haiku", "9"),
        (datetime(2026, 1, 11, 9, tzinfo=UTC), "opus", "2"),
        (datetime(2026, 1, 12, 9, tzinfo=UTC), "sonnet", "1"),
    )

    def shown_colors(period: str) -> dict[str, str]:
        controller = make_controller()  # a fresh controller: as the app is started again
        window = DashboardWindow(today=controller.today(), colors=controller.model_colors)
        qtbot.addWidget(window)
        controller.overview_changed.connect(window.show_overview)
        window.query_changed.connect(controller.set_query)
        controller.refresh()
        if period == "last-month":
            window.period.setCurrentIndex(window.period.findData("last-month"))
        return {name: window.colors.color(name) for name in window.daily_chart.bars}

    december = shown_colors("last-month")
    january = shown_colors("this-month")
    assert set(december) == {"opus", "haiku"}
    assert january["opus"] == december["opus"]
    assert january["haiku"] == december["haiku"]
    assert len(set(january.values())) == 3
    assert load_state(state_file(paths.home)).series_colors == january
