"""`tokenworth task ...`: start, stop, log, list, edit, delete and assign tasks; proposals."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime, tzinfo

from tokenworth.cli.base import (
    ZONE_DEFAULT,
    CliContext,
    Command,
    CommandError,
    id_argument,
    project_argument,
    user_errors,
    zone_argument,
)
from tokenworth.cli.import_cmd import import_first, plural
from tokenworth.cli.output import clip_to_width, render_table, tokens, write_json
from tokenworth.cli.value_cmd import month_argument
from tokenworth.core.analytics import format_tfp, units_to_money
from tokenworth.core.money import format_cost, format_usd
from tokenworth.core.timeutil import parse_day_or_time, utc_now
from tokenworth.services.attribution import UsageCell, rebuild_attribution
from tokenworth.services.proposals import Proposal, list_proposals
from tokenworth.services.task_preview import preview_task
from tokenworth.services.tasks import (
    KEEP,
    Assignment,
    TaskChanges,
    TaskDraft,
    TaskInputError,
    TaskNotFoundError,
    TaskView,
    assign,
    category_history,
    check_draft,
    delete_task,
    edit_task,
    get_task,
    list_tasks,
    log_task,
    start_task,
    stop_task,
    unassign,
)


def _time(text: str, zone: tzinfo, what: str) -> datetime:
    if text.strip().lower() == "now":
        return utc_now()
    try:
        return parse_day_or_time(text, zone)
    except ValueError as exc:
        raise CommandError(f"{what}: {exc}", 2) from exc


_task_id = id_argument("a task id")
TZ_HELP = f"read and show times in this IANA zone ({ZONE_DEFAULT})"


def _add_details(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--category", help="e.g. coding, docs, research (see `task categories`)")
    parser.add_argument("--notes", help="free text")
    parser.add_argument("--url", help="a link: the issue or pull request")
    parser.add_argument("--link-branch", metavar="BRANCH", help="the git branch the work is on (a link only)")


def _add_assignment(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--session", metavar="ID", help="an agent session id (see `report sessions`)")
    parser.add_argument("--project", type=project_argument, help="a project as `report projects` shows it")
    parser.add_argument(
        "--branch",
        help="with --project: that git branch (without it: the project's usage that has no branch)",
    )
    parser.set_defaults(_assignment_required=required)


def _assignment(args: argparse.Namespace) -> Assignment | None:
    if args.session and args.project:
        raise CommandError("give --session or --project (with --branch), not both", 2)
    if args.branch and not args.project:
        raise CommandError("--branch needs its --project", 2)
    if args.session:
        return Assignment(session_id=args.session)
    if args.project:
        return Assignment(project=args.project, branch=args.branch or None)
    if args._assignment_required:
        raise CommandError("give --session ID, or --project P [--branch B]", 2)
    return None


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tz", metavar="ZONE", help=TZ_HELP)
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    start = sub.add_parser("start", help="start a task now (one runs at a time)")
    start.add_argument("title")
    start.add_argument("--value", help="what the work is worth, in dollars (or give it at stop)")
    _add_details(start)

    stop = sub.add_parser("stop", help="stop the running task")
    stop.add_argument("--value", help="what the work was worth, in dollars")
    stop.add_argument("--no-import", action="store_true", help="skip the import of local logs first")

    log = sub.add_parser(
        "log",
        help="record work done earlier",
        description="Record work done earlier: its span (--start/--end), or a session or project and "
        "branch whose usage it was (the span is then taken from that usage).",
    )
    log.add_argument("title")
    log.add_argument("--value", required=True, help="what the work was worth, in dollars")
    log.add_argument("--start", metavar="TIME", help="2026-01-31T14:00 (local), a date, or now")
    log.add_argument("--end", metavar="TIME", help="as --start; must be after it")
    _add_details(log)
    _add_assignment(log, required=False)
    log.add_argument("--dry-run", action="store_true", help="show what it would hold and its TFP; save nothing")
    log.add_argument("--no-import", action="store_true", help="skip the import of local logs first")

    listing = sub.add_parser("list", help="tasks with their cost, value and TFP")
    listing.add_argument("--month", metavar="YYYY-MM", help="only tasks whose span touches this month")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--no-import", action="store_true", help="skip the import of local logs first")

    show = sub.add_parser("show", help="one task in full")
    show.add_argument("id", type=_task_id)
    show.add_argument("--json", action="store_true")
    show.add_argument("--no-import", action="store_true", help="skip the import of local logs first")

    edit = sub.add_parser("edit", help="change a task (its usage is re-attributed)")
    edit.add_argument("id", type=_task_id)
    edit.add_argument("--title")
    edit.add_argument("--value", help="dollars")
    edit.add_argument("--start", metavar="TIME")
    edit.add_argument("--end", metavar="TIME", help="on the running task: stops it then")
    _add_details(edit)

    delete = sub.add_parser("delete", help="delete a task; its usage becomes unattributed again")
    delete.add_argument("id", type=_task_id)

    assign_p = sub.add_parser("assign", help="give a session or a (project, branch) to a task wholesale")
    assign_p.add_argument("id", type=_task_id)
    _add_assignment(assign_p, required=True)

    unassign_p = sub.add_parser("unassign", help="take back a session or (project, branch)")
    unassign_p.add_argument("id", type=_task_id)
    _add_assignment(unassign_p, required=True)

    about = "categories used so far, most recent first, then suggested ones not used yet"
    categories = sub.add_parser("categories", help=about, description=about[0].upper() + about[1:] + ".")
    categories.add_argument("--json", action="store_true")

    proposals = sub.add_parser("proposals", help="spend with no task yet, offered to be valued")
    proposals.add_argument("--month", metavar="YYYY-MM", help="only spend in this month")
    proposals.add_argument("--json", action="store_true")
    proposals.add_argument("--no-import", action="store_true", help="skip the import of local logs first")

    sub.add_parser("reattribute", help="recompute all attribution from the rules (a repair)")

    for action in sub.choices.values():
        # Also after the action (`task log ... --tz UTC`), where people put it. SUPPRESS keeps a
        # --tz given before the action when none follows it.
        action.add_argument("--tz", metavar="ZONE", default=argparse.SUPPRESS, help=TZ_HELP)


def _import_first(ctx: CliContext, args: argparse.Namespace) -> None:
    if not getattr(args, "no_import", True):
        import_first(ctx)


def _span(view: TaskView, zone: tzinfo) -> tuple[str, str]:
    start = view.started_at.astimezone(zone)
    if view.ended_at is None:
        return f"{start:%Y-%m-%d %H:%M}", "running"
    end = view.ended_at.astimezone(zone)
    return (
        f"{start:%Y-%m-%d %H:%M}",
        f"{end:%Y-%m-%d %H:%M}" if end.date() != start.date() else f"{end:%H:%M}",
    )


def _summary(view: TaskView) -> str:
    value = "no value yet" if view.value is None else f"value {format_usd(view.value)}"
    line = (
        f"{tokens(round(view.usage.tokens))} tokens, {format_cost(view.cost, view.usage.cost_complete)}; "
        f"{value}; TFP {format_tfp(view.tfp)}"
    )
    if view.flagged:
        line += " (COST > VALUE)"
    return line


def _describe(view: TaskView, zone: tzinfo) -> str:
    start, end = _span(view, zone)
    category = f" [{view.category}]" if view.category else ""
    return f"#{view.id} {view.title!r}{category}, {start} to {end}: {_summary(view)}"


def _table(views: list[TaskView], zone: tzinfo) -> str:
    headers = ["ID", "Title", "Category", "Start", "End", "Tokens", "Cost", "Value", "TFP", "By", "Flag"]
    right = [True, False, False, False, False, True, True, True, True, False, False]
    rows = []
    for view in views:
        start, end = _span(view, zone)
        rows.append(
            [
                str(view.id),
                clip_to_width(view.title, 40),
                view.category or "",
                start,
                end,
                tokens(round(view.usage.tokens)),
                format_cost(view.cost, view.usage.cost_complete),
                "-" if view.value is None else format_usd(view.value),
                format_tfp(view.tfp),
                "time" if view.attributed_by == "time" else "assigned",
                "COST > VALUE" if view.flagged else "",
            ]
        )
    return render_table(headers, rows, right)


def _proposal_line(proposal: Proposal, zone: tzinfo) -> list[str]:
    if proposal.kind == "unvalued_task" and proposal.task is not None:
        command = f"tokenworth task edit {proposal.task.id} --value V"
        what = f"task #{proposal.task.id}"
    else:
        assignment = proposal.assignment
        assert assignment is not None
        target = (
            f"--session {assignment.session_id}"
            if assignment.session_id
            else f"--project {_quote(assignment.project or '')}"
            + (f" --branch {_quote(assignment.branch)}" if assignment.branch else "")
        )
        command = f"tokenworth task log {_quote(proposal.title)} --value V {target}"
        what = (
            f"session {proposal.session_id}"
            if proposal.kind == "session"
            else f"{proposal.branch or '(no branch)'} in {proposal.project}"
        )
    last = proposal.last_activity
    return [
        proposal.kind.replace("_", " "),
        what,
        "" if last is None else f"{last.astimezone(zone):%Y-%m-%d %H:%M}",
        tokens(round(proposal.usage.tokens)),
        format_cost(proposal.cost, proposal.usage.cost_complete),
        command,
    ]


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _print_preview(ctx: CliContext, draft: TaskDraft) -> None:
    preview = preview_task(ctx.db(), draft)
    value = "no value" if preview.value is None else f"value {format_usd(preview.value)}"
    ctx.out(
        f"Would hold {tokens(round(preview.usage.tokens))} tokens, "
        f"{format_cost(preview.cost, preview.usage.cost_complete)}; {value}; TFP {format_tfp(preview.tfp)}"
        + (" (COST > VALUE)" if preview.flagged else "")
        + ". Nothing saved (--dry-run)."
    )
    for task_id, usage in sorted(preview.taken_from.items()):
        ctx.out(f"  of which task #{task_id} holds {_cost_of(usage)} now")


def _cost_of(usage: UsageCell) -> str:
    return format_cost(units_to_money(usage.cost_units), usage.cost_complete)


def _say_taken(ctx: CliContext, taken_from: dict[int, UsageCell]) -> None:
    """Say what a saved assignment took from other tasks: a session or branch is given wholesale,
    so spend a valued task held moves with it, and that task's TFP changes."""
    for task_id, usage in sorted(taken_from.items()):
        ctx.out(f"  {tokens(round(usage.tokens))} tokens, {_cost_of(usage)}, were task #{task_id}'s until now")


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    zone = zone_argument(ctx, args.tz)
    handler = _HANDLERS[args.action]
    with user_errors(not_found=(TaskNotFoundError,), bad_input=(TaskInputError,)):
        return handler(ctx, args, zone)


def _start(ctx: CliContext, args: argparse.Namespace, zone: tzinfo) -> int:
    view = start_task(
        ctx.db(),
        args.title,
        category=args.category,
        value=args.value,
        notes=args.notes,
        link_url=args.url,
        git_branch=args.link_branch,
    )
    ctx.out(f"Started task #{view.id} {view.title!r} at {view.started_at.astimezone(zone):%Y-%m-%d %H:%M}.")
    ctx.out("Stop it with `tokenworth task stop --value DOLLARS`.")
    return 0


def _stop(ctx: CliContext, args: argparse.Namespace, zone: tzinfo) -> int:
    from tokenworth.services.tasks import parse_amount

    parse_amount(args.value)  # bad input fails before the import runs
    _import_first(ctx, args)
    view = stop_task(ctx.db(), value=args.value)
    ctx.out(f"Stopped {_describe(view, zone)}")
    if view.value is None:
        ctx.out(f"Give it a value with `tokenworth task edit {view.id} --value DOLLARS`.")
    return 0


def _log(ctx: CliContext, args: argparse.Namespace, zone: tzinfo) -> int:
    assignment = _assignment(args)
    if (args.start is None) != (args.end is None):
        raise CommandError("give both --start and --end", 2)
    if args.start is None and assignment is None:
        raise CommandError("give --start and --end, or --session / --project [--branch] to take the span from", 2)
    draft = TaskDraft(
        title=args.title,
        value=args.value,
        start=None if args.start is None else _time(args.start, zone, "--start"),
        end=None if args.end is None else _time(args.end, zone, "--end"),
        category=args.category,
        notes=args.notes,
        link_url=args.url,
        git_branch=args.link_branch or (assignment.branch if assignment else None),
        assignments=() if assignment is None else (assignment,),
    )
    from tokenworth.services.tasks import parse_amount

    parse_amount(args.value)  # bad input fails before the import runs
    _import_first(ctx, args)  # the work just done has its usage in the ledger, to be shown
    if args.dry_run:
        check_draft(ctx.db(), draft)  # a dry run fails as the save would
        _print_preview(ctx, draft)
        return 0
    taken = preview_task(ctx.db(), draft).taken_from if draft.assignments else {}
    view = log_task(ctx.db(), draft)
    ctx.out(f"Logged {_describe(view, zone)}")
    _say_taken(ctx, taken)
    return 0


def _list(ctx: CliContext, args: argparse.Namespace, zone: tzinfo) -> int:
    month = None if args.month is None else month_argument(args.month, zone)
    _import_first(ctx, args)
    views = list_tasks(ctx.db(), month=month, zone=zone)
    if args.json:
        write_json(ctx.stdout, {"tasks": [view.as_json(zone) for view in views]})
    elif not views and args.month is not None:
        ctx.out(f"No task touches {args.month} (`tokenworth task list` shows them all).")
    elif not views:
        ctx.out("No tasks yet. `tokenworth task start TITLE` or `tokenworth task proposals` to begin.")
    else:
        ctx.out(_table(views, zone))
        if any(not view.tfp.complete and view.tfp.ratio is not None for view in views):
            ctx.out("* incomplete: part of the usage has no price (its cost is unknown, not $0).")
    return 0


def _show(ctx: CliContext, args: argparse.Namespace, zone: tzinfo) -> int:
    _import_first(ctx, args)
    view = get_task(ctx.db(), args.id)
    if args.json:
        write_json(ctx.stdout, view.as_json(zone))
        return 0
    ctx.out(_describe(view, zone))
    for label, text in (("Notes", view.notes), ("Link", view.link_url), ("Branch", view.git_branch)):
        if text:
            ctx.out(f"  {label}: {text}")
    if view.attributed_by == "time":
        ctx.out("  Attributed by its time span.")
    else:
        ctx.out("  Attributed by its assignments only:")
        for session_id in view.sessions:
            ctx.out(f"    session {session_id}")
        for project, branch in view.branches:
            ctx.out(f"    {branch or '(no branch)'} in {project}")
    if view.usage.unpriced_models:
        ctx.out(f"  UNPRICED: {', '.join(sorted(view.usage.unpriced_models))}")
    return 0


def _edit(ctx: CliContext, args: argparse.Namespace, zone: tzinfo) -> int:
    changes = TaskChanges(
        title=KEEP if args.title is None else args.title,
        category=KEEP if args.category is None else args.category,
        value=KEEP if args.value is None else args.value,
        start=KEEP if args.start is None else _time(args.start, zone, "--start"),
        end=KEEP if args.end is None else _time(args.end, zone, "--end"),
        notes=KEEP if args.notes is None else args.notes,
        link_url=KEEP if args.url is None else args.url,
        git_branch=KEEP if args.link_branch is None else args.link_branch,
    )
    view = edit_task(ctx.db(), args.id, changes)
    ctx.out(f"Updated {_describe(view, zone)}")
    return 0


def _delete(ctx: CliContext, args: argparse.Namespace, zone: tzinfo) -> int:
    view = delete_task(ctx.db(), args.id)
    held = f"{tokens(round(view.usage.tokens))} tokens, {format_cost(view.cost, view.usage.cost_complete)}"
    ctx.out(
        f"Deleted task #{view.id} {view.title!r}. The usage it held ({held}) is unattributed again, "
        "or goes to an overlapping task; no usage record was touched."
    )
    return 0


def _assign(ctx: CliContext, args: argparse.Namespace, zone: tzinfo) -> int:
    assignment = _assignment(args)
    assert assignment is not None
    taken = _taken_by_assigning(ctx, args.id, assignment)
    view = assign(ctx.db(), args.id, assignment)
    ctx.out(f"Assigned {assignment.label} to {_describe(view, zone)}")
    _say_taken(ctx, taken)
    ctx.out(f"Task #{view.id} is now attributed by its assignments only (its time span no longer claims usage).")
    return 0


def _taken_by_assigning(ctx: CliContext, task_id: int, assignment: Assignment) -> dict[int, UsageCell]:
    """What assigning would take from other tasks, previewed before it is saved."""
    task = get_task(ctx.db(), task_id)
    held = [Assignment(session_id=session) for session in task.sessions]
    held += [Assignment(project=project, branch=branch) for project, branch in task.branches]
    draft = TaskDraft(title=task.title, assignments=(*held, assignment))
    try:
        return preview_task(ctx.db(), draft, task_id=task_id).taken_from
    except TaskInputError:
        return {}  # `assign` says what is wrong with it


def _unassign(ctx: CliContext, args: argparse.Namespace, zone: tzinfo) -> int:
    assignment = _assignment(args)
    assert assignment is not None
    view = unassign(ctx.db(), args.id, assignment)
    ctx.out(f"Unassigned {assignment.label} from {_describe(view, zone)}")
    if view.attributed_by == "time":
        ctx.out(f"Task #{view.id} has no assignments left: its time span claims usage again.")
    return 0


def _categories(ctx: CliContext, args: argparse.Namespace, zone: tzinfo) -> int:
    uses = category_history(ctx.db())
    if args.json:
        write_json(
            ctx.stdout,
            [
                {
                    "category": use.name,
                    "tasks": use.tasks,
                    "last_used": None
                    if use.last_used is None
                    else use.last_used.astimezone(zone).isoformat(timespec="seconds"),
                }
                for use in uses
            ],
        )
    else:
        for use in uses:
            ctx.out(
                f"{use.name}  ({plural(use.tasks, 'task')})" if use.tasks else f"{use.name}  (suggested, not used yet)"
            )
    return 0


def _proposals(ctx: CliContext, args: argparse.Namespace, zone: tzinfo) -> int:
    month = None if args.month is None else month_argument(args.month, zone)
    _import_first(ctx, args)
    proposals = list_proposals(ctx.db(), month=month, zone=zone)
    if args.json:
        write_json(ctx.stdout, {"proposals": [proposal.as_json(zone) for proposal in proposals]})
        return 0
    if not proposals:
        where = f" in {args.month}" if args.month else ""
        ctx.out(f"Nothing to propose{where}: no spend is left without a valued task.")
        return 0
    headers = ["Kind", "What", "Last activity", "Tokens", "Cost", "To value it"]
    rows = [_proposal_line(proposal, zone) for proposal in proposals]
    ctx.out(render_table(headers, rows, [False, False, False, True, True, False]))
    return 0


def _reattribute(ctx: CliContext, args: argparse.Namespace, zone: tzinfo) -> int:
    count = rebuild_attribution(ctx.db())
    ctx.out(f"Re-attributed {count:,} usage records from the task rules.")
    return 0


_HANDLERS: dict[str, Callable[[CliContext, argparse.Namespace, tzinfo], int]] = {
    "start": _start,
    "stop": _stop,
    "log": _log,
    "list": _list,
    "show": _show,
    "edit": _edit,
    "delete": _delete,
    "assign": _assign,
    "unassign": _unassign,
    "categories": _categories,
    "proposals": _proposals,
    "reattribute": _reattribute,
}

TASK = Command(
    name="task",
    help="tasks: what a piece of work was worth, and the spend that went into it",
    configure=configure,
    run=run,
)
