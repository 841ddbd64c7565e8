"""Tasks and attribution on a real SQLite ledger with known times and prices (see task_ledger)."""

from __future__ import annotations

import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import at_once
from task_ledger import at, event, known_events, record_ids, write_events
from tokenworth.core.db import Database, open_database
from tokenworth.core.models import UsageRecord
from tokenworth.core.task_models import Task, TaskAttribution
from tokenworth.services.attribution import rebuild_attribution, sync_attribution
from tokenworth.services.task_preview import preview_task
from tokenworth.services.tasks import (
    Assignment,
    TaskChanges,
    TaskConflictError,
    TaskDraft,
    TaskInputError,
    TaskNotFoundError,
    assign,
    category_history,
    delete_task,
    edit_task,
    get_task,
    list_categories,
    list_tasks,
    log_task,
    parse_amount,
    start_task,
    stop_task,
    unassign,
)


def shares(db: Database) -> dict[tuple[str, int], Fraction]:
    """(dedupe key, task id) -> exact share, as stored."""
    with db.session() as session:
        rows = session.execute(
            select(
                UsageRecord.dedupe_key,
                TaskAttribution.task_id,
                TaskAttribution.share_num,
                TaskAttribution.share_den,
            ).join(UsageRecord, UsageRecord.id == TaskAttribution.record_id)
        ).all()
    return {(key, task): Fraction(num, den) for key, task, num, den in rows}


@pytest.fixture
def ledger(db: Database) -> Database:
    write_events(db, known_events())
    return db


@pytest.fixture
def tasks(ledger: Database) -> dict[str, int]:
    """T1 and T2 overlap (T2 started later), T3 holds session S2, T4 has no usage."""
    t1 = log_task(ledger, TaskDraft("Feature A", Decimal(30), at(5, 10), at(5, 11), category="coding"))
    t2 = log_task(ledger, TaskDraft("Review", Decimal(3), at(5, 10, 30), at(5, 11, 30), category="coding"))
    t3 = log_task(
        ledger,
        TaskDraft("Codex work", Decimal(0), category="research", assignments=(Assignment(session_id="S2"),)),
    )
    t4 = log_task(ledger, TaskDraft("Spike", Decimal(50), at(10, 9), at(10, 10), category="research"))
    return {"T1": t1.id, "T2": t2.id, "T3": t3.id, "T4": t4.id}


def test_attributed_costs_and_pro_rata_splits_are_exact(ledger: Database, tasks: dict[str, int]) -> None:
    t1, t2, t3 = tasks["T1"], tasks["T2"], tasks["T3"]
    assert shares(ledger) == {
        ("r1", t1): 1,
        ("r4", t1): 1,  # unpriced, in T1's part of the time line
        ("r2", t2): 1,  # 10:50 is in both spans; T2 started later
        ("r3", t3): 1,  # session S2, assigned wholesale
        ("r5", t1): Fraction(1, 2),  # hourly bucket 10:00-11:00: half each
        ("r5", t2): Fraction(1, 2),
        ("r6", t1): Fraction(1, 48),  # daily bucket: T1 holds 10:00-10:30
        ("r6", t2): Fraction(1, 24),  # T2 holds 10:30-11:30
    }
    view1, view2, view3, view4 = (get_task(ledger, tasks[name]) for name in ("T1", "T2", "T3", "T4"))
    assert view1.cost == Decimal("3.30")  # 1.00 + 3.60/2 + 24/48
    assert not view1.usage.cost_complete
    assert view1.usage.unpriced_models == {"mystery"}
    assert round(view1.usage.tokens) == 100_000 + 50_000 + 18_000 + 5_000
    assert view1.tfp.ratio == Decimal("9.0909")
    assert not view1.tfp.complete
    assert view2.cost == Decimal("4.80")  # 2.00 + 1.80 + 1.00
    assert view2.tfp.ratio == Decimal("0.6250")
    assert view2.flagged
    assert view3.cost == Decimal("2.00")
    assert view3.tfp.ratio == Decimal("0.0000")
    assert view3.flagged
    assert view3.attributed_by == "assignments"
    assert view3.started_at == at(5, 11, 30)  # span taken from the session's usage
    assert view4.cost == Decimal("0.00")
    assert view4.tfp.note == "no spend"
    assert not view4.flagged


def test_editing_a_span_reattributes_deterministically(ledger: Database, tasks: dict[str, int]) -> None:
    t1, t2 = tasks["T1"], tasks["T2"]
    edit_task(ledger, t2, TaskChanges(start=at(5, 10, 45)))
    got = shares(ledger)
    assert got[("r5", t1)] == Fraction(3, 4)
    assert got[("r5", t2)] == Fraction(1, 4)
    assert got[("r6", t1)] == Fraction(3, 96)
    assert got[("r6", t2)] == Fraction(3, 96)
    edit_task(ledger, t2, TaskChanges(start=at(5, 10, 30)))
    before = shares(ledger)
    rebuild_attribution(ledger)
    assert shares(ledger) == before  # incremental results equal a full recompute


def test_deleting_a_task_leaves_its_usage_unattributed_and_totals_unchanged(
    ledger: Database, tasks: dict[str, int]
) -> None:
    with ledger.session() as session:
        records_before = session.scalar(select(func.count()).select_from(UsageRecord))
        cost_before = session.scalar(select(func.sum(UsageRecord.cost)))
    deleted = delete_task(ledger, tasks["T3"])
    assert deleted.cost == Decimal("2.00")
    assert all(task != tasks["T3"] for _, task in shares(ledger))
    assert ("r3", tasks["T2"]) not in shares(ledger)  # 11:30 is outside T2's span: unattributed again
    with ledger.session() as session:
        assert session.scalar(select(func.count()).select_from(UsageRecord)) == records_before
        assert session.scalar(select(func.sum(UsageRecord.cost))) == cost_before
    with pytest.raises(TaskNotFoundError):
        get_task(ledger, tasks["T3"])


def test_deleting_an_overlapping_task_gives_its_time_back_to_the_other(ledger: Database, tasks: dict[str, int]) -> None:
    delete_task(ledger, tasks["T2"])
    got = shares(ledger)
    assert got[("r2", tasks["T1"])] == 1
    assert got[("r5", tasks["T1"])] == 1
    assert got[("r6", tasks["T1"])] == Fraction(1, 24)


def test_assigning_a_branch_takes_it_from_time_spans_and_unassigning_gives_it_back(
    ledger: Database, tasks: dict[str, int]
) -> None:
    branch_task = log_task(ledger, TaskDraft("Docs", Decimal(10), at(6, 9), at(6, 10)))
    view = assign(ledger, branch_task.id, Assignment(project="/p/docs", branch="main"))
    assert view.attributed_by == "assignments"
    assert shares(ledger)[("r4", branch_task.id)] == 1
    assert ("r4", tasks["T1"]) not in shares(ledger)
    unassign(ledger, branch_task.id, Assignment(project="/p/docs", branch="main"))
    assert shares(ledger)[("r4", tasks["T1"])] == 1


def test_a_session_belongs_to_one_task(ledger: Database, tasks: dict[str, int]) -> None:
    with pytest.raises(TaskConflictError, match="already assigned to task"):
        assign(ledger, tasks["T1"], Assignment(session_id="S2"))
    with pytest.raises(TaskInputError, match="no usage recorded"):
        assign(ledger, tasks["T1"], Assignment(session_id="no-such-session"))


def test_records_from_a_later_import_are_attributed(ledger: Database, tasks: dict[str, int]) -> None:
    stamp = write_events(ledger, [event("late", at(5, 10, 5), tokens=300_000)])
    sync_attribution(ledger, imported_since=stamp)
    assert shares(ledger)[("late", tasks["T1"])] == 1
    # A writer that does not call sync: the next read catches up by the watermark.
    write_events(ledger, [event("later", at(5, 10, 55))])
    assert get_task(ledger, tasks["T2"]).cost == Decimal("5.80")


def test_running_task_claims_new_usage_until_stopped(db: Database) -> None:
    task = start_task(db, "Live work", category="coding", now=at(7, 9))
    with pytest.raises(TaskConflictError, match="is running"):
        start_task(db, "Another", now=at(7, 9, 30))
    write_events(db, [event("during", at(7, 9, 40)), event("after", at(7, 11))])
    stopped = stop_task(db, value="40", now=at(7, 10))
    assert stopped.active is False
    assert stopped.ended_at == at(7, 10)
    assert stopped.cost == Decimal("1.00")
    assert stopped.tfp.ratio == Decimal("40.0000")
    assert ("after", task.id) not in shares(db)
    with pytest.raises(TaskNotFoundError, match="no task is running"):
        stop_task(db, now=at(7, 12))


@pytest.mark.parametrize(
    ("draft", "message"),
    [
        (TaskDraft("x", "-5", at(5, 10), at(5, 11)), "zero or more"),  # type: ignore[arg-type]
        (TaskDraft("x", "lots", at(5, 10), at(5, 11)), "number of dollars"),  # type: ignore[arg-type]
        (TaskDraft("x", "NaN", at(5, 10), at(5, 11)), "number of dollars"),  # type: ignore[arg-type]
        (TaskDraft("x", Decimal(1), at(5, 11), at(5, 10)), "is before the start"),
        (TaskDraft("x", Decimal(1), at(5, 11), at(5, 11)), "end after it starts"),
        (TaskDraft("  ", Decimal(1), at(5, 10), at(5, 11)), "needs a title"),
        (TaskDraft("x", Decimal(1)), "--start and --end"),
        (TaskDraft("x", Decimal(1), at(5, 10), at(5, 11), link_url="ftp://x"), "http"),
        (TaskDraft("x", "99,50", at(5, 10), at(5, 11)), "comma only groups thousands"),  # type: ignore[arg-type]
        (TaskDraft("x", "1.234,56", at(5, 10), at(5, 11)), "comma only groups thousands"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_is_refused_and_changes_nothing(ledger: Database, draft: TaskDraft, message: str) -> None:
    with pytest.raises(TaskInputError, match=message):
        log_task(ledger, draft)
    with ledger.session() as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 0
        assert session.scalar(select(func.count()).select_from(TaskAttribution)) == 0


def test_a_running_task_may_not_overlap_a_time_attributed_span(db: Database) -> None:
    start_task(db, "Running", now=at(8, 9))
    with pytest.raises(TaskConflictError, match="overlaps the running task"):
        log_task(db, TaskDraft("Past", Decimal(1), at(8, 8), at(8, 10)))
    # Ending before the running task started is fine.
    log_task(db, TaskDraft("Past", Decimal(1), at(8, 8), at(8, 9)))
    with pytest.raises(TaskConflictError):
        edit_task(db, 1, TaskChanges(start=at(8, 8, 30)))
    assert get_task(db, 1).started_at == at(8, 9)


def test_edit_refuses_bad_input_and_keeps_the_task(ledger: Database, tasks: dict[str, int]) -> None:
    with pytest.raises(TaskInputError, match="is before the start"):
        edit_task(ledger, tasks["T1"], TaskChanges(end=at(5, 9)))
    with pytest.raises(TaskInputError, match="zero or more"):
        edit_task(ledger, tasks["T1"], TaskChanges(value="-1"))
    with pytest.raises(TaskNotFoundError):
        edit_task(ledger, 999, TaskChanges(title="x"))
    view = get_task(ledger, tasks["T1"])
    assert (view.ended_at, view.value) == (at(5, 11), Decimal(30))


def test_preview_shows_cost_and_tfp_before_saving(ledger: Database, tasks: dict[str, int]) -> None:
    preview = preview_task(ledger, TaskDraft("Would be", Decimal(12), at(5, 10, 40), at(5, 11)))
    # r2 ($2.00, now T2's) and 20 minutes of each bucket: 3.60/3 + 24/72.
    assert preview.cost == Decimal("3.5333333333")
    assert preview.tfp.ratio == Decimal("3.3962")
    assert set(preview.taken_from) == {tasks["T2"]}
    session_preview = preview_task(ledger, TaskDraft("S1 work", Decimal(9), assignments=(Assignment(session_id="S1"),)))
    assert session_preview.cost == Decimal("4.00")  # r1, r2, r7: the whole session
    with ledger.session() as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 4  # nothing saved


def test_categories_offer_history_first_then_defaults(ledger: Database, tasks: dict[str, int]) -> None:
    names = list_categories(ledger)
    assert names[:2] == ["research", "coding"]  # most recently started first
    assert "docs" in names
    assert names.count("coding") == 1
    assert category_history(ledger)[0].tasks == 2


def test_list_by_month(ledger: Database, tasks: dict[str, int]) -> None:
    from datetime import UTC

    assert [view.title for view in list_tasks(ledger, month=(2026, 1), zone=UTC)] == [
        "Spike",
        "Codex work",
        "Review",
        "Feature A",
    ]
    assert list_tasks(ledger, month=(2026, 2), zone=UTC) == []


def test_record_deleted_by_a_later_import_takes_its_share_with_it(ledger: Database, tasks: dict[str, int]) -> None:
    from sqlalchemy import delete

    ids = record_ids(ledger)
    with ledger.engine.begin() as conn:
        conn.execute(delete(UsageRecord.__table__).where(UsageRecord.__table__.c.id == ids["r1"]))
    assert ("r1", tasks["T1"]) not in shares(ledger)
    assert get_task(ledger, tasks["T1"]).cost == Decimal("2.30")


def test_preview_of_an_edit_matches_the_saved_edit(ledger: Database, tasks: dict[str, int]) -> None:
    draft = TaskDraft("Review", Decimal(3), at(5, 10, 45), at(5, 11, 30))
    preview = preview_task(ledger, draft, task_id=tasks["T2"])
    saved = edit_task(ledger, tasks["T2"], TaskChanges(start=at(5, 10, 45)))
    assert preview.cost == saved.cost
    assert preview.tfp == saved.tfp
    assert preview.taken_from == {}


def test_proposals_offer_unattributed_branches_the_last_session_and_unvalued_tasks(
    ledger: Database, tasks: dict[str, int]
) -> None:
    from tokenworth.services.proposals import list_proposals

    log_task(ledger, TaskDraft("No value yet", None, at(12, 9), at(12, 10)))
    proposals = list_proposals(ledger)
    assert [(p.kind, p.session_id or p.branch or p.title) for p in proposals] == [
        ("session", "S1"),  # r7 on Jan 20th: the most recent unattributed session
        ("branch", "feat-a"),
        ("unvalued_task", "No value yet"),
    ]
    assert proposals[0].cost == Decimal("1.00")
    assert proposals[1].assignment == Assignment(project="/p/app", branch="feat-a")
    assert proposals[1].title == "feat-a (app)"
    branch = proposals[1].assignment
    assert branch is not None
    accepted = log_task(ledger, TaskDraft(proposals[1].title, Decimal(20), assignments=(branch,)))
    assert accepted.cost == Decimal("4.00")  # r1, r2 and r7: assignment beats the time spans
    assert [p.kind for p in list_proposals(ledger)] == ["unvalued_task"]


def test_check_draft_refuses_what_saving_would_and_writes_nothing(ledger: Database, tasks: dict[str, int]) -> None:
    from tokenworth.services.tasks import check_draft

    start_task(ledger, "Running", now=at(20, 8))
    before = (list_tasks(ledger), shares(ledger))
    with pytest.raises(TaskConflictError, match="overlaps the running task"):
        check_draft(ledger, TaskDraft("Past", Decimal(1), at(20, 9), at(20, 10)))
    with pytest.raises(TaskConflictError, match="already assigned to task"):
        check_draft(ledger, TaskDraft("Again", Decimal(1), assignments=(Assignment(session_id="S2"),)))
    with pytest.raises(TaskInputError, match="before the start"):
        check_draft(ledger, TaskDraft("Backwards", Decimal(1), at(5, 11), at(5, 10)))
    with pytest.raises(TaskNotFoundError):
        check_draft(ledger, TaskDraft("Gone", Decimal(1), at(5, 10), at(5, 11)), task_id=999)
    check_draft(ledger, TaskDraft("Fine", Decimal(1), at(12, 9), at(12, 10)))
    check_draft(ledger, TaskDraft("Feature A", Decimal(30), at(5, 10), at(5, 12)), task_id=tasks["T1"])
    assert (list_tasks(ledger), shares(ledger)) == before


def test_thousands_commas_are_read_as_such() -> None:
    assert parse_amount("$1,200.50") == Decimal("1200.50")
    assert parse_amount("12,345,678") == Decimal("12345678")
    assert parse_amount("$ 1,200") == Decimal("1200")


def test_a_logged_task_may_not_start_in_the_future(ledger: Database) -> None:
    """Logged work is work done; a future span would block `task start` until it began."""
    now = at(5, 12)
    with pytest.raises(TaskInputError, match="in the future"):
        log_task(ledger, TaskDraft("Later", Decimal(5), at(6, 10), at(6, 11)), now=now)
    with pytest.raises(TaskInputError, match=r"the end \(2026-01-30 17:00 UTC\) is in the future"):
        log_task(ledger, TaskDraft("Typo in the end", Decimal(5), at(5, 9), at(30, 17)), now=now)
    assert list_tasks(ledger) == []  # nothing saved: it would claim usage not made yet
    started_soon = log_task(ledger, TaskDraft("Rounded", Decimal(5), at(5, 11, 3), at(5, 12, 4)), now=now)
    assert started_soon.ended_at == at(5, 12, 4)  # a few minutes ahead of the clock is fine


def test_a_session_task_is_listed_in_the_month_of_its_spend_whatever_its_span(
    ledger: Database, tasks: dict[str, int]
) -> None:
    """`task list --month` agrees with `report value`: a task attributed by its session keeps that
    session's spend, so moving its span elsewhere does not drop it from the month of the spend."""
    from datetime import UTC

    edit_task(ledger, tasks["T3"], TaskChanges(start=at(2, 9, month=3), end=at(2, 10, month=3)))  # Codex work
    assert "Codex work" in [view.title for view in list_tasks(ledger, month=(2026, 1), zone=UTC)]
    assert [view.title for view in list_tasks(ledger, month=(2026, 3), zone=UTC)] == ["Codex work"]
    assert list_tasks(ledger, month=(2026, 2), zone=UTC) == []


def _start_together(url: str, titles: list[str]) -> list[str]:
    """Start a task per title, each from its own connection, all released at the same moment."""
    outcomes = []
    for result in at_once(url, start_task, titles):
        if isinstance(result, BaseException) and not isinstance(result, TaskConflictError):
            raise result
        outcomes.append("refused" if isinstance(result, TaskConflictError) else "started")
    return outcomes


def test_tasks_started_at_once_from_several_places_leave_one_running(tmp_path: Path) -> None:
    """Two terminals (or the tray and a terminal) starting a task together: one starts, the
    others are told a task is running, never several running tasks claiming the same usage."""
    from tokenworth.core.config import sqlite_url

    url = sqlite_url(tmp_path / "shared.db")
    database = open_database(url)
    for round_number in range(3):
        outcomes = _start_together(url, [f"round {round_number} task {number}" for number in range(6)])
        assert sorted(outcomes) == ["refused"] * 5 + ["started"]
        time.sleep(0.005)  # stopped after it started, and the next round starts after that
        stop_task(database)
        time.sleep(0.005)
    database.dispose()


def test_a_deleted_tasks_id_is_never_given_to_a_new_task(db: Database) -> None:
    """An experiment that counted the deleted task must not take the next task for it."""
    first = start_task(db, "first", now=at(5, 9))
    stop_task(db, now=at(5, 10))
    second = log_task(db, TaskDraft("second", value="5", start=at(5, 10), end=at(5, 11)), now=at(5, 12))
    delete_task(db, second.id)
    third = log_task(db, TaskDraft("third", value="5", start=at(5, 11), end=at(5, 12)), now=at(5, 13))
    assert third.id > second.id > first.id
    delete_task(db, third.id)
    delete_task(db, first.id)
    fourth = start_task(db, "fourth", now=at(5, 14))
    assert fourth.id > third.id


def test_a_task_logged_while_new_usage_is_attributed_keeps_that_usage(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tray's refresh attributes fresh records while a terminal logs the task they belong to:
    the refresh must not write shares from the rules it read before the task existed."""
    log_a_task_while_new_usage_is_attributed(db, monkeypatch)


def log_a_task_while_new_usage_is_attributed(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sync reads the rules; a terminal then logs a task over the fresh record (in its own
    connection); once both are done, the record is the task's. (Also run on PostgreSQL.)"""
    import threading

    import tokenworth.services.attribution as attribution

    write_events(db, [event("fresh", at(5, 10, 10))])
    url = db.engine.url.render_as_string(hide_password=False)
    logged = threading.Event()
    started: list[threading.Thread] = []
    read_rules = attribution.load_rules

    def log_from_a_terminal() -> None:
        terminal = open_database(url)
        try:
            log_task(terminal, TaskDraft("Feature A", Decimal(30), at(5, 10), at(5, 11)))
        finally:
            terminal.dispose()
            logged.set()

    def rules_read_while_a_task_is_logged(conn: object) -> object:
        rules = read_rules(conn)
        if not started:  # the refresh has read the rules: now the terminal logs its task
            started.append(threading.Thread(target=log_from_a_terminal))
            started[0].start()
            logged.wait(0.5)  # it waits for the refresh's lock, or (unlocked) is done at once
        return rules

    monkeypatch.setattr(attribution, "load_rules", rules_read_while_a_task_is_logged)
    sync_attribution(db)
    started[0].join(10)
    monkeypatch.undo()
    (task,) = list_tasks(db)
    assert shares(db) == {("fresh", task.id): 1}
    assert get_task(db, task.id).cost == Decimal("1.00")


def test_checking_an_edit_refuses_a_new_span_in_the_future_as_saving_would(
    ledger: Database, tasks: dict[str, int]
) -> None:
    """The popup checks an edit with `check_draft`: a span moved into the future is refused
    there as `edit_task` refuses it; the stored span, unchanged, is never held against it."""
    from datetime import UTC, datetime

    from sqlalchemy import update

    from tokenworth.services.tasks import check_draft

    feature = tasks["T1"]
    later = TaskDraft("Feature A", Decimal(30), at(5, 10), datetime(2099, 1, 1, tzinfo=UTC))
    with pytest.raises(TaskInputError, match="in the future"):
        check_draft(ledger, later, task_id=feature)
    with pytest.raises(TaskInputError, match="in the future"):
        edit_task(ledger, feature, TaskChanges(end=datetime(2099, 1, 1, tzinfo=UTC)))
    with ledger.session() as session:  # saved so by an older version, which did not check
        session.execute(update(Task).where(Task.id == feature).values(ended_at=datetime(2099, 1, 1, tzinfo=UTC)))
    check_draft(ledger, later, task_id=feature)  # only the title or value changes: accepted
    edit_task(ledger, feature, TaskChanges(title="Feature A, renamed"))
