"""A month at a glance for export: spend, tokens, value and TFP, with where each figure comes from.

Every figure is taken from the reports the CLI prints (`usage_report`, `value_report`,
`reconcile_report`), never summed again here, so an export says exactly what `tokenworth
report monthly|models|projects|value|reconcile` say for the same month and zone. Optional
parts come from outside: the budget (a number the caller reads from settings or a flag) and
routing suggestions (from `tokenworth.services.routing` when that module is installed).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Literal

from tokenworth.core.analytics import Tfp
from tokenworth.core.db import Database
from tokenworth.core.money import decimal_str, from_units
from tokenworth.core.periods import month_period
from tokenworth.core.timeutil import month_bounds, month_key, utc_now, zone_name
from tokenworth.services.accounts import AccountView, list_accounts
from tokenworth.services.importing import last_import_times
from tokenworth.services.plans import recorded_sources
from tokenworth.services.reconcile import Figure, ReconcileReport, reconcile_report
from tokenworth.services.reports import ReportRow, UsageReport, UsageTotals, usage_report
from tokenworth.services.value_report import PlanUse, ValueReport, ValueRow, value_report

SCHEMA_VERSION = 1
"""Version of the JSON export's shape; raised when a field changes meaning or goes away."""
TOP_TASKS = 10
"""How many tasks the "top tasks by value / by cost" lists hold."""
ROUTING_MODULE = "tokenworth.services.routing"
ROUTING_FUNCTION = "routing_report"
ROUTING_UNAVAILABLE = "routing suggestions: not available"

Month = tuple[int, int]


def previous_month(month: Month) -> Month:
    year, number = month
    return (year - 1, 12) if number == 1 else (year, number - 1)


def month_days(month: Month) -> list[date]:
    """Every calendar day of the month, in order."""
    return month_period(*month).days


def percent_change(before: Decimal | None, after: Decimal | None) -> Decimal | None:
    """(after - before) / before in percent with one decimal; None when before is zero or unknown."""
    if before is None or after is None or before == 0:
        return None
    return ((after - before) * 100 / before).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


# --- freshness --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalSourceFreshness:
    """A local agent log source and when it was last imported."""

    source: str
    last_import_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "last_import_at": None if self.last_import_at is None else self.last_import_at.isoformat(),
        }


@dataclass(frozen=True)
class AccountFreshness:
    """A provider account (never its key) and how its last poll went."""

    provider: str
    label: str
    last_poll_at: datetime | None
    last_status: str | None
    last_error: str | None

    @property
    def account(self) -> str:
        return f"{self.provider}:{self.label}"

    def as_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "provider": self.provider,
            "label": self.label,
            "last_poll_at": None if self.last_poll_at is None else self.last_poll_at.isoformat(),
            "last_status": self.last_status,
            "last_error": self.last_error,
        }


def _local_freshness(db: Database) -> list[LocalSourceFreshness]:
    result = []
    for source, text in sorted(last_import_times(db).items()):
        try:
            moment: datetime | None = datetime.fromisoformat(text)
        except ValueError:
            moment = None
        result.append(LocalSourceFreshness(source, moment))
    return result


def _account_freshness(accounts: Sequence[AccountView]) -> list[AccountFreshness]:
    return [AccountFreshness(a.provider, a.label, a.last_poll_at, a.last_status, a.last_error) for a in accounts]


# --- billed versus estimated --------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderReconciliation:
    """One provider's month from `report reconcile`: estimated spend (usage API, else logs), what
    it billed, and the gap over the days and models that have both."""

    provider: str
    estimated: Decimal | None
    estimate_complete: bool
    billed: Decimal | None
    matched_estimate: Decimal | None
    """The estimate of the rows (day, model) that also have a bill."""
    matched_billed: Decimal | None

    @property
    def gap(self) -> Decimal | None:
        """Billed minus estimated where both exist (None when no row has both)."""
        if self.matched_billed is None or self.matched_estimate is None:
            return None
        return self.matched_billed - self.matched_estimate

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "estimated_usd": decimal_str(self.estimated),
            "estimate_complete": self.estimate_complete,
            "billed_usd": decimal_str(self.billed),
            "matched_estimate_usd": decimal_str(self.matched_estimate),
            "matched_billed_usd": decimal_str(self.matched_billed),
            "gap_usd": decimal_str(self.gap),
        }


@dataclass
class _ProviderSums:
    estimated: Figure = field(default_factory=Figure)
    billed: Figure = field(default_factory=Figure)
    matched_estimate: Figure = field(default_factory=Figure)
    matched_billed: Figure = field(default_factory=Figure)


def _reconciliation(report: ReconcileReport) -> list[ProviderReconciliation]:
    """Per provider, the reconcile report's rows summed; each row's estimate is its usage-API
    figure, else its log figure, and its gap exists where it has both a bill and an estimate,
    exactly as `report reconcile` shows them."""
    sums: dict[str, _ProviderSums] = {}
    for row in report.rows:
        item = sums.setdefault(row.provider, _ProviderSums())
        estimate, billed = row.estimate, row.billed
        item.estimated.add(estimate.units, estimate.records, estimate.unpriced)
        item.billed.add(billed.units, billed.records, billed.unpriced)
        if row.difference is not None:
            item.matched_estimate.add(estimate.units, estimate.records, estimate.unpriced)
            item.matched_billed.add(billed.units, billed.records, billed.unpriced)
    return [
        ProviderReconciliation(
            provider=provider,
            estimated=item.estimated.amount,
            estimate_complete=item.estimated.complete,
            billed=item.billed.amount,
            matched_estimate=item.matched_estimate.amount,
            matched_billed=item.matched_billed.amount,
        )
        for provider, item in sorted(sums.items())
    ]


# --- budget and previous month ------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetOutcome:
    """How the month's spend (API-equivalent, as the tray's budget uses) stands against the budget."""

    budget: Decimal
    spent: Decimal | None
    month_complete: bool
    forecast: Decimal | None = None
    """For the month under way: the month-end forecast, as the tray and dashboard make it."""
    pace: str | None = None
    """For the month under way: `core.budget.Pace` (on-track, ahead, over)."""
    spent_complete: bool = True
    """False when part of the month's usage has no price: `spent` is then a floor."""

    @property
    def remaining(self) -> Decimal | None:
        return None if self.spent is None else self.budget - self.spent

    @property
    def used_pct(self) -> Decimal | None:
        if self.spent is None or self.budget == 0:
            return None
        return (self.spent * 100 / self.budget).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)

    @property
    def status(self) -> Literal["under", "over", "unknown"]:
        if self.spent is None:
            return "unknown"
        return "over" if self.spent > self.budget else "under"

    def as_json(self) -> dict[str, Any]:
        return {
            "budget_usd": decimal_str(self.budget),
            "spent_usd": decimal_str(self.spent),
            "remaining_usd": decimal_str(self.remaining),
            "used_pct": decimal_str(self.used_pct),
            "status": self.status,
            "month_complete": self.month_complete,
            "forecast_usd": decimal_str(self.forecast),
            "pace": self.pace,
            "spent_complete": self.spent_complete,
        }


def _budget_outcome(
    db: Database,
    budget: Decimal,
    spent: Decimal | None,
    month: Month,
    zone: tzinfo,
    now: datetime,
    complete: bool,
    spent_complete: bool = True,
) -> BudgetOutcome:
    """The budget line; for the month under way with the forecast and pace the tray shows, so an
    export made mid-month does not say 'under budget' while the tray says 'ahead'."""
    today = now.astimezone(zone).date()
    if complete or (today.year, today.month) != month:
        return BudgetOutcome(budget, spent, complete, spent_complete=spent_complete)
    from tokenworth.services.overview import month_status

    status = month_status(db, today, zone, budget)
    return BudgetOutcome(
        budget, spent, complete, forecast=status.forecast, pace=status.pace.value, spent_complete=spent_complete
    )


@dataclass(frozen=True)
class MonthComparison:
    """The previous month's headline figures and the change to this month's."""

    month: str
    cost: Decimal | None
    value: Decimal | None
    tfp: Tfp
    total_tokens: int
    requests: int
    tasks: int
    cost_change: Decimal | None
    cost_change_pct: Decimal | None
    value_change: Decimal | None
    tokens_change: int
    requests_change: int

    def as_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "cost_usd": decimal_str(self.cost),
            "value_usd": decimal_str(self.value),
            "tfp": decimal_str(self.tfp.ratio),
            "tfp_note": self.tfp.note,
            "total_tokens": self.total_tokens,
            "requests": self.requests,
            "tasks": self.tasks,
            "cost_change_usd": decimal_str(self.cost_change),
            "cost_change_pct": decimal_str(self.cost_change_pct),
            "value_change_usd": decimal_str(self.value_change),
            "tokens_change": self.tokens_change,
            "requests_change": self.requests_change,
        }


def _difference(after: Decimal | None, before: Decimal | None) -> Decimal | None:
    return None if after is None or before is None else after - before


# --- routing (optional) -------------------------------------------------------------------------


@dataclass(frozen=True)
class RoutingSuggestion:
    """One suggestion as the routing service states it: cheaper model, dollars, evidence."""

    category: str | None
    from_model: str | None
    to_model: str | None
    savings: Decimal | None
    evidence: str | None
    tasks: int | None = None
    current_cost: Decimal | None = None
    projected_cost: Decimal | None = None
    id: str | None = None
    """What `tokenworth experiment accept ID` takes to try the suggestion."""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "category": self.category,
            "from_model": self.from_model,
            "to_model": self.to_model,
            "tasks": self.tasks,
            "current_cost_usd": decimal_str(self.current_cost),
            "projected_cost_usd": decimal_str(self.projected_cost),
            "savings_usd": decimal_str(self.savings),
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class RoutingSection:
    """The month's routing suggestions, or why there are none."""

    available: bool
    suggestions: tuple[RoutingSuggestion, ...] = ()
    note: str | None = None
    measured_savings: Decimal | None = None
    """What the suggestions measured on the user's own tasks would have saved (thin and
    priced-only ones are experiments, and alternatives for the same work, so they are not added)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "note": self.note,
            "measured_savings_usd": decimal_str(self.measured_savings),
            "suggestions": [s.as_json() for s in self.suggestions],
        }


RoutingProvider = Callable[[Database, Month, tzinfo], RoutingSection]
"""Gives a month's routing suggestions; `find_routing_provider` makes one from the routing service."""


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def routing_section_from_json(data: Mapping[str, Any]) -> RoutingSection:
    """Read a routing report's JSON (`report routing --json`: `{"suggestions": [{id, category,
    from_model, to_model, tasks, current_cost_usd, projected_cost_usd, savings_usd, evidence,
    ...}], "totals": {"measured_savings_usd"}}`), keeping its order (measured first, then by
    savings); unknown fields are ignored, missing ones stay empty."""
    items = data.get("suggestions")
    if not isinstance(items, list):
        return RoutingSection(False, note=f"{ROUTING_UNAVAILABLE} (the routing report has no suggestions list)")
    suggestions = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        suggestions.append(
            RoutingSuggestion(
                category=_text(item.get("category")),
                from_model=_text(item.get("from_model")),
                to_model=_text(item.get("to_model")),
                savings=_decimal(item.get("savings_usd")),
                evidence=_text(item.get("evidence")),
                tasks=_int(item.get("tasks")),
                current_cost=_decimal(item.get("current_cost_usd")),
                projected_cost=_decimal(item.get("projected_cost_usd")),
                id=_text(item.get("id")),
            )
        )
    totals = data.get("totals")
    measured = _decimal(totals.get("measured_savings_usd")) if isinstance(totals, Mapping) else None
    if measured is None:
        amounts = [s.savings for s in suggestions if s.evidence == "measured" and s.savings is not None]
        measured = sum(amounts, Decimal(0)) if amounts else None
    note = None if suggestions else "no cheaper model found for this month's work"
    return RoutingSection(True, tuple(suggestions), note, measured)


def _report_json(result: Any, zone: tzinfo) -> Any:
    """A report object's JSON: `as_json(zone)` or `as_json()`, whichever it takes; a dict as is."""
    as_json = getattr(result, "as_json", None)
    if not callable(as_json):
        return result
    return as_json(zone) if inspect.signature(as_json).parameters else as_json()


def find_routing_provider() -> RoutingProvider | None:
    """The routing service's month report, when `tokenworth.services.routing` is installed.

    Expected there: `routing_report(db, *, month=(year, month), zone=tzinfo)` returning an object
    whose `as_json(zone)` (or `as_json()`, or a plain dict) is `report routing --json`'s document.
    """
    try:
        module = importlib.import_module(ROUTING_MODULE)
    except ImportError:
        return None
    function = getattr(module, ROUTING_FUNCTION, None)
    if not callable(function):
        return None

    def provide(db: Database, month: Month, zone: tzinfo) -> RoutingSection:
        result = function(db, month=month, zone=zone)
        data = _report_json(result, zone)
        if not isinstance(data, Mapping):
            return RoutingSection(False, note=f"{ROUTING_UNAVAILABLE} (unexpected routing report)")
        return routing_section_from_json(data)

    return provide


def _routing(provider: RoutingProvider | None, db: Database, month: Month, zone: tzinfo) -> RoutingSection:
    if provider is None:
        return RoutingSection(False, note=ROUTING_UNAVAILABLE)
    try:
        return provider(db, month, zone)
    except Exception as exc:  # an optional section must never sink the whole export
        return RoutingSection(False, note=f"{ROUTING_UNAVAILABLE} (the routing report failed: {exc})")


# --- breakdowns -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageBreakdown:
    """One group's usage (tokens, requests, cost) and, where tasks reach it, value and TFP."""

    label: str
    usage: UsageTotals
    value: ValueRow | None = None
    provider: str | None = None

    def as_json(self, key: str, *, with_value: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {key: self.label}
        if self.provider is not None:
            data["provider"] = self.provider
        data.update(_usage_json(self.usage))
        if with_value:
            data.update(_value_json(self.value))
        return data


def _usage_json(totals: UsageTotals) -> dict[str, Any]:
    return {
        "input_tokens": totals.input_tokens,
        "output_tokens": totals.output_tokens,
        "cache_read_tokens": totals.cache_read_tokens,
        "cache_write_tokens": totals.cache_write_tokens,
        "reasoning_tokens": totals.reasoning_tokens,
        "total_tokens": totals.total_tokens,
        "requests": totals.requests,
        "records": totals.records,
        "cost_usd": decimal_str(totals.cost),
        "cost_complete": totals.cost_complete,
    }


def _value_json(row: ValueRow | None) -> dict[str, Any]:
    if row is None:
        return {"attributed_cost_usd": "0", "value_usd": None, "tfp": None, "tfp_note": None}
    figures = row.figures
    return {
        "attributed_cost_usd": decimal_str(figures.cost),
        "value_usd": decimal_str(figures.value),
        "tfp": decimal_str(figures.tfp.ratio),
        "tfp_note": figures.tfp.note,
    }


def _by_provider(models: UsageReport) -> list[UsageBreakdown]:
    """The models report's rows summed per provider (each model row names its provider)."""
    sums: dict[str, UsageTotals] = {}
    for row in models.rows:
        sums.setdefault(str(row.extra.get("provider") or "(unknown)"), UsageTotals()).add(row.totals)
    ordered = sorted(sums.items(), key=lambda item: (-item[1].cost_units, item[0]))
    return [UsageBreakdown(provider, totals) for provider, totals in ordered]


def _value_rows_by_label(report: ValueReport) -> dict[str, ValueRow]:
    return {row.label: row for row in report.rows}


def _joined(rows: Sequence[ReportRow], values: ValueReport, *, with_provider: bool = False) -> list[UsageBreakdown]:
    by_label = _value_rows_by_label(values)
    return [
        UsageBreakdown(
            row.key,
            row.totals,
            by_label.get(row.key),
            provider=str(row.extra.get("provider")) if with_provider else None,
        )
        for row in rows
    ]


# --- the summary ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DaySpend:
    """One local day: cost per model (unpriced usage counts nothing here; it is named elsewhere)."""

    day: date
    by_model: dict[str, Decimal]

    @property
    def cost(self) -> Decimal:
        return sum(self.by_model.values(), Decimal(0))


@dataclass
class MonthlySummary:
    """Everything one monthly export shows; see the module doc for where each part comes from."""

    month: Month
    zone: tzinfo
    generated_at: datetime
    month_complete: bool
    usage: UsageReport
    """`report monthly` over the month: the totals of tokens, requests and estimated cost."""
    daily: UsageReport
    models: UsageReport
    projects: UsageReport
    sources: list[tuple[str, UsageTotals]]
    """Usage per source with records in the month (one `usage_report` per source)."""
    value_by_task: ValueReport
    value_by_category: ValueReport
    value_by_model: ValueReport
    value_by_project: ValueReport
    value_plan_basis: ValueReport | None
    """The month on the plan basis (what flat-fee plans make it cost), when a plan applies."""
    reconciliation: list[ProviderReconciliation]
    local_sources: list[LocalSourceFreshness]
    accounts: list[AccountFreshness]
    budget: BudgetOutcome | None
    previous: MonthComparison
    routing: RoutingSection
    top: int = TOP_TASKS

    @property
    def month_key(self) -> str:
        return month_key(*self.month)

    @property
    def zone_name(self) -> str:
        return zone_name(self.zone)

    @property
    def first_day(self) -> date:
        return date(self.month[0], self.month[1], 1)

    @property
    def last_day(self) -> date:
        return month_days(self.month)[-1]

    @property
    def totals(self) -> UsageTotals:
        return self.usage.totals

    @property
    def cost(self) -> Decimal | None:
        """Estimated spend (API-equivalent): what `report monthly` shows for the month."""
        return self.totals.cost

    @property
    def plans(self) -> list[PlanUse]:
        return self.value_by_task.plans

    @property
    def billed(self) -> Decimal | None:
        """What the providers billed (cost reports and self-charging sources), as `report reconcile`."""
        amounts = [r.billed for r in self.reconciliation if r.billed is not None]
        return sum(amounts, Decimal(0)) if amounts else None

    @property
    def estimated(self) -> Decimal | None:
        """The estimate `report reconcile` sets against bills (usage API, else logs) for the month."""
        amounts = [r.estimated for r in self.reconciliation if r.estimated is not None]
        return sum(amounts, Decimal(0)) if amounts else None

    @property
    def reconciled(self) -> list[ProviderReconciliation]:
        """Providers with a bill and an estimate on the same days and models."""
        return [r for r in self.reconciliation if r.gap is not None]

    @property
    def reconciliation_gap(self) -> Decimal | None:
        """Billed minus estimated where both exist (days and models with a bill and an estimate)."""
        rows = self.reconciled
        return sum((r.gap for r in rows if r.gap is not None), Decimal(0)) if rows else None

    @property
    def by_provider(self) -> list[UsageBreakdown]:
        return _by_provider(self.models)

    @property
    def by_model(self) -> list[UsageBreakdown]:
        return _joined(self.models.rows, self.value_by_model, with_provider=True)

    @property
    def by_project(self) -> list[UsageBreakdown]:
        return _joined(self.projects.rows, self.value_by_project)

    @property
    def by_source(self) -> list[UsageBreakdown]:
        return [UsageBreakdown(source, totals) for source, totals in self.sources]

    @property
    def by_category(self) -> list[ValueRow]:
        return self.value_by_category.rows

    @property
    def tasks(self) -> list[ValueRow]:
        """The month's tasks with their figures in this month (as `report value --by task`)."""
        return self.value_by_task.rows

    @property
    def top_by_value(self) -> list[ValueRow]:
        valued = [row for row in self.tasks if row.figures.value_units is not None and row.figures.value_units > 0]
        valued.sort(key=lambda row: (-(row.figures.value_units or 0), row.label))
        return valued[: self.top]

    @property
    def top_by_cost(self) -> list[ValueRow]:
        spent = [row for row in self.tasks if row.figures.cost_units > 0]
        spent.sort(key=lambda row: (-row.figures.cost_units, row.label))
        return spent[: self.top]

    @property
    def below_break_even(self) -> list[ValueRow]:
        """Tasks whose TFP is under 1 (their tokens cost more than the work was worth)."""
        rows = [row for row in self.tasks if row.figures.tfp.ratio is not None and row.figures.tfp.ratio < 1]
        rows.sort(key=lambda row: (row.figures.tfp.ratio or Decimal(0), row.label))
        return rows

    @property
    def days(self) -> list[DaySpend]:
        """Every day of the month with its cost per model (days without usage included)."""
        costs: dict[str, dict[str, Decimal]] = {}
        for row in self.daily.rows:
            costs[row.key] = {model: from_units(t.cost_units) for model, t in row.by_model.items()}
        return [DaySpend(day, costs.get(day.isoformat(), {})) for day in month_days(self.month)]

    def as_json(self) -> dict[str, Any]:
        """The export's JSON document: money as decimal strings, `schema_version` first."""
        value = self.value_by_task
        totals = {
            "cost_usd": decimal_str(self.cost),
            "cost_complete": self.totals.cost_complete,
            "estimated_usd": decimal_str(self.estimated),
            "billed_usd": decimal_str(self.billed),
            "reconciliation_gap_usd": decimal_str(self.reconciliation_gap),
            "value_usd": decimal_str(value.total.value),
            "tfp": decimal_str(value.total.tfp.ratio),
            "tfp_note": value.total.tfp.note,
            "tfp_complete": value.total.tfp.complete,
            "attributed_cost_usd": decimal_str(value.attributed.cost),
            "attributed_tfp": decimal_str(value.attributed.tfp.ratio),
            "attributed_tfp_note": value.attributed.tfp.note,
            "unattributed_cost_usd": decimal_str(value.unattributed.cost),
            "plan_basis_cost_usd": None
            if self.value_plan_basis is None
            else decimal_str(self.value_plan_basis.total.cost),
            "plan_basis_tfp": None
            if self.value_plan_basis is None
            else decimal_str(self.value_plan_basis.total.tfp.ratio),
            "input_tokens": self.totals.input_tokens,
            "output_tokens": self.totals.output_tokens,
            "cache_read_tokens": self.totals.cache_read_tokens,
            "cache_write_tokens": self.totals.cache_write_tokens,
            "reasoning_tokens": self.totals.reasoning_tokens,
            "total_tokens": self.totals.total_tokens,
            "requests": self.totals.requests,
            "records": self.totals.records,
            "tasks": len(self.tasks),
            "unpriced_models": sorted(self.totals.unpriced_models),
        }
        return {
            "schema_version": SCHEMA_VERSION,
            "report": "monthly-summary",
            "month": self.month_key,
            "time_zone": self.zone_name,
            "period": {
                "first_day": self.first_day.isoformat(),
                "last_day": self.last_day.isoformat(),
                "complete": self.month_complete,
            },
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "sources": {
                "local": [item.as_json() for item in self.local_sources],
                "accounts": [item.as_json() for item in self.accounts],
            },
            "plans": [use.as_json() for use in self.plans],
            "totals": totals,
            "budget": None if self.budget is None else self.budget.as_json(),
            "previous_month": self.previous.as_json(),
            "reconciliation": [row.as_json() for row in self.reconciliation],
            "by_provider": [row.as_json("provider", with_value=False) for row in self.by_provider],
            "by_source": [row.as_json("source", with_value=False) for row in self.by_source],
            "by_model": [row.as_json("model") for row in self.by_model],
            "by_project": [row.as_json("project") for row in self.by_project],
            "by_category": [
                {"category": row.label, **row.figures.as_json(), "tasks": len(row.figures.task_ids)}
                for row in self.by_category
            ],
            "unattributed": value.as_json()["unattributed"],
            "tasks": [row.as_json() for row in self.tasks],
            "top_tasks_by_value": [row.key["task"]["id"] for row in self.top_by_value],
            "top_tasks_by_cost": [row.key["task"]["id"] for row in self.top_by_cost],
            "tasks_below_break_even": [row.key["task"]["id"] for row in self.below_break_even],
            "routing": self.routing.as_json(),
            "daily": [
                {
                    "date": day.day.isoformat(),
                    "cost_usd": decimal_str(day.cost),
                    "by_model": {model: decimal_str(cost) for model, cost in sorted(day.by_model.items())},
                }
                for day in self.days
            ],
        }


_AUTO: Any = object()


def build_monthly_summary(
    db: Database,
    *,
    month: Month,
    zone: tzinfo,
    budget: Decimal | None = None,
    routing: RoutingProvider | None = _AUTO,
    now: datetime | None = None,
    top: int = TOP_TASKS,
) -> MonthlySummary:
    """The summary of `month` (cut in `zone`) from the same service calls the CLI reports make.

    `budget` is the monthly budget in dollars, if the user has one. `routing` gives the routing
    suggestions; by default the routing service's, when installed (`find_routing_provider`);
    None leaves the section as "not available".
    """
    now = now or utc_now()
    _, end = month_bounds(month[0], month[1], zone)
    days = month_days(month)
    first, last = days[0], days[-1]

    def usage(kind: Any, sources: Sequence[str] | None = None, span: tuple[date, date] = (first, last)) -> UsageReport:
        return usage_report(db, kind, zone=zone, since=span[0], until=span[1], sources=sources)

    monthly = usage("monthly")
    sources = []
    for source in sorted(recorded_sources(db)):
        totals = usage("monthly", [source]).totals
        if totals.records:
            sources.append((source, totals))
    sources.sort(key=lambda item: (-item[1].cost_units, item[0]))

    by_task = value_report(db, month=month, zone=zone, by="task")
    plan_basis = value_report(db, month=month, zone=zone, by="task", basis="plan") if by_task.plans else None

    before = previous_month(month)
    before_days = month_days(before)
    before_usage = usage("monthly", span=(before_days[0], before_days[-1])).totals
    before_report = value_report(db, month=before, zone=zone, by="task")
    before_value = before_report.total
    previous = MonthComparison(
        month=month_key(*before),
        cost=before_usage.cost,
        value=before_value.value,
        tfp=before_value.tfp,
        total_tokens=before_usage.total_tokens,
        requests=before_usage.requests,
        tasks=len(before_report.rows),
        cost_change=_difference(monthly.totals.cost, before_usage.cost),
        cost_change_pct=percent_change(before_usage.cost, monthly.totals.cost),
        value_change=_difference(by_task.total.value, before_value.value),
        tokens_change=monthly.totals.total_tokens - before_usage.total_tokens,
        requests_change=monthly.totals.requests - before_usage.requests,
    )
    complete = now >= end
    return MonthlySummary(
        month=month,
        zone=zone,
        generated_at=now,
        month_complete=complete,
        usage=monthly,
        daily=usage("daily"),
        models=usage("models"),
        projects=usage("projects"),
        sources=sources,
        value_by_task=by_task,
        value_by_category=value_report(db, month=month, zone=zone, by="category"),
        value_by_model=value_report(db, month=month, zone=zone, by="model"),
        value_by_project=value_report(db, month=month, zone=zone, by="project"),
        value_plan_basis=plan_basis,
        reconciliation=_reconciliation(reconcile_report(db, zone=zone, since=first, until=last)),
        local_sources=_local_freshness(db),
        accounts=_account_freshness(list_accounts(db)),
        budget=None
        if budget is None
        else _budget_outcome(db, budget, monthly.totals.cost, month, zone, now, complete, monthly.totals.cost_complete),
        previous=previous,
        routing=_routing(find_routing_provider() if routing is _AUTO else routing, db, month, zone),
        top=top,
    )


@dataclass(frozen=True)
class SummaryInputs:
    """Optional inputs read from the user's settings, when the settings module is installed."""

    budget: Decimal | None = None
    time_zone: str | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)


SETTINGS_MODULE = "tokenworth.core.settings"


def settings_inputs(settings_file: Any) -> SummaryInputs:
    """The monthly budget and time zone from the settings file, via `tokenworth.core.settings`
    (`load_settings(path) -> (Settings, problems)`, with `monthly_budget` and `time_zone`);
    empty when that module is not installed."""
    try:
        module = importlib.import_module(SETTINGS_MODULE)
    except ImportError:
        return SummaryInputs()
    loader = getattr(module, "load_settings", None)
    if not callable(loader):
        return SummaryInputs()
    settings, problems = loader(settings_file)
    budget = getattr(settings, "monthly_budget", None)
    zone = getattr(settings, "time_zone", None)
    return SummaryInputs(
        budget=budget if isinstance(budget, Decimal) else None,
        time_zone=zone if isinstance(zone, str) and zone else None,
        problems=tuple(str(p) for p in problems),
    )
