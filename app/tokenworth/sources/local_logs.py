"""The local agent logs Tokenworth knows: where each lives and how to read it."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tokenworth.core.dedupe import ConflictPolicy
from tokenworth.sources import claude_code, codex, gemini_cli
from tokenworth.sources.files import LogFile, log_files, walk_files
from tokenworth.sources.records import ParseResult

Parser = Callable[..., ParseResult]


@dataclass(frozen=True)
class LocalLogSource:
    """One agent's logs: how to find them, parse them, and settle duplicate records."""

    name: str
    provider: str
    parse: Parser
    policy: ConflictPolicy
    find_default: Callable[[Mapping[str, str], Path | None], list[LogFile]]
    find_in: Callable[[Path], list[LogFile]]
    default_dirs: Callable[[Mapping[str, str], Path | None], list[Path]]
    env_var: str
    """The variable that names this agent's folders instead of the defaults. A folder it names
    that does not exist is a mistake worth a warning; a default one is just an agent not used."""

    def configured_dirs(self, env: Mapping[str, str], home: Path | None) -> list[Path]:
        """The folders `env_var` names, or none when it is not set."""
        return self.default_dirs(env, home) if env.get(self.env_var, "").strip() else []

    def is_whole_file(self, path: Path) -> bool:
        """Files that cannot be read incrementally (compressed, single JSON documents)."""
        return path.name.endswith(".zst") or path.suffix == ".json"


def _claude_default(env: Mapping[str, str], home: Path | None) -> list[LogFile]:
    return claude_code.find_files(claude_code.default_roots(env, home))


def _claude_in(folder: Path) -> list[LogFile]:
    return claude_code.find_files([claude_code.projects_dir(folder)])


def _codex_in(folder: Path) -> list[LogFile]:
    found = codex.find_files(folder)
    if not found and os.path.isdir(folder):
        # A folder of rollouts itself rather than a CODEX_HOME.
        return list(walk_files(folder, (".jsonl", ".jsonl.zst")))
    return log_files(found)


LOCAL_SOURCES: dict[str, LocalLogSource] = {
    claude_code.SOURCE: LocalLogSource(
        name=claude_code.SOURCE,
        provider=claude_code.PROVIDER,
        parse=claude_code.parse,
        policy="fullest",
        find_default=_claude_default,
        find_in=_claude_in,
        default_dirs=lambda env, home: claude_code.default_roots(env, home),
        env_var="CLAUDE_CONFIG_DIR",
    ),
    codex.SOURCE: LocalLogSource(
        name=codex.SOURCE,
        provider=codex.PROVIDER,
        parse=codex.parse,
        policy="fullest",
        find_default=lambda env, home: log_files(codex.find_files(codex.default_root(env, home))),
        find_in=_codex_in,
        default_dirs=lambda env, home: [codex.default_root(env, home)],
        env_var="CODEX_HOME",
    ),
    gemini_cli.SOURCE: LocalLogSource(
        name=gemini_cli.SOURCE,
        provider=gemini_cli.PROVIDER,
        parse=gemini_cli.parse,
        policy="latest",
        find_default=lambda env, home: log_files(gemini_cli.find_files(gemini_cli.default_root(env, home))),
        find_in=lambda folder: log_files(gemini_cli.find_files(folder)),
        default_dirs=lambda env, home: [gemini_cli.default_root(env, home)],
        env_var="GEMINI_DATA_DIR",
    ),
}


def sniff_source(folder: Path) -> str | None:
    """Which agent wrote the logs in `folder` (for `import --path DIR` without `--source`)."""
    if folder.name == "projects" or os.path.isdir(folder / "projects"):
        return claude_code.SOURCE
    if os.path.isdir(folder / "sessions") or os.path.isdir(folder / "archived_sessions"):
        return codex.SOURCE
    if (
        folder.name == "chats"
        or any(part == "chats" for part in folder.parts)
        or any(folder.glob("*/chats"))
        or any(folder.glob("tmp/*/chats"))  # ~/.gemini itself
    ):
        return gemini_cli.SOURCE
    for path in folder.rglob("*.json*"):  # .jsonl, and Gemini's older .json sessions
        if not path.name.endswith((".jsonl", ".json")):
            continue
        try:
            with path.open("rb") as handle:
                head = handle.read(4096)
        except OSError:
            continue
        if b'"session_meta"' in head or b'"turn_context"' in head:
            return codex.SOURCE
        if b'"projectHash"' in head:
            return gemini_cli.SOURCE
        if b'"sessionId"' in head:
            return claude_code.SOURCE
    return None


def resolve_sources(names: Sequence[str] | None) -> list[LocalLogSource]:
    """The sources named ('all' or None for every one), with a clear error for a wrong name."""
    if not names or "all" in names:
        return list(LOCAL_SOURCES.values())
    unknown = [name for name in names if name not in LOCAL_SOURCES]
    if unknown:
        known = ", ".join(LOCAL_SOURCES)
        raise ValueError(f"unknown source {unknown[0]!r}; known sources: {known}, all")
    return [LOCAL_SOURCES[name] for name in names]
