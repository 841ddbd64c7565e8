"""`tokenworth keys`: store (checked first), list, delete and test provider keys in the OS keyring."""

from __future__ import annotations

import argparse
import getpass
import sys

from tokenworth.cli.base import CliContext, Command, CommandError
from tokenworth.cli.import_cmd import plural
from tokenworth.cli.output import render_table, write_json
from tokenworth.core.secrets import KeyringUnavailable, SecretStore, account_name
from tokenworth.services import polling
from tokenworth.services.accounts import (
    DEFAULT_LABEL,
    PROVIDERS,
    check_stored_keys,
    delete_account,
    drop_polled_usage,
    list_accounts,
    provider_info,
    store_key,
)
from tokenworth.sources.provider_http import KeyRejected, ProviderError


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    setp = sub.add_parser(
        "set",
        help="store a key: typed at a hidden prompt, or piped on stdin (never on the command line)",
        description="Store a provider key in the OS keyring after one cheap call checks it works. "
        "The key is read from a hidden prompt, or from stdin when it is not a terminal.",
    )
    setp.add_argument("provider", choices=list(PROVIDERS), help="whose key it is")
    setp.add_argument("--label", default=DEFAULT_LABEL, help="a name for this account (default: default)")
    setp.add_argument("--no-check", action="store_true", help="store without the check call (e.g. offline)")
    show = sub.add_parser("list", help="stored accounts: provider, label, masked key, last poll, last error")
    show.add_argument("--json", action="store_true")
    rm = sub.add_parser("delete", help="remove a key from the keyring (usage already polled stays)")
    rm.add_argument("provider", choices=list(PROVIDERS))
    rm.add_argument("--label", default=DEFAULT_LABEL)
    rm.add_argument(
        "--drop-usage",
        action="store_true",
        help="also delete the usage and billed lines this account polled (its key may be deleted already)",
    )
    test = sub.add_parser("test", help="check each stored key with one cheap call")
    test.add_argument("provider", nargs="?", choices=list(PROVIDERS), help="only this provider's keys")
    test.add_argument("--label", help="only this label")
    test.add_argument("--json", action="store_true")


def read_key(ctx: CliContext, provider: str) -> str:
    """The key from a hidden prompt on a terminal, else the whole of stdin."""
    stdin = sys.stdin
    if stdin is not None and stdin.isatty():
        try:
            return getpass.getpass(f"{provider} key (input hidden): ")
        except EOFError:
            return ""
    if stdin is None:
        return ""
    return stdin.read()


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    try:
        return _ACTIONS[args.action](ctx, args)
    except KeyringUnavailable as exc:
        raise CommandError(str(exc), 1) from None
    except ValueError as exc:
        raise CommandError(str(exc), 2) from None


def _set(ctx: CliContext, args: argparse.Namespace) -> int:
    info = provider_info(args.provider)
    secrets = SecretStore()
    secrets.backend  # noqa: B018 - say "no keyring" before asking for a key
    key = read_key(ctx, info.name)
    try:
        stored = store_key(
            ctx.db(),
            secrets,
            info.name,
            args.label,
            key,
            env=ctx.env,
            retry=polling.DEFAULT_RETRY,
            check=not args.no_check,
        )
    except KeyRejected as exc:
        raise CommandError(f"the key was not stored: {exc}. It should be {info.key_hint}.", 1) from None
    except ProviderError as exc:
        raise CommandError(
            f"the key was not stored: {exc}. Try again later, or store it unchecked with --no-check.", 1
        ) from None
    finally:
        key = ""
    account = stored.account
    verb = "Replaced" if stored.replaced else "Stored"
    checked = "it works" if stored.checked else "not checked (--no-check)"
    ctx.out(
        f"{verb} the {account.provider} key '{account.label}' ({account.masked_key}) in the keyring "
        f"({secrets.backend_name}); {checked}."
    )
    for note in stored.notes():
        ctx.out(f"Note: {note[0].lower()}{note[1:]}")
    if account.details.get("is_management_key") is False and info.name == "openrouter":
        ctx.out("This is not a management key: polls show its totals only, not daily activity per model.")
    return 0


def _list(ctx: CliContext, args: argparse.Namespace) -> int:
    accounts = list_accounts(ctx.db())
    if args.json:
        write_json(ctx.stdout, {"accounts": [account.as_json() for account in accounts]})
        return 0
    if not accounts:
        ctx.out("No provider keys stored. Add one with `tokenworth keys set openai` (or anthropic, openrouter).")
        return 0
    rows = []
    for account in accounts:
        when = account.last_poll_at.strftime("%Y-%m-%d %H:%M UTC") if account.last_poll_at else "never"
        rows.append(
            [
                account.provider,
                account.label,
                account.masked_key,
                when,
                account.last_status or "",
                account.last_error or "",
            ]
        )
    headers = ["Provider", "Label", "Key", "Last poll", "Status", "Last error"]
    ctx.out(render_table(headers, rows, [False] * len(headers)))
    return 0


def _stored_keys_note(ctx: CliContext) -> str:
    """The stored accounts as `provider:label`, to show after a lookup that matched none."""
    stored = [account_name(account.provider, account.label) for account in list_accounts(ctx.db())]
    if not stored:
        return "no provider keys are stored (add one with `tokenworth keys set openai`)"
    return f"stored: {', '.join(stored)}"


def _no_such_key(ctx: CliContext, provider: str | None, label: str | None) -> str:
    """Which key was asked for and not found, and the ones there are (a label is easy to mistype)."""
    if provider and label:
        wanted = f"no key {account_name(provider, label)} is stored"
    elif provider:
        wanted = f"no {provider} key is stored"
    else:
        wanted = f"no key labelled {label!r} is stored"
    return f"{wanted}; {_stored_keys_note(ctx)}"


def _delete(ctx: CliContext, args: argparse.Namespace) -> int:
    info = provider_info(args.provider)
    stored = bool(list_accounts(ctx.db(), info.name, args.label))
    # The leftover usage of a key deleted earlier is rows in the ledger only: no keyring asked.
    deleted = delete_account(ctx.db(), SecretStore(), info.name, args.label) if stored or not args.drop_usage else False
    if not args.drop_usage:
        if not deleted:
            raise CommandError(_no_such_key(ctx, info.name, args.label), 1)
        ctx.out(f"Deleted the {info.name} key '{args.label}' from the keyring; usage already polled is kept.")
        return 0
    records, lines = drop_polled_usage(ctx.db(), info.name, args.label)
    if not deleted and not records and not lines:
        raise CommandError(f"{_no_such_key(ctx, info.name, args.label)}, and no usage was polled under that name", 1)
    if deleted:
        ctx.out(f"Deleted the {info.name} key '{args.label}' from the keyring.")
    ctx.out(
        f"Dropped {plural(records, 'usage record')} and {plural(lines, 'billed line')} polled by "
        f"{account_name(info.name, args.label)}; local agent logs are untouched."
    )
    return 0


def _test(ctx: CliContext, args: argparse.Namespace) -> int:
    results = check_stored_keys(
        ctx.db(),
        SecretStore(),
        env=ctx.env,
        provider=args.provider,
        label=args.label,
        retry=polling.DEFAULT_RETRY,
    )
    if not results and (args.provider or args.label) and list_accounts(ctx.db()):
        raise CommandError(_no_such_key(ctx, args.provider, args.label), 1)
    if args.json:
        write_json(ctx.stdout, {"keys": [result.as_json() for result in results]})
    elif not results:
        ctx.out("No provider keys stored. Add one with `tokenworth keys set openai`.")
    else:
        for result in results:
            ctx.out(f"{account_name(result.provider, result.label)}: {result.status} - {result.message}")
    return 0 if all(result.ok for result in results) else 1


_ACTIONS = {"set": _set, "list": _list, "delete": _delete, "test": _test}

KEYS = Command(
    name="keys",
    help="provider keys in the OS keyring: set, list, delete, test",
    configure=configure,
    run=run,
)
