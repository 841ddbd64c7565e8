"""Hook `poll_providers`: poll every stored provider key (network worker) and say which key was
rejected, once: when an account turns "key rejected", not on every poll after. An unusable
keyring is said once too."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from tokenworth.core.db import Database
from tokenworth.core.secrets import KeyringUnavailable, SecretStore
from tokenworth.ui.hooks import Notice

log = logging.getLogger(__name__)

_keyring_problem_told = False
"""An unusable keyring is announced once (not every poll interval) until a poll works again."""


def poll_providers(
    db: Database, *, secrets: SecretStore | None = None, env: Mapping[str, str] | None = None
) -> list[Notice]:
    """One poll of every stored key. No stored key: nothing happens (the keyring is not even
    opened). Returns notices for keys newly rejected and for an unusable keyring."""
    from tokenworth.services.accounts import list_accounts
    from tokenworth.services.polling import poll_accounts
    from tokenworth.sources.provider_http import KeyRejected

    before = {(a.provider, a.label): a.last_status for a in list_accounts(db)}
    if not before:
        return []
    global _keyring_problem_told
    try:
        summary = poll_accounts(db, secrets or SecretStore(), env=os.environ if env is None else env)
    except KeyringUnavailable as exc:
        log.warning("provider poll skipped: %s", exc)
        if _keyring_problem_told:
            return []
        _keyring_problem_told = True
        return [Notice("error", "Provider keys cannot be read", str(exc))]
    _keyring_problem_told = False
    notices = []
    for result in summary.accounts:
        if result.status != KeyRejected.status:
            continue
        if before.get((result.provider, result.label)) == KeyRejected.status:
            continue  # already told
        notices.append(
            Notice(
                "key-rejected",
                f"Your {result.provider} key '{result.label}' was rejected",
                f"{result.error or 'the provider refused the key'}. Replace or delete it in Settings › Keys; "
                "other keys are still polled.",
            )
        )
    return notices
