"""Provider replies that never end, or never stop growing, against a real socket on 127.0.0.1:
a poll ends in bounded time and memory, and at once when the app quits."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tokenworth.sources import provider_http
from tokenworth.sources.provider_http import (
    BadResponse,
    ProviderUnavailable,
    RetryPolicy,
    Where,
    get_json,
)

WHERE = Where("anthropic", "usage")


class RawServer:
    """Answers every connection with `head`, then `drip` bytes every `every_s` seconds, for ever
    (until closed): an endpoint that stalls mid-reply, or one that streams without end."""

    def __init__(self, head: bytes, drip: bytes, every_s: float) -> None:
        self.head, self.drip, self.every_s = head, drip, every_s
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1/usage"
        self.requests = 0
        self.closed = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.requests += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(self.head)
                while not self.closed.wait(self.every_s):
                    conn.sendall(self.drip)
            except OSError:
                return

    def close(self) -> None:
        self.closed.set()
        self.listener.close()


@pytest.fixture
def stalling() -> Iterator[RawServer]:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
    server = RawServer(head, b" ", 0.1)
    yield server
    server.close()


def _get(url: str, retry: RetryPolicy) -> object:
    with httpx.Client(timeout=httpx.Timeout(5.0)) as client:
        return get_json(client, url, headers={}, where=WHERE, secret="sk-fake", retry=retry)


def test_a_reply_that_trickles_on_ends_the_request_at_its_deadline(stalling: RawServer) -> None:
    """A byte now and then keeps every read within the read timeout; the reply as a whole still
    has a deadline, and it counts as a time-out (retried once, then the poll moves on)."""
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="timed out"):
        _get(stalling.url, RetryPolicy(reply_deadline_s=0.5, sleep=lambda _s: None, jitter=lambda: 0))
    assert time.monotonic() - started < 5
    assert stalling.requests == 2


def test_a_reply_larger_than_any_usage_page_is_refused_before_it_fills_memory() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 900000000\r\n\r\n["
    server = RawServer(head, b"0," * 50_000, 0.001)
    try:
        with pytest.raises(BadResponse, match="reply larger than 1 MB"):
            _get(server.url, RetryPolicy(max_reply_bytes=2**20, sleep=lambda _s: None))
    finally:
        server.close()


def test_quitting_ends_a_retry_wait_and_a_reply_in_progress(stalling: RawServer) -> None:
    """Quit while a poll waits out a Retry-After or reads a slow reply: it ends now, and sends
    nothing more."""
    done: list[BaseException] = []

    def poll() -> None:
        try:
            _get(stalling.url, RetryPolicy(reply_deadline_s=60))
        except ProviderUnavailable as exc:
            done.append(exc)

    worker = threading.Thread(target=poll)
    worker.start()
    time.sleep(0.5)
    started = time.monotonic()
    provider_http.stop_requests()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert time.monotonic() - started < 2
    assert "quitting" in str(done[0])
    requests = stalling.requests
    provider_http.RetryPolicy().sleep(30)  # the default wait returns at once once quitting
    assert stalling.requests == requests == 1
