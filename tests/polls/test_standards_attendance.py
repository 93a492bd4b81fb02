"""The standards engine takes the meeting's attendance as an input: shares present at the
meeting make its quorum and the base of present-and-entitled, even on an item some of them
skipped (DESIGN, The shareholder's side: Attendance)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polls.standards import MAJORITY, Standard, Totals, decide, evaluate, quorum_met


def test_a_present_holder_who_skips_the_item_counts_against_under_present_and_entitled() -> None:
    # Item 2: 30 for, 20 against, 0 abstain; 40 more shares are present (they voted on item 1
    # only). Votes cast: 30/50 = 60% passes; present and entitled: 30/90 = 33.3% fails.
    totals = Totals(for_=30, against=20, abstain=0, outstanding=150, attending=90)
    assert evaluate(Standard.VOTES_CAST, MAJORITY, totals).fraction == Fraction(3, 5)
    entitled = evaluate(Standard.PRESENT_AND_ENTITLED, MAJORITY, totals)
    assert (entitled.fraction, entitled.passed) == (Fraction(1, 3), False)


def test_the_shares_present_at_the_meeting_make_the_quorum_of_an_item_with_few_votes() -> None:
    # 50 of 150 voted on this item (33%, no quorum alone), but 90 are present (60%).
    alone = Totals(for_=30, against=20, abstain=0, outstanding=150)
    present = Totals(for_=30, against=20, abstain=0, outstanding=150, attending=90)
    assert not quorum_met(alone, MAJORITY)
    assert quorum_met(present, MAJORITY)
    assert decide(Standard.VOTES_CAST, MAJORITY, present, MAJORITY).reason == "passed"


def test_attendance_below_the_items_own_votes_never_lowers_its_base() -> None:
    totals = Totals(for_=30, against=20, abstain=10, outstanding=150, attending=40)
    assert totals.entitled == 60
    assert totals.present == 60


@given(
    st.integers(0, 10**12),
    st.integers(0, 10**12),
    st.integers(0, 10**12),
    st.integers(0, 10**12),
    st.integers(0, 10**6),
)
def test_the_quorum_numerator_is_the_larger_of_the_votes_and_the_attendance_plus_broker_non_votes(
    for_: int, against: int, abstain: int, attending: int, bnv: int
) -> None:
    totals = Totals(
        for_=for_, against=against, abstain=abstain, outstanding=1, broker_non_votes=bnv, attending=attending
    )
    assert totals.present == max(for_ + against + abstain, attending) + bnv


def test_attendance_must_be_a_whole_non_negative_number_of_shares() -> None:
    with pytest.raises(ValueError, match="attending must not be negative"):
        Totals(for_=1, against=0, abstain=0, outstanding=1, attending=-1)
    with pytest.raises(TypeError):
        Totals(for_=1, against=0, abstain=0, outstanding=1, attending=True)
