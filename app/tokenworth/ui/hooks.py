"""Where phase-2 features plug into the tray app: task value, TFP, popup, keys, plans, export, poll.

Every hook is optional. Without one, the UI shows a disabled entry or "—" and keeps working.
`default_hooks()` is the single place that wires real services in as they land.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from tokenworth.core.config import AppPaths
from tokenworth.core.db import Database
from tokenworth.services.overview import ValueSource

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from tokenworth.ui.controller import AppController

NoticeKind = Literal["budget", "key-rejected", "unpriced", "import", "error", "info"]


@dataclass(frozen=True)
class Notice:
    """Something to tell the user once: a tray balloon, or the dashboard's status bar."""

    kind: NoticeKind
    title: str
    message: str


@dataclass(frozen=True)
class ActiveTask:
    """The task the user is working on now (phase 2, from services.tasks)."""

    title: str
    started_at: datetime
    cost_so_far: Decimal | None = None


UiAction = Callable[["AppController"], None]
"""A menu action: runs on the main thread; does its own work through `controller.runner`."""


@dataclass(frozen=True)
class AppHooks:
    """The phase-2 plug points. All run where noted; none may block the main thread."""

    value_source: ValueSource | None = None
    """Worker (DB lane), on every refresh: TFP, weekly TFP and valued tasks for the query."""
    active_task: Callable[[Database], ActiveTask | None] | None = None
    """Worker (DB lane), on every refresh: the running task, cached for the tray menu."""
    start_task: UiAction | None = None
    """Main thread: start a task (tray menu, when no task is active)."""
    stop_task: UiAction | None = None
    """Main thread: stop the active task and ask for its value (tray menu)."""
    log_task_value: UiAction | None = None
    """Main thread: open the keyboard-first popup (tray click, tray menu, dashboard)."""
    export_month: UiAction | None = None
    """Main thread: "Export this month…" (ask where, then export in a worker)."""
    poll_providers: Callable[[Database], Sequence[Notice]] | None = None
    """Worker (network lane), on "Refresh now" and every poll interval: poll provider usage
    APIs into the ledger; returns notices such as a rejected key."""
    keys_section: Callable[[QWidget | None], QWidget] | None = None
    """Main thread: builds the Settings dialog's Keys section (set, test, delete)."""
    plans_section: Callable[[QWidget | None], QWidget] | None = None
    """Main thread: builds the Settings dialog's Plans section."""
    set_start_at_login: Callable[[bool], None] | None = None
    """Main thread, after Settings are saved: apply the start-at-login flag (services.autostart);
    raises services.autostart.AutostartError (its message for the user) when it cannot."""
    start_at_login_enabled: Callable[[], bool] | None = None
    """Main thread, when Settings opens: whether the desktop starts Tokenworth at login now (one
    small file or registry read), so the checkbox shows what is really in place."""


def default_hooks(paths: AppPaths | None = None) -> AppHooks:
    """The hooks of the services present in this build.

    Export (issue 7) and start at login (issue 8) are wired below through small wrappers that
    import their code on first use, so start-up stays fast. The Suggestions panel (issue 6) is not
    a hook: `TokenworthApp.dashboard` adds it beside the price panel.
    """
    from tokenworth.services.task_overview import value_overview
    from tokenworth.ui import task_actions

    return AppHooks(
        value_source=value_overview,
        active_task=task_actions.active_task,
        start_task=task_actions.start_task,
        stop_task=task_actions.stop_task,
        log_task_value=task_actions.log_task_value,
        export_month=_export_month,
        poll_providers=_poll_providers,
        keys_section=_keys_section,
        plans_section=_plans_section,
        set_start_at_login=lambda enabled: _set_start_at_login(enabled, paths),
        start_at_login_enabled=_start_at_login_enabled,
    )


# Imported on first use: the provider code brings httpx (about 0.3 s), not needed to show numbers.


def _poll_providers(db: Database) -> Sequence[Notice]:
    from tokenworth.ui.provider_poll import poll_providers

    return poll_providers(db)


def _keys_section(parent: QWidget | None) -> QWidget:
    from tokenworth.ui.keys_section import keys_section

    return keys_section(parent)


def _plans_section(parent: QWidget | None) -> QWidget:
    from tokenworth.ui.plans_section import plans_section

    return plans_section(parent)


def _export_month(controller: AppController) -> None:
    from tokenworth.ui.export_action import export_month

    export_month(controller)


def _set_start_at_login(enabled: bool, paths: AppPaths | None) -> None:
    """On: an entry that opens this app's state folder and database (`paths`), not the defaults."""
    from tokenworth.services.autostart import login_command, set_start_at_login

    set_start_at_login(enabled, command=login_command(paths))


def _start_at_login_enabled() -> bool:
    from tokenworth.services.autostart import is_enabled

    return is_enabled()
