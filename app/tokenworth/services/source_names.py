"""The source names a user may type (`report --source`, `plan set --covers`), checked before use.

A mistyped name would otherwise filter everything out ("No usage in this range.") or make a plan
that covers nothing, with nothing to say why.
"""

from __future__ import annotations

from collections.abc import Sequence

from tokenworth.core.db import Database
from tokenworth.sources.local_logs import LOCAL_SOURCES

PROVIDER_SOURCES = ("openai", "anthropic", "openrouter")
"""The usage APIs Tokenworth polls (the keys of `services.accounts.PROVIDERS`), named here so that
checking a name loads no HTTP client."""


class UnknownSourceError(ValueError):
    """A source name that is neither built in nor in the ledger; the message lists the known ones."""


def recorded_source_names(db: Database) -> list[str]:
    """Source names that have usage in the ledger (an older import, a CSV, a hand entry...)."""
    # On SQLite the trigger-kept rollup answers without scanning every record (see core.rollup).
    table = "usage_rollup" if db.dialect == "sqlite" else "usage_records"
    return [row[0] for row in db.fetch(f"SELECT DISTINCT source FROM {table} ORDER BY source")]


def known_source_names(db: Database) -> list[str]:
    """Every name a filter or plan may use: local agent logs, provider APIs, then the ledger's others."""
    return list(dict.fromkeys([*LOCAL_SOURCES, *PROVIDER_SOURCES, *recorded_source_names(db)]))


def check_source_names(db: Database, names: Sequence[str]) -> list[str]:
    """`names` unchanged when every one is known; else UnknownSourceError naming the known ones."""
    known = known_source_names(db)
    unknown = [name for name in names if name not in known]
    if unknown:
        plural = "sources" if len(unknown) > 1 else "source"
        raise UnknownSourceError(
            f"unknown {plural} {', '.join(repr(name) for name in unknown)}; known sources: {', '.join(known)}"
        )
    return list(names)
