"""`keys test` and `keys delete` for a key that is not there: say which, and list the stored ones."""

from __future__ import annotations

from typing import Any

from provider_fakes import FAKE_KEY, MemoryKeyring


def test_keys_test_for_a_missing_label_names_it_and_lists_the_stored_keys(
    cli: Any, memory_keyring: MemoryKeyring
) -> None:
    assert cli("keys", "set", "anthropic", "--label", "work", "--no-check", stdin=FAKE_KEY).code == 0
    assert cli("keys", "set", "openai", "--no-check", stdin=FAKE_KEY).code == 0
    result = cli("keys", "test", "openai", "--label", "x")
    assert result.code == 1
    assert "no key openai:x is stored; stored: anthropic:work, openai:default" in result.err
    assert "No provider keys stored" not in result.out
    only_label = cli("keys", "test", "--label", "x")
    assert "no key labelled 'x' is stored; stored: anthropic:work, openai:default" in only_label.err
    none_for_provider = cli("keys", "test", "openrouter")
    assert none_for_provider.code == 1
    assert "no openrouter key is stored; stored: anthropic:work, openai:default" in none_for_provider.err


def test_keys_delete_of_the_default_label_lists_the_labels_there_are(cli: Any, memory_keyring: MemoryKeyring) -> None:
    assert cli("keys", "set", "anthropic", "--label", "work", "--no-check", stdin=FAKE_KEY).code == 0
    result = cli("keys", "delete", "anthropic")
    assert result.code == 1
    assert "no key anthropic:default is stored; stored: anthropic:work" in result.err
    assert memory_keyring.entries == {("tokenworth", "anthropic:work"): FAKE_KEY}


def test_with_no_keys_at_all_the_messages_say_how_to_add_one(cli: Any, memory_keyring: MemoryKeyring) -> None:
    assert "No provider keys stored" in cli("keys", "test", "openai", "--label", "x").out
    deleted = cli("keys", "delete", "openai")
    assert deleted.code == 1
    assert "no provider keys are stored (add one with `tokenworth keys set openai`)" in deleted.err
