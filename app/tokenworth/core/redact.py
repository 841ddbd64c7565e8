"""Masking anything that looks like a provider key or a database password in text bound for a log,
a report or a screen."""

from __future__ import annotations

import re
from functools import cache

MASK = "***"

_SECRET_PATTERN_TEXTS: tuple[str, ...] = (
    # OpenAI (sk-, sk-proj-, sk-admin-), Anthropic (sk-ant-api03-, sk-ant-admin01-), OpenRouter
    # (sk-or-v1-), DeepSeek (sk-): keep the family prefix so a bug report still says which kind.
    r"\b(sk-(?:ant-(?:api|admin)\d*-|ant-|or-v\d+-|or-|admin-|proj-|svcacct-)?)[A-Za-z0-9_\-]{8,}",
    # Google API keys.
    r"\b(AIza)[0-9A-Za-z_\-]{20,}",
    # Credentials in HTTP headers, whatever their shape.
    r"(?i)\b((?:authorization|x-api-key|x-goog-api-key)[\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?)[^\s\"',;]+",
    # A database URL's password: `user:PASSWORD@host` (to the last `@` before any `/`, so an
    # unencoded `@` in it is still hidden; bounded, so a long line costs linear time) and
    # `?password=...`.
    r"(://[^\s:/@]*:)(?!\*\*\*@)[^\s/]{1,256}(?=@)",
    r"(?i)([?&](?:password|passwd|pwd)=)[^&\s]+",
)


def redact_secrets(text: str) -> str:
    """`text` with every key-like token replaced by its prefix and `***`."""
    if not text:
        return text
    for pattern in _patterns():
        text = pattern.sub(lambda match: match.group(1) + MASK, text)
    return text


@cache
def _patterns() -> tuple[re.Pattern[str], ...]:
    """Compiled on first use, so importing this module costs nothing at start-up."""
    return tuple(re.compile(text) for text in _SECRET_PATTERN_TEXTS)
