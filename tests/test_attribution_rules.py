"""The attribution rules and value arithmetic on their own: no database, exact fractions."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from tokenworth.core.analytics import NO_SPEND, UNPRICED, UNVALUED, leverage, pro_rata, tfp, units_to_money
from tokenworth.core.attribution import AttributionRules, RecordFacts, Segment, SpanRule, claimed_segments

H = 3_600_000  # one hour in ms


def test_a_moment_in_overlapping_spans_goes_to_the_span_that_started_latest() -> None:
    segments = claimed_segments([SpanRule(1, 0, 10 * H), SpanRule(2, 3 * H, 5 * H), SpanRule(3, 8 * H, 12 * H)])
    assert segments == [
        Segment(0, 3 * H, 1),
        Segment(3 * H, 5 * H, 2),
        Segment(5 * H, 8 * H, 1),
        Segment(8 * H, 12 * H, 3),
    ]


def test_equal_starts_go_to_the_highest_task_id_whatever_the_order_given() -> None:
    one = claimed_segments([SpanRule(4, 0, H), SpanRule(9, 0, 2 * H)])
    other = claimed_segments([SpanRule(9, 0, 2 * H), SpanRule(4, 0, H)])
    assert one == other == [Segment(0, 2 * H, 9)]


def test_a_request_belongs_to_the_span_holding_its_timestamp_end_excluded() -> None:
    rules = AttributionRules([SpanRule(1, H, 2 * H)])
    assert rules.attribute(RecordFacts(H)) == ((1, Fraction(1)),)
    assert rules.attribute(RecordFacts(2 * H - 1)) == ((1, Fraction(1)),)
    assert rules.attribute(RecordFacts(2 * H)) == ()
    assert rules.attribute(RecordFacts(H - 1)) == ()


def test_a_running_task_claims_everything_after_its_start() -> None:
    rules = AttributionRules([SpanRule(1, H, None)])
    assert rules.attribute(RecordFacts(10_000 * H)) == ((1, Fraction(1)),)
    # An hourly bucket that began before the start: the part after it.
    assert rules.attribute(RecordFacts(H // 2, bucket_seconds=3600)) == ((1, Fraction(1, 2)),)


def test_a_bucket_is_split_pro_rata_by_overlap_and_the_rest_is_unattributed() -> None:
    rules = AttributionRules([SpanRule(1, 10 * H, 11 * H), SpanRule(2, 10 * H + H // 2, 11 * H + H // 2)])
    hourly = rules.attribute(RecordFacts(10 * H, bucket_seconds=3600))
    assert hourly == ((1, Fraction(1, 2)), (2, Fraction(1, 2)))
    daily = rules.attribute(RecordFacts(0, bucket_seconds=86_400))
    assert daily == ((1, Fraction(1, 48)), (2, Fraction(1, 24)))
    assert sum(share for _, share in daily) == Fraction(1, 16)


def test_session_beats_branch_beats_time() -> None:
    rules = AttributionRules(
        [SpanRule(1, 0, 10 * H)],
        sessions={"S": 2},
        branches={("/p", "feat"): 3, ("/p", None): 4},
    )
    assert rules.attribute(RecordFacts(H, session_id="S", project="/p", git_branch="feat")) == ((2, Fraction(1)),)
    assert rules.attribute(RecordFacts(H, session_id="T", project="/p", git_branch="feat")) == ((3, Fraction(1)),)
    assert rules.attribute(RecordFacts(H, project="/p", git_branch=None)) == ((4, Fraction(1)),)
    assert rules.attribute(RecordFacts(H, project="/p", git_branch="other")) == ((1, Fraction(1)),)
    # An assignment takes the whole record, even far outside any span.
    assert rules.attribute(RecordFacts(500 * H, session_id="S")) == ((2, Fraction(1)),)


def test_a_task_with_assignments_no_longer_claims_by_time() -> None:
    rules = AttributionRules([SpanRule(1, 0, 10 * H), SpanRule(2, 2 * H, 3 * H)], sessions={"S": 2})
    # Task 2 started later, but it is attributed by its session only: task 1 keeps that hour.
    assert rules.attribute(RecordFacts(2 * H + 1)) == ((1, Fraction(1)),)


def test_tfp_edge_cases_are_named_never_infinite() -> None:
    assert tfp(Fraction(300), Fraction(100)).ratio == Decimal("3.0000")
    zero_cost = tfp(Fraction(50), Fraction(0))
    assert (zero_cost.ratio, zero_cost.note, zero_cost.complete) == (None, NO_SPEND, True)
    zero_value = tfp(Fraction(0), Fraction(7))
    assert (zero_value.ratio, zero_value.note) == (Decimal("0.0000"), None)
    assert tfp(None, Fraction(7)).note == UNVALUED
    assert tfp(Fraction(5), None).note == UNPRICED
    partial = tfp(Fraction(30), Fraction(3), cost_complete=False)
    assert (partial.ratio, partial.complete) == (Decimal("10.0000"), False)
    assert tfp(Fraction(2), Fraction(3)).ratio == Decimal("0.6667")


def test_pro_rata_splits_exactly_and_money_rounds_once_half_even() -> None:
    parts = pro_rata(Fraction(100), {"a": 1, "b": 2})
    assert parts == {"a": Fraction(100, 3), "b": Fraction(200, 3)}
    assert sum(parts.values()) == 100
    assert pro_rata(5, {"a": 0}) == {"a": Fraction(0)}
    assert units_to_money(Fraction(5, 2)) == Decimal("0.0000000002")
    assert units_to_money(Fraction(7, 2)) == Decimal("0.0000000004")


def test_leverage_is_api_equivalent_per_fee_dollar() -> None:
    assert leverage(400, 100) == Decimal("4.0000")
    assert leverage(400, 0) is None
