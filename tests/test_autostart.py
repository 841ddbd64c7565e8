"""Start at login: the Linux entry on and off for real, the macOS and Windows entries by content."""

from __future__ import annotations

import json
import os
import plistlib
import subprocess
import sys
from configparser import ConfigParser
from pathlib import Path

import pytest

from conftest import CliRunner, require_tool
from tokenworth.core import selfexec
from tokenworth.core.config import resolve_paths
from tokenworth.core.resources import RESOURCES_DIR, icon_png
from tokenworth.services import autostart

COMMAND = ["/opt/Token Worth/tokenworth"]


def parse_desktop(path: Path) -> dict[str, str]:
    parser = ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config


def linux_backend(config: Path, tmp_path: Path) -> autostart.XdgAutostart:
    backend = autostart.backend_for("linux", {"XDG_CONFIG_HOME": str(config)}, tmp_path / "user")
    assert isinstance(backend, autostart.XdgAutostart)
    return backend


def test_linux_on_writes_a_valid_entry_and_off_removes_it(xdg: Path, tmp_path: Path) -> None:
    backend = linux_backend(xdg, tmp_path)
    entry_file = xdg / "autostart" / "tokenworth.desktop"

    state = autostart.enable(backend, COMMAND)

    assert state.enabled
    assert not state.stale
    assert state.location == str(entry_file)
    entry = parse_desktop(entry_file)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Tokenworth"
    assert entry["Exec"] == '"/opt/Token Worth/tokenworth"'
    assert entry["X-GNOME-Autostart-enabled"] == "true"
    assert entry["Terminal"] == "false"
    assert entry["Icon"] == str(icon_png(256))
    assert autostart.is_enabled(backend)

    assert autostart.disable(backend) is True
    assert not entry_file.exists()
    assert list((xdg / "autostart").iterdir()) == []
    assert not autostart.is_enabled(backend)
    assert autostart.disable(backend) is False


def test_settings_switch_turns_it_on_and_off(xdg: Path, tmp_path: Path) -> None:
    backend = linux_backend(xdg, tmp_path)

    on = autostart.set_start_at_login(True, backend)
    off = autostart.set_start_at_login(False, backend)

    assert on.enabled
    assert not off.enabled
    assert not (xdg / "autostart" / "tokenworth.desktop").exists()


def test_linux_default_folder_is_under_home(tmp_path: Path) -> None:
    backend = autostart.backend_for("linux", {}, tmp_path)

    assert backend.location == str(tmp_path / ".config" / "autostart" / "tokenworth.desktop")


def test_linux_leaves_a_users_own_entry_alone(xdg: Path, tmp_path: Path) -> None:
    backend = linux_backend(xdg, tmp_path)
    own = xdg / "autostart" / "tokenworth.desktop"
    own.parent.mkdir(parents=True)
    own.write_text("[Desktop Entry]\nType=Application\nName=Mine\nExec=my-wrapper\n", encoding="utf-8")

    assert not autostart.is_enabled(backend)
    assert autostart.disable(backend) is False
    with pytest.raises(autostart.AutostartError, match="not made by Tokenworth"):
        autostart.enable(backend, COMMAND)
    assert own.read_text(encoding="utf-8").endswith("Exec=my-wrapper\n")


def test_linux_entry_pointing_elsewhere_is_stale(xdg: Path, tmp_path: Path) -> None:
    backend = linux_backend(xdg, tmp_path)
    autostart.enable(backend, ["/old/place/tokenworth"])

    state = autostart.status(backend, COMMAND)

    assert state.enabled
    assert state.stale
    assert state.registered == "/old/place/tokenworth"


def test_desktop_exec_quoting() -> None:
    assert autostart.desktop_exec(["/usr/bin/tokenworth"]) == "/usr/bin/tokenworth"
    assert autostart.desktop_exec(["/usr/bin/python3", "-m", "tokenworth"]) == "/usr/bin/python3 -m tokenworth"
    # Reserved characters quoted, `$` escaped, and the escape's backslash doubled (string rule).
    assert autostart.desktop_exec(["/a b/$x", "50%"]) == '"/a b/\\\\$x" 50%%'


def test_cli_on_status_off(cli: CliRunner, xdg: Path) -> None:
    entry_file = xdg / "autostart" / "tokenworth.desktop"

    on = cli("autostart", "on")
    status = cli("autostart", "status", "--json")
    off = cli("autostart", "off")
    after = cli("autostart", "status")

    assert on.code == 0
    assert "Start at login: on" in on.out
    assert str(entry_file) in on.out
    state = json.loads(status.out)
    assert state["enabled"] is True
    assert state["location"] == str(entry_file)
    assert state["command"] == autostart.desktop_exec(autostart.login_command())
    assert off.code == 0
    assert f"Removed {entry_file}." in off.out
    assert not entry_file.exists()
    assert after.out.strip() == "Start at login: off."


def test_launch_agent_plist_content() -> None:
    payload = plistlib.loads(autostart.launch_agent_plist(COMMAND))

    assert payload == {
        "Label": "org.tokenworth.app",
        "ProgramArguments": COMMAND,
        "RunAtLoad": True,
        "KeepAlive": False,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
    }


def test_launch_agent_on_and_off_touch_only_its_file(tmp_path: Path) -> None:
    backend = autostart.backend_for("darwin", {}, tmp_path)
    agents = tmp_path / "Library" / "LaunchAgents"
    agents.mkdir(parents=True)
    (agents / "com.example.other.plist").write_bytes(plistlib.dumps({"Label": "com.example.other"}))

    state = autostart.enable(backend, COMMAND)

    assert state.enabled
    assert state.location == str(agents / "org.tokenworth.app.plist")
    assert state.registered == "'/opt/Token Worth/tokenworth'"
    assert autostart.disable(backend) is True
    assert sorted(p.name for p in agents.iterdir()) == ["com.example.other.plist"]


def test_run_key_value_is_a_quoted_command_line() -> None:
    exe = r"C:\Program Files\Tokenworth\tokenworth-tray.exe"

    assert autostart.run_key_value([exe]) == f'"{exe}"'
    assert autostart.run_key_value([r"C:\py\pythonw.exe", "-m", "tokenworth"]) == r"C:\py\pythonw.exe -m tokenworth"
    backend = autostart.backend_for("win32", {}, Path("C:/Users/me"))
    assert backend.location == r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run\Tokenworth"


def test_frozen_bundle_registers_its_own_executable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = tmp_path / "dist" / "tokenworth" / "tokenworth"
    exe.parent.mkdir(parents=True)
    exe.write_bytes(b"")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))

    assert selfexec.launch_command() == [str(exe.resolve())]


def test_from_source_registers_a_command_that_starts_tokenworth() -> None:
    command = selfexec.launch_command()

    done = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("tokenworth ")


@pytest.mark.system
def test_desktop_files_pass_desktop_file_validate(xdg: Path, tmp_path: Path) -> None:
    validate = require_tool("desktop-file-validate", "checks .desktop files against the spec")
    backend = linux_backend(xdg, tmp_path)
    autostart.enable(backend, COMMAND)

    for path in (RESOURCES_DIR / "tokenworth.desktop", xdg / "autostart" / "tokenworth.desktop"):
        done = subprocess.run([validate, str(path)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        assert not done.stdout.strip(), done.stdout  # not even a hint


def test_login_command_carries_the_state_folder_and_database_of_this_run(tmp_path: Path) -> None:
    """A desktop session does not see a shell's exports: without them the app started at login
    would open the default, empty ledger."""
    launch = selfexec.launch_command()
    home = tmp_path / "state"
    env = {"TOKENWORTH_HOME": str(home)}
    assert autostart.login_command(env={}, platform="linux") == launch
    assert autostart.login_command(env=env, platform="linux") == [
        "/usr/bin/env",
        f"TOKENWORTH_HOME={home}",
        *launch,
    ]
    team = "postgresql://me@db.example/ledger"
    with_db = autostart.login_command(resolve_paths(env, team), env, platform="darwin")
    assert with_db == ["/usr/bin/env", f"TOKENWORTH_HOME={home}", f"TOKENWORTH_DB_URL={team}", *launch]
    from_env = autostart.login_command(env={"TOKENWORTH_DB_URL": team}, platform="linux")
    assert from_env == ["/usr/bin/env", f"TOKENWORTH_DB_URL={team}", *launch]
    assert autostart.login_command(env=env, platform="win32") == launch  # setx variables reach it
    assert autostart.login_command(resolve_paths(env, team), env, platform="win32") == [*launch, "--db", team]
    logs = {"CLAUDE_CONFIG_DIR": "/work/claude,/home/me/.claude", "CODEX_HOME": "/work/codex"}
    assert autostart.login_command(env=logs, platform="linux") == [
        "/usr/bin/env",
        "CLAUDE_CONFIG_DIR=/work/claude,/home/me/.claude",
        "CODEX_HOME=/work/codex",
        *launch,
    ]


def test_cli_on_registers_an_entry_that_opens_this_ledger(cli: CliRunner, xdg: Path, tmp_path: Path) -> None:
    """Started as the entry says, from a session without TOKENWORTH_HOME, the app finds the same
    database the user turned start at login on from."""
    ledger = tmp_path / "elsewhere" / "ledger.db"
    assert cli("--db", f"sqlite:///{ledger}", "autostart", "on").code == 0
    entry_file = xdg / "autostart" / "tokenworth.desktop"
    exec_line = parse_desktop(entry_file)["Exec"]
    assert exec_line.startswith("/usr/bin/env ")
    assert (entry_file.stat().st_mode & 0o777) == 0o600
    argv = autostart.login_command(resolve_paths(dict(os.environ), f"sqlite:///{ledger}"))
    assert autostart.desktop_exec(argv) == exec_line
    login_env = {key: value for key, value in os.environ.items() if not key.startswith("TOKENWORTH_")}
    done = subprocess.run(
        [*argv, "doctor", "--json"], capture_output=True, text=True, env=login_env, timeout=120, check=False
    )
    assert done.returncode in (0, 1), done.stderr  # 1: some check (e.g. no keyring) is an error
    checks = json.loads(done.stdout)["checks"]
    assert checks["database"]["facts"]["url"] == f"sqlite:///{ledger}"
    assert checks["data_dir"]["facts"]["data_dir"] == os.environ["TOKENWORTH_HOME"]


def test_status_never_prints_the_database_password(cli: CliRunner, xdg: Path) -> None:
    url = "postgresql://me:s3cret-pw@db.example/ledger"
    on = cli("--db", url, "autostart", "on")
    status = cli("--db", url, "autostart", "status", "--json")
    assert on.code == 0, on.err
    assert "s3cret-pw" not in on.out + on.err + status.out + status.err
    assert json.loads(status.out)["stale"] is False
    assert "s3cret-pw" in (xdg / "autostart" / "tokenworth.desktop").read_text(encoding="utf-8")


def test_a_translocated_mac_app_is_not_registered(tmp_path: Path) -> None:
    """Opened from Downloads, macOS runs the app from a random temporary path: an entry pointing
    there would silently start nothing after the next restart."""
    backend = autostart.backend_for("darwin", {}, tmp_path)
    moving = ["/private/var/folders/x/T/AppTranslocation/4F2A/d/Tokenworth.app/Contents/MacOS/tokenworth"]
    with pytest.raises(autostart.AutostartError, match="move Tokenworth to Applications"):
        autostart.enable(backend, moving)
    assert not (tmp_path / "Library" / "LaunchAgents").exists()


def test_relative_paths_are_made_absolute_for_the_login_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A login session starts in another folder: `--db sqlite:///ledger.db` typed in a project
    folder must still name that file."""
    monkeypatch.chdir(tmp_path)
    env = {"CLAUDE_CONFIG_DIR": "work-claude, /abs/claude", "CODEX_HOME": "~/codex"}
    command = autostart.login_command(resolve_paths(env, "sqlite:///ledger.db"), env, platform="linux")
    assert f"TOKENWORTH_DB_URL=sqlite:///{tmp_path / 'ledger.db'}" in command
    assert f"CLAUDE_CONFIG_DIR={tmp_path / 'work-claude'},/abs/claude" in command
    assert f"CODEX_HOME={Path('~/codex').expanduser()}" in command
    windows = autostart.login_command(resolve_paths(env, "sqlite:///ledger.db"), env, platform="win32")
    assert windows[-2:] == ["--db", f"sqlite:///{tmp_path / 'ledger.db'}"]
