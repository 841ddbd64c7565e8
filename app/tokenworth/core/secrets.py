"""Provider keys in the OS keyring (service `tokenworth`), and nowhere else.

A tiny interface over `keyring`: one entry per account, username `PROVIDER:LABEL` (e.g.
`openai:default`). Backends that do not keep a secret secret are refused, never used quietly:
keyring's `fail` and `null` backends, and any plain-text one (keyrings.alt's PlaintextKeyring only
base64-encodes). When the chosen backend cannot work (no Secret Service, a locked keyring) the
error says so in plain words and how to fix it. Nothing here ever falls back to a file.
"""

from __future__ import annotations

import sys
from typing import Any

SERVICE = "tokenworth"

HOW_TO_FIX = (
    "Tokenworth keeps provider keys only in the system keyring, never in a file. To fix: on a Linux "
    "desktop, install and unlock GNOME Keyring (`apt-get install gnome-keyring`) or KWallet; on a "
    "headless box, run a Secret Service inside a D-Bus session, e.g. "
    "`dbus-run-session -- sh -c 'gnome-keyring-daemon --unlock; tokenworth keys set openai'` (type "
    "the keyring password, then Ctrl-D), and run later tokenworth commands in such a session too. "
    "macOS Keychain and Windows Credential Locker work as they are."
)


def unlock_hint(platform: str | None = None) -> str:
    """What to do when the system's keyring refused an operation, in this system's words."""
    platform = sys.platform if platform is None else platform
    if platform == "darwin":
        return (
            "If the login keychain is locked, unlock it in Keychain Access; if macOS asked whether "
            "Tokenworth may use it, choose Allow (or Always Allow) and try again."
        )
    if platform == "win32":
        return (
            "Check that you can open Credential Manager (Control Panel > Credential Manager > "
            "Windows Credentials) as this user, then try again."
        )
    return (
        "If it is locked, unlock it (log in to the desktop session, or run "
        "`gnome-keyring-daemon --unlock` in your D-Bus session). " + HOW_TO_FIX
    )


class KeyringUnavailable(RuntimeError):
    """No usable keyring: the message names the backend, what went wrong, and the fix."""


def account_name(provider: str, label: str) -> str:
    """The keyring username (and the ledger's `account`) of one provider key."""
    return f"{provider}:{label}"


def _describe(backend: Any) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def refusal_reason(backend: Any) -> str | None:
    """Why `backend` must not hold a key, or None when it is a real keyring."""
    cls = type(backend)
    module, name = cls.__module__, cls.__qualname__
    if module == "keyring.backends.fail":
        return "no keyring backend is available (keyring chose its `fail` backend)"
    if module == "keyring.backends.null":
        return "the keyring backend is the `null` backend, which stores nothing"
    if "plaintext" in name.lower() or "plaintext" in module.lower():
        return f"the keyring backend {module}.{name} keeps keys in a plain-text file"
    return None


def _usable_backend(backend: Any) -> Any:
    """The backend to use: a chainer is replaced by its best acceptable member, so a locked
    Secret Service can never fall through to a plain-text file."""
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, ChainerBackend):
        members = [member for member in backend.backends if refusal_reason(member) is None]
        if not members:
            raise KeyringUnavailable(
                "No usable keyring: only plain-text or empty keyring backends are installed. " + HOW_TO_FIX
            )
        return members[0]
    reason = refusal_reason(backend)
    if reason is not None:
        raise KeyringUnavailable(f"No usable keyring: {reason}. {HOW_TO_FIX}")
    return backend


class SecretStore:
    """Read, write and delete provider keys in one keyring backend (the system's by default)."""

    def __init__(self, backend: Any | None = None) -> None:
        self._given = backend
        self._backend: Any | None = None

    @property
    def backend(self) -> Any:
        if self._backend is None:
            if self._given is None:
                import keyring

                self._given = keyring.get_keyring()
            self._backend = _usable_backend(self._given)
        return self._backend

    @property
    def backend_name(self) -> str:
        return _describe(self.backend)

    def _fail(self, action: str, exc: BaseException, secret: str | None = None) -> KeyringUnavailable:
        detail = f"{type(exc).__name__}: {exc}".strip()
        if secret:
            detail = detail.replace(secret, "[key]")
        return KeyringUnavailable(
            f"The keyring ({_describe(self._backend)}) could not {action}: {detail}. {unlock_hint()}"
        )

    def get(self, provider: str, label: str) -> str | None:
        """The stored key, or None when there is none."""
        backend = self.backend
        try:
            value = backend.get_password(SERVICE, account_name(provider, label))
        except Exception as exc:
            raise self._fail("read a key", exc) from None
        return None if value is None else str(value)

    def set(self, provider: str, label: str, key: str) -> None:
        backend = self.backend
        try:
            backend.set_password(SERVICE, account_name(provider, label), key)
        except Exception as exc:
            raise self._fail("store the key", exc, key) from None

    def delete(self, provider: str, label: str) -> bool:
        """Remove the key; False when the keyring had none."""
        from keyring.errors import PasswordDeleteError

        backend = self.backend
        try:
            backend.delete_password(SERVICE, account_name(provider, label))
        except PasswordDeleteError:
            return False
        except Exception as exc:
            raise self._fail("delete a key", exc) from None
        return True


def mask_key(key: str) -> str:
    """The last four characters, for telling keys apart; short keys show nothing."""
    return key[-4:] if len(key) >= 12 else ""
