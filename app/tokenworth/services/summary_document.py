"""The monthly summary as a readable document: headings, facts, tables and charts, in report order.

One document feeds the Markdown, HTML and PDF exports, so all three say the same thing in the
same order. Figures are formatted for reading here ($1,234.56, 1.2M tokens, 2.47x); the CSV and
JSON exports keep exact decimal strings instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from tokenworth.core.analytics import UNCATEGORIZED
from tokenworth.core.analytics import format_tfp as tfp_text
from tokenworth.core.budget import Pace
from tokenworth.core.money import format_cost as money
from tokenworth.core.money import format_signed_usd as signed_money
from tokenworth.core.money import format_usd
from tokenworth.services.monthly_summary import MonthlySummary, UsageBreakdown
from tokenworth.services.summary_charts import RenderedChart
from tokenworth.services.value_report import ValueFigures, ValueRow


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str
    note: bool = False
    """A small print remark rather than body text."""


@dataclass(frozen=True)
class Facts:
    """Label / value pairs (the "at a glance" block)."""

    rows: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: Sequence[bool]
    """Which columns hold numbers (right-aligned)."""
    total_rows: int = 0
    """How many rows at the end are totals (set apart)."""
    empty_text: str = "None."


@dataclass(frozen=True)
class Chart:
    chart: RenderedChart

    @property
    def name(self) -> str:
        return self.chart.spec.name

    @property
    def title(self) -> str:
        return self.chart.spec.title


Block = Heading | Paragraph | Facts | Table | Chart


@dataclass(frozen=True)
class SummaryDocument:
    title: str
    subtitle: str
    blocks: Sequence[Block] = field(default_factory=list)

    @property
    def charts(self) -> list[Chart]:
        return [block for block in self.blocks if isinstance(block, Chart)]

    def texts(self) -> Iterator[str]:
        """Every piece of text the document shows (the charts' labels come from the same titles)."""
        yield self.title
        yield self.subtitle
        for block in self.blocks:
            if isinstance(block, Heading | Paragraph):
                yield block.text
            elif isinstance(block, Facts):
                for label, value in block.rows:
                    yield label
                    yield value
            elif isinstance(block, Table):
                yield from block.headers
                for row in block.rows:
                    yield from row
                yield block.empty_text


# --- formatting -----------------------------------------------------------------------------------


def count(value: int) -> str:
    return f"{value:,}"


def compact(value: int) -> str:
    """Token counts short enough for a table cell: 950, 12.3k, 4.56M, 1.2B."""
    size = abs(value)
    for limit, suffix in ((10**9, "B"), (10**6, "M"), (10**3, "k")):
        if size >= limit:
            scaled = Decimal(value) / limit
            places = 2 if abs(scaled) < 10 else 1 if abs(scaled) < 100 else 0
            text = f"{scaled.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)}"
            return text + suffix
    return str(value)


def pct(value: Decimal | None) -> str:
    return "-" if value is None else f"{value}%"


def when(moment: datetime | None, summary: MonthlySummary) -> str:
    if moment is None:
        return "never"
    return moment.astimezone(summary.zone).strftime("%Y-%m-%d %H:%M")


def _value_cells(figures: ValueFigures) -> list[str]:
    return [
        money(figures.cost, figures.usage.cost_complete),
        "-" if figures.value is None else format_usd(figures.value),
        tfp_text(figures.tfp),
    ]


# --- sections -------------------------------------------------------------------------------------


def _at_a_glance(summary: MonthlySummary) -> list[Block]:
    totals = summary.totals
    value = summary.value_by_task
    rows: list[tuple[str, str]] = [
        ("Spend (estimated, API prices)", money(summary.cost, totals.cost_complete)),
    ]
    if summary.billed is not None:
        rows.append(("Billed by providers", money(summary.billed)))
    if summary.reconciliation_gap is not None:
        rows.append(("Billed minus estimated (where both exist)", signed_money(summary.reconciliation_gap)))
    if summary.value_plan_basis is not None:
        plan_total = summary.value_plan_basis.total
        rows.append(("Spend with plan fees", money(plan_total.cost, plan_total.usage.cost_complete)))
    rows += [
        ("Value of the work", "-" if value.total.value is None else format_usd(value.total.value)),
        ("TFP (value / all spend)", tfp_text(value.total.tfp)),
        ("TFP of attributed spend", tfp_text(value.attributed.tfp)),
        (
            "Attributed / unattributed spend",
            f"{money(value.attributed.cost, value.attributed.usage.cost_complete)} / "
            f"{money(value.unattributed.cost, value.unattributed.usage.cost_complete)}",
        ),
        (
            "Tokens",
            f"{count(totals.total_tokens)} (input {count(totals.input_tokens)}, output "
            f"{count(totals.output_tokens)}, cache read {count(totals.cache_read_tokens)}, "
            f"cache write {count(totals.cache_write_tokens)}; reasoning {count(totals.reasoning_tokens)})",
        ),
        ("Requests", count(totals.requests)),
        ("Tasks", count(len(summary.tasks))),
    ]
    budget = summary.budget
    if budget is None:
        rows.append(("Budget", "none set"))
    else:
        verb = "ended" if budget.month_complete else "so far"
        if budget.status == "unknown":
            text = f"{format_usd(budget.budget)}; spend unknown (all usage unpriced)"
        elif budget.status == "over" and budget.remaining is not None:
            text = (
                f"{format_usd(budget.budget)}; {verb} over budget by {format_usd(-budget.remaining)} "
                f"({pct(budget.used_pct)} used)"
            )
        elif budget.remaining == 0:
            where = "at exactly the budget" if budget.spent_complete else "at the budget or over it"
            text = f"{format_usd(budget.budget)}; {verb} {where} ({pct(budget.used_pct)} used)"
        else:
            text = (
                f"{format_usd(budget.budget)}; {verb} under budget, {format_usd(budget.remaining)} left "
                f"({pct(budget.used_pct)} used)"
            )
        if not budget.spent_complete and budget.status != "unknown":
            text += " (part of the usage has no price: the spend is a floor)"
        if budget.forecast is not None and budget.pace is not None:
            forecast = money(budget.forecast, budget.spent_complete)
            text += f"; forecast {forecast} by month end: {Pace(budget.pace).label}"
        if summary.value_plan_basis is not None:
            text += " (on API-equivalent cost; plan fees are not counted against it)"
        rows.append(("Budget", text))
    previous = summary.previous
    change = signed_money(previous.cost_change)
    if previous.cost_change_pct is not None:
        change += f" ({'+' if previous.cost_change_pct >= 0 else ''}{previous.cost_change_pct}%)"
    if previous.tasks:
        worth = f"value {'-' if previous.value is None else format_usd(previous.value)}, TFP {tfp_text(previous.tfp)}"
    else:
        worth = "no tasks valued"
    rows.append(
        (
            f"Against {previous.month}",
            f"spend {money(previous.cost)} → {money(summary.cost, totals.cost_complete)}, {change}; {worth}",
        )
    )
    for use in summary.plans:
        leverage = "-" if use.leverage is None else f"{use.leverage.quantize(Decimal('0.01'))}x"
        rows.append(
            (
                f"Plan {use.plan.name}",
                f"{format_usd(use.plan.monthly_fee)}/month for {', '.join(use.plan.covers)}; API-equivalent "
                f"{money(use.api_equivalent, use.covered.cost_complete)}, leverage {leverage}",
            )
        )
    blocks: list[Block] = [Heading("At a glance"), Facts(rows)]
    if totals.unpriced_models:
        blocks.append(
            Paragraph(
                "Unpriced models (their cost is unknown, not $0; amounts marked + leave them out): "
                + ", ".join(sorted(totals.unpriced_models))
                + ".",
                note=True,
            )
        )
    return blocks


def _usage_cells(usage_row: UsageBreakdown) -> list[str]:
    t = usage_row.usage
    return [compact(t.total_tokens), count(t.requests), money(t.cost, t.cost_complete)]


def _providers(summary: MonthlySummary) -> list[Block]:
    rows = [[row.label, *_usage_cells(row)] for row in summary.by_provider]
    t = summary.totals
    rows.append(["Total", compact(t.total_tokens), count(t.requests), money(t.cost, t.cost_complete)])
    blocks: list[Block] = [
        Heading("Spend by provider"),
        Table(["Provider", "Tokens", "Requests", "Spend"], rows, [False, True, True, True], total_rows=1),
    ]
    if summary.billed is None:
        blocks.append(
            Paragraph(
                "No provider bills this month: billed amounts come from polled cost APIs "
                "(`tokenworth poll`) and from sources that report their own charge.",
                note=True,
            )
        )
    else:
        rec_rows = [
            [r.provider, money(r.estimated, r.estimate_complete), _bill(r.billed), signed_money(r.gap)]
            for r in summary.reconciliation
        ]
        rec_rows.append(
            [
                "Total",
                money(summary.estimated, all(r.estimate_complete for r in summary.reconciliation)),
                money(summary.billed),
                signed_money(summary.reconciliation_gap),
            ]
        )
        blocks += [
            Heading("Estimated against billed", 3),
            Table(
                ["Provider", "Estimated", "Billed", "Billed - estimated"],
                rec_rows,
                [False, True, True, True],
                total_rows=1,
            ),
            Paragraph(
                "Estimated: tokens x prices, from the provider's usage API where polled, else from local logs. "
                "The difference only counts days and models that have both a bill and an estimate "
                "(as `tokenworth report reconcile`).",
                note=True,
            ),
        ]
    return blocks


def _bill(amount: Decimal | None) -> str:
    """A billed amount, or '-' where the provider sent no bill."""
    return "-" if amount is None else money(amount)


def _models(summary: MonthlySummary) -> list[Block]:
    rows = []
    for row in summary.by_model:
        t = row.usage
        value = row.value
        rows.append(
            [
                row.label,
                row.provider or "",
                compact(t.input_tokens),
                compact(t.output_tokens),
                compact(t.cache_read_tokens + t.cache_write_tokens),
                count(t.requests),
                money(t.cost, t.cost_complete),
                "-" if value is None or value.figures.value is None else format_usd(value.figures.value),
                "-" if value is None else tfp_text(value.figures.tfp),
            ]
        )
    return [
        Heading("Spend by model"),
        Table(
            ["Model", "Provider", "Input", "Output", "Cache", "Requests", "Spend", "Value", "TFP"],
            rows,
            [False, False, True, True, True, True, True, True, True],
            empty_text="No usage this month.",
        ),
        Paragraph(
            "Value is the part of the tasks' value carried by each model's attributed spend; "
            "TFP divides it by that attributed spend." + _value_outside_rows(summary, "model"),
            note=True,
        ),
    ]


def _value_outside_rows(summary: MonthlySummary, row: str) -> str:
    """The value of tasks with no usage this month, which no model's or project's row can carry:
    without it, the Value column's sum and the month's value differ unexplained."""
    outside = sum(
        (r.figures.value or Decimal(0) for r in summary.value_by_task.rows if not r.figures.usage.has_usage),
        Decimal(0),
    )
    if outside <= 0:
        return ""
    return f" Tasks with no usage this month carry {format_usd(outside)} of value, in no {row}'s row."


def _projects(summary: MonthlySummary) -> list[Block]:
    rows = []
    for row in summary.by_project:
        value = row.value
        cells = ["-", "-", "-"] if value is None else _value_cells(value.figures)
        rows.append([row.label, *_usage_cells(row), cells[0], cells[1], cells[2]])
    outside = _value_outside_rows(summary, "project")
    return [
        Heading("Spend by project"),
        Table(
            ["Project", "Tokens", "Requests", "Spend", "Attributed", "Value", "TFP"],
            rows,
            [False, True, True, True, True, True, True],
            empty_text="No usage this month.",
        ),
    ] + ([Paragraph(outside.strip(), note=True)] if outside else [])


def _sources(summary: MonthlySummary) -> list[Block]:
    rows = [[row.label, *_usage_cells(row)] for row in summary.by_source]
    return [
        Heading("Spend by source"),
        Table(
            ["Source", "Tokens", "Requests", "Spend"],
            rows,
            [False, True, True, True],
            empty_text="No usage this month.",
        ),
    ]


def _categories(summary: MonthlySummary) -> list[Block]:
    value = summary.value_by_category
    rows = [
        [row.label, count(len(row.figures.task_ids)), compact(row.figures.tokens), *_value_cells(row.figures)]
        for row in summary.by_category
    ]
    rows.append(
        [
            "(unattributed)",
            "",
            compact(value.unattributed.tokens),
            money(value.unattributed.cost, value.unattributed.usage.cost_complete),
            "",
            "",
        ]
    )
    rows.append(["Total", count(len(summary.tasks)), compact(value.total.tokens), *_value_cells(value.total)])
    return [
        Heading("Value by category"),
        Table(
            ["Category", "Tasks", "Tokens", "Spend", "Value", "TFP"],
            rows,
            [False, True, True, True, True, True],
            total_rows=2,
        ),
    ]


def _task_rows(rows: Sequence[ValueRow]) -> list[list[str]]:
    return [
        [
            f"#{row.key['task']['id']}",
            str(row.key["task"]["title"]),
            row.key.get("category") or "",
            *_value_cells(row.figures),
        ]
        for row in rows
    ]


_TASK_HEADERS = ["#", "Task", "Category", "Spend", "Value", "TFP"]
_TASK_NUMERIC = [True, False, False, True, True, True]


def _tasks(summary: MonthlySummary) -> list[Block]:
    if not summary.tasks:
        return [
            Heading("Tasks"),
            Paragraph("No tasks this month. `tokenworth task proposals` lists the spend that could be given a value."),
        ]
    top = summary.top
    return [
        Heading(f"Tasks by value (top {top})"),
        Table(_TASK_HEADERS, _task_rows(summary.top_by_value), _TASK_NUMERIC, empty_text="No task has a value yet."),
        Heading(f"Tasks by spend (top {top})"),
        Table(_TASK_HEADERS, _task_rows(summary.top_by_cost), _TASK_NUMERIC, empty_text="No task has spend."),
        Heading("Tasks with TFP below 1"),
        Table(
            _TASK_HEADERS,
            _task_rows(summary.below_break_even),
            _TASK_NUMERIC,
            empty_text="None: every task with a value and spend was worth more than its tokens.",
        ),
    ]


def _routing(summary: MonthlySummary) -> list[Block]:
    routing = summary.routing
    blocks: list[Block] = [Heading("Routing suggestions")]
    if not routing.available:
        blocks.append(Paragraph(routing.note or "routing suggestions: not available"))
        return blocks
    rows = [
        [
            s.category or UNCATEGORIZED,
            s.from_model or "",
            s.to_model or "",
            "" if s.tasks is None else count(s.tasks),
            money(s.savings) if s.savings is not None else "-",
            (s.evidence or "").replace("_", " "),
            s.id or "",
        ]
        for s in routing.suggestions
    ]
    blocks.append(
        Table(
            ["Category", "From model", "To model", "Tasks", "Savings", "Evidence", "Id"],
            rows,
            [False, False, False, True, True, False, False],
            empty_text=routing.note or "No suggestions this month.",
        )
    )
    if rows:
        measured = "none" if routing.measured_savings is None else money(routing.measured_savings)
        blocks.append(
            Paragraph(
                f"Measured savings: {measured}. Measured: your own valued tasks of that category did as well "
                "on the cheaper model; thin: too few tasks to say; priced only: never tried, an experiment "
                "(`tokenworth experiment accept ID`). Savings of different suggestions are alternatives, "
                "not a sum.",
                note=True,
            )
        )
    return blocks


def _freshness(summary: MonthlySummary) -> list[Block]:
    rows = [
        ["Local logs: " + item.source, when(item.last_import_at, summary), "imported"] for item in summary.local_sources
    ]
    for account in summary.accounts:
        status = account.last_status or "never polled"
        if account.last_error:
            status += f": {account.last_error}"
        rows.append(["Provider API: " + account.account, when(account.last_poll_at, summary), status])
    return [
        Heading("Data sources and freshness"),
        Table(
            ["Source", f"Last update ({summary.zone_name})", "Status"],
            rows,
            [False, False, False],
            empty_text="No import or poll has run on this database yet.",
        ),
    ]


def _all_tasks(summary: MonthlySummary) -> list[Block]:
    if not summary.tasks:
        return []
    return [
        Heading("All tasks this month"),
        Table(_TASK_HEADERS, _task_rows(summary.tasks), _TASK_NUMERIC),
    ]


def _notes() -> list[Block]:
    return [
        Paragraph(
            "Spend is tokens x prices (or the charge a source reports), the same figures as "
            "`tokenworth report monthly`; value and TFP are as `tokenworth report value` shows them. "
            "TFP (token factor productivity) is dollars of value per dollar of spend. A task's value is "
            "spread over its usage by cost, so a task spanning two months counts in each by its spend there. "
            "* marks an incomplete TFP (unpriced usage or unvalued tasks); + marks a spend that leaves "
            "unpriced usage out.",
            note=True,
        ),
    ]


def build_document(summary: MonthlySummary, charts: Sequence[RenderedChart]) -> SummaryDocument:
    """The report, section by section; `charts` are the summary's charts, drawn or with a note."""
    month_name = summary.first_day.strftime("%B %Y")
    state = (
        "the whole month" if summary.month_complete else f"the month so far (to {when(summary.generated_at, summary)})"
    )
    subtitle = (
        f"{summary.first_day.isoformat()} to {summary.last_day.isoformat()}, days in {summary.zone_name}; "
        f"covers {state}. Generated {when(summary.generated_at, summary)} by Tokenworth."
    )
    blocks: list[Block] = []
    blocks += _at_a_glance(summary)
    blocks += _notes()
    blocks.append(Heading("Charts"))
    for chart in charts:
        if chart.png is None:
            blocks.append(Paragraph(f"{chart.spec.title}: {chart.note}", note=True))
        else:
            blocks.append(Chart(chart))
            if chart.note:  # what the drawing leaves out
                blocks.append(Paragraph(chart.note, note=True))
    blocks += _providers(summary)
    blocks += _models(summary)
    blocks += _projects(summary)
    blocks += _sources(summary)
    blocks += _categories(summary)
    blocks += _tasks(summary)
    blocks += _routing(summary)
    blocks += _freshness(summary)
    blocks += _all_tasks(summary)
    return SummaryDocument(title=f"Tokenworth monthly summary: {month_name}", subtitle=subtitle, blocks=blocks)
