"""`tokenworth experiment list|accept|show|cancel`: try a suggested model on your next K tasks of a kind."""

from __future__ import annotations

import argparse
from datetime import tzinfo

from tokenworth.cli.base import ZONE_DEFAULT, CliContext, Command, id_argument, user_errors, zone_argument
from tokenworth.cli.import_cmd import import_first
from tokenworth.cli.output import render_table, write_json
from tokenworth.cli.routing_cmd import candidate_names, experiment_text
from tokenworth.cli.value_cmd import month_argument
from tokenworth.core.analytics import units_to_money
from tokenworth.core.money import format_usd
from tokenworth.services.experiments import MAX_EXPERIMENT_TASKS, ExperimentView
from tokenworth.services.routing import (
    ExperimentInputError,
    ExperimentNotFoundError,
    SuggestionNotFoundError,
    accept_suggestion,
    cancel_experiment,
    get_experiment,
    list_experiments,
)

_experiment_id = id_argument("an experiment id")


def _task_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--tasks is a whole number of tasks, got {text!r}") from None
    if not 1 <= value <= MAX_EXPERIMENT_TASKS:
        raise argparse.ArgumentTypeError(f"--tasks must be 1 to {MAX_EXPERIMENT_TASKS}, got {text!r}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tz", metavar="ZONE", help=f"months and times in this IANA zone ({ZONE_DEFAULT})")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = sub.add_parser("list", help="experiments with their progress and results")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--no-import", action="store_true", help="skip the import of local logs first")

    accept = sub.add_parser(
        "accept",
        help="try a suggestion's model for the next K tasks of its category",
        description="Accept a suggestion from `tokenworth report routing`: the next K tasks of its category "
        "that run mostly on the suggested model are counted and compared with the current model's "
        "value per task, cost per task and TFP.",
    )
    accept.add_argument("suggestion", metavar="SUGGESTION_ID", help="the 8-character id the report shows")
    accept.add_argument("--month", metavar="YYYY-MM", help="the report's month (default: this month, then last)")
    accept.add_argument("--tasks", type=_task_count, metavar="K", help="how many tasks to count (default: 5)")
    accept.add_argument(
        "--candidates", metavar="MODELS", action="append", help="as given to `report routing`, if it was"
    )
    accept.add_argument("--json", action="store_true")
    accept.add_argument("--no-import", action="store_true", help="skip the import of local logs first")

    show = sub.add_parser("show", help="one experiment: its tasks, result and baseline")
    show.add_argument("id", type=_experiment_id)
    show.add_argument("--json", action="store_true")
    show.add_argument("--no-import", action="store_true", help="skip the import of local logs first")

    cancel = sub.add_parser("cancel", help="stop a running experiment (it stays listed)")
    cancel.add_argument("id", type=_experiment_id)


def _import_first(ctx: CliContext, args: argparse.Namespace) -> None:
    if not getattr(args, "no_import", True):
        import_first(ctx)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    zone = zone_argument(ctx, args.tz)
    not_found = (ExperimentNotFoundError, SuggestionNotFoundError)
    with user_errors(not_found=not_found, bad_input=(ExperimentInputError,)):
        if args.action == "accept":
            month = None if args.month is None else month_argument(args.month, zone)
            curated = candidate_names(args.candidates)
            _import_first(ctx, args)
            view = accept_suggestion(
                ctx.db(), args.suggestion, zone=zone, month=month, tasks=args.tasks, curated=curated
            )
            if args.json:
                write_json(ctx.stdout, view.as_json(zone))
            else:
                ctx.out(
                    f"Experiment #{view.id}: try {view.to_model.model} instead of {view.from_model.model} for the next "
                    f"{view.task_count} {view.category or 'uncategorized'} tasks. Tasks that run mostly on "
                    f"{view.to_model.model} count; `tokenworth experiment show {view.id}` follows it."
                )
            return 0
        if args.action == "cancel":
            view = cancel_experiment(ctx.db(), args.id)
            ctx.out(f"Cancelled experiment #{view.id} after {view.counted} of {view.task_count} tasks.")
            return 0
        _import_first(ctx, args)
        if args.action == "show":
            view = get_experiment(ctx.db(), args.id)
            if args.json:
                write_json(ctx.stdout, view.as_json(zone))
            else:
                ctx.out(render_experiment(view, zone))
            return 0
        views = list_experiments(ctx.db())
        if args.json:
            write_json(ctx.stdout, {"experiments": [view.as_json(zone) for view in views]})
        elif not views:
            ctx.out("No experiments yet: `tokenworth report routing` suggests some; accept one by its id.")
        else:
            ctx.out("\n".join(experiment_text(view) for view in views))
        return 0


def render_experiment(view: ExperimentView, zone: tzinfo) -> str:
    """One experiment in full: what it tries, the baseline, the tasks counted, the result."""
    lines = [
        experiment_text(view),
        f"Accepted {view.accepted_at.astimezone(zone):%Y-%m-%d %H:%M} from suggestion {view.suggestion_id} "
        f"({view.month}, {view.evidence.replace('_', ' ')}); expected to save {format_usd(view.expected_savings)} "
        "a month like that one.",
    ]
    rows = []
    for task in (*view.outcome.counted, *view.outcome.running):
        rows.append(
            [
                f"#{task.task_id}",
                view.titles.get(task.task_id, ""),
                "counted" if task.finished else "running",
                format_usd(units_to_money(task.cost_units)),
                "-" if task.value_units is None else format_usd(units_to_money(task.value_units)),
            ]
        )
    if rows:
        lines += [
            "",
            render_table(["Task", "Title", "State", "Cost", "Value"], rows, [False, False, False, True, True]),
        ]
    else:
        lines.append(
            f"No task counted yet: finish {view.category or 'uncategorized'} tasks that run mostly on "
            f"{view.to_model.model}."
        )
    return "\n".join(lines)


EXPERIMENT = Command(
    name="experiment",
    help="try a suggested model on your next tasks of a kind, and see how it did",
    configure=configure,
    run=run,
)
