"""One JSON GET to a provider API with bounded retries, and the errors a poll can end with.

Retried (with exponential backoff and jitter, honouring `Retry-After`): 429, 500, 502, 503, 504,
a refused or dropped connection, and timeouts (fewer times: each costs a whole read timeout, and an
endpoint that hung twice rarely answers a third time, so a user is not kept waiting minutes).
Not retried: 401/403 (the key is rejected; asking
again only gets an account locked), other 4xx, and replies that are not the documented JSON.
Messages name the endpoint and what was wrong, never the key. JSON numbers are parsed as Decimal
from their text, so money is exact from the first byte.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from tokenworth.core.redact import redact_secrets

STOPPING = threading.Event()
"""Set when the app quits (`stop_requests`): retry waits end, and no request starts or goes on."""


def stop_requests() -> None:
    """The app is quitting: end every poll's waits and requests now (they fail as 'stopped')."""
    STOPPING.set()


def _wait_unless_stopping(seconds: float) -> None:
    STOPPING.wait(seconds)


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REJECTED_STATUSES = frozenset({401, 403})
MAX_DETAIL_CHARS = 200


class ProviderError(Exception):
    """A poll step that failed; `str()` is the user-facing line: provider, endpoint, problem."""

    status = "failed"

    def __init__(self, provider: str, endpoint: str, problem: str) -> None:
        super().__init__(f"{provider} {endpoint}: {problem}")
        self.provider = provider
        self.endpoint = endpoint
        self.problem = problem


class KeyRejected(ProviderError):
    """401/403: the provider does not accept this key (wrong kind, revoked, or no permission)."""

    status = "key rejected"


class ProviderUnavailable(ProviderError):
    """Rate limited, server errors, or no connection, still so after the allowed retries."""

    status = "unavailable"


class BadResponse(ProviderError):
    """A reply that is not what the API documents: bad JSON, a missing field, a broken cursor."""

    status = "bad response"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts in all, delays in seconds, and the sleep/jitter to use (tests
    pass a recording sleep so nothing waits)."""

    attempts: int = 4
    timeout_attempts: int = 2
    """Attempts in all when they time out: with a 20 s read timeout, a hung endpoint gives up in
    about 40 s rather than four full timeouts."""
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    max_retry_after_s: float = 120.0
    reply_deadline_s: float = 60.0
    """A whole reply within this, not only each read within the read timeout: an endpoint that
    sends a byte now and then would otherwise hold the poll (and the app's Quit) for ever."""
    max_reply_bytes: int = 64 * 1024 * 1024
    """A reply larger than any usage page is refused before it fills the memory."""
    sleep: Callable[[float], None] = field(default=lambda seconds: _wait_unless_stopping(seconds))
    jitter: Callable[[], float] = field(default=random.random)

    def backoff(self, attempt: int) -> float:
        """Exponential delay for retry number `attempt` (1-based), with 50-100% jitter."""
        ceiling = min(self.max_delay_s, self.base_delay_s * (2 ** (attempt - 1)))
        return float(ceiling * (0.5 + 0.5 * self.jitter()))


@dataclass(frozen=True)
class Where:
    """The provider and endpoint a request is for, to name in errors."""

    provider: str
    endpoint: str

    def error(self, cls: type[ProviderError], problem: str) -> ProviderError:
        return cls(self.provider, self.endpoint, problem)


def scrub(text: str, secret: str) -> str:
    """`text` with the key (and anything key-shaped, as core.redact masks log lines) masked,
    shortened for a one-line message."""
    if secret:
        text = text.replace(secret, "[key]")
    text = redact_secrets(text)
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL_CHARS else text[: MAX_DETAIL_CHARS - 1] + "…"


def _provider_message(response: httpx.Response, secret: str) -> str:
    """The provider's own error message, if the body has one."""
    try:
        body = json.loads(response.text)
    except ValueError:
        return ""
    message: Any = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = error.get("message")
        elif isinstance(error, str):
            message = error
        message = message or body.get("message")
    return scrub(str(message), secret) if message else ""


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds (either form the RFC allows), or None."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def get_json(
    client: httpx.Client,
    url: str,
    *,
    params: Sequence[tuple[str, str | int]] = (),
    headers: Mapping[str, str],
    where: Where,
    secret: str,
    retry: RetryPolicy,
) -> Any:
    """GET `url` and return its parsed JSON, retrying what is worth retrying."""
    attempt = timeouts = 0
    while True:
        attempt += 1
        problem: str
        wait: float | None = None
        if STOPPING.is_set():
            raise where.error(ProviderUnavailable, "stopped: Tokenworth is quitting")
        try:
            response = _fetch(client, url, params, headers, where, retry)
        except httpx.TimeoutException as exc:
            problem = f"timed out ({type(exc).__name__})"
            timeouts += 1
            if timeouts >= min(retry.timeout_attempts, retry.attempts):
                raise where.error(ProviderUnavailable, f"{problem}, still after {attempt} attempts") from None
        except httpx.TransportError as exc:
            problem = f"cannot connect ({type(exc).__name__}: {scrub(str(exc), secret)})"
        else:
            status = response.status_code
            if status in REJECTED_STATUSES:
                detail = _provider_message(response, secret)
                raise where.error(
                    KeyRejected,
                    f"the key was rejected (HTTP {status})" + (f": {detail}" if detail else ""),
                )
            if status in RETRY_STATUSES:
                problem = "rate limited (HTTP 429)" if status == 429 else f"server error (HTTP {status})"
                wait = retry_after_seconds(response)
                if wait is not None and wait > retry.max_retry_after_s:
                    raise where.error(
                        ProviderUnavailable,
                        f"{problem}; the provider asks to wait {wait:.0f} s, try again later",
                    )
            elif status >= 400:
                detail = _provider_message(response, secret)
                raise where.error(BadResponse, f"HTTP {status}" + (f": {detail}" if detail else "") + " (not retried)")
            elif response.is_redirect:  # never followed: the key would go wherever it points
                target = response.headers.get("location", "")[:200] or "nowhere"
                if secret:
                    target = target.replace(secret, "[key]")
                raise where.error(
                    BadResponse,
                    f"redirected (HTTP {status}) to {target}; not followed, so the key is not sent on."
                    " Check the provider's base URL and any proxy",
                )
            else:
                return parse_json(response.text, where)
        if attempt >= retry.attempts:
            raise where.error(ProviderUnavailable, f"{problem}, still after {attempt} attempts")
        delay = retry.backoff(attempt)
        if wait is not None:
            delay = max(delay, wait)
        retry.sleep(delay)


_RECODED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def _fetch(
    client: httpx.Client,
    url: str,
    params: Sequence[tuple[str, str | int]],
    headers: Mapping[str, str],
    where: Where,
    retry: RetryPolicy,
) -> httpx.Response:
    """One GET, read whole within `retry.reply_deadline_s` and `retry.max_reply_bytes` (a slow
    reply times out like a silent one); returned as a complete, decoded response."""
    started = time.monotonic()
    with client.stream("GET", url, params=list(params), headers=dict(headers)) as streamed:
        chunks: list[bytes] = []
        size = 0
        for chunk in streamed.iter_bytes():
            size += len(chunk)
            if size > retry.max_reply_bytes:
                limit = retry.max_reply_bytes / 2**20
                raise where.error(BadResponse, f"reply larger than {limit:g} MB; not read further")
            if STOPPING.is_set():
                raise where.error(ProviderUnavailable, "stopped: Tokenworth is quitting")
            if time.monotonic() - started > retry.reply_deadline_s:
                raise httpx.ReadTimeout(f"no complete reply within {retry.reply_deadline_s:g} s")
            chunks.append(chunk)
    kept = [(name, value) for name, value in streamed.headers.items() if name.lower() not in _RECODED_HEADERS]
    return httpx.Response(streamed.status_code, headers=kept, content=b"".join(chunks), request=streamed.request)


def parse_json(text: str, where: Where) -> Any:
    """JSON with every number that has a fraction or exponent as an exact Decimal."""
    if not text.strip():
        raise where.error(BadResponse, "empty reply (no JSON)")
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        kind = "truncated JSON" if _looks_truncated(exc, text) else "malformed JSON"
        raise where.error(BadResponse, f"{kind} ({exc})") from None


def _looks_truncated(exc: ValueError, text: str) -> bool:
    """The text stops mid-document: the parser ran out of input (or a string ran to the end)."""
    if str(getattr(exc, "msg", "")).startswith("Unterminated string"):
        return True
    position = getattr(exc, "pos", None)
    return isinstance(position, int) and position >= len(text.rstrip()) - 1
