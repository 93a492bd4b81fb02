from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polls.arithmetic import largest_remainder_tenths, leaders, tenths_to_percent

counts_lists = st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=20)


def test_three_options_and_seven_ballots_give_the_leftover_tenths_to_the_largest_remainders() -> None:
    tenths = largest_remainder_tenths([3, 2, 2])
    assert [str(tenths_to_percent(t)) for t in tenths] == ["42.8", "28.6", "28.6"]
    assert sum(tenths_to_percent(t) for t in tenths) == Decimal("100.0")


def test_the_x_poll_split_rounds_to_its_published_figures() -> None:
    # 958,086 votes; 67.9% yes as X showed it.
    yes = 650_540
    tenths = largest_remainder_tenths([yes, 958_086 - yes])
    assert [str(tenths_to_percent(t)) for t in tenths] == ["67.9", "32.1"]


def test_no_votes_gives_zero_for_every_option() -> None:
    assert largest_remainder_tenths([0, 0, 0]) == [0, 0, 0]


def test_equal_remainders_go_to_the_earlier_option() -> None:
    assert largest_remainder_tenths([1, 1, 1]) == [334, 333, 333]


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        largest_remainder_tenths([1, -1])


@given(counts_lists.filter(lambda counts: sum(counts) > 0))
def test_percentages_always_sum_to_one_hundred(counts: list[int]) -> None:
    assert sum(largest_remainder_tenths(counts)) == 1000


@given(counts_lists.filter(lambda counts: sum(counts) > 0))
def test_each_percentage_is_within_a_tenth_of_the_exact_share(counts: list[int]) -> None:
    total = sum(counts)
    for count, tenths in zip(counts, largest_remainder_tenths(counts), strict=True):
        assert abs(Fraction(tenths) - Fraction(count * 1000, total)) < 1


@given(counts_lists.filter(lambda counts: sum(counts) > 0))
def test_a_larger_count_never_shows_a_smaller_percentage(counts: list[int]) -> None:
    tenths = largest_remainder_tenths(counts)
    for i, a in enumerate(counts):
        for j, b in enumerate(counts):
            if a > b:
                assert tenths[i] >= tenths[j]


def test_leaders_report_a_single_winner_a_tie_or_nobody() -> None:
    assert leaders([5, 3]) == [0]
    assert leaders([4, 4, 1]) == [0, 1]
    assert leaders([0, 0]) == []
