from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import strategies as st

from polls.standards import (
    MAJORITY,
    THREE_QUARTERS,
    TWO_THIRDS,
    Comparator,
    Outcome,
    Standard,
    Threshold,
    Totals,
    decide,
    evaluate,
    percent_of,
    quorum_met,
)

SHARES = st.integers(min_value=0, max_value=10**12)
RATIO_STANDARDS = [Standard.VOTES_CAST, Standard.PRESENT_AND_ENTITLED, Standard.OUTSTANDING]


def at_least(fraction: Fraction) -> Threshold:
    return Threshold(fraction, Comparator.GE)


def more_than(fraction: Fraction) -> Threshold:
    return Threshold(fraction, Comparator.GT)


@st.composite
def thresholds(draw: st.DrawFn) -> Threshold:
    denominator = draw(st.integers(min_value=1, max_value=100))
    numerator = draw(st.integers(min_value=1, max_value=denominator))
    return Threshold(Fraction(numerator, denominator), draw(st.sampled_from(Comparator)))


@st.composite
def consistent_totals(draw: st.DrawFn) -> Totals:
    """Totals where outstanding covers every share present, as on a real record date."""
    for_, against, abstain, broker = draw(SHARES), draw(SHARES), draw(SHARES), draw(SHARES)
    spare = draw(SHARES)
    return Totals(for_, against, abstain, for_ + against + abstain + broker + spare, broker)


any_totals = st.builds(Totals, SHARES, SHARES, SHARES, SHARES, SHARES)


def totals_with(standard: Standard, numerator: int, base: int) -> Totals:
    """Totals giving `numerator / base` under `standard`, with noise the standard must ignore."""
    rest = base - numerator
    if standard is Standard.VOTES_CAST:
        return Totals(numerator, rest, abstain=999, outstanding=10 * base + 2000, broker_non_votes=500)
    if standard is Standard.PRESENT_AND_ENTITLED:
        against = rest // 2
        return Totals(numerator, against, rest - against, outstanding=10 * base + 500, broker_non_votes=500)
    against = rest // 3
    abstain = rest // 3
    return Totals(numerator, against, abstain, outstanding=base, broker_non_votes=rest - against - abstain)


# --- the check case -------------------------------------------------------------------------------

TESLA = Totals(
    for_=1_060_000_000, against=916_300_000, abstain=473_000_000, outstanding=3_200_000_000, broker_non_votes=0
)


def test_the_tesla_item_passes_a_majority_of_votes_cast_at_53_6_percent() -> None:
    outcome = evaluate(Standard.VOTES_CAST, MAJORITY, TESLA)
    assert outcome.passed
    assert outcome.fraction == Fraction(1_060_000_000, 1_976_300_000)
    assert outcome.base == 1_976_300_000
    assert str(outcome.percent) == "53.6"


def test_the_tesla_item_fails_a_majority_of_shares_present_at_43_3_percent() -> None:
    outcome = evaluate(Standard.PRESENT_AND_ENTITLED, MAJORITY, TESLA)
    assert not outcome.passed
    assert outcome.base == 2_449_300_000
    assert str(outcome.percent) == "43.3"


def test_the_tesla_meeting_has_a_quorum() -> None:
    assert TESLA.present == 2_449_300_000
    assert quorum_met(TESLA)


def test_the_tesla_decision_reads_passed_under_votes_cast_and_failed_under_present_and_entitled() -> None:
    cast = decide("votes_cast", MAJORITY, TESLA)
    present = decide(Standard.PRESENT_AND_ENTITLED, MAJORITY, TESLA)
    assert (cast.passed, cast.reason, cast.quorum_met) == (True, "passed", True)
    assert (present.passed, present.reason, present.quorum_met) == (False, "failed", True)
    assert cast.what_if == present.what_if
    assert [o.passed for o in cast.what_if] == [True, False, False, True]


# --- thresholds at their exact boundaries ---------------------------------------------------------

BOUNDARIES = [
    # (for, base, threshold, passes)
    (1, 2, MAJORITY, False),
    (50, 100, MAJORITY, False),
    (49, 100, MAJORITY, False),
    (51, 100, MAJORITY, True),
    (50, 100, at_least(Fraction(1, 2)), True),
    (49, 100, at_least(Fraction(1, 2)), False),
    (1, 3, MAJORITY, False),
    (2, 3, MAJORITY, True),
    (2, 4, MAJORITY, False),
    (3, 4, MAJORITY, True),
    (2, 3, TWO_THIRDS, True),
    (2, 3, more_than(Fraction(2, 3)), False),
    (1, 3, TWO_THIRDS, False),
    (4, 6, TWO_THIRDS, True),
    (4, 6, more_than(Fraction(2, 3)), False),
    (3, 6, TWO_THIRDS, False),
    (5, 6, more_than(Fraction(2, 3)), True),
    (2_000_000_000, 3_000_000_000, TWO_THIRDS, True),
    (1_999_999_999, 3_000_000_000, TWO_THIRDS, False),
    (2_000_000_000, 3_000_000_000, more_than(Fraction(2, 3)), False),
    (2_000_000_001, 3_000_000_000, more_than(Fraction(2, 3)), True),
    (3, 4, THREE_QUARTERS, True),
    (3, 4, more_than(Fraction(3, 4)), False),
    (2, 4, THREE_QUARTERS, False),
    (6, 8, THREE_QUARTERS, True),
    (5, 8, THREE_QUARTERS, False),
    (5, 7, THREE_QUARTERS, False),
    (6, 7, THREE_QUARTERS, True),
    (3, 5, more_than(Fraction(3, 5)), False),
    (3, 5, at_least(Fraction(3, 5)), True),
    (4, 4, at_least(Fraction(1)), True),
    (4, 4, more_than(Fraction(1)), False),
    (3, 4, at_least(Fraction(1)), False),
    # One share in 10**12 decides it; a float ratio would blur these.
    (500_000_000_000, 10**12, MAJORITY, False),
    (500_000_000_001, 10**12, MAJORITY, True),
    (499_999_999_999, 10**12, at_least(Fraction(1, 2)), False),
]


@pytest.mark.parametrize("standard", RATIO_STANDARDS)
@pytest.mark.parametrize(("for_", "base", "threshold", "passes"), BOUNDARIES)
def test_each_ratio_standard_passes_exactly_at_its_threshold_boundary(
    standard: Standard, for_: int, base: int, threshold: Threshold, passes: bool
) -> None:
    outcome = evaluate(standard, threshold, totals_with(standard, for_, base))
    assert outcome.passed is passes
    assert outcome.fraction == Fraction(for_, base)
    assert (outcome.numerator, outcome.base) == (for_, base)
    assert outcome.tie is False


@pytest.mark.parametrize(
    ("for_", "against", "threshold", "passes"),
    [
        (50, 50, MAJORITY, False),
        (51, 50, MAJORITY, True),
        (50, 51, MAJORITY, False),
        (2, 1, TWO_THIRDS, True),
        (2, 1, more_than(Fraction(2, 3)), False),
        (3, 1, THREE_QUARTERS, True),
        (3, 1, more_than(Fraction(3, 4)), False),
    ],
)
def test_votes_cast_examples_from_the_design_doc(for_: int, against: int, threshold: Threshold, passes: bool) -> None:
    assert evaluate(Standard.VOTES_CAST, threshold, Totals(for_, against, 0, 1000)).passed is passes


def test_a_tie_under_majority_fails() -> None:
    outcome = evaluate(Standard.VOTES_CAST, MAJORITY, Totals(50, 50, 0, 100))
    assert not outcome.passed
    assert outcome.fraction == Fraction(1, 2)
    assert outcome.percent == Decimal("50.0")


@pytest.mark.parametrize(
    ("for_", "against", "abstain", "passes", "tie"),
    [
        (51, 50, 0, True, False),
        (50, 50, 0, False, True),
        (50, 51, 0, False, False),
        (1, 0, 0, True, False),
        (0, 1, 0, False, False),
        (2, 1, 1000, True, False),
        (1, 1, 1000, False, True),
    ],
)
def test_plurality_needs_strictly_more_for_than_against_and_reports_ties(
    for_: int, against: int, abstain: int, passes: bool, tie: bool
) -> None:
    outcome = evaluate(Standard.PLURALITY, MAJORITY, Totals(for_, against, abstain, 10_000))
    assert (outcome.passed, outcome.tie) == (passes, tie)
    assert outcome.fraction == Fraction(for_, for_ + against)
    assert outcome.base == for_ + against


@pytest.mark.parametrize("threshold", [MAJORITY, TWO_THIRDS, THREE_QUARTERS, at_least(Fraction(1))])
def test_plurality_ignores_the_threshold(threshold: Threshold) -> None:
    outcome = evaluate(Standard.PLURALITY, threshold, Totals(51, 50, 0, 200))
    assert outcome.passed
    assert str(outcome.percent) == "50.5"


@pytest.mark.parametrize("standard", RATIO_STANDARDS)
def test_only_plurality_ever_reports_a_tie(standard: Standard) -> None:
    assert evaluate(standard, MAJORITY, Totals(50, 50, 0, 100)).tie is False


# --- abstentions and broker non-votes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("standard", "passes"),
    [
        (Standard.VOTES_CAST, True),
        (Standard.PRESENT_AND_ENTITLED, False),
        (Standard.OUTSTANDING, False),
        (Standard.PLURALITY, True),
    ],
)
def test_abstentions_count_against_only_under_present_and_entitled_and_outstanding(
    standard: Standard, passes: bool
) -> None:
    without = Totals(40, 10, 0, outstanding=100)
    with_abstentions = Totals(40, 10, 50, outstanding=100)
    assert evaluate(standard, MAJORITY, with_abstentions).passed is passes
    if standard in (Standard.VOTES_CAST, Standard.PLURALITY):
        assert evaluate(standard, MAJORITY, with_abstentions) == evaluate(standard, MAJORITY, without)


def test_abstentions_turn_a_present_and_entitled_pass_into_a_fail() -> None:
    assert evaluate(Standard.PRESENT_AND_ENTITLED, MAJORITY, Totals(40, 10, 0, 100)).passed
    assert not evaluate(Standard.PRESENT_AND_ENTITLED, MAJORITY, Totals(40, 10, 40, 100)).passed


@pytest.mark.parametrize("standard", list(Standard))
def test_broker_non_votes_change_no_outcome_when_outstanding_is_fixed(standard: Standard) -> None:
    without = Totals(40, 30, 5, outstanding=200)
    with_brokers = Totals(40, 30, 5, outstanding=200, broker_non_votes=60)
    assert evaluate(standard, MAJORITY, with_brokers) == evaluate(standard, MAJORITY, without)


@pytest.mark.parametrize(
    ("standard", "passes"),
    [
        (Standard.VOTES_CAST, True),
        (Standard.PRESENT_AND_ENTITLED, True),
        (Standard.OUTSTANDING, False),
        (Standard.PLURALITY, True),
    ],
)
def test_broker_non_votes_count_against_only_under_outstanding(standard: Standard, passes: bool) -> None:
    # The broker shares sit in the outstanding base but never in the for-votes.
    outcome = evaluate(standard, MAJORITY, Totals(40, 10, 0, outstanding=100, broker_non_votes=50))
    assert outcome.passed is passes


def test_broker_non_votes_count_toward_quorum() -> None:
    assert not quorum_met(Totals(20, 20, 0, outstanding=100))
    assert quorum_met(Totals(20, 20, 0, outstanding=100, broker_non_votes=20))


def test_present_counts_every_kind_of_share() -> None:
    assert Totals(1, 20, 300, 10_000, 4000).present == 4321


# --- zero bases ------------------------------------------------------------------------------------


@pytest.mark.parametrize("standard", list(Standard))
@pytest.mark.parametrize("threshold", [MAJORITY, at_least(Fraction(1, 100))])
def test_a_zero_base_fails_under_every_standard(standard: Standard, threshold: Threshold) -> None:
    outcome = evaluate(standard, threshold, Totals(0, 0, 0, 0))
    assert outcome == Outcome(standard, passed=False, fraction=None, numerator=0, base=0, tie=False)
    assert outcome.percent is None


def test_only_abstentions_leave_votes_cast_with_no_base_but_count_under_the_others() -> None:
    totals = Totals(0, 0, 5, 10)
    assert evaluate(Standard.VOTES_CAST, MAJORITY, totals).fraction is None
    assert evaluate(Standard.PRESENT_AND_ENTITLED, MAJORITY, totals).fraction == 0
    assert evaluate(Standard.OUTSTANDING, MAJORITY, totals).fraction == 0
    assert not any(evaluate(s, MAJORITY, totals).passed for s in Standard)


def test_for_votes_with_nothing_outstanding_fail_under_outstanding() -> None:
    outcome = evaluate(Standard.OUTSTANDING, MAJORITY, Totals(10, 0, 0, 0))
    assert (outcome.passed, outcome.fraction, outcome.base) == (False, None, 0)


# --- quorum and decide ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("present", "outstanding", "quorum", "met"),
    [
        (50, 100, MAJORITY, False),
        (51, 100, MAJORITY, True),
        (1, 2, MAJORITY, False),
        (2, 3, MAJORITY, True),
        (50, 100, at_least(Fraction(1, 2)), True),
        (1, 3, at_least(Fraction(1, 3)), True),
        (1, 3, more_than(Fraction(1, 3)), False),
        (0, 100, at_least(Fraction(1, 100)), False),
        (0, 0, at_least(Fraction(1, 100)), False),
        (10, 0, MAJORITY, False),
    ],
)
def test_quorum_compares_shares_present_with_shares_outstanding(
    present: int, outstanding: int, quorum: Threshold, met: bool
) -> None:
    assert quorum_met(Totals(present, 0, 0, outstanding), quorum) is met


def test_without_quorum_a_passing_item_fails_with_reason_no_quorum() -> None:
    decision = decide(Standard.VOTES_CAST, MAJORITY, Totals(10, 0, 0, outstanding=100))
    assert decision.outcome.passed
    assert not decision.quorum_met
    assert not decision.passed
    assert decision.reason == "no quorum"


def test_no_quorum_is_the_reason_even_when_the_vote_also_failed() -> None:
    decision = decide(Standard.VOTES_CAST, MAJORITY, Totals(0, 10, 0, outstanding=100))
    assert (decision.passed, decision.reason) == (False, "no quorum")


def test_a_stricter_meeting_quorum_can_block_an_item() -> None:
    totals = Totals(60, 0, 0, outstanding=100)
    assert decide(Standard.VOTES_CAST, MAJORITY, totals).reason == "passed"
    assert decide(Standard.VOTES_CAST, MAJORITY, totals, quorum=TWO_THIRDS).reason == "no quorum"


def test_a_failed_item_with_quorum_reads_failed() -> None:
    decision = decide(Standard.PLURALITY, MAJORITY, Totals(50, 50, 0, outstanding=100))
    assert (decision.passed, decision.reason, decision.outcome.tie) == (False, "failed", True)


def test_the_what_if_table_lists_every_standard_in_declaration_order() -> None:
    decision = decide(Standard.OUTSTANDING, TWO_THIRDS, TESLA)
    assert [o.standard for o in decision.what_if] == list(Standard)
    assert decision.what_if[2] is decision.outcome
    assert decision.standard is Standard.OUTSTANDING
    assert decision.threshold == TWO_THIRDS


def test_an_unknown_standard_is_refused() -> None:
    with pytest.raises(ValueError, match="supermajority"):
        decide("supermajority", MAJORITY, TESLA)


# --- percent --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fraction", "text"),
    [
        (Fraction(0), "0.0"),
        (Fraction(1), "100.0"),
        (Fraction(1, 3), "33.3"),
        (Fraction(2, 3), "66.7"),
        (Fraction(1, 2000), "0.1"),  # 0.05% exactly: half rounds up
        (Fraction(1, 2001), "0.0"),
        (Fraction(7, 2000), "0.4"),  # 0.35%: a float would round this down
        (Fraction(1445, 10**4), "14.5"),
        (Fraction(1445, 10**4) - Fraction(1, 10**40), "14.4"),  # too close to the half for 28-digit Decimal
        (Fraction(-1, 2000), "-0.1"),
        (Fraction(-1, 3000), "0.0"),
        (Fraction(3, 2), "150.0"),
    ],
)
def test_percent_rounds_half_up_to_one_decimal(fraction: Fraction, text: str) -> None:
    assert str(percent_of(fraction)) == text


def test_percent_of_a_huge_ratio_is_exact_beyond_decimal_precision() -> None:
    assert percent_of(Fraction(10**40 + 1, 1)) == Decimal(f"{(10**40 + 1) * 100}.0")


def test_percent_of_refuses_floats() -> None:
    with pytest.raises(TypeError, match="Fraction"):
        percent_of(0.5)  # type: ignore[arg-type]


# --- Threshold ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "comparator", "expected"),
    [
        ("1/2", ">", MAJORITY),
        ("2/3", ">=", TWO_THIRDS),
        ("3/4", Comparator.GE, THREE_QUARTERS),
        (" 4/8 ", ">", MAJORITY),
        ("1 / 1", ">=", at_least(Fraction(1))),
        ("3/5", ">", more_than(Fraction(3, 5))),
    ],
)
def test_threshold_parse_reads_a_fraction_and_a_comparator(
    text: str, comparator: str | Comparator, expected: Threshold
) -> None:
    parsed = Threshold.parse(text, comparator)
    assert parsed == expected
    assert parsed.comparator is expected.comparator


def test_threshold_parse_defaults_to_more_than() -> None:
    assert Threshold.parse("1/2") == MAJORITY


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "p/q"),
        ("", "p/q"),
        ("0.5", "p/q"),
        ("1", "p/q"),
        ("-1/2", "p/q"),
        ("+1/2", "p/q"),
        ("1/2/3", "p/q"),
        ("1/-2", "p/q"),
        ("\u0661/\u0662", "p/q"),  # Arabic-Indic digits
        ("1/0", "denominator"),
        ("0/1", "more than 0"),
        ("3/2", "at most 1"),
    ],
)
def test_threshold_parse_refuses_anything_but_a_fraction_in_range(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Threshold.parse(text)


def test_threshold_parse_refuses_an_unknown_comparator() -> None:
    with pytest.raises(ValueError, match="comparator"):
        Threshold.parse("1/2", "=>")


def test_a_threshold_refuses_a_float_fraction() -> None:
    with pytest.raises(TypeError, match="Fraction"):
        Threshold(0.5, Comparator.GT)  # type: ignore[arg-type]


def test_a_threshold_accepts_a_comparator_written_as_text() -> None:
    assert Threshold(Fraction(1, 2), ">").comparator is Comparator.GT  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("threshold", "text"),
    [(MAJORITY, "> 1/2"), (TWO_THIRDS, ">= 2/3"), (THREE_QUARTERS, ">= 3/4"), (at_least(Fraction(1)), ">= 1/1")],
)
def test_a_threshold_prints_its_comparator_and_fraction(threshold: Threshold, text: str) -> None:
    assert str(threshold) == text


def test_met_by_separates_more_than_from_at_least() -> None:
    assert not MAJORITY.met_by(Fraction(1, 2))
    assert at_least(Fraction(1, 2)).met_by(Fraction(1, 2))
    assert MAJORITY.met_by(Fraction(1, 2) + Fraction(1, 10**15))


# --- Totals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["for_", "against", "abstain", "outstanding", "broker_non_votes"])
def test_totals_refuse_negative_shares(field: str) -> None:
    values = {"for_": 1, "against": 1, "abstain": 1, "outstanding": 10, "broker_non_votes": 0, field: -1}
    with pytest.raises(ValueError, match=field):
        Totals(**values)


@pytest.mark.parametrize("bad", [1.0, True, False, Decimal(1), Fraction(1), "1", None])
@pytest.mark.parametrize("field", ["for_", "against", "abstain", "outstanding", "broker_non_votes"])
def test_totals_refuse_anything_but_int_shares(field: str, bad: object) -> None:
    values: dict[str, object] = {"for_": 1, "against": 1, "abstain": 1, "outstanding": 10, "broker_non_votes": 0}
    values[field] = bad
    with pytest.raises(TypeError, match=field):
        Totals(**values)  # type: ignore[arg-type]


def test_totals_accept_zero_everywhere() -> None:
    assert Totals(0, 0, 0, 0).present == 0


# --- properties -----------------------------------------------------------------------------------
