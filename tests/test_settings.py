"""Settings: typed defaults, JSON round-trip, validation that names the fix, state memory."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from tokenworth.core.app_state import AppState, load_state, save_state
from tokenworth.core.settings import (
    SETTINGS_VERSION,
    Settings,
    SettingsError,
    load_settings,
    parse_budget,
    parse_thresholds,
    save_settings,
)


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    settings, problems = load_settings(tmp_path / "settings.json")
    assert settings == Settings()
    assert problems == []
    assert settings.alert_thresholds_pct == (80, 100)
    assert settings.poll_interval_s == 900


def test_round_trip_keeps_every_field_and_money_as_a_decimal_string(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    settings = Settings(
        monthly_budget=Decimal("1250.50"),
        alert_thresholds_pct=(50, 90, 100),
        poll_interval_s=600,
        log_folders=("/data/claude", "/data/codex"),
        tray_display="figure",
        tray_figure="forecast",
        theme="dark",
        start_at_login=True,
        time_zone="Europe/Berlin",
        notify_budget=False,
        auto_export=True,
        auto_export_folder="/data/exports",
    )
    save_settings(path, settings)
    raw = orjson.loads(path.read_bytes())
    assert raw["monthly_budget"] == "1250.50"
    assert raw["version"] == SETTINGS_VERSION
    loaded, problems = load_settings(path)
    assert problems == []
    assert loaded == settings


def test_unknown_keys_from_a_newer_version_survive_a_save(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(orjson.dumps({"version": 9, "monthly_budget": "20", "plans": [{"name": "Max"}]}))
    loaded, _ = load_settings(path)
    save_settings(path, loaded.with_changes(poll_interval_s=120))
    raw = orjson.loads(path.read_bytes())
    assert raw["plans"] == [{"name": "Max"}]
    assert raw["poll_interval_s"] == 120


def test_a_bad_field_falls_back_to_its_default_and_is_named(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(
        orjson.dumps(
            {
                "monthly_budget": "lots",
                "poll_interval_s": 5,
                "theme": "pink",
                "auto_export": "yes",
                "auto_export_folder": 3,
                "time_zone": 5,
            }
        )
    )
    loaded, problems = load_settings(path)
    assert loaded.monthly_budget is None
    assert loaded.poll_interval_s == 900
    assert loaded.theme == "system"
    assert (loaded.auto_export, loaded.auto_export_folder) == (False, None)
    assert loaded.time_zone is None
    assert len(problems) == 6
    assert any("monthly_budget" in p for p in problems)
    assert any("time_zone must be a zone name" in p for p in problems)


def test_a_broken_file_is_kept_aside_not_lost(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    loaded, problems = load_settings(path)
    assert loaded == Settings()
    assert (tmp_path / "settings.json.bad").read_text() == "{not json"
    assert "kept as settings.json.bad" in problems[0]


@pytest.mark.parametrize(
    ("text", "value"),
    [("200", Decimal("200.00")), ("$1,250.5", Decimal("1250.50")), ("  ", None), ("", None)],
)
def test_budget_parsing(text: str, value: Decimal | None) -> None:
    assert parse_budget(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "amount in dollars"),
        ("-5", r"more than \$0"),
        ("0", r"more than \$0"),
        ("1.234", "two decimal"),
    ],
)
def test_bad_budget_says_how_to_fix_it(text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_budget(text)


def test_thresholds() -> None:
    assert parse_thresholds("100, 80%, 80") == (80, 100)
    with pytest.raises(SettingsError, match="whole percentages"):
        parse_thresholds("80, lots")
    with pytest.raises(SettingsError, match="at least one"):
        parse_thresholds(" , ")


def test_state_remembers_alerts_for_a_few_months_only(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = AppState().with_alerts({"2025-10:spend:80", "2025-11:spend:80", "2025-12:spend:80"})
    state = state.with_alerts({"2026-01:forecast:100"}).with_unpriced({"mystery-model"})
    save_state(path, state)
    loaded = load_state(path)
    assert loaded.alerts_sent == {"2025-11:spend:80", "2025-12:spend:80", "2026-01:forecast:100"}
    assert loaded.unpriced_notified == {"mystery-model"}
    path.write_text("garbage")
    assert load_state(path) == AppState()
