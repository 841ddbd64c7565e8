"""Token counting works offline and counts exactly as tiktoken's own encodings do."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
import tiktoken
import tiktoken.registry

from tiktoken_reference import (
    TIKTOKEN_CACHE_NAMES,
    NetworkAttempted,
    block_network,
    build_reference,
    bundled_file,
)
from tokenworth.core import tokens
from tokenworth.core.tokens import (
    EncodingUnavailable,
    Tokenizer,
    clear_encoding_cache,
    count_tokens,
    get_encoding,
    load_encoding,
    tokenizer_for_model,
)

SAMPLES_TEXT = [
    "",
    "hello world",
    "tiktoken is great!",
    "def add(a: int, b: int) -> int:\n    return a + b\n\n\nprint(add(2, 3))\n",
    "The quick brown fox jumps over the lazy dog. " * 40,
    "数据库迁移在启动时自动应用。東京は晴れです。안녕하세요",
    "مرحبا بالعالم — Привет, мир! Γειά σου κόσμε",  # noqa: RUF001 - other scripts on purpose
    "emoji 🎉🚀👩‍💻 and flags 🇩🇪🇯🇵",
    "numbers 1234567890 3.14159 1,000,000 0xDEADBEEF",
    "   leading spaces\t\ttabs\r\nwindows lines\r\n\n\n   trailing   ",
    "a literal <|endoftext|> and <|endofprompt|> in user text",
    "I'm sure they'll say it's what we've done, isn't it? DON'T SHOUT",
    '{"model": "gpt-4o", "usage": {"input_tokens": 12, "output_tokens": 7}}',
]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every socket connect and DNS lookup fails loudly and is recorded."""
    return block_network(monkeypatch)


@pytest.fixture
def empty_tiktoken_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tiktoken's cache points at an empty folder, so nothing cached before can help."""
    folder = tmp_path / "tiktoken-cache"
    folder.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tiktoken.Encoding]:
    return build_reference(tmp_path_factory.mktemp("reference-tiktoken-cache"))


def test_cache_names_are_sha1_of_the_download_urls() -> None:
    for name, cache_name in TIKTOKEN_CACHE_NAMES.items():
        assert tokens.ENCODINGS[name].cache_key == cache_name
        assert hashlib.sha1(tokens.ENCODINGS[name].url.encode()).hexdigest() == cache_name


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_our_encoding_is_tiktokens_own(name: str, reference: dict[str, tiktoken.Encoding]) -> None:
    ours, theirs = get_encoding(name), reference[name]
    # Private attributes: the only way to compare the full definition, and worth it.
    assert ours._pat_str == theirs._pat_str
    assert ours._special_tokens == theirs._special_tokens
    assert ours._mergeable_ranks == theirs._mergeable_ranks
    assert ours.n_vocab == theirs.n_vocab


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
@pytest.mark.parametrize("text", SAMPLES_TEXT)
def test_counts_match_tiktoken(name: str, text: str, reference: dict[str, tiktoken.Encoding]) -> None:
    expected = reference[name].encode(text, disallowed_special=())
    assert count_tokens(text, name) == len(expected)
    assert get_encoding(name).encode_ordinary(text) == expected


@pytest.mark.parametrize(
    ("name", "text", "ids"),
    [
        # Published in tiktoken's README and OpenAI's cookbook ("How to count tokens with tiktoken").
        ("cl100k_base", "hello world", [15339, 1917]),
        ("cl100k_base", "tiktoken is great!", [83, 1609, 5963, 374, 2294, 0]),
        ("o200k_base", "tiktoken is great!", [83, 8251, 2488, 382, 2212, 0]),
    ],
)
def test_known_token_ids(name: str, text: str, ids: list[int]) -> None:
    assert get_encoding(name).encode_ordinary(text) == ids
    assert count_tokens(text, name) == len(ids)


def test_special_token_text_counts_as_plain_text() -> None:
    """A prompt that quotes `<|endoftext|>` is priced, not refused, and not counted as one token."""
    assert count_tokens("<|endoftext|>", "o200k_base") > 1


def test_loading_never_touches_the_network(no_network: list[str], empty_tiktoken_cache: Path) -> None:
    clear_encoding_cache()
    assert get_encoding("o200k_base").encode_ordinary("hello world") == [24912, 2375]
    assert get_encoding("cl100k_base").encode_ordinary("hello world") == [15339, 1917]
    assert no_network == []
    assert list(empty_tiktoken_cache.iterdir()) == [], "nothing is written to tiktoken's cache"


def test_the_network_guard_catches_tiktokens_download(no_network: list[str], empty_tiktoken_cache: Path) -> None:
    """Proves the guard above is real: tiktoken's own loader, with an empty cache, goes online."""
    assert "r50k_base" not in tiktoken.registry.ENCODINGS
    with pytest.raises((NetworkAttempted, OSError)):  # requests may wrap the refusal in its own error
        tiktoken.get_encoding("r50k_base")
    assert no_network


def test_missing_encoding_is_a_clear_error_not_a_download(tmp_path: Path, no_network: list[str]) -> None:
    with pytest.raises(EncodingUnavailable) as caught:
        load_encoding("o200k_base", search_dirs=[tmp_path])
    message = str(caught.value)
    assert "o200k_base token encoding is not available offline" in message
    assert str(tmp_path) in message
    assert "Reinstall Tokenworth" in message
    assert no_network == []


def test_a_damaged_copy_is_refused_and_the_next_intact_one_used(tmp_path: Path) -> None:
    damaged, good = tmp_path / "damaged", tmp_path / "good"
    damaged.mkdir()
    good.mkdir()
    (damaged / "cl100k_base.tiktoken").write_bytes(bundled_file("cl100k_base")[:-100])
    with pytest.raises(EncodingUnavailable, match="wrong checksum"):
        load_encoding("cl100k_base", search_dirs=[damaged])
    (good / TIKTOKEN_CACHE_NAMES["cl100k_base"]).write_bytes(bundled_file("cl100k_base"))
    encoding = load_encoding("cl100k_base", search_dirs=[damaged, good])
    assert encoding.encode_ordinary("hello world") == [15339, 1917]


def test_tiktokens_cache_folder_is_a_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: list[str]
) -> None:
    """Without the bundled copy, a file tiktoken cached earlier (or an installer put there) works."""
    monkeypatch.setattr(tokens, "BUNDLE_PACKAGE", "no_such_package_for_tokenworth")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    with pytest.raises(EncodingUnavailable):
        load_encoding("cl100k_base")
    (tmp_path / TIKTOKEN_CACHE_NAMES["cl100k_base"]).write_bytes(bundled_file("cl100k_base"))
    assert load_encoding("cl100k_base").encode_ordinary("hello world") == [15339, 1917]
    assert no_network == []


def test_unknown_encoding_name() -> None:
    with pytest.raises(EncodingUnavailable, match="unknown token encoding 'p50k_base'"):
        load_encoding("p50k_base")


def test_encodings_are_built_once_and_shared_across_threads() -> None:
    clear_encoding_cache()
    results: list[tiktoken.Encoding] = []
    threads = [threading.Thread(target=lambda: results.append(get_encoding("cl100k_base"))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    assert all(result is results[0] for result in results)
    assert get_encoding("cl100k_base") is results[0]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4o", Tokenizer("o200k_base", estimate=False)),
        ("gpt-4o-mini-2024-07-18", Tokenizer("o200k_base", estimate=False)),
        ("chatgpt-4o-latest", Tokenizer("o200k_base", estimate=False)),
        ("gpt-4.1-nano", Tokenizer("o200k_base", estimate=False)),
        ("gpt-5", Tokenizer("o200k_base", estimate=False)),
        ("gpt-5.4-mini", Tokenizer("o200k_base", estimate=False)),
        ("o1", Tokenizer("o200k_base", estimate=False)),
        ("o3-pro", Tokenizer("o200k_base", estimate=False)),
        ("o4-mini", Tokenizer("o200k_base", estimate=False)),
        ("codex-mini-latest", Tokenizer("o200k_base", estimate=False)),
        ("gpt-5.1-codex-max", Tokenizer("o200k_base", estimate=False)),
        ("openai/gpt-4o", Tokenizer("o200k_base", estimate=False)),
        ("ft:gpt-4o-mini:acme::abc123", Tokenizer("o200k_base", estimate=False)),
        ("gpt-4", Tokenizer("cl100k_base", estimate=False)),
        ("gpt-4-turbo", Tokenizer("cl100k_base", estimate=False)),
        ("gpt-4-32k", Tokenizer("cl100k_base", estimate=False)),
        ("gpt-3.5-turbo", Tokenizer("cl100k_base", estimate=False)),
        ("text-embedding-3-small", Tokenizer("cl100k_base", estimate=False)),
        ("text-embedding-ada-002", Tokenizer("cl100k_base", estimate=False)),
        ("claude-sonnet-4-5", Tokenizer("o200k_base", estimate=True)),
        ("anthropic/claude-opus-4-1", Tokenizer("o200k_base", estimate=True)),
        ("gemini-2.5-pro", Tokenizer("o200k_base", estimate=True)),
        ("deepseek-chat", Tokenizer("o200k_base", estimate=True)),
        ("grok-4", Tokenizer("o200k_base", estimate=True)),
        ("omni-moderation-latest", Tokenizer("o200k_base", estimate=True)),
    ],
)
def test_tokenizer_per_model_family(model: str, expected: Tokenizer) -> None:
    assert tokenizer_for_model(model) == expected
