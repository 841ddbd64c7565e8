"""Provider accounts: store a key (checked first) in the keyring, list, test and delete accounts.

The list of accounts lives in the database (provider, label, last four characters, last poll,
last error); the key only in the keyring, under `PROVIDER:LABEL`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import delete, func, select

from tokenworth.core.db import Database
from tokenworth.core.models import UsageRecord
from tokenworth.core.provider_models import BilledCost, ProviderAccount
from tokenworth.core.secrets import SecretStore, account_name, mask_key
from tokenworth.core.timeutil import utc_now
from tokenworth.sources import anthropic_api, openai_api, openrouter_api
from tokenworth.sources.provider_http import KeyRejected, ProviderError, RetryPolicy
from tokenworth.sources.provider_records import ProviderClient

DEFAULT_LABEL = "default"
LABEL_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HTTP_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
"""Per read and per connect: usage APIs answer in a few seconds; a hung one should not hold a poll."""


@dataclass(frozen=True)
class ProviderInfo:
    """What Tokenworth knows about polling one provider."""

    name: str
    poller: type
    default_base_url: str
    base_url_env: str
    key_hint: str


PROVIDERS: dict[str, ProviderInfo] = {
    module.PROVIDER: ProviderInfo(
        module.PROVIDER,
        poller,
        module.DEFAULT_BASE_URL,
        module.BASE_URL_ENV,
        module.KEY_HINT,
    )
    for module, poller in (
        (openai_api, openai_api.OpenAIPoller),
        (anthropic_api, anthropic_api.AnthropicPoller),
        (openrouter_api, openrouter_api.OpenRouterPoller),
    )
}


def provider_info(name: str) -> ProviderInfo:
    info = PROVIDERS.get(name.lower())
    if info is None:
        raise ValueError(f"unknown provider {name!r}; choose one of {', '.join(PROVIDERS)}")
    return info


def check_label(label: str) -> str:
    if not LABEL_PATTERN.match(label):
        raise ValueError(
            f"label {label!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return label


def check_key_text(key: str) -> str:
    """The key without surrounding whitespace; refuses empty or multi-part input."""
    key = key.strip()
    if not key:
        raise ValueError("no key given (type or pipe it in; it is never read from the command line)")
    if any(ch.isspace() for ch in key) or not key.isprintable():
        raise ValueError("the key contains spaces, line breaks or control characters: give one key only")
    if not key.isascii():
        raise ValueError(NOT_ASCII)
    return key


NOT_ASCII = (
    "the key holds a character that is not plain ASCII (a curly quote or dash copied with it?); "
    "copy the key again from the provider's console"
)


def base_url(info: ProviderInfo, env: Mapping[str, str]) -> str:
    """The provider's API base: the documented one, or the override in its environment variable."""
    value = (env.get(info.base_url_env) or "").strip()
    if not value:
        return info.default_base_url
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"{info.base_url_env} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def new_http_client() -> httpx.Client:
    """The client the CLI and the app poll with: timeouts set, no redirects followed."""
    return httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False)


def make_poller(
    provider: str,
    http: httpx.Client,
    key: str,
    *,
    label: str,
    env: Mapping[str, str],
    retry: RetryPolicy,
) -> ProviderClient:
    info = provider_info(provider)
    account = account_name(info.name, label)
    try:
        check_key_text(key)
    except ValueError as exc:  # stored before keys were checked so: no request header could carry it
        raise KeyRejected(
            account, "key", f"{exc}; store it again with `tokenworth keys set {info.name} --label {label}`"
        ) from None
    poller: ProviderClient = info.poller(http, key, account=account, base_url=base_url(info, env), retry=retry)
    return poller


@dataclass
class AccountView:
    """One account as `keys list` shows it."""

    provider: str
    label: str
    key_last4: str
    created_at: datetime
    last_poll_at: datetime | None
    last_status: str | None
    last_error: str | None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def masked_key(self) -> str:
        return f"…{self.key_last4}" if self.key_last4 else "…"

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "label": self.label,
            "account": account_name(self.provider, self.label),
            "key": self.masked_key,
            "created_at": self.created_at.isoformat(),
            "last_poll_at": self.last_poll_at.isoformat() if self.last_poll_at else None,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "details": self.details,
        }


def _view(row: ProviderAccount) -> AccountView:
    return AccountView(
        provider=row.provider,
        label=row.label,
        key_last4=row.key_last4,
        created_at=row.created_at,
        last_poll_at=row.last_poll_at,
        last_status=row.last_status,
        last_error=row.last_error,
        details=json.loads(row.details) if row.details else {},
    )


def list_accounts(db: Database, provider: str | None = None, label: str | None = None) -> list[AccountView]:
    with db.session() as session:
        query = select(ProviderAccount)
        if provider:
            query = query.where(ProviderAccount.provider == provider)
        if label:
            query = query.where(ProviderAccount.label == label)
        rows = sorted(session.scalars(query), key=lambda row: (row.provider, row.label))  # by code point, any database
        return [_view(row) for row in rows]


@dataclass
class StoredKey:
    account: AccountView
    replaced: bool
    checked: bool
    usage_left: list[LeftUsage] = field(default_factory=list)
    """A new account's provider has usage polled under labels whose key is gone (see
    `usage_left_by_deleted_keys`): to say, since the same organisation's days would count twice."""

    def notes(self) -> list[str]:
        """What to tell the user besides "stored" (the CLI and Settings › Keys say the same)."""
        return [left.note(self.account.provider) for left in self.usage_left]


def store_key(
    db: Database,
    secrets: SecretStore,
    provider: str,
    label: str,
    key: str,
    *,
    env: Mapping[str, str],
    http: httpx.Client | None = None,
    retry: RetryPolicy | None = None,
    check: bool = True,
) -> StoredKey:
    """Check the key with one cheap call, then put it in the keyring and the account in the list.

    Raises ValueError (bad input), ProviderError (the provider refused or could not be reached;
    nothing is stored) or KeyringUnavailable (nothing is stored).
    """
    info = provider_info(provider)
    check_label(label)
    key = check_key_text(key)
    details: dict[str, Any] = {}
    secrets.backend  # noqa: B018 - fail on an unusable keyring before calling the provider
    if check:
        client = http or new_http_client()
        try:
            poller = make_poller(info.name, client, key, label=label, env=env, retry=retry or RetryPolicy())
            details = poller.check_key()
        finally:
            if http is None:
                client.close()
    secrets.set(info.name, label, key)
    now = utc_now()
    with db.session() as session:
        row = session.scalars(
            select(ProviderAccount).where(ProviderAccount.provider == info.name, ProviderAccount.label == label)
        ).first()
        replaced = row is not None
        if row is None:
            row = ProviderAccount(provider=info.name, label=label, created_at=now)
            session.add(row)
        row.key_last4 = mask_key(key)
        row.last_status = "key checked" if check else "key not checked"
        row.last_error = None
        if details:
            row.details = json.dumps(details, sort_keys=True)
        session.flush()
        view = _view(row)
    return StoredKey(view, replaced, check, [] if replaced else usage_left_by_deleted_keys(db, info.name))


def delete_account(db: Database, secrets: SecretStore, provider: str, label: str) -> bool:
    """Remove the key from the keyring and the account from the list; usage already stored stays."""
    info = provider_info(provider)
    removed_key = secrets.delete(info.name, label)
    with db.session() as session:
        row = session.scalars(
            select(ProviderAccount).where(ProviderAccount.provider == info.name, ProviderAccount.label == label)
        ).first()
        if row is not None:
            session.delete(row)
    return removed_key or row is not None


@dataclass(frozen=True)
class LeftUsage:
    """Usage an account polled whose key is no longer stored: it stays in the ledger, so a new
    label for the same organisation's key would poll those days again beside it."""

    account: str
    records: int
    billed_lines: int
    first: datetime | None
    last: datetime | None

    def note(self, provider: str) -> str:
        span = "" if self.first is None or self.last is None else f", {self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}"
        records = f"{self.records:,} record{'' if self.records == 1 else 's'}"
        lines = f"{self.billed_lines:,} billed line{'' if self.billed_lines == 1 else 's'}"
        return (
            f"Usage polled by {self.account} ({records}, {lines}{span}) is still in the ledger, and its key is gone. "
            "If this key reads the same organisation, reports would count those days twice; drop the old copy "
            f"with `tokenworth keys delete {provider} --label {self.account.split(':', 1)[1]} --drop-usage`."
        )


def usage_left_by_deleted_keys(db: Database, provider: str) -> list[LeftUsage]:
    """The provider's accounts with polled usage or billed lines and no stored key, by name."""
    info = provider_info(provider)
    usage, billed = UsageRecord.__table__.c, BilledCost.__table__.c
    with db.session() as session:
        stored = {
            account_name(info.name, label)
            for label in session.scalars(select(ProviderAccount.label).where(ProviderAccount.provider == info.name))
        }
        records = {
            str(row[0]): (int(row[1]), row[2], row[3])
            for row in session.execute(
                select(usage.account, func.count(), func.min(usage.ts), func.max(usage.ts))
                .where(usage.source == info.name, usage.account.is_not(None))
                .group_by(usage.account)
            )
        }
        lines = {
            str(row[0]): int(row[1])
            for row in session.execute(
                select(billed.account, func.count()).where(billed.source == info.name).group_by(billed.account)
            )
        }
    left = []
    for account in sorted((set(records) | set(lines)) - stored):
        count, first, last = records.get(account, (0, None, None))
        left.append(LeftUsage(account, count, lines.get(account, 0), first, last))
    return left


def drop_polled_usage(db: Database, provider: str, label: str) -> tuple[int, int]:
    """Delete the usage records and billed lines the account `provider:label` polled; returns
    their counts. Local agent logs are never touched; the account's own key must be gone first."""
    info = provider_info(provider)
    account = account_name(info.name, label)
    usage, billed = UsageRecord.__table__.c, BilledCost.__table__.c
    with db.session() as session:
        if session.execute(
            select(ProviderAccount.id).where(ProviderAccount.provider == info.name, ProviderAccount.label == label)
        ).first():
            raise ValueError(f"{account}'s key is still stored: delete it first")
        records = session.execute(
            delete(UsageRecord.__table__).where(usage.source == info.name, usage.account == account)
        )
        lines = session.execute(
            delete(BilledCost.__table__).where(billed.source == info.name, billed.account == account)
        )
        return int(getattr(records, "rowcount", 0) or 0), int(getattr(lines, "rowcount", 0) or 0)


@dataclass
class KeyTest:
    provider: str
    label: str
    ok: bool
    status: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "label": self.label,
            "ok": self.ok,
            "status": self.status,
            "message": self.message,
        }


def check_stored_keys(
    db: Database,
    secrets: SecretStore,
    *,
    env: Mapping[str, str],
    provider: str | None = None,
    label: str | None = None,
    http: httpx.Client | None = None,
    retry: RetryPolicy | None = None,
) -> list[KeyTest]:
    """One cheap call per stored key; the outcome is recorded as the account's status."""
    results: list[KeyTest] = []
    client = http or new_http_client()
    try:
        for account in list_accounts(db, provider, label):
            key = secrets.get(account.provider, account.label)
            if key is None:
                result = KeyTest(
                    account.provider,
                    account.label,
                    False,
                    "key missing",
                    f"no key for {account_name(account.provider, account.label)} in the keyring; "
                    f"store it again with `tokenworth keys set {account.provider} --label {account.label}`",
                )
            else:
                try:
                    poller = make_poller(
                        account.provider,
                        client,
                        key,
                        label=account.label,
                        env=env,
                        retry=retry or RetryPolicy(),
                    )
                    poller.check_key()
                    result = KeyTest(account.provider, account.label, True, "ok", "the key works")
                except ProviderError as exc:
                    result = KeyTest(account.provider, account.label, False, exc.status, str(exc))
            results.append(result)
            _record_status(db, account.provider, account.label, result.status, None if result.ok else result.message)
    finally:
        if http is None:
            client.close()
    return results


def _record_status(db: Database, provider: str, label: str, status: str, error: str | None) -> None:
    with db.session() as session:
        row = session.scalars(
            select(ProviderAccount).where(ProviderAccount.provider == provider, ProviderAccount.label == label)
        ).first()
        if row is not None:
            row.last_status = status
            row.last_error = error
