"""Test doubles for the provider pollers: keyring backends, and a fake of the three providers'
usage/cost APIs served over real HTTP on 127.0.0.1 from the documented sample shapes.

The fake honours `start_time`/`starting_at`, `end_time`/`ending_at`, `bucket_width`, `limit` and
`page`, so windows come back in several pages, and can be told to misbehave on a given page.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from werkzeug import Request, Response

SAMPLES = Path(__file__).parent / "fixtures" / "samples"
WIDTHS = {"1h": 3600, "1d": 86400}


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in memory: what unit tests store keys in."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise PasswordDeleteError("not found")
        del self.entries[(service, username)]


class EnvKeyring(KeyringBackend):
    """Read-only keys from the JSON in TOKENWORTH_TEST_KEYRING: for child processes in tests
    (select with PYTHON_KEYRING_BACKEND=provider_fakes.EnvKeyring)."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        entries = json.loads(os.environ.get("TOKENWORTH_TEST_KEYRING", "{}"))
        return entries.get(username) if service == "tokenworth" else None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NotImplementedError

    def delete_password(self, service: str, username: str) -> None:
        raise PasswordDeleteError("read-only")


class PlaintextKeyring(MemoryKeyring):
    """Stands in for keyrings.alt's PlaintextKeyring (same class name): must be refused."""


@dataclass
class Fault:
    """What to do instead of a normal reply, on which page, how many times (None = always)."""

    kind: str
    page: int = 1
    times: int | None = None
    retry_after: str | None = None
    hang: threading.Event | None = None
    reached: threading.Event = field(default_factory=threading.Event)


@dataclass
class FakeProviders:
    """The three providers' APIs, answering from the samples; `now` is the fake's clock."""

    now: datetime
    key: str
    scale: int = 1
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = field(default_factory=list)
    management_key: bool = True
    long_context: bool = False
    """Anthropic usage rows say their requests had a 200k-1M context window."""
    restate: Callable[[str, str, list[dict[str, Any]]], list[dict[str, Any]]] | None = None
    """(provider, endpoint, a bucket's results) -> the results served: a provider restating its
    buckets (groups regrouped or gone)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, path: str, kind: str, page: int = 1, times: int | None = None, **extra: Any) -> Fault:
        fault = Fault(kind, page, times, **extra)
        self.faults.setdefault(path, []).append(fault)
        return fault

    def clear_faults(self) -> None:
        self.faults.clear()

    # --- serving -------------------------------------------------------------------------------

    def install(self, server: Any) -> None:
        routes: dict[str, Callable[[Request], Response]] = {
            "/openai/v1/organization/usage/completions": lambda r: self._buckets(r, "openai", "completions"),
            "/openai/v1/organization/usage/embeddings": lambda r: self._buckets(r, "openai", "embeddings"),
            "/openai/v1/organization/costs": lambda r: self._buckets(r, "openai", "costs"),
            "/anthropic/v1/organizations/usage_report/messages": lambda r: self._buckets(r, "anthropic", "usage"),
            "/anthropic/v1/organizations/cost_report": lambda r: self._buckets(r, "anthropic", "cost"),
            "/openrouter/api/v1/key": self._or_key,
            "/openrouter/api/v1/credits": self._or_credits,
            "/openrouter/api/v1/activity": self._or_activity,
        }
        for path, handler in routes.items():
            server.expect_request(path).respond_with_handler(self._wrap(path, handler))

    def base_urls(self, server: Any) -> dict[str, str]:
        root = f"http://127.0.0.1:{server.port}"
        return {
            "TOKENWORTH_OPENAI_BASE_URL": f"{root}/openai/v1",
            "TOKENWORTH_ANTHROPIC_BASE_URL": f"{root}/anthropic",
            "TOKENWORTH_OPENROUTER_BASE_URL": f"{root}/openrouter/api/v1",
        }

    def _authorized(self, request: Request) -> bool:
        given = request.headers.get("x-api-key") or request.headers.get("Authorization", "").removeprefix("Bearer ")
        return given == self.key

    def _wrap(self, path: str, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def serve(request: Request) -> Response:
            with self.lock:
                self.requests.append((path, request.args.to_dict(flat=False), dict(request.headers)))
            if not self._authorized(request):
                given = request.headers.get("x-api-key") or request.headers.get("Authorization", "")
                # Like OpenAI's real 401, the message echoes the key it got: it must be scrubbed.
                body = {"error": {"message": f"Incorrect API key provided: {given}", "type": "auth"}}
                return Response(json.dumps(body), status=401, content_type="application/json")
            page = _page_number(request.args.get("page"))
            fault = self._fault_for(path, page)
            if fault is not None:
                return self._misbehave(fault, request, handler)
            return handler(request)

        return serve

    def _fault_for(self, path: str, page: int) -> Fault | None:
        with self.lock:
            for fault in self.faults.get(path, []):
                if fault.page == page and (fault.times is None or fault.times > 0):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def _misbehave(self, fault: Fault, request: Request, handler: Callable[[Request], Response]) -> Response:
        fault.reached.set()
        kind = fault.kind
        if kind == "hang":
            assert fault.hang is not None
            fault.hang.wait(60)
            return Response("{}", status=503)
        if kind == "slow":
            time.sleep(1.0)
            return handler(request)
        if kind == "redirect":  # a proxy or captive portal answering for the provider
            return Response("", status=302, headers={"Location": "https://proxy.example.test/login"})
        if kind.isdigit():
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return Response('{"error": {"message": "try later"}}', status=int(kind), headers=headers)
        body = json.loads(handler(request).get_data(as_text=True))
        if kind == "malformed":
            return _json_response(json.dumps(body).replace('"data":', '"data" ', 1))
        if kind == "truncated":
            text = json.dumps(body)
            return _json_response(text[: len(text) // 2])
        if kind == "missing_field":
            for bucket in body["data"]:
                for result in bucket.get("results", []):
                    result.pop(_REQUIRED[request.path], None)
            return _json_response(json.dumps(body))
        if kind == "unknown_field":
            body["surprise"] = {"new": True}
            for bucket in body["data"]:
                bucket["brand_new_bucket_field"] = 1
                for result in bucket.get("results", []):
                    result["brand_new_result_field"] = "x"
            return _json_response(json.dumps(body))
        if kind == "empty_page":
            body["data"] = []
            return _json_response(json.dumps(body))
        if kind == "repeat_cursor":
            # the page hands back the very cursor it was asked with (use on page 2 or later)
            body["has_more"] = True
            body["next_page"] = request.args["page"]
            return _json_response(json.dumps(body))
        raise AssertionError(f"unknown fault {kind}")

    # --- bucket endpoints (OpenAI, Anthropic) ----------------------------------------------------

    def _buckets(self, request: Request, provider: str, endpoint: str) -> Response:
        args = request.args
        width_name = args.get("bucket_width", "1d")
        width = WIDTHS[width_name]
        if provider == "openai":
            start = int(args["start_time"])
            end = int(args["end_time"]) if "end_time" in args else None
        else:
            start = int(_parse_iso(args["starting_at"]).timestamp())
            end = int(_parse_iso(args["ending_at"]).timestamp()) if "ending_at" in args else None
        limit = int(args.get("limit", "7"))
        cursor = args.get("page")
        if cursor:
            start = int(cursor.split("_")[2])
        horizon = end if end is not None else int(self.now.timestamp())
        buckets = []
        at = start
        while at < horizon and len(buckets) < limit:
            buckets.append((at, min(at - at % width + width, end) if end else at - at % width + width))
            at = buckets[-1][1]
        has_more = at < horizon
        page = _page_number(cursor)
        next_page = f"page_{page + 1}_{at}" if has_more else None
        data = [self._bucket(provider, endpoint, b_start, b_end) for b_start, b_end in buckets]
        if provider == "openai":
            body: dict[str, Any] = {
                "object": "page",
                "data": data,
                "has_more": has_more,
                "next_page": next_page,
            }
        else:
            body = {"data": data, "has_more": has_more, "next_page": next_page}
        return _json_response(json.dumps(body))

    def _bucket(self, provider: str, endpoint: str, start: int, end: int) -> dict[str, Any]:
        if provider == "openai":
            name = {
                "completions": "openai-usage-completions.json",
                "embeddings": "openai-usage-embeddings.json",
                "costs": "openai-costs.json",
            }[endpoint]
            results = copy.deepcopy(sample(name)["data"][0]["results"])
            for result in results:
                for key in ("input_tokens", "output_tokens", "input_cached_tokens", "num_model_requests"):
                    if key in result:
                        result[key] *= self.scale
                if "input_uncached_tokens" in result:
                    result["input_uncached_tokens"] *= self.scale
                if "input_cache_write_tokens" in result:
                    result["input_cache_write_tokens"] *= self.scale
            if self.restate is not None:
                results = self.restate(provider, endpoint, results)
            return {"object": "bucket", "start_time": start, "end_time": end, "results": results}
        name = "anthropic-usage-report.json" if endpoint == "usage" else "anthropic-cost-report.json"
        results = copy.deepcopy(sample(name)["data"][0]["results"])
        if endpoint == "usage":
            for result in results:
                result["uncached_input_tokens"] *= self.scale
                result["output_tokens"] *= self.scale
                if self.long_context:
                    result["context_window"] = "200k-1M"
        if self.restate is not None:
            results = self.restate(provider, endpoint, results)
        return {"starting_at": _iso(start), "ending_at": _iso(end), "results": results}

    # --- OpenRouter ----------------------------------------------------------------------------

    def _or_key(self, request: Request) -> Response:
        body = sample("openrouter-key.json")
        body["data"]["is_management_key"] = self.management_key
        return _json_response(json.dumps(body))

    def _or_credits(self, request: Request) -> Response:
        return _json_response((SAMPLES / "openrouter-credits.json").read_text())

    def _or_activity(self, request: Request) -> Response:
        body = sample("openrouter-activity.json")
        yesterday = (self.now - timedelta(days=1)).date().isoformat()
        for item in body["data"]:
            item["date"] = yesterday
        return _json_response(json.dumps(body))


_REQUIRED = {
    "/openai/v1/organization/usage/completions": "input_tokens",
    "/openai/v1/organization/usage/embeddings": "num_model_requests",
    "/openai/v1/organization/costs": "amount",
    "/anthropic/v1/organizations/usage_report/messages": "output_tokens",
    "/anthropic/v1/organizations/cost_report": "amount",
}


def _page_number(cursor: str | None) -> int:
    if not cursor:
        return 1
    parts = cursor.split("_")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 99


def _json_response(text: str) -> Response:
    return Response(text, status=200, content_type="application/json")


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- fixtures (imported by the provider test modules) ---------------------------------------------

import httpx  # noqa: E402
import keyring  # noqa: E402
import pytest  # noqa: E402
from pytest_httpserver import HTTPServer  # noqa: E402

NOW = datetime(2026, 1, 10, 12, 30, tzinfo=UTC)
FAKE_KEY = "sk-admin-FAKE0KEY0for0tests0only0000000000"


@pytest.fixture
def memory_keyring() -> Any:
    """An in-memory keyring as the process's keyring for the test."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def provider_server() -> Any:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def fake(provider_server: HTTPServer) -> FakeProviders:
    providers = FakeProviders(now=NOW, key=FAKE_KEY)
    providers.install(provider_server)
    return providers


@pytest.fixture
def fake_env(fake: FakeProviders, provider_server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = fake.base_urls(provider_server)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def http() -> Any:
    client = httpx.Client(timeout=httpx.Timeout(5.0))
    yield client
    client.close()
