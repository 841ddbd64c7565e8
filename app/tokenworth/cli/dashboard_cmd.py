"""`tokenworth dashboard`: open the dashboard, or render it offscreen to a PNG (--screenshot)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tokenworth.cli.base import CliContext, Command, CommandError, require_display


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="FILE.png",
        help="render the dashboard offscreen to this PNG and exit",
    )
    parser.add_argument(
        "--period",
        default="this-month",
        metavar="PERIOD",
        help="the period shown: this-month (default), last-month or a month like 2026-01",
    )
    parser.add_argument(
        "--theme", choices=("system", "light", "dark"), help="colours for the screenshot (or for this run of the app)"
    )
    parser.add_argument("--width", type=int, default=1400, metavar="PX", help="screenshot width (default 1400)")
    parser.add_argument("--no-import", action="store_true", help="skip the incremental import of local logs")


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from tokenworth.core.periods import parse_period
    from tokenworth.core.settings import load_settings
    from tokenworth.core.timeutil import resolve_zone, utc_now

    settings, problems = load_settings(ctx.paths.settings_file)
    for problem in problems:
        ctx.err(f"warning: settings: {problem}")

    def warn(message: str) -> None:
        ctx.err(f"warning: {message}")

    try:
        zone = resolve_zone(settings.time_zone, env=ctx.env, warn=warn)
    except ValueError:
        zone = resolve_zone(None, env=ctx.env, warn=warn)
    now = utc_now()
    try:
        period = parse_period(args.period, now.astimezone(zone).date())
    except ValueError as exc:
        raise CommandError(str(exc), 2) from exc
    if args.screenshot is None:
        require_display(ctx.env)
        try:
            from tokenworth.ui.app import run_app
        except ImportError as exc:
            raise CommandError(f"the tray app is not available: {exc}") from exc
        options = ["--show-dashboard", "--period", args.period]
        if args.theme is not None:
            options += ["--theme", args.theme]
        return run_app(ctx.paths, argv=options)
    if args.screenshot.suffix.lower() != ".png":
        raise CommandError(f"--screenshot must name a .png file, got {args.screenshot}", 2)
    if not 400 <= args.width <= 8000:
        raise CommandError("--width must be between 400 and 8000 pixels", 2)
    db = ctx.db()
    if not args.no_import:
        from tokenworth.services.local_sync import import_all

        import_all(db, extra_folders=settings.log_folders, env=ctx.env)
    try:
        from tokenworth.ui.screenshot import render_dashboard
    except ImportError as exc:
        raise CommandError(f"Qt is not available to render the dashboard: {exc}") from exc
    try:
        out = render_dashboard(
            ctx.paths,
            db,
            settings,
            args.screenshot,
            period_for=period,
            theme=args.theme,
            now=now,
            width=args.width,
        )
    except OSError as exc:
        raise CommandError(f"cannot write the screenshot: {exc}") from exc
    ctx.out(f"Dashboard for {period.label} saved to {out}")
    return 0


DASHBOARD = Command(
    name="dashboard",
    help="open the dashboard, or save it as a PNG with --screenshot",
    configure=configure,
    run=run,
)
