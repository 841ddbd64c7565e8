"""UI test parts: a real ledger in a throwaway home, a movable clock, sample logs where the app
looks for them, and builders for the controller and app with an inline or real worker pool."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from uihelpers import CLAUDE_SESSION, SAMPLE_DAY, SAMPLES, Clock

from tokenworth.core.config import AppPaths, resolve_paths
from tokenworth.core.db import Database, open_database
from tokenworth.core.settings import Settings
from tokenworth.ui.controller import AppController
from tokenworth.ui.hooks import AppHooks
from tokenworth.ui.scheduler import Scheduler
from tokenworth.ui.workers import InlineRunner


@pytest.fixture
def clock() -> Clock:
    return Clock(SAMPLE_DAY)


@pytest.fixture
def paths(home: Path, monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    monkeypatch.setenv("TZ", "UTC")
    return resolve_paths()


@pytest.fixture
def ledger(paths: AppPaths) -> Iterator[Database]:
    database = open_database(paths.db_url)
    yield database
    database.dispose()


@pytest.fixture
def sample_logs(tmp_path: Path) -> dict[str, Path]:
    """The fixture logs copied where the `home` fixture's env vars make the app look."""
    claude = tmp_path / "claude" / "projects" / "-home-dev-tokenworth" / f"{CLAUDE_SESSION}.jsonl"
    codex = (
        tmp_path
        / "codex"
        / "sessions"
        / "2026"
        / "01"
        / "05"
        / "rollout-2026-01-05T09-10-00-00000000-0000-4000-8000-0000000000cc.jsonl"
    )
    gemini = tmp_path / "gemini" / "tmp" / "abc123" / "chats" / "session-2026-01-05T09-20-abcd.jsonl"
    for target, name in (
        (claude, "claude-code.jsonl"),
        (codex, "codex-rollout.jsonl"),
        (gemini, "gemini-cli-session.jsonl"),
    ):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / name, target)
    return {"claude-code": claude, "codex": codex, "gemini-cli": gemini}


@pytest.fixture
def make_controller(paths: AppPaths, ledger: Database, clock: Clock, qtbot):
    """Build an AppController on the real ledger; inline worker pool unless told otherwise."""
    made: list[AppController] = []

    def build(settings: Settings | None = None, *, hooks: AppHooks | None = None, runner=None) -> AppController:
        scheduler = Scheduler(clock=clock)
        controller = AppController(
            paths=paths,
            db=ledger,
            settings=settings or Settings(),
            runner=runner or InlineRunner(),
            scheduler=scheduler,
            hooks=hooks,
        )
        made.append(controller)
        return controller

    yield build
    for controller in made:
        controller.shutdown()


@pytest.fixture
def make_app(paths: AppPaths, ledger: Database, clock: Clock, qtbot):
    """Build the whole app (tray and all) on the real ledger, with real worker threads unless
    told otherwise; shut down after the test."""
    from uihelpers import shut_down

    from tokenworth.ui.shell import TokenworthApp
    from tokenworth.ui.workers import TaskRunner

    made: list[TokenworthApp] = []

    def build(
        *,
        hooks: AppHooks | None = None,
        settings: Settings | None = None,
        runner=None,
        tray: bool = True,
        first_import_in_child: bool = False,
        kind: type[TokenworthApp] = TokenworthApp,
    ) -> TokenworthApp:
        app = kind(
            paths=paths,
            db=ledger,
            settings=settings or Settings(),
            hooks=hooks,
            runner=runner or TaskRunner(),
            scheduler=Scheduler(clock=clock),
            tray_available=tray,
            first_import_in_child=first_import_in_child,
        )
        made.append(app)
        return app

    yield build
    for app in made:
        shut_down(app)


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_main_thread() -> Iterator[None]:
    """Python's cyclic GC may run in whichever thread allocates: a worker thread collecting a
    cycle that holds a Qt object (a closed dialog, a finished test's controller) deletes it off
    the main thread and crashes Qt. The app collects on the main thread only (ui.gc_guard.MainThreadGc);
    tests do the same: no automatic collection while a test runs, a full one after it."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        if enabled:
            gc.enable()
