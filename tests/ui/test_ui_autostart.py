"""Start at login from Settings, for real on the Linux XDG entry (XDG_CONFIG_HOME in a temp dir):
ticking creates the entry, unticking removes it, the checkbox shows what is really in place, and
a refusal (the user's own entry is in the way) is a message, with the checkbox back as it was."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from tokenworth.core.config import AppPaths
from tokenworth.core.settings import Settings, load_settings
from tokenworth.services import autostart
from tokenworth.ui.hooks import default_hooks
from tokenworth.ui.settings_dialog import SettingsDialog

pytestmark = pytest.mark.skipif(not autostart.sys.platform.startswith("linux"), reason="the XDG entry is Linux's")


@pytest.fixture
def entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config / "autostart" / "tokenworth.desktop"


@pytest.fixture
def open_settings(qtbot, make_controller):
    """Settings as the app opens it; `paths` gives the app another database (as `--db` does)."""
    controllers: dict[object, object] = {}

    def build(paths: AppPaths | None = None) -> SettingsDialog:
        if paths not in controllers:
            controllers[paths] = make_controller(Settings(), hooks=default_hooks(paths))
        dialog = SettingsDialog(controllers[paths])
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    return build


def tick_and_save(qtbot, open_settings, budget: str, message: str) -> tuple[SettingsDialog, QMessageBox]:
    """Open Settings, type a budget, tick start at login, Save; the dialog and its message box
    (`autostart_message` or `save_message`), shown."""
    dialog = open_settings()
    dialog.budget.edit.setText(budget)
    dialog.start_at_login.setChecked(True)
    dialog.accept()
    box = getattr(dialog, message)
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    return dialog, box


def test_ticking_creates_the_entry_and_unticking_removes_it(open_settings, entry: Path, paths: AppPaths) -> None:
    dialog = open_settings()
    assert not dialog.start_at_login.isChecked()
    dialog.start_at_login.setChecked(True)
    dialog.accept()
    assert not dialog.isVisible()
    assert entry.is_file()
    text = entry.read_text(encoding="utf-8")
    assert "X-Tokenworth-Autostart=true" in text
    assert "Exec=" in text
    assert load_settings(paths.settings_file)[0].start_at_login is True

    again = open_settings()
    assert again.start_at_login.isChecked()
    again.start_at_login.setChecked(False)
    again.accept()
    assert not entry.exists()
    assert load_settings(paths.settings_file)[0].start_at_login is False


def test_the_checkbox_shows_what_the_desktop_really_does(open_settings, entry: Path) -> None:
    autostart.enable(command=["/opt/tokenworth/tokenworth"])  # e.g. `tokenworth autostart on`
    dialog = open_settings()
    assert dialog.controller.settings.start_at_login is False
    assert dialog.start_at_login.isChecked()
    dialog.start_at_login.setChecked(False)
    dialog.accept()
    assert not entry.exists()

    # Stored as on, but the entry was removed by hand: the box is unticked, and ticking it works.
    dialog.controller.apply_settings(dialog.controller.settings.with_changes(start_at_login=True))
    entry.unlink()
    dialog = open_settings()
    assert not dialog.start_at_login.isChecked()
    dialog.start_at_login.setChecked(True)
    dialog.accept()
    assert entry.is_file()


def test_the_users_own_entry_is_never_overwritten_and_the_box_reverts(
    qtbot, open_settings, entry: Path, paths: AppPaths
) -> None:
    entry.parent.mkdir(parents=True)
    own = "[Desktop Entry]\nType=Application\nName=Tokenworth\nExec=/home/me/bin/tokenworth --my-flags\n"
    entry.write_text(own, encoding="utf-8")
    assert not open_settings().start_at_login.isChecked()  # the user's entry is not ours
    dialog, box = tick_and_save(qtbot, open_settings, "300", "autostart_message")
    assert "could not be turned on" in box.text()
    assert "was not made by Tokenworth" in box.text()
    assert "Your other settings were saved." in box.text()
    assert not dialog.start_at_login.isChecked()
    assert dialog.isVisible()  # still open: the user sees the switch went back
    assert entry.read_text(encoding="utf-8") == own
    saved = load_settings(paths.settings_file)[0]
    assert (saved.start_at_login, str(saved.monthly_budget)) == (False, "300.00")
    box.accept()
    dialog.accept()  # nothing left to change: closes
    assert not dialog.isVisible()


def test_settings_that_cannot_be_saved_change_nothing_and_say_why(
    qtbot, open_settings, entry: Path, paths: AppPaths
) -> None:
    """A settings file that cannot be written (here a folder in its place; a full or read-only
    disk alike): no traceback, the budget not applied, and no login entry made behind it."""
    paths.settings_file.unlink(missing_ok=True)
    paths.settings_file.mkdir(parents=True)
    dialog, box = tick_and_save(qtbot, open_settings, "20", "save_message")
    assert "Could not save the settings" in box.text()
    assert "Nothing was changed." in box.text()
    assert dialog.isVisible()
    assert not entry.exists()
    assert dialog.controller.settings.monthly_budget is None
    box.accept()


def test_the_entry_opens_the_database_this_app_runs_on(
    open_settings, entry: Path, paths: AppPaths, tmp_path: Path
) -> None:
    """An app started with `--db URL` (or TOKENWORTH_HOME) registers an entry that opens the same
    ledger at the next login, not the default one."""
    team = dataclasses.replace(paths, db_url=f"sqlite:///{tmp_path / 'team.db'}")
    dialog = open_settings(team)
    dialog.start_at_login.setChecked(True)
    dialog.accept()
    text = entry.read_text(encoding="utf-8")
    assert f"TOKENWORTH_DB_URL={team.db_url}" in text
    assert f"TOKENWORTH_HOME={paths.home}" in text
