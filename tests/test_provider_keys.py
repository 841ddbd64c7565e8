"""Provider keys: the keyring wrapper, the `keys` and `poll` commands, and that a key leaks nowhere."""

from __future__ import annotations

import io
import json
import logging
import sys
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail, null
from keyring.backends.chainer import ChainerBackend

from provider_fakes import FAKE_KEY, FakeProviders, MemoryKeyring, PlaintextKeyring
from tokenworth.core.secrets import KeyringUnavailable, SecretStore
from tokenworth.services import polling
from tokenworth.sources.provider_http import RetryPolicy, scrub


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The CLI's retry policy with a recording sleep, so failing polls do not wait."""
    sleeps: list[float] = []
    monkeypatch.setattr(polling, "DEFAULT_RETRY", RetryPolicy(sleep=sleeps.append))
    return sleeps


# --- the keyring wrapper -----------------------------------------------------------------------


def test_keys_round_trip_per_provider_and_label() -> None:
    backend = MemoryKeyring()
    store = SecretStore(backend)
    store.set("openai", "default", "sk-one")
    store.set("openai", "work", "sk-two")
    assert backend.entries == {
        ("tokenworth", "openai:default"): "sk-one",
        ("tokenworth", "openai:work"): "sk-two",
    }
    assert store.get("openai", "work") == "sk-two"
    assert store.get("anthropic", "default") is None
    assert store.delete("openai", "work") is True
    assert store.delete("openai", "work") is False


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring(), PlaintextKeyring()])
def test_backends_that_do_not_keep_secrets_are_refused_with_the_fix(backend: Any) -> None:
    store = SecretStore(backend)
    with pytest.raises(KeyringUnavailable) as caught:
        store.set("openai", "default", FAKE_KEY)
    message = str(caught.value)
    assert "No usable keyring" in message
    assert "gnome-keyring" in message.lower()
    assert "dbus-run-session" in message
    assert "never in a file" in message
    assert not getattr(backend, "entries", {})  # nothing stored, not even in the refused backend


def test_a_chainer_never_falls_through_to_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    good, plain = MemoryKeyring(), PlaintextKeyring()
    monkeypatch.setattr(ChainerBackend, "backends", [plain, good])
    store = SecretStore(ChainerBackend())
    store.set("openai", "default", "sk-chained")
    assert good.entries
    assert not plain.entries
    monkeypatch.setattr(ChainerBackend, "backends", [plain])
    with pytest.raises(KeyringUnavailable, match="only plain-text"):
        SecretStore(ChainerBackend()).get("openai", "default")


def test_a_locked_keyring_is_reported_in_plain_words_without_the_key() -> None:
    class Locked(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            from keyring.errors import KeyringLocked

            raise KeyringLocked(f"Failed to unlock the collection for {password}")

    with pytest.raises(KeyringUnavailable) as caught:
        SecretStore(Locked()).set("openai", "default", FAKE_KEY)
    message = str(caught.value)
    assert "could not store the key: KeyringLocked" in message
    assert "unlock" in message
    assert FAKE_KEY not in message


@pytest.mark.parametrize(
    ("platform", "says", "never"),
    [
        ("darwin", "Keychain Access", "gnome-keyring"),
        ("win32", "Credential Manager", "gnome-keyring"),
        ("linux", "gnome-keyring-daemon --unlock", "Keychain Access"),
    ],
)
def test_a_refused_keyring_operation_says_what_to_do_on_this_system(platform: str, says: str, never: str) -> None:
    from tokenworth.core.secrets import unlock_hint

    hint = unlock_hint(platform)
    assert says in hint
    assert never not in hint


# --- the commands ------------------------------------------------------------------------------


def test_keys_set_reads_stdin_checks_the_key_and_lists_it_masked(
    cli: Any, memory_keyring: MemoryKeyring, fake_env: dict[str, str], fake: FakeProviders
) -> None:
    result = cli("keys", "set", "openai", "--label", "work", stdin=FAKE_KEY + "\n")
    assert result.code == 0, result.err
    assert "Stored the openai key 'work' (…0000) in the keyring" in result.out
    assert memory_keyring.entries == {("tokenworth", "openai:work"): FAKE_KEY}
    assert [path for path, _, _ in fake.requests] == ["/openai/v1/organization/costs"]  # one cheap call

    listed = cli("keys", "list")
    assert "openai    work   …0000  never" in listed.out
    as_json = cli("keys", "list", "--json")
    assert '"account": "openai:work"' in as_json.out
    assert '"key": "…0000"' in as_json.out


def test_keys_set_refuses_a_rejected_key_and_stores_nothing(
    cli: Any, memory_keyring: MemoryKeyring, fake_env: dict[str, str], fake: FakeProviders
) -> None:
    result = cli("keys", "set", "anthropic", stdin="sk-ant-api03-NOTANADMINKEY0000000000")
    assert result.code == 1
    assert "the key was not stored: anthropic cost_report: the key was rejected (HTTP 401)" in result.err
    assert "Admin key" in result.err
    assert "NOTANADMINKEY0000" not in result.err
    assert memory_keyring.entries == {}
    assert "No provider keys stored" in cli("keys", "list").out


def test_keys_set_refuses_empty_or_multiple_keys_and_bad_labels(
    cli: Any, memory_keyring: MemoryKeyring, fake_env: dict[str, str]
) -> None:
    assert cli("keys", "set", "openai", stdin="").code == 2
    two = cli("keys", "set", "openai", stdin="sk-one sk-two")
    assert two.code == 2
    assert "give one key only" in two.err
    assert cli("keys", "set", "openai", "--label", "no spaces", stdin=FAKE_KEY).code == 2
    assert cli("keys", "set", "openai", FAKE_KEY).code == 2  # never from argv: argparse refuses it
    assert memory_keyring.entries == {}


def test_keys_set_uses_a_hidden_prompt_on_a_terminal(
    cli: Any, memory_keyring: MemoryKeyring, fake_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    prompts: list[str] = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return FAKE_KEY

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    monkeypatch.setattr(sys, "stdin", Terminal())
    from tokenworth.cli import main

    out, err = io.StringIO(), io.StringIO()
    assert main(["keys", "set", "openrouter"], stdout=out, stderr=err) == 0, err.getvalue()
    assert prompts == ["openrouter key (input hidden): "]
    assert FAKE_KEY not in out.getvalue() + err.getvalue()


def test_without_a_keyring_keys_set_says_so_and_asks_for_nothing(
    cli: Any, fake_env: dict[str, str], fake: FakeProviders
) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        result = cli("keys", "set", "openai", stdin=FAKE_KEY)
    finally:
        keyring.set_keyring(previous)
    assert result.code == 1
    assert "No usable keyring" in result.err
    assert "Traceback" not in result.err
    assert fake.requests == []


def test_a_key_pasted_with_a_curly_quote_is_refused_at_once(
    cli: Any, memory_keyring: MemoryKeyring, fake_env: dict[str, str]
) -> None:
    for flags in ((), ("--no-check",)):
        refused = cli("keys", "set", "openrouter", *flags, stdin=FAKE_KEY + "\u201d")
        assert refused.code == 2
        assert "not plain ASCII" in refused.err
        assert FAKE_KEY not in refused.err
    assert memory_keyring.entries == {}


def test_a_stored_key_no_header_can_carry_fails_its_account_only(
    cli: Any, memory_keyring: MemoryKeyring, fake_env: dict[str, str], fake: FakeProviders, quick_retries: Any
) -> None:
    """A key stored before keys were checked for ASCII: its account says what to do, and every
    other account is still polled and tested."""
    fake.now = polling.utc_now()
    assert cli("keys", "set", "openrouter", stdin=FAKE_KEY).code == 0
    assert cli("keys", "set", "anthropic", stdin=FAKE_KEY).code == 0
    memory_keyring.entries[("tokenworth", "anthropic:default")] = FAKE_KEY + "\u201d"
    polled = cli("poll", "--json")
    assert polled.code == 1
    statuses = {(a["provider"], a["status"]) for a in json.loads(polled.out)["accounts"]}
    assert statuses == {("anthropic", "key rejected"), ("openrouter", "ok")}
    assert "keys set anthropic --label default" in polled.out
    tested = cli("keys", "test")
    assert tested.code == 1
    assert "openrouter:default: ok" in tested.out
    assert "anthropic:default: key rejected" in tested.out
    assert FAKE_KEY not in tested.out + tested.err + polled.out + polled.err


def test_a_key_stored_again_under_a_new_label_warns_of_the_old_labels_usage(
    cli: Any, memory_keyring: MemoryKeyring, fake_env: dict[str, str], fake: FakeProviders, quick_retries: Any
) -> None:
    """Renaming a label is delete, then set: the old label's polled usage stays, so the new one's
    first poll would count the same days twice. `keys set` says so and how to drop the old copy."""
    fake.now = polling.utc_now()

    def total_tokens() -> int:
        report = json.loads(cli("report", "monthly", "--json", "--no-import", "--tz", "UTC").out)
        return sum(row["input_tokens"] + row["output_tokens"] for row in report["rows"])

    assert cli("keys", "set", "openai", stdin=FAKE_KEY).code == 0
    assert cli("poll").code == 0
    once = total_tokens()
    assert once > 0
    assert cli("keys", "delete", "openai").code == 0
    renamed = cli("keys", "set", "openai", "--label", "work", stdin=FAKE_KEY)
    assert renamed.code == 0
    assert "usage polled by openai:default" in renamed.out
    assert "keys delete openai --label default --drop-usage" in renamed.out
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # the old key is gone already: only ledger rows go, no keyring asked
    try:
        dropped = cli("keys", "delete", "openai", "--label", "default", "--drop-usage")
    finally:
        keyring.set_keyring(previous)
    assert dropped.code == 0, dropped.err
    assert "Dropped" in dropped.out
    assert total_tokens() == 0
    assert cli("poll").code == 0
    assert total_tokens() == once
    assert "usage polled by" not in cli("keys", "set", "openai", "--label", "work", stdin=FAKE_KEY).out  # replaced
    never_stored = cli("keys", "delete", "openai", "--label", "nothing-here", "--drop-usage")
    assert never_stored.code == 1


def test_keys_test_and_delete(
    cli: Any, memory_keyring: MemoryKeyring, fake_env: dict[str, str], fake: FakeProviders
) -> None:
    assert cli("keys", "set", "openrouter", stdin=FAKE_KEY).code == 0
    tested = cli("keys", "test")
    assert tested.code == 0
    assert "openrouter:default: ok" in tested.out
    memory_keyring.entries[("tokenworth", "openrouter:default")] = "sk-or-v1-REVOKED000000000000"
    tested = cli("keys", "test", "openrouter")
    assert tested.code == 1
    assert "key rejected" in tested.out
    assert "key rejected" in cli("keys", "list").out

    deleted = cli("keys", "delete", "openrouter")
    assert deleted.code == 0
    assert memory_keyring.entries == {}
    assert cli("keys", "delete", "openrouter").code == 1


def test_poll_command_reports_each_account_and_exits_1_on_a_problem(
    cli: Any, memory_keyring: MemoryKeyring, fake_env: dict[str, str], fake: FakeProviders, quick_retries: Any
) -> None:
    fake.now = polling.utc_now()
    assert cli("keys", "set", "openrouter", stdin=FAKE_KEY).code == 0
    assert cli("keys", "set", "anthropic", stdin=FAKE_KEY).code == 0
    fake.fail("/anthropic/v1/organizations/usage_report/messages", "502")
    result = cli("poll")
    assert result.code == 1
    assert "Polled 2 account(s)" in result.out
    assert "openrouter default: ok (1 pages, 2 usage rows, 0 billed lines)" in result.out
    assert "used today $1.25" in result.out
    assert "anthropic usage_report/messages: server error (HTTP 502), still after 4 attempts" in result.err
    fake.clear_faults()
    only = cli("poll", "--provider", "anthropic", "--json")
    assert only.code == 0, only.out
    assert '"status": "ok"' in only.out
    assert cli("poll", "--since", "tomorrow").code == 2
    other = cli("poll", "--provider", "openai")  # keys are stored, just none of OpenAI's
    assert other.code == 0
    assert "No openai key stored. Add one with `tokenworth keys set openai`." in other.out
    reconciled = cli("report", "reconcile", "--no-import")
    assert "Estimated versus billed, per day (in UTC) and model" in reconciled.out
    sonnet = next(line for line in reconciled.out.splitlines() if "claude-sonnet-4-5-20250929" in line)
    assert "$0.06" in sonnet  # billed: 0.45 + 6.0 cents
    assert sonnet.split()[-1].startswith(("+$", "-$"))
    assert "(Web Search)" in reconciled.out


def test_report_reconcile_is_a_report_kind(cli: Any, memory_keyring: MemoryKeyring) -> None:
    empty = cli("report", "reconcile", "--no-import")
    assert empty.code == 0
    assert "Nothing to reconcile" in empty.out
    assert cli("report", "reconcile", "--no-import", "--project", "x").code == 2
    assert '"report": "reconcile"' in cli("report", "reconcile", "--json", "--no-import").out
    assert cli("report", "daily", "--no-import").code == 0  # the other kinds are untouched
    assert "for reconcile: UTC" in " ".join(cli("report", "--help").out.split())  # as it runs


def test_the_key_appears_nowhere_but_the_keyring(
    cli: Any,
    memory_keyring: MemoryKeyring,
    fake_env: dict[str, str],
    fake: FakeProviders,
    home: Path,
    quick_retries: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every command and a full poll with failures; then the database, every file under the
    home, the logs and all output are searched for the key (and its telling middle part)."""
    caplog.set_level(logging.DEBUG)
    fake.now = polling.utc_now()
    outputs: list[str] = []

    def run(*argv: str, stdin: str | None = None) -> Any:
        result = cli(*argv, stdin=stdin)
        outputs.extend([result.out, result.err])
        return result

    for provider in ("openai", "anthropic", "openrouter"):
        assert run("keys", "set", provider, "--label", "leak", stdin=FAKE_KEY).code == 0
    run("keys", "set", "openai", "--label", "bad", stdin=FAKE_KEY + "x")  # rejected: the echo has it
    run("keys", "set", "openai", "--label", "nocheck", "--no-check", stdin=FAKE_KEY + "y")
    run("keys", "list")
    run("keys", "list", "--json")
    run("keys", "test")
    run("keys", "test", "--json")
    fake.fail("/openai/v1/organization/usage/completions", "truncated", page=2)
    fake.fail("/openai/v1/organization/costs", "429", times=1)
    fake.fail("/anthropic/v1/organizations/cost_report", "500")
    assert run("poll").code == 1
    assert "truncated JSON" in outputs[-1]
    assert "key rejected" in run("poll", "--json").out  # the 'bad' label was never stored, 'nocheck' is
    run("poll", "--provider", "openrouter", "--since", "2026-01-01")
    run("report", "reconcile")
    run("report", "daily", "--json")
    run("keys", "list", "--json")
    run("keys", "delete", "openai", "--label", "nocheck")

    secrets = [FAKE_KEY, FAKE_KEY[8:30]]
    haystacks = {"output": "\n".join(outputs), "log": caplog.text}
    for path in home.rglob("*"):
        if path.is_file():
            haystacks[str(path)] = path.read_bytes().decode("latin-1")
    assert any(name.endswith(".db") for name in haystacks)
    assert "openai:leak" in "".join(haystacks.values())  # the accounts are there, by name
    for name, text in haystacks.items():
        for secret in secrets:
            assert secret not in text, f"the key leaked into {name}"
    # the key went only where it belongs: in a header, never in a URL
    assert all(FAKE_KEY not in str(args) for _, args, _ in fake.requests)


def test_a_provider_message_masks_every_key_shape_the_logs_mask() -> None:
    """A gateway's error may echo other credentials than the one sent: masked as in the log file."""
    echoed = (
        "denied for sk-proj-ABCDEFGH12345678, AIzaSyA1234567890abcdefghijklmno and "
        "x-api-key: gw-7f3c9e1d2b4a; sent " + FAKE_KEY
    )
    message = scrub(echoed, FAKE_KEY)
    for secret in ("ABCDEFGH12345678", "SyA1234567890abcdefghijklmno", "gw-7f3c9e1d2b4a", FAKE_KEY):
        assert secret not in message
    assert message.startswith("denied for sk-proj-")
