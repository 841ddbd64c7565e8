"""Gemini CLI recordings: the last record per message wins; legacy JSON files are read whole."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from conftest import SAMPLES
from tokenworth.core.db import Database
from tokenworth.core.models import UsageRecord
from tokenworth.services.importing import import_local_logs


def _chats(tmp_path: Path) -> Path:
    chats = tmp_path / "gemini" / "tmp" / "myproject" / "chats"
    chats.mkdir(parents=True)
    return chats


def test_jsonl_and_legacy_sessions(db: Database, tmp_path: Path) -> None:
    chats = _chats(tmp_path)
    shutil.copy(SAMPLES / "gemini-cli-session.jsonl", chats / "session-2026-01-05T10-00-00000000.jsonl")
    shutil.copy(SAMPLES / "gemini-cli-session-legacy.json", chats / "session-2025-10-01T08-00-00000000.json")
    summary = import_local_logs(db, source_names=["gemini-cli"], paths=[tmp_path / "gemini" / "tmp"])
    assert summary.broken_lines == 0
    with db.session() as session:
        records = {r.model: r for r in session.scalars(select(UsageRecord))}
    pro = records["gemini-2.5-pro"]
    # input 12000 includes 8000 cached; thoughts (420) are billed as output
    assert (pro.input_tokens, pro.cache_read_tokens, pro.output_tokens, pro.reasoning_tokens) == (
        4000,
        8000,
        770,
        420,
    )
    assert pro.project == "myproject"
    assert pro.session_id == "00000000-0000-4000-8000-0000000000d1"
    flash = records["gemini-2.5-flash"]
    assert (flash.input_tokens, flash.output_tokens) == (5000, 20)


def test_a_gemini_folder_with_only_older_json_sessions_is_recognised(db: Database, tmp_path: Path) -> None:
    """`import --path ~/.gemini` (no --source) with only the older .json sessions in it: it is
    Gemini CLI's, not "no agent logs recognised"."""
    from tokenworth.sources.local_logs import sniff_source

    chats = _chats(tmp_path)
    shutil.copy(SAMPLES / "gemini-cli-session-legacy.json", chats / "session-2025-10-01T08-00-00000000.json")
    assert sniff_source(tmp_path / "gemini") == "gemini-cli"  # ~/.gemini: tmp/<project>/chats
    loose = tmp_path / "copied"  # the session files copied elsewhere, no chats folder
    loose.mkdir()
    shutil.copy(SAMPLES / "gemini-cli-session-legacy.json", loose / "old.json")
    assert sniff_source(loose) == "gemini-cli"
    assert import_local_logs(db, paths=[tmp_path / "gemini"]).records_added > 0


def test_a_message_appended_again_replaces_the_earlier_record(db: Database, tmp_path: Path) -> None:
    chats = _chats(tmp_path)
    lines = (SAMPLES / "gemini-cli-session.jsonl").read_text().splitlines()
    path = chats / "session-a.jsonl"
    path.write_text("\n".join(lines[:4]) + "\n")
    import_local_logs(db, source_names=["gemini-cli"], paths=[tmp_path / "gemini" / "tmp"])
    updated = lines[3].replace('"output":350', '"output":400')
    with path.open("a") as handle:
        handle.write(updated + "\n")
    import_local_logs(db, source_names=["gemini-cli"], paths=[tmp_path / "gemini" / "tmp"])
    with db.session() as session:
        records = session.scalars(select(UsageRecord)).all()
    assert len(records) == 1
    assert records[0].output_tokens == 400 + 420


def test_a_lone_surrogate_escape_node_writes_does_not_lose_the_message(db: Database, tmp_path: Path) -> None:
    """Node's JSON.stringify writes half of a split emoji as `\\ud83d`: valid JSON that must read."""
    chats = _chats(tmp_path)
    legacy = (SAMPLES / "gemini-cli-session-legacy.json").read_text()
    legacy = legacy.replace('"type": "user"', '"type": "user", "note": "cut \\ud83d"', 1)
    assert "\\ud83d" in legacy
    (chats / "session-2025-10-01T08-00-00000000.json").write_text(legacy)
    summary = import_local_logs(db, source_names=["gemini-cli"], paths=[tmp_path / "gemini" / "tmp"])
    assert summary.broken_lines == 0
    with db.session() as session:
        records = {r.model: r for r in session.scalars(select(UsageRecord))}
    assert (records["gemini-2.5-flash"].input_tokens, records["gemini-2.5-flash"].output_tokens) == (5000, 20)


def test_a_rewritten_session_file_never_reprices_the_messages_it_already_held(db: Database, tmp_path: Path) -> None:
    """Gemini CLI rewrites its legacy JSON file whole; the October message read again is the same
    usage, so it keeps its frozen price though an override came since (only `reprice` changes it)."""
    import json
    from decimal import Decimal

    from tokenworth.services.prices import OverrideInput, set_override

    chats = _chats(tmp_path)
    session = json.loads((SAMPLES / "gemini-cli-session-legacy.json").read_text())
    path = chats / "session-2025-10-01T08-00-00000000.json"
    path.write_text(json.dumps(session))
    logs = tmp_path / "gemini" / "tmp"
    import_local_logs(db, source_names=["gemini-cli"], paths=[logs])
    with db.session() as s:
        (october,) = s.scalars(select(UsageRecord)).all()
        frozen = (october.cost, october.price_version)
    set_override(db, OverrideInput("google", "gemini-2.5-flash", Decimal(10), Decimal(10)))
    later = dict(session["messages"][1], id="00000000-0000-4000-8000-0000000000dc")
    later["timestamp"] = "2026-12-01T08:00:00.000Z"
    session["messages"].append(later)
    path.write_text(json.dumps(session))
    import_local_logs(db, source_names=["gemini-cli"], paths=[logs])
    with db.session() as s:
        records = {r.ts.year: r for r in s.scalars(select(UsageRecord))}
    assert (records[2025].cost, records[2025].price_version) == frozen
    assert records[2026].cost == Decimal("0.0502")  # 5,020 tokens at the $10 override
    assert records[2026].price_version.startswith("override")


def test_a_record_unpriced_when_read_is_priced_when_read_again_with_a_price(db: Database, tmp_path: Path) -> None:
    """Only a price is frozen: a record that had none takes the one known when it is read again."""
    import json
    from decimal import Decimal

    from tokenworth.services.prices import OverrideInput, set_override

    chats = _chats(tmp_path)
    session = json.loads((SAMPLES / "gemini-cli-session-legacy.json").read_text())
    session["messages"][1]["model"] = "gemini-imaginary-9"
    path = chats / "session-2025-10-01T08-00-00000000.json"
    path.write_text(json.dumps(session))
    logs = tmp_path / "gemini" / "tmp"
    import_local_logs(db, source_names=["gemini-cli"], paths=[logs])
    set_override(db, OverrideInput("google", "gemini-imaginary-9", Decimal(10), Decimal(10)))
    session["lastUpdated"] = "2025-10-01T09:00:00.000Z"  # rewritten whole, the message unchanged
    path.write_text(json.dumps(session))
    import_local_logs(db, source_names=["gemini-cli"], paths=[logs])
    with db.session() as s:
        (record,) = s.scalars(select(UsageRecord)).all()
    assert (record.cost, record.cost_provenance) == (Decimal("0.0502"), "computed")
