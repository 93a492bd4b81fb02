"""The board rule (proposals.review) against a brute-force reference: every board of 1 to 9
directors in office, every number of recusals, every way the others may have voted so far, under
both quorum bases. The reference knows nothing of leaders and margins: it tries every way the
directors still to vote could vote (or not vote) and calls the outcome final when they all agree."""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proposals.review import (
    QuorumBasis,
    Tally,
    automatic_verdict,
    forced_verdict,
    quorum_met,
    recommendation,
)

CHOICES = ("approve", "reject", "refer", "abstain")
DECISIVE = {"approve": "approved", "reject": "rejected", "refer": "referred"}
BASES = (QuorumBasis.ALL_IN_OFFICE, QuorumBasis.DISINTERESTED)
TIE = "tie"


def reference_quorum(in_office: int, eligible: int, ballots: tuple[str, ...], basis: str) -> bool:
    directors = in_office if basis == QuorumBasis.ALL_IN_OFFICE else eligible
    return 2 * len(ballots) > directors  # a majority of them voted


@functools.cache
def reference_forced(in_office: int, eligible: int, ballots: tuple[str, ...], basis: str) -> str:
    """What the rule says on these ballots if nobody else votes."""
    if not reference_quorum(in_office, eligible, ballots, basis):
        return "rejected"
    counts = Counter(ballot for ballot in ballots if ballot in DECISIVE)
    best = max(counts[choice] for choice in DECISIVE)
    winners = [choice for choice in DECISIVE if counts[choice] == best]
    return DECISIVE[winners[0]] if len(winners) == 1 else TIE


def reference_automatic(in_office: int, eligible: int, ballots: tuple[str, ...], basis: str) -> str | None:
    """The outcome if quorum is met and every way the rest could vote, or not, gives the same one."""
    if not reference_quorum(in_office, eligible, ballots, basis):
        return None
    remaining = eligible - len(ballots)
    outcomes = {
        reference_forced(in_office, eligible, tuple(sorted(ballots + extra)), basis)
        for more in range(remaining + 1)
        for extra in itertools.combinations_with_replacement(CHOICES, more)
    }
    return outcomes.pop() if len(outcomes) == 1 else None


def tally_of(in_office: int, eligible: int, ballots: tuple[str, ...], basis: str) -> Tally:
    return Tally.of(eligible, ballots, in_office=in_office, basis=basis)


def every_case() -> list[tuple[int, int, tuple[str, ...], QuorumBasis]]:
    cases = []
    for in_office in range(1, 10):
        for recused in range(in_office + 1):
            eligible = in_office - recused
            for voted in range(eligible + 1):
                for ballots in itertools.combinations_with_replacement(CHOICES, voted):
                    for basis in BASES:
                        cases.append((in_office, eligible, tuple(sorted(ballots)), basis))
    return cases


CASES = every_case()


def test_the_exhaustive_cases_cover_every_board_from_one_to_nine_directors() -> None:
    assert {case[0] for case in CASES} == set(range(1, 10))
    assert any(case[1] == 0 for case in CASES)  # everyone recused
    assert len(CASES) > 10_000


def test_every_automatic_verdict_matches_the_brute_force_reference() -> None:
    mismatches = []
    for in_office, eligible, ballots, basis in CASES:
        verdict = automatic_verdict(tally_of(in_office, eligible, ballots, basis))
        got = (TIE if verdict.tied else verdict.outcome) if verdict.final else None
        expected = reference_automatic(in_office, eligible, ballots, basis)
        if got != expected:
            mismatches.append((in_office, eligible, ballots, basis, got, expected))
    assert mismatches == []


def test_every_forced_verdict_matches_the_brute_force_reference() -> None:
    mismatches = []
    for in_office, eligible, ballots, basis in CASES:
        verdict = forced_verdict(tally_of(in_office, eligible, ballots, basis))
        got = TIE if verdict.tied else verdict.outcome
        expected = reference_forced(in_office, eligible, ballots, basis)
        if got != expected or verdict.final != (got != TIE):
            mismatches.append((in_office, eligible, ballots, basis, got, expected))
    assert mismatches == []


def test_every_quorum_matches_the_reference() -> None:
    for in_office, eligible, ballots, basis in CASES:
        assert quorum_met(tally_of(in_office, eligible, ballots, basis)) == reference_quorum(
            in_office, eligible, ballots, basis
        )


# --- the cases a board talks about


def test_quorum_is_three_of_five_in_office_even_when_one_is_recused() -> None:
    tally = Tally(disinterested=4, approve=2, in_office=5)
    assert (tally.quorum, tally.base, quorum_met(tally)) == (3, 5, False)
    assert quorum_met(Tally(disinterested=4, approve=2, reject=1, in_office=5))


def test_a_special_committee_needs_a_majority_of_the_disinterested_only() -> None:
    tally = Tally(disinterested=2, approve=2, in_office=5, basis=QuorumBasis.DISINTERESTED)
    assert (tally.quorum, tally.base) == (2, 2)
    assert automatic_verdict(tally).outcome == "approved"
    # The same votes under the default basis: 2 of 5 in office is no quorum, nor can it be.
    default = Tally(disinterested=2, approve=2, in_office=5)
    verdict = automatic_verdict(default)
    assert (verdict.final, verdict.quorum_met) == (False, False)
    assert "no quorum possible" in verdict.reason
    assert forced_verdict(default).outcome == "rejected"


def test_referral_is_decided_by_a_plurality_of_refer_votes() -> None:
    verdict = automatic_verdict(Tally(disinterested=4, refer=3, abstain=1, in_office=5))
    assert (verdict.final, verdict.outcome) == (True, "referred")


def test_abstentions_count_for_quorum_but_not_in_the_plurality() -> None:
    verdict = forced_verdict(Tally(disinterested=4, approve=1, abstain=2, in_office=5))
    assert (verdict.outcome, verdict.quorum_met) == ("approved", True)


def test_a_tie_with_everyone_voted_is_final_and_decides_nothing() -> None:
    verdict = automatic_verdict(Tally(disinterested=4, approve=2, reject=2, in_office=5))
    assert (verdict.final, verdict.outcome, verdict.tied) == (True, None, ("approved", "rejected"))
    forced = forced_verdict(Tally(disinterested=4, approve=1, refer=1, abstain=1, in_office=5))
    assert (forced.final, forced.outcome, forced.tied) == (False, None, ("approved", "referred"))


def test_a_board_that_only_abstains_is_tied_three_ways() -> None:
    assert forced_verdict(Tally(disinterested=3, abstain=3)).tied == ("approved", "rejected", "referred")


def test_the_recommendation_follows_the_decision() -> None:
    assert [recommendation(o) for o in ("approved", "rejected", "referred")] == ["for", "against", "none"]


@pytest.mark.parametrize(
    "fields",
    [
        {"disinterested": 3, "refer": 2, "approve": 2},
        {"disinterested": 4, "in_office": 3},
        {"disinterested": 3, "refer": -1},
        {"disinterested": 3, "basis": "everyone"},
    ],
)
def test_a_tally_refuses_impossible_boards(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        Tally(**fields)


# --- one director at a time (hypothesis)


@st.composite
def boards(draw: Any) -> tuple[int, list[str | None], QuorumBasis]:
    """A board: directors in office, each eligible one's vote so far (None: not yet), a basis."""
    in_office = draw(st.integers(min_value=1, max_value=9))
    eligible = draw(st.integers(min_value=0, max_value=in_office))
    votes = draw(st.lists(st.sampled_from([*CHOICES, None]), min_size=eligible, max_size=eligible))
    return in_office, votes, draw(st.sampled_from(BASES))


@given(boards(), st.data())
def test_a_final_verdict_stands_whatever_the_others_do_next(board: Any, data: st.DataObject) -> None:
    in_office, votes, basis = board
    now = Tally.of(len(votes), [v for v in votes if v], in_office=in_office, basis=basis)
    verdict = automatic_verdict(now)
    later_votes = [v if v else data.draw(st.sampled_from([*CHOICES, None])) for v in votes]
    later = Tally.of(len(votes), [v for v in later_votes if v], in_office=in_office, basis=basis)
    if verdict.final and verdict.outcome:
        assert automatic_verdict(later).outcome == verdict.outcome
        assert forced_verdict(later).outcome == verdict.outcome


@given(boards())
def test_the_rule_reads_the_same_as_the_reference_director_by_director(board: Any) -> None:
    in_office, votes, basis = board
    ballots = tuple(sorted(v for v in votes if v))
    verdict = automatic_verdict(Tally.of(len(votes), ballots, in_office=in_office, basis=basis))
    got = (TIE if verdict.tied else verdict.outcome) if verdict.final else None
    assert got == reference_automatic(in_office, len(votes), ballots, basis)
