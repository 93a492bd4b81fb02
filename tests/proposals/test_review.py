"""The board rule at its boundaries, and properties that tie the automatic and forced verdicts together."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proposals.review import (
    Decision,
    Tally,
    Verdict,
    approved,
    automatic_verdict,
    forced_verdict,
    quorum_met,
)
from proposals.workflow import State


def tally(disinterested: int, approve: int = 0, reject: int = 0, abstain: int = 0) -> Tally:
    return Tally(disinterested=disinterested, approve=approve, reject=reject, abstain=abstain)


@st.composite
def tallies(draw: Any, min_disinterested: int = 0, max_disinterested: int = 15) -> Tally:
    disinterested = draw(st.integers(min_value=min_disinterested, max_value=max_disinterested))
    approve = draw(st.integers(min_value=0, max_value=disinterested))
    reject = draw(st.integers(min_value=0, max_value=disinterested - approve))
    abstain = draw(st.integers(min_value=0, max_value=disinterested - approve - reject))
    return tally(disinterested, approve, reject, abstain)


@st.composite
def tally_and_later(draw: Any, everyone_votes: bool) -> tuple[Tally, Tally]:
    """A tally and a later one where some (or all) of the remaining directors have voted any way."""
    now = draw(tallies())
    voting = now.remaining if everyone_votes else draw(st.integers(min_value=0, max_value=now.remaining))
    more_approve = draw(st.integers(min_value=0, max_value=voting))
    more_reject = draw(st.integers(min_value=0, max_value=voting - more_approve))
    more_abstain = voting - more_approve - more_reject
    later = tally(now.disinterested, now.approve + more_approve, now.reject + more_reject, now.abstain + more_abstain)
    return now, later


# --- the tally itself


def test_a_tally_counts_who_voted_and_who_is_still_to_vote() -> None:
    t = tally(7, approve=2, reject=1, abstain=1)
    assert (t.voted, t.remaining) == (4, 3)


def test_a_tally_can_be_counted_from_individual_decisions() -> None:
    t = Tally.of(5, [Decision.APPROVE, "approve", Decision.REJECT, "abstain"])
    assert t == tally(5, approve=2, reject=1, abstain=1)


@pytest.mark.parametrize(
    "fields",
    [
        {"disinterested": -1, "approve": 0, "reject": 0, "abstain": 0},
        {"disinterested": 3, "approve": -1, "reject": 0, "abstain": 0},
        {"disinterested": 3, "approve": 2, "reject": 2, "abstain": 0},
        {"disinterested": 3, "approve": 1, "reject": 1, "abstain": 2},
        {"disinterested": 3, "approve": True, "reject": 0, "abstain": 0},
        {"disinterested": 3.0, "approve": 0, "reject": 0, "abstain": 0},
    ],
)
def test_a_tally_refuses_negative_fractional_or_excess_votes(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        Tally(**fields)


def test_the_outcomes_are_the_workflow_states_a_decision_leads_to() -> None:
    assert automatic_verdict(tally(3, approve=2)).outcome == State.APPROVED
    assert automatic_verdict(tally(3, reject=2)).outcome == State.REJECTED


# --- quorum


@pytest.mark.parametrize(
    ("disinterested", "voted", "expected"),
    [(4, 2, False), (4, 3, True), (5, 2, False), (5, 3, True), (1, 0, False), (1, 1, True), (2, 1, False)],
)
def test_quorum_is_more_than_half_of_the_disinterested_directors(
    disinterested: int, voted: int, expected: bool
) -> None:
    assert quorum_met(tally(disinterested, abstain=voted)) is expected


def test_two_of_four_voting_is_no_quorum_even_when_both_approve() -> None:
    t = tally(4, approve=2)
    assert not quorum_met(t)
    assert not approved(t)


def test_abstentions_count_toward_quorum_but_not_in_the_plurality() -> None:
    assert approved(tally(5, approve=2, reject=1)) is True
    assert approved(tally(5, approve=2, reject=1, abstain=1)) is True
    assert approved(tally(5, approve=1, reject=1, abstain=1)) is False


# --- automatic verdict, five disinterested directors (odd)


def test_three_of_five_approving_is_a_final_approval() -> None:
    verdict = automatic_verdict(tally(5, approve=3))
    assert verdict == Verdict(
        True,
        "approved",
        True,
        "approved by plurality: 3 approved, 0 rejected, 0 referred, 0 abstained (3 of 5 who may vote)",
    )


def test_two_approvals_and_three_rejections_of_five_is_a_final_rejection() -> None:
    verdict = automatic_verdict(tally(5, approve=2, reject=3))
    assert (verdict.final, verdict.outcome, verdict.quorum_met) == (True, "rejected", True)


def test_two_approvals_and_one_rejection_of_five_with_two_to_vote_is_not_final() -> None:
    verdict = automatic_verdict(tally(5, approve=2, reject=1))
    assert (verdict.final, verdict.outcome, verdict.quorum_met) == (False, None, True)
    assert approved(tally(5, approve=2, reject=1))  # would pass if the secretary closed it now


def test_three_rejections_of_five_is_final_before_the_others_vote() -> None:
    verdict = automatic_verdict(tally(5, reject=3))
    assert (verdict.final, verdict.outcome, verdict.quorum_met) == (True, "rejected", True)


def test_two_rejections_of_five_is_not_yet_final() -> None:
    verdict = automatic_verdict(tally(5, reject=2))
    assert (verdict.final, verdict.outcome, verdict.quorum_met) == (False, None, False)
    assert verdict.reason == "no quorum yet: 2 voted, quorum 3 of 5 directors in office"


# --- automatic verdict, four disinterested directors (even)


def test_two_of_four_approving_is_not_more_than_half_so_not_final() -> None:
    verdict = automatic_verdict(tally(4, approve=2))
    assert (verdict.final, verdict.outcome) == (False, None)


def test_two_of_four_approving_and_one_rejecting_waits_for_the_last_director() -> None:
    # 2 approve + 1 reject: quorum, approved now, but the last director could still tie it.
    assert automatic_verdict(tally(4, approve=2, reject=1)).final is False
    assert automatic_verdict(tally(4, approve=2, reject=2)).tied == ("approved", "rejected")
    assert automatic_verdict(tally(4, approve=3)).outcome == "approved"


def test_two_rejections_of_four_is_not_final_without_quorum() -> None:
    verdict = automatic_verdict(tally(4, reject=2))
    assert (verdict.final, verdict.outcome, verdict.quorum_met) == (False, None, False)


def test_three_rejections_of_four_is_a_final_rejection() -> None:
    verdict = automatic_verdict(tally(4, reject=3))
    assert (verdict.final, verdict.outcome) == (True, "rejected")


# --- small boards and recusals


def test_when_all_directors_are_recused_nobody_can_decide() -> None:
    verdict = automatic_verdict(tally(0))
    assert (verdict.final, verdict.outcome, verdict.quorum_met) == (False, None, False)
    assert "no quorum possible" in verdict.reason


def test_a_single_disinterested_director_decides_alone() -> None:
    assert automatic_verdict(tally(1)).final is False
    assert automatic_verdict(tally(1, approve=1)).outcome == "approved"
    assert automatic_verdict(tally(1, reject=1)).outcome == "rejected"
    assert automatic_verdict(tally(1, abstain=1)).tied == ("approved", "rejected", "referred")


# --- forced verdict at the due date


def test_the_secretary_approves_at_the_due_date_when_the_rule_is_met() -> None:
    verdict = forced_verdict(tally(5, approve=2, reject=1))
    assert (verdict.final, verdict.outcome, verdict.quorum_met) == (True, "approved", True)


def test_the_secretary_rejects_at_the_due_date_without_quorum() -> None:
    verdict = forced_verdict(tally(5, approve=2))
    assert (verdict.final, verdict.outcome, verdict.quorum_met) == (True, "rejected", False)
    assert verdict.reason == "no quorum: 2 voted, quorum 3 of 5 directors in office"


def test_the_secretary_cannot_decide_a_tie_with_quorum_at_the_due_date() -> None:
    verdict = forced_verdict(tally(4, approve=1, reject=1, abstain=1))
    assert (verdict.final, verdict.outcome, verdict.quorum_met) == (False, None, True)
    assert verdict.tied == ("approved", "rejected")


def test_the_secretary_rejects_at_the_due_date_when_all_directors_are_recused() -> None:
    verdict = forced_verdict(tally(0))
    assert (verdict.final, verdict.outcome, verdict.quorum_met) == (True, "rejected", False)
    assert "no quorum" in verdict.reason


# --- properties


@given(tally_and_later(everyone_votes=False))
def test_a_final_verdict_never_disagrees_with_any_later_verdict(pair: tuple[Tally, Tally]) -> None:
    now, later = pair
    verdict = automatic_verdict(now)
    if verdict.final:
        assert forced_verdict(later).outcome == verdict.outcome
        assert automatic_verdict(later).outcome == verdict.outcome


@given(tally_and_later(everyone_votes=True))
def test_a_final_verdict_never_disagrees_with_the_verdict_once_everyone_has_voted(pair: tuple[Tally, Tally]) -> None:
    now, later = pair
    verdict = automatic_verdict(now)
    if verdict.final:
        assert automatic_verdict(later).outcome == verdict.outcome


@given(tallies())
def test_a_verdict_that_is_not_final_waits_for_quorum_or_could_still_change(t: Tally) -> None:
    # Final is as early as possible (tests/proposals/test_board_rule.py checks every case).
    if automatic_verdict(t).final or not quorum_met(t):
        return
    all_approve = tally(t.disinterested, t.approve + t.remaining, t.reject, t.abstain)
    all_reject = tally(t.disinterested, t.approve, t.reject + t.remaining, t.abstain)
    assert forced_verdict(all_approve).outcome != forced_verdict(all_reject).outcome


@given(tallies(min_disinterested=1).map(lambda t: tally(t.disinterested, t.approve, t.reject, t.remaining + t.abstain)))
def test_once_everyone_has_voted_the_automatic_verdict_is_final_and_matches_the_forced_one(t: Tally) -> None:
    assert t.remaining == 0
    verdict = automatic_verdict(t)
    assert verdict.final
    assert verdict.outcome == forced_verdict(t).outcome


@given(tallies().filter(lambda t: t.remaining > 0))
def test_an_extra_approval_never_turns_approved_into_not_approved(t: Tally) -> None:
    more = tally(t.disinterested, t.approve + 1, t.reject, t.abstain)
    if approved(t):
        assert approved(more)
    if automatic_verdict(t).outcome == "approved":
        assert automatic_verdict(more).outcome == "approved"


@given(tallies())
def test_the_outcome_is_set_exactly_when_the_verdict_is_final(t: Tally) -> None:
    verdict = automatic_verdict(t)
    assert (verdict.outcome is not None) == (verdict.final and not verdict.tied)
    assert verdict.outcome in {None, "approved", "rejected", "referred"}
    assert verdict.quorum_met == quorum_met(t)
    assert verdict.reason
