"""The monthly summary as CSV tables: one file per table, in a folder or (target `*.zip`) a zip.

RFC 4180 as Python's csv module writes it: comma separated, CRLF line ends, fields quoted when
needed. UTF-8 with a byte order mark, so spreadsheet programs (Excel) read accents correctly;
Python reads it with `encoding="utf-8-sig"`. Money is a decimal string with a point ("3.6"),
exact to 1e-10 dollars; an unknown (unpriced) amount is an empty cell. Dates are ISO 8601
(`2026-01-05`), times `2026-01-05 11:10:00` in the summary's zone plus a UTC column.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tokenworth.core.db import Database
from tokenworth.core.models import UsageRecord
from tokenworth.core.money import decimal_str
from tokenworth.core.task_models import TaskAttribution
from tokenworth.core.timeutil import month_bounds
from tokenworth.services.export_io import replacing
from tokenworth.services.monthly_summary import MonthlySummary, UsageBreakdown
from tokenworth.services.value_report import ValueRow

CSV_ENCODING = "utf-8-sig"
TABLE_FILES = (
    "summary.csv",
    "records.csv",
    "tasks.csv",
    "daily.csv",
    "by-model.csv",
    "by-category.csv",
    "by-provider.csv",
    "by-project.csv",
    "by-source.csv",
    "reconciliation.csv",
    "routing.csv",
)
"""Every file a CSV export holds, always all of them (a table with no rows keeps its header)."""


@dataclass(frozen=True)
class CsvTable:
    name: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")


def _cell(value: Any) -> Any:
    """A value as the csv module should write it: text and whole numbers as they are, None empty,
    booleans as true/false, lists joined by ';'. Text a spreadsheet would run as a formula (a task
    titled `=HYPERLINK(...)`, perhaps from a shared ledger) gets a leading `'`, which Excel and
    LibreOffice show as plain text; amounts such as `-0.5` stay numbers."""
    kind = type(value)
    if kind is str:
        if value.startswith(_FORMULA_STARTS) and not _NUMBER.fullmatch(value):
            return "'" + value
        return value
    if kind is int:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(_cell(item) for item in value)
    return str(value)


def _flatten(prefix: str, data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(f"{name}_", value)
        else:
            yield name, _cell(value)


def _summary_rows(summary: MonthlySummary) -> Iterator[tuple[str, str]]:
    data = summary.as_json()
    yield "schema_version", str(data["schema_version"])
    yield "month", data["month"]
    yield "time_zone", data["time_zone"]
    yield from _flatten("", data["period"])
    yield "generated_at", data["generated_at"]
    yield from _flatten("", data["totals"])
    if data["budget"] is not None:
        yield from _flatten("budget_", data["budget"])
    yield from _flatten("previous_month_", data["previous_month"])
    yield "routing_available", _cell(summary.routing.available)
    yield "routing_measured_savings_usd", _cell(decimal_str(summary.routing.measured_savings))
    for index, plan in enumerate(data["plans"], start=1):
        yield from _flatten(f"plan_{index}_", plan)


_USAGE_HEADERS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "total_tokens",
    "requests",
    "records",
    "cost_usd",
    "cost_complete",
)
_VALUE_HEADERS = ("attributed_cost_usd", "value_usd", "tfp", "tfp_note")


def _breakdown(rows: Sequence[UsageBreakdown], key: str, *, with_value: bool, with_provider: bool = False) -> CsvTable:
    headers = [key, *(["provider"] if with_provider else []), *_USAGE_HEADERS]
    if with_value:
        headers += _VALUE_HEADERS
    body = []
    for row in rows:
        data = row.as_json(key, with_value=with_value)
        body.append([data.get(name) for name in headers])
    return CsvTable(f"by-{key}.csv", headers, body)


_TASK_HEADERS = (
    "task_id",
    "title",
    "category",
    "start",
    "end",
    "active",
    "tokens",
    "cost_usd",
    "cost_complete",
    "value_usd",
    "tfp",
    "tfp_note",
    "tfp_below_1",
    "cost_exceeds_value",
)


def _task_row(row: ValueRow, summary: MonthlySummary) -> list[Any]:
    data = row.as_json()
    ratio = row.figures.tfp.ratio

    def local(text: str | None) -> str | None:
        return None if text is None else text.replace("T", " ")[:19]

    return [
        data["task"]["id"],
        data["task"]["title"],
        data.get("category"),
        local(data.get("start")),
        local(data.get("end")),
        data.get("active"),
        data["tokens"],
        data["cost_usd"],
        data["cost_complete"],
        data["value_usd"],
        data["tfp"],
        data["tfp_note"],
        ratio is not None and ratio < 1,
        data["flagged"],
    ]


_RECORD_HEADERS = (
    "record_id",
    "local_date",
    "local_time",
    "utc_time",
    "source",
    "provider",
    "account",
    "model",
    "project",
    "git_branch",
    "session_id",
    "bucket_seconds",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "total_tokens",
    "requests",
    "cost_usd",
    "cost_provenance",
    "tasks",
)


def _share_text(shares: list[tuple[int, Fraction]]) -> str:
    """'3' for a record wholly in task 3; '3:0.25;4:0.75' for a bucket split between tasks."""
    if len(shares) == 1 and shares[0][1] == 1:
        return str(shares[0][0])
    return ";".join(f"{task}:{float(share):.6g}" for task, share in shares)


def month_records(db: Database, summary: MonthlySummary) -> Iterator[list[Any]]:
    """Every ledger record of the month, oldest first, with the tasks it is attributed to."""
    start, end = month_bounds(summary.month[0], summary.month[1], summary.zone)
    in_month = (UsageRecord.__table__.c.ts >= start) & (UsageRecord.__table__.c.ts < end)
    with db.session() as session:
        shares: dict[int, list[tuple[int, Fraction]]] = {}
        query = (
            select(
                TaskAttribution.record_id, TaskAttribution.task_id, TaskAttribution.share_num, TaskAttribution.share_den
            )
            .join(UsageRecord, UsageRecord.id == TaskAttribution.record_id)
            .where(in_month)
            .order_by(TaskAttribution.record_id, TaskAttribution.task_id)
        )
        for record_id, task_id, num, den in session.execute(query):
            shares.setdefault(record_id, []).append((task_id, Fraction(num, den)))
        c = UsageRecord.__table__.c
        columns = (
            c.id, c.ts, c.source, c.provider, c.account, c.model, c.project, c.git_branch, c.session_id,
            c.bucket_seconds, c.input_tokens, c.output_tokens, c.cache_read_tokens, c.cache_write_5m_tokens,
            c.cache_write_1h_tokens, c.reasoning_tokens, c.request_count, c.cost, c.cost_provenance,
        )  # fmt: skip
        rows = session.execute(select(*columns).where(in_month).order_by(c.ts, c.id).execution_options(yield_per=5000))
        for (
            record_id, ts, source, provider, account, model, project, branch, session_id, bucket,
            input_tokens, output_tokens, cache_read, write_5m, write_1h, reasoning, requests, cost, provenance,
        ) in rows:  # fmt: skip
            local = ts.astimezone(summary.zone).isoformat(sep=" ")
            cache_write = write_5m + write_1h
            yield [
                record_id,
                local[:10],
                local[:19],
                ts.astimezone(UTC).isoformat()[:19] + "Z",
                source,
                provider,
                account,
                model,
                project,
                branch,
                session_id,
                bucket,
                input_tokens,
                output_tokens,
                cache_read,
                cache_write,
                reasoning,
                input_tokens + output_tokens + cache_read + cache_write,
                requests,
                decimal_str(cost),
                provenance,
                _share_text(shares[record_id]) if record_id in shares else None,
            ]


def summary_tables(summary: MonthlySummary, db: Database) -> list[CsvTable]:
    """Every table of the CSV export, in `TABLE_FILES` order (records are read lazily)."""
    daily_rows = []
    for row in summary.daily.rows:
        for model, totals in sorted(row.by_model.items()):
            data = totals.as_json()
            daily_rows.append(
                [row.key, model, *(data.get(name) for name in _USAGE_HEADERS if name != "records"), totals.records]
            )
    daily_headers = ["date", "model", *(name for name in _USAGE_HEADERS if name != "records"), "records"]
    category_headers = ["category", "tasks", "tokens", "cost_usd", "cost_complete", "value_usd", "tfp", "tfp_note"]
    category_rows = [
        [
            row.label,
            len(row.figures.task_ids),
            row.figures.tokens,
            decimal_str(row.figures.cost),
            row.figures.usage.cost_complete,
            decimal_str(row.figures.value),
            decimal_str(row.figures.tfp.ratio),
            row.figures.tfp.note,
        ]
        for row in summary.by_category
    ]
    unattributed = summary.value_by_category.unattributed
    category_rows.append(
        [
            "(unattributed)",
            0,
            unattributed.tokens,
            decimal_str(unattributed.cost),
            unattributed.usage.cost_complete,
            None,
            None,
            None,
        ]
    )
    reconciliation_headers = [
        "provider",
        "estimated_usd",
        "estimate_complete",
        "billed_usd",
        "matched_estimate_usd",
        "matched_billed_usd",
        "gap_usd",
    ]
    routing_headers = [
        "id",
        "category",
        "from_model",
        "to_model",
        "tasks",
        "current_cost_usd",
        "projected_cost_usd",
        "savings_usd",
        "evidence",
    ]
    return [
        CsvTable("summary.csv", ["field", "value"], _summary_rows(summary)),
        CsvTable("records.csv", _RECORD_HEADERS, month_records(db, summary)),
        CsvTable("tasks.csv", _TASK_HEADERS, [_task_row(row, summary) for row in summary.tasks]),
        CsvTable("daily.csv", daily_headers, daily_rows),
        _breakdown(summary.by_model, "model", with_value=True, with_provider=True),
        CsvTable("by-category.csv", category_headers, category_rows),
        _breakdown(summary.by_provider, "provider", with_value=False),
        _breakdown(summary.by_project, "project", with_value=True),
        _breakdown(summary.by_source, "source", with_value=False),
        CsvTable(
            "reconciliation.csv",
            reconciliation_headers,
            [[r.as_json()[name] for name in reconciliation_headers] for r in summary.reconciliation],
        ),
        CsvTable(
            "routing.csv",
            routing_headers,
            [[s.as_json()[name] for name in routing_headers] for s in summary.routing.suggestions],
        ),
    ]


SUMMARY_HEAD = "field,value\r\nschema_version,"
"""How the `summary.csv` a CSV export writes begins (after its byte order mark)."""


def is_summary_table(path: Path) -> bool:
    """Whether `path` is the `summary.csv` of a CSV export (not a user's own file of that name)."""
    try:
        with path.open(encoding=CSV_ENCODING, newline="") as handle:
            return handle.read(len(SUMMARY_HEAD)) == SUMMARY_HEAD
    except (OSError, UnicodeDecodeError):
        return False


def _write_table(handle: io.TextIOWrapper, table: CsvTable) -> None:
    writer = csv.writer(handle)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_cell(value) for value in row])


def write_csv(summary: MonthlySummary, db: Database, target: Path) -> list[Path]:
    """Write the tables into the folder `target`, or into the zip archive `target` when it ends
    in `.zip`. Returns what was written (the folder's files, or the archive)."""
    tables = summary_tables(summary, db)
    if target.suffix.lower() == ".zip":
        with replacing(target) as raw, zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for table in tables:
                with (
                    archive.open(table.name, "w") as member,
                    io.TextIOWrapper(member, encoding=CSV_ENCODING, newline="") as text,
                ):
                    _write_table(text, table)
        return [target]
    written = []
    for table in tables:
        path = target / table.name
        with replacing(path) as raw:
            text = io.TextIOWrapper(raw, encoding=CSV_ENCODING, newline="")
            _write_table(text, table)
            text.flush()
            text.detach()  # `replacing` closes the file itself
        written.append(path)
    return written
