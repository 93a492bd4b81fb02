"""Properties of the standards over random totals and random ballots: one more vote for never
turns a pass into a fail, and the outcome matches a plain tally of the ballots."""

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from polls.standards import (
    MAJORITY,
    Standard,
    Threshold,
    Totals,
    decide,
    evaluate,
    quorum_met,
)
from tests.polls.test_standards import (
    RATIO_STANDARDS,
    SHARES,
    any_totals,
    at_least,
    consistent_totals,
    more_than,
    thresholds,
)

CHOICES = ["for", "against", "abstain", "broker_non_vote"]
ballots = st.lists(st.tuples(st.sampled_from(CHOICES), SHARES), max_size=30)


@given(consistent_totals(), thresholds(), thresholds(), st.sampled_from(Standard))
def test_one_more_for_vote_and_share_never_turns_a_pass_into_a_fail(
    totals: Totals, threshold: Threshold, quorum: Threshold, standard: Standard
) -> None:
    more = Totals(totals.for_ + 1, totals.against, totals.abstain, totals.outstanding + 1, totals.broker_non_votes)
    if evaluate(standard, threshold, totals).passed:
        assert evaluate(standard, threshold, more).passed
    if decide(standard, threshold, totals, quorum).passed:
        assert decide(standard, threshold, more, quorum).passed


@given(any_totals, thresholds(), thresholds(), st.sampled_from(Standard))
def test_one_more_for_vote_with_outstanding_unchanged_never_turns_a_pass_into_a_fail(
    totals: Totals, threshold: Threshold, quorum: Threshold, standard: Standard
) -> None:
    more = Totals(totals.for_ + 1, totals.against, totals.abstain, totals.outstanding, totals.broker_non_votes)
    if decide(standard, threshold, totals, quorum).passed:
        assert decide(standard, threshold, more, quorum).passed


def tally(ballots: list[tuple[str, int]], spare: int) -> Totals:
    sums = dict.fromkeys(CHOICES, 0)
    for choice, shares in ballots:
        sums[choice] += shares
    outstanding = sum(sums.values()) + spare
    return Totals(sums["for"], sums["against"], sums["abstain"], outstanding, sums["broker_non_vote"])


@given(ballots, SHARES, thresholds(), st.sampled_from(Standard), st.data())
def test_the_decision_does_not_depend_on_ballot_order(
    ballots: list[tuple[str, int]], spare: int, threshold: Threshold, standard: Standard, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(ballots))
    assert decide(standard, threshold, tally(shuffled, spare)) == decide(standard, threshold, tally(ballots, spare))


@given(any_totals, thresholds(), st.sampled_from(Standard))
def test_the_what_if_table_matches_each_standard_evaluated_alone(
    totals: Totals, threshold: Threshold, standard: Standard
) -> None:
    decision = decide(standard, threshold, totals)
    alone = tuple(evaluate(s, threshold, totals) for s in Standard)
    if decision.quorum_met:
        assert decision.what_if == alone
    else:
        assert decision.what_if == tuple(replace(row, passed=False) for row in alone)
    assert decision.outcome == evaluate(standard, threshold, totals)


@given(any_totals, thresholds(), thresholds(), st.sampled_from(Standard))
def test_without_quorum_every_what_if_row_fails_with_its_count_still_shown(
    totals: Totals, threshold: Threshold, quorum: Threshold, standard: Standard
) -> None:
    decision = decide(standard, threshold, totals, quorum)
    if decision.quorum_met:
        return
    assert not decision.passed and decision.reason == "no quorum"
    assert [row.passed for row in decision.what_if] == [False] * len(Standard)
    assert [row.fraction for row in decision.what_if] == [evaluate(s, threshold, totals).fraction for s in Standard]


@given(any_totals, thresholds(), thresholds(), st.sampled_from(Standard))
def test_no_what_if_row_passes_unless_the_meeting_has_quorum(
    totals: Totals, threshold: Threshold, quorum: Threshold, standard: Standard
) -> None:
    decision = decide(standard, threshold, totals, quorum)
    assert all(not row.passed for row in decision.what_if) or quorum_met(totals, quorum)


def test_an_item_without_quorum_would_not_pass_under_votes_cast_or_plurality_either() -> None:
    # The case: every share present voted for, but too few shares were present.
    totals = Totals(for_=100, against=0, abstain=0, outstanding=1000)
    decision = decide(Standard.VOTES_CAST, MAJORITY, totals)
    assert decision.reason == "no quorum"
    by_standard = {row.standard: row for row in decision.what_if}
    assert by_standard[Standard.VOTES_CAST].percent == Decimal("100.0")
    assert not by_standard[Standard.VOTES_CAST].passed
    assert not by_standard[Standard.PLURALITY].passed


@given(any_totals, thresholds(), st.sampled_from(Standard))
def test_the_percent_is_the_nearest_tenth_with_halves_rounded_up(
    totals: Totals, threshold: Threshold, standard: Standard
) -> None:
    outcome = evaluate(standard, threshold, totals)
    if outcome.fraction is None:
        assert outcome.percent is None
        return
    assert outcome.percent is not None
    exact = outcome.fraction * 100
    shown = Fraction(outcome.percent)
    assert abs(shown - exact) <= Fraction(1, 20)
    if abs(shown - exact) == Fraction(1, 20):
        assert shown > exact
    assert outcome.percent == outcome.percent.quantize(Decimal("0.1"))


@given(any_totals, thresholds(), thresholds(), st.sampled_from(Standard))
def test_an_item_passes_exactly_when_its_outcome_passes_and_quorum_is_met(
    totals: Totals, threshold: Threshold, quorum: Threshold, standard: Standard
) -> None:
    decision = decide(standard, threshold, totals, quorum)
    assert decision.quorum_met == quorum_met(totals, quorum)
    assert decision.passed == (decision.outcome.passed and decision.quorum_met)
    expected_reason = "passed" if decision.passed else ("failed" if decision.quorum_met else "no quorum")
    assert decision.reason == expected_reason


@given(any_totals, thresholds(), st.sampled_from(RATIO_STANDARDS))
def test_passing_more_than_a_fraction_implies_passing_at_least_it(
    totals: Totals, threshold: Threshold, standard: Standard
) -> None:
    strict = evaluate(standard, more_than(threshold.fraction), totals)
    loose = evaluate(standard, at_least(threshold.fraction), totals)
    assert not strict.passed or loose.passed


@given(thresholds())
def test_a_printed_threshold_parses_back_to_itself(threshold: Threshold) -> None:
    comparator, fraction = str(threshold).split(" ")
    assert Threshold.parse(fraction, comparator) == threshold
