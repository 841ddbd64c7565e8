"""Live updates: a line appended to a watched agent log reaches the charts within 2 seconds,
through the file watcher and a worker thread, while the main thread keeps running."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from PySide6.QtCore import QTimer
from uihelpers import Clock

from tokenworth.core.settings import Settings
from tokenworth.services import local_sync
from tokenworth.services.local_sync import watch_plan
from tokenworth.ui.dashboard import DashboardWindow
from tokenworth.ui.scheduler import Scheduler
from tokenworth.ui.workers import TaskRunner

LIVE_DEADLINE_MS = 2000


def assistant_line(number: int, day: str = "2026-01-20") -> str:
    """A Claude Code assistant line, compact JSON as Claude Code writes it."""
    record = {
        "parentUuid": None,
        "isSidechain": False,
        "cwd": "/home/dev/tokenworth",
        "sessionId": "00000000-0000-4000-8000-0000000000aa",
        "gitBranch": "main",
        "message": {
            "id": f"msg_live{number:020d}",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": "done"}],
            "usage": {
                "input_tokens": 10,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 100000,
                "output_tokens": 2000,
            },
        },
        "requestId": f"req_live{number:020d}",
        "type": "assistant",
        "uuid": f"00000000-0000-4000-8000-{number:012d}",
        "timestamp": f"{day}T11:00:00.000Z",
    }
    return json.dumps(record, separators=(",", ":")) + "\n"


def test_an_appended_log_line_reaches_the_charts_within_two_seconds(
    qtbot, make_controller, sample_logs: dict[str, Path], clock: Clock, monkeypatch
) -> None:
    import_threads: list[str] = []
    real_import_all = local_sync.import_all

    def recording_import_all(*args, **kwargs):
        import_threads.append(threading.current_thread().name)
        return real_import_all(*args, **kwargs)

    monkeypatch.setattr("tokenworth.ui.controller.import_all", recording_import_all)
    runner = TaskRunner()
    controller = make_controller(Settings(), runner=runner)
    window = DashboardWindow(today=controller.today())
    qtbot.addWidget(window)
    controller.overview_changed.connect(window.show_overview)
    controller.start()

    log_file = sample_logs["claude-code"]
    qtbot.waitUntil(lambda: controller.state.first_import_done and controller.overview is not None, timeout=10_000)
    qtbot.waitUntil(lambda: str(log_file) in controller.scheduler.watched()[1], timeout=5_000)
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=5_000)
    chart = window.cumulative_chart
    spent_item = chart.spent
    before = float(chart.spent.getData()[1][-1])
    records_before = controller.overview.records_total

    heartbeats: list[int] = []
    heartbeat = QTimer()
    heartbeat.setInterval(20)
    heartbeat.timeout.connect(lambda: heartbeats.append(1))
    heartbeat.start()
    with log_file.open("a", encoding="utf-8") as handle:
        handle.write(assistant_line(1))

    qtbot.waitUntil(
        lambda: (
            controller.overview.records_total == records_before + 1 and float(chart.spent.getData()[1][-1]) > before
        ),
        timeout=LIVE_DEADLINE_MS,
    )
    heartbeat.stop()
    assert chart.spent is spent_item  # updated in place, not rebuilt
    assert "claude-sonnet-4-5-20250929" in window.daily_chart.bars
    assert heartbeats, "the main thread's event loop kept running during the import"
    assert import_threads
    assert all(name != threading.main_thread().name for name in import_threads)

    # a new day folder and file (Codex writes sessions/YYYY/MM/DD/...) are picked up too
    new_file = log_file.parent.parent / "-home-dev-other" / "00000000-0000-4000-8000-0000000000bb.jsonl"
    new_file.parent.mkdir()
    new_file.write_text(assistant_line(2).replace("0000000000aa", "0000000000bb"))
    qtbot.waitUntil(lambda: controller.overview.records_total == records_before + 2, timeout=LIVE_DEADLINE_MS)
    qtbot.waitUntil(lambda: str(new_file) in controller.scheduler.watched()[1], timeout=LIVE_DEADLINE_MS)


def test_a_burst_of_writes_becomes_few_imports(qtbot, make_controller, sample_logs: dict[str, Path]) -> None:
    runner = TaskRunner()
    controller = make_controller(Settings(), runner=runner)
    controller.start()
    qtbot.waitUntil(lambda: controller.state.first_import_done, timeout=10_000)
    qtbot.waitUntil(lambda: str(sample_logs["claude-code"]) in controller.scheduler.watched()[1], timeout=5_000)
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=5_000)
    imports: list[int] = []
    controller.scheduler.files_changed.connect(lambda: imports.append(1))
    records = controller.overview.records_total
    with sample_logs["claude-code"].open("a", encoding="utf-8") as handle:
        for n in range(20):
            handle.write(assistant_line(100 + n))
            handle.flush()
    qtbot.waitUntil(lambda: controller.overview.records_total == records + 20, timeout=LIVE_DEADLINE_MS)
    assert 1 <= len(imports) <= 3


def test_logs_whose_folder_appears_after_start_are_imported_live(
    qtbot, make_controller, tmp_path: Path, monkeypatch
) -> None:
    """The app started before the agent ever ran (no log folder at all): creating the folder and
    a session file imports it without "Refresh now", and so do lines appended afterwards and a
    second session in the same folder."""
    manual: list[int] = []
    monkeypatch.setattr("tokenworth.ui.controller.AppController.refresh_now", lambda self: manual.append(1))
    runner = TaskRunner()
    controller = make_controller(Settings(), runner=runner)
    controller.start()
    qtbot.waitUntil(lambda: controller.state.first_import_done and controller.overview is not None, timeout=10_000)
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=5_000)
    assert not (tmp_path / "claude").exists()
    assert controller.overview.records_total == 0

    session = tmp_path / "claude" / "projects" / "-home-dev-x" / "s.jsonl"
    session.parent.mkdir(parents=True)
    session.write_text(assistant_line(1))
    qtbot.waitUntil(lambda: controller.overview.records_total == 1, timeout=LIVE_DEADLINE_MS)
    qtbot.waitUntil(lambda: str(session) in controller.scheduler.watched()[1], timeout=LIVE_DEADLINE_MS)
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=5_000)

    with session.open("a", encoding="utf-8") as handle:
        handle.write(assistant_line(2))
    qtbot.waitUntil(lambda: controller.overview.records_total == 2, timeout=LIVE_DEADLINE_MS)

    second = session.with_name("t.jsonl")
    second.write_text(assistant_line(3))
    qtbot.waitUntil(lambda: controller.overview.records_total == 3, timeout=LIVE_DEADLINE_MS)
    qtbot.waitUntil(lambda: str(second) in controller.scheduler.watched()[1], timeout=LIVE_DEADLINE_MS)
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=5_000)
    with second.open("a", encoding="utf-8") as handle:
        handle.write(assistant_line(4))
    qtbot.waitUntil(lambda: controller.overview.records_total == 4, timeout=LIVE_DEADLINE_MS)
    assert not manual


def test_after_an_import_new_log_files_are_watched(qtbot, make_controller, tmp_path: Path, monkeypatch) -> None:
    """With nothing to watch for the log folder (it is under a home folder that does not exist,
    and nothing above a home folder is watched), "Refresh now" imports it; lines appended after
    that arrive live, because every import plans the watches again."""
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")  # the default place: ~/.claude/projects
    home = tmp_path / "user"
    assert not home.exists()
    runner = TaskRunner()
    controller = make_controller(Settings(), runner=runner)
    controller.start()
    qtbot.waitUntil(lambda: controller.state.first_import_done and controller.overview is not None, timeout=10_000)
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=5_000)
    assert not any(path.startswith(str(home)) for path in controller.scheduler.watched()[0])

    session = home / ".claude" / "projects" / "-home-dev-x" / "s.jsonl"
    session.parent.mkdir(parents=True)
    session.write_text(assistant_line(1))
    controller.refresh_now()
    qtbot.waitUntil(lambda: controller.overview.records_total == 1, timeout=LIVE_DEADLINE_MS)
    qtbot.waitUntil(lambda: str(session) in controller.scheduler.watched()[1], timeout=LIVE_DEADLINE_MS)
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=5_000)

    with session.open("a", encoding="utf-8") as handle:
        handle.write(assistant_line(2))
    qtbot.waitUntil(lambda: controller.overview.records_total == 2, timeout=LIVE_DEADLINE_MS)


def test_a_folder_watched_for_a_missing_log_folder_only_asks_for_a_new_plan(qtbot, tmp_path: Path) -> None:
    """A home folder changes all day: there, only a step towards the missing log folder counts.
    Nothing else in it is watched or imported; once the log folder exists, the stand-in goes."""
    home = tmp_path / "user"
    home.mkdir()
    root = home / ".claude" / "projects"
    scheduler = Scheduler()
    imports: list[int] = []
    replans: list[int] = []
    scheduler.files_changed.connect(lambda: imports.append(1))
    scheduler.roots_appeared.connect(lambda: replans.append(1))
    plan = watch_plan([root], home=home)
    assert plan.waiting == {home: [root]}
    assert scheduler.apply_watch_plan(plan) == 0
    assert scheduler.watched() == ([str(home)], [])

    (home / ".cache" / "thing").mkdir(parents=True)
    (home / "notes.jsonl").write_text("{}\n")
    (home / ".claude").write_text("")  # a file in the way is no step towards the folder
    qtbot.wait(600)
    assert not imports
    assert not replans
    assert scheduler.watched() == ([str(home)], [])

    (home / ".claude").unlink()
    (home / ".claude").mkdir()
    qtbot.waitUntil(lambda: len(replans) == 1, timeout=2000)
    plan = watch_plan([root], home=home)
    assert plan.waiting == {home / ".claude": [root]}
    scheduler.apply_watch_plan(plan)
    assert scheduler.watched() == ([str(home / ".claude")], [])

    session = root / "p" / "s.jsonl"
    session.parent.mkdir(parents=True)
    session.write_text("{}\n")
    qtbot.waitUntil(lambda: len(replans) == 2, timeout=2000)
    assert scheduler.apply_watch_plan(watch_plan([root], home=home)) == 3  # two folders and the file
    assert sorted(scheduler.watched()[0]) == [str(root), str(root / "p")]
    assert scheduler.watched()[1] == [str(session)]
    scheduler.stop()


def test_new_sessions_are_watched_however_many_files_came_before(qtbot, tmp_path: Path, monkeypatch) -> None:
    """The watch list has room for a few hundred files. Files once watched kept their place for
    good, so after some days of sessions a new session's lines were not seen until the next
    poll (15 minutes): the quietest file now gives its place up, and a new plan drops the rest."""
    from tokenworth.ui import scheduler as scheduling

    monkeypatch.setattr(scheduling, "MAX_WATCHED_FILES", 3)  # room for 6 files, as 800 in the app
    root = tmp_path / "projects" / "p"
    root.mkdir(parents=True)
    for number in range(8):
        old = root / f"old{number}.jsonl"
        old.write_text("{}\n")
        os.utime(old, ns=(number * 10**9, number * 10**9))
    scheduler = Scheduler()
    changes: list[int] = []
    scheduler.files_changed.connect(lambda: changes.append(1))
    scheduler.apply_watch_plan(watch_plan([root.parent], recent_files=3))
    assert sorted(Path(f).name for f in scheduler.watched()[1]) == ["old5.jsonl", "old6.jsonl", "old7.jsonl"]

    for number in range(5):  # a day of sessions
        (root / f"day{number}.jsonl").write_text("{}\n")
        qtbot.waitUntil(lambda n=number: str(root / f"day{n}.jsonl") in scheduler.watched()[1], timeout=2000)
    session = root / "new-session.jsonl"
    session.write_text("{}\n")
    qtbot.waitUntil(lambda: str(session) in scheduler.watched()[1], timeout=2000)
    assert len(scheduler.watched()[1]) == 6
    qtbot.waitUntil(lambda: scheduler._debounce.isActive() is False, timeout=2000)
    changes.clear()
    with session.open("a", encoding="utf-8") as handle:
        handle.write("{}\n")
    qtbot.waitUntil(lambda: bool(changes), timeout=2000)  # its new line is seen at once

    scheduler.apply_watch_plan(watch_plan([root.parent], recent_files=3))  # the next poll's plan
    watched = {Path(f).name for f in scheduler.watched()[1]}
    assert "new-session.jsonl" in watched
    assert not any(name.startswith("old") for name in watched)  # the quiet ones gave their watch back
    scheduler.stop()


def test_a_project_folder_linked_in_is_watched_live(qtbot, tmp_path: Path) -> None:
    """The import reads a folder linked into the logs (a project moved to another disk); the
    tray watches it too, so its new lines show at once, and a link back up is no loop."""
    projects = tmp_path / "claude" / "projects"
    projects.mkdir(parents=True)
    moved = tmp_path / "other-disk" / "-home-dev-app"
    moved.mkdir(parents=True)
    session = moved / "s1.jsonl"
    session.write_text("{}\n")
    (projects / "-home-dev-app").symlink_to(moved, target_is_directory=True)
    (moved / "up").symlink_to(projects, target_is_directory=True)
    plan = watch_plan([projects])
    assert [path.name for path in plan.files] == ["s1.jsonl"]
    scheduler = Scheduler()
    changes: list[int] = []
    scheduler.files_changed.connect(lambda: changes.append(1))
    scheduler.apply_watch_plan(plan)
    with session.open("a", encoding="utf-8") as handle:
        handle.write("{}\n")
    qtbot.waitUntil(lambda: bool(changes), timeout=2000)
    scheduler.stop()


def test_refresh_now_with_nothing_new_ends_its_refreshing_status(qtbot, make_controller) -> None:
    """An import that finds nothing new refreshes nothing: the status still ends, with the time."""
    runner = TaskRunner()
    controller = make_controller(Settings(), runner=runner)
    controller.start()
    qtbot.waitUntil(lambda: controller.state.first_import_done and controller.overview is not None, timeout=10_000)
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=5_000)
    said: list[str] = []
    controller.status_changed.connect(said.append)
    controller.refresh_now()
    assert said[0] == "Refreshing…"
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=5_000)
    qtbot.waitUntil(lambda: controller.status.startswith("Up to date at "), timeout=LIVE_DEADLINE_MS)


def test_a_change_made_from_the_command_line_shows_without_a_refresh(
    qtbot, make_controller, ledger, monkeypatch
) -> None:
    """Records written by another process (the CLI, say) reach the dashboard within a check;
    once shown, the app's own refresh does not set off another one."""
    from task_ledger import known_events, write_events
    from tokenworth.core.db import Database
    from tokenworth.ui import controller as controller_module
    from tokenworth.ui.hooks import default_hooks

    monkeypatch.setattr(controller_module, "LEDGER_CHECK_MS", 50)
    runner = TaskRunner()
    controller = make_controller(Settings(), runner=runner, hooks=default_hooks())  # value report and all
    controller.start()
    qtbot.waitUntil(lambda: controller.state.first_import_done and controller.overview is not None, timeout=10_000)
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=5_000)
    assert controller.overview.records_total == 0
    qtbot.wait(200)  # the check has taken note of the ledger as it is

    write_events(Database(ledger.url), known_events())  # another process's connection
    qtbot.waitUntil(lambda: controller.overview.records_total == len(known_events()), timeout=LIVE_DEADLINE_MS)
    qtbot.wait(300)
    refreshes: list[object] = []
    controller.overview_changed.connect(refreshes.append)
    qtbot.wait(500)  # ten checks
    assert refreshes == []

    # the app's own import refreshes once, not once more when the check sees its commit
    session = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects" / "-home-dev-x" / "s.jsonl"
    session.parent.mkdir(parents=True)
    session.write_text(assistant_line(1))
    controller.import_logs()
    qtbot.waitUntil(lambda: controller.overview.records_total == len(known_events()) + 1, timeout=LIVE_DEADLINE_MS)
    qtbot.wait(500)
    assert len(refreshes) == 1

    # an agent's line with no usage: the import writes only its place in the file, nothing to show
    with session.open("a", encoding="utf-8") as handle:
        handle.write('{"type":"user","message":{"role":"user","content":"next"},"timestamp":"2026-01-20T10:00:00Z"}\n')
    controller.import_logs()
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=5_000)
    qtbot.wait(500)
    assert len(refreshes) == 1


def test_a_damaged_ledger_is_said_with_what_to_do_as_the_command_line_says_it(qtbot, make_controller, ledger) -> None:
    """The status line said "file is not a database" and no more; the CLI says to move the file
    aside and import again: the app says the same."""
    from pathlib import Path

    from tokenworth.core.db import sqlite_file

    controller = make_controller(Settings())
    file = sqlite_file(ledger.url)
    assert isinstance(file, Path)
    ledger.dispose()
    file.write_bytes(b"x" * 4096)
    for name in ("-wal", "-shm"):
        Path(f"{file}{name}").unlink(missing_ok=True)
    controller.refresh()
    assert controller.status.startswith("Could not read the ledger:")
    assert f"The ledger file {file} is damaged. Move it aside" in controller.status
