"""The annual meeting's ballot rules (meetings/ballot_rules.py), as pure functions: running totals
moved by line_deltas always equal a recount of the final lines, the outcomes on hand-worked
cases, and every payload a ballot may not carry refused with the field that is wrong (issue 14)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meetings.ballot_rules import (
    ElectionStandard,
    LineChoice,
    LineProblem,
    NomineeFigures,
    ballot_lines,
    ballot_weight,
    election_results,
    line_deltas,
    plurality_of_options,
)
from polls.standards import Threshold

Line = tuple[int, str]

NOMINEES = frozenset({11, 12, 13, 14})
OPTIONS = frozenset({21, 22, 23, 24})
ABSTAIN_OPTION = 24

# form name -> (ids, standard, cumulative, seats)
FORMS: dict[str, tuple[frozenset[int], ElectionStandard | None, bool, int]] = {
    "majority": (NOMINEES, ElectionStandard.MAJORITY, False, 2),
    "plurality": (NOMINEES, ElectionStandard.PLURALITY, False, 2),
    "cumulative": (NOMINEES, ElectionStandard.PLURALITY, True, 3),
    "frequency": (OPTIONS, None, False, 1),
    "choice": (OPTIONS, None, False, 1),
}


def lines_of(form: str, payload: Mapping[str, object], shares: int) -> dict[Line, int]:
    ids, standard, cumulative, seats = FORMS[form]
    return ballot_lines(payload=payload, ids=ids, shares=shares, standard=standard, seats=seats, cumulative=cumulative)


def number(draw: Any, n: int) -> object:
    """A whole number as a client may send it: an int or its digits."""
    return draw(st.sampled_from([n, str(n)]))


def bounded_amounts(draw: Any, count: int, limit: int) -> list[int]:
    """`count` non-negative amounts adding up to at most `limit`."""
    amounts = []
    left = limit
    for _ in range(count):
        n = draw(st.integers(min_value=0, max_value=left))
        amounts.append(n)
        left -= n
    return amounts


@st.composite
def payloads(draw: Any, form: str, shares: int) -> dict[str, object]:
    ids, standard, cumulative, seats = FORMS[form]
    targets = draw(st.lists(st.sampled_from(sorted(ids)), min_size=1, max_size=len(ids), unique=True))
    if cumulative:
        amounts = bounded_amounts(draw, len(targets), shares * seats)
        return {"cumulative": {str(t): number(draw, n) for t, n in zip(targets, amounts, strict=True)}}
    if standard is None:
        if draw(st.booleans()):
            return {"option": draw(st.sampled_from([targets[0], str(targets[0])]))}
        amounts = bounded_amounts(draw, len(targets), shares)
        return {"splits": {str(t): number(draw, n) for t, n in zip(targets, amounts, strict=True)}}
    choices = [c.value for c in _allowed(standard)]
    # Under plurality voting at most `seats` nominees get each share's vote for (an overvote is
    # refused: test_an_overvote_under_plurality_is_refused_naming_the_seats).
    plurality = standard == ElectionStandard.PLURALITY
    if draw(st.booleans()):
        votes = {str(t): draw(st.sampled_from(choices)) for t in targets}
        if plurality:
            votes.update(dict.fromkeys([t for t, c in votes.items() if c == "for"][seats:], "withhold"))
        return {"votes": votes}
    splits: dict[str, dict[str, object]] = {}
    budget = shares * seats
    for t in targets:
        picked = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=len(choices), unique=True))
        amounts = bounded_amounts(draw, len(picked), shares)
        if plurality and "for" in picked:
            amounts[picked.index("for")] = min(amounts[picked.index("for")], budget)
            budget -= amounts[picked.index("for")]
        splits[str(t)] = {c: number(draw, n) for c, n in zip(picked, amounts, strict=True)}
    return {"splits": splits}


def _allowed(standard: ElectionStandard) -> tuple[LineChoice, ...]:
    if standard == ElectionStandard.MAJORITY:
        return (LineChoice.FOR, LineChoice.AGAINST, LineChoice.ABSTAIN)
    return (LineChoice.FOR, LineChoice.WITHHOLD)


def recount(ballots: Mapping[int, Mapping[Line, int]]) -> dict[Line, tuple[int, int]]:
    totals: dict[Line, tuple[int, int]] = {}
    for lines in ballots.values():
        for line, n in lines.items():
            b, s = totals.get(line, (0, 0))
            totals[line] = (b + 1, s + n)
    return totals


HOLDERS = {1: 1, 2: 30, 3: 70, 4: 7_123_000_000}


@pytest.mark.parametrize("form", sorted(FORMS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_running_totals_moved_by_line_deltas_equal_a_recount_of_the_final_lines(form: str, data: Any) -> None:
    ids, standard, cumulative, seats = FORMS[form]
    running: dict[Line, tuple[int, int]] = {}
    weight_running = 0
    ballots: dict[int, dict[Line, int]] = {}
    weights: dict[int, int] = {}
    steps = data.draw(st.integers(min_value=1, max_value=25))
    for _ in range(steps):
        holder = data.draw(st.sampled_from(sorted(HOLDERS)))
        shares = HOLDERS[holder]
        old = ballots.get(holder, {})
        if old and data.draw(st.integers(min_value=0, max_value=4)) == 0:
            new: dict[Line, int] = {}  # a withdrawal
        else:
            new = lines_of(form, data.draw(payloads(form, shares)), shares)
            if not new:
                continue  # a ballot of nothing but zeros is refused by the service
        # every line is positive, names a known target and an allowed choice
        assert all(n > 0 for n in new.values())
        assert {target for target, _c in new} <= ids
        for (target, _choice), n in new.items():
            assert n <= (shares * seats if cumulative else shares), (target, n)
        for line, (d_ballots, d_shares) in line_deltas(old, new).items():
            b, s = running.get(line, (0, 0))
            running[line] = (b + d_ballots, s + d_shares)
        weight = ballot_weight(new, standard=standard, cumulative=cumulative, shares=shares)
        weight_running += weight - weights.get(holder, 0)
        if new:
            ballots[holder], weights[holder] = new, weight
        else:
            ballots.pop(holder, None)
            weights.pop(holder, None)
    assert {line: t for line, t in running.items() if t != (0, 0)} == recount(ballots)
    assert all(b >= 0 and s >= 0 for b, s in running.values())
    assert weight_running == sum(weights.values())
    assert all(0 < w <= HOLDERS[h] for h, w in weights.items())


def test_line_deltas_leave_unchanged_lines_out_and_count_a_ballot_once_per_line() -> None:
    old = {(11, "for"): 10, (12, "against"): 10}
    new = {(11, "for"): 10, (12, "against"): 4, (13, "abstain"): 10}
    assert line_deltas(old, new) == {(12, "against"): (0, -6), (13, "abstain"): (1, 10)}
    assert line_deltas(new, {}) == {(11, "for"): (-1, -10), (12, "against"): (-1, -4), (13, "abstain"): (-1, -10)}


# ---- outcomes, worked by hand -------------------------------------------------------------


def by_id(results: list[Any]) -> dict[int, tuple[str, bool, Decimal | None]]:
    return {r.id: (r.status, r.elected, r.percent) for r in results}


def test_majority_elects_each_nominee_with_more_for_than_against_abstentions_aside() -> None:
    figures = [
        NomineeFigures(id=1, for_=60, against=40, abstain=0),
        NomineeFigures(id=2, for_=40, against=60, abstain=0),
        NomineeFigures(id=3, for_=50, against=50, abstain=900),  # a tie fails: for must exceed against
        NomineeFigures(id=4, for_=10, against=0, abstain=1_000),
        NomineeFigures(id=5, for_=0, against=0, abstain=5),
    ]
    results = election_results(figures, standard=ElectionStandard.MAJORITY, seats=2)
    assert [r.id for r in results] == [1, 2, 3, 4, 5]
    assert by_id(results) == {
        1: ("elected", True, Decimal("60.0")),
        2: ("resignation_tendered", False, Decimal("40.0")),
        3: ("resignation_tendered", False, Decimal("50.0")),
        4: ("elected", True, Decimal("100.0")),
        5: ("resignation_tendered", False, None),
    }


def test_plurality_fills_the_seats_by_votes_for_and_marks_a_tie_at_the_last_seat() -> None:
    figures = [
        NomineeFigures(id=1, for_=100, against=5, abstain=0),
        NomineeFigures(id=2, for_=80, against=0, abstain=0),
        NomineeFigures(id=3, for_=80, against=80, abstain=0),
        NomineeFigures(id=4, for_=10, against=0, abstain=0),
    ]
    two = by_id(election_results(figures, standard=ElectionStandard.PLURALITY, seats=2))
    assert {k: v[0] for k, v in two.items()} == {1: "elected", 2: "tied", 3: "tied", 4: "not_elected"}
    assert two[3][2] == Decimal("50.0")  # for as a share of for + withheld
    three = by_id(election_results(figures, standard=ElectionStandard.PLURALITY, seats=3))
    assert {k: v[0] for k, v in three.items()} == {1: "elected", 2: "elected", 3: "elected", 4: "not_elected"}
    one = by_id(election_results(figures, standard=ElectionStandard.PLURALITY, seats=1))
    assert {k: v[0] for k, v in one.items()} == {1: "elected", 2: "not_elected", 3: "not_elected", 4: "not_elected"}
    # Withheld votes never defeat a plurality nominee: they only show dissent.
    dissent = [
        NomineeFigures(id=1, for_=1, against=1_000_000, abstain=0),
        NomineeFigures(id=2, for_=0, against=0, abstain=0),
    ]
    assert by_id(election_results(dissent, standard=ElectionStandard.PLURALITY, seats=1))[1][:2] == ("elected", True)


def test_plurality_with_fewer_nominees_voted_than_seats_elects_no_one_without_votes() -> None:
    figures = [NomineeFigures(id=i, for_=v, against=0, abstain=0) for i, v in ((1, 10), (2, 0), (3, 0))]
    results = by_id(election_results(figures, standard=ElectionStandard.PLURALITY, seats=2))
    assert {k: v[0] for k, v in results.items()} == {1: "elected", 2: "not_elected", 3: "not_elected"}
    nobody = by_id(election_results(figures[1:], standard=ElectionStandard.PLURALITY, seats=1))
    assert {k: v[0] for k, v in nobody.items()} == {2: "not_elected", 3: "not_elected"}


@pytest.mark.parametrize(
    ("spread", "expected"),
    [
        # 70 shares x 3 seats = 210 votes over three nominees: the 30% holder's 90 still win a seat.
        ((80, 70, 60), {"X": "elected", "P": "elected", "Q": "elected", "R": "not_elected"}),
        ((70, 70, 70), {"X": "elected", "P": "tied", "Q": "tied", "R": "tied"}),
    ],
)
def test_cumulative_voting_lets_a_30_percent_holder_elect_one_of_three(
    spread: tuple[int, int, int], expected: dict[str, str]
) -> None:
    ids = {"X": 11, "P": 12, "Q": 13, "R": 14}
    minority = lines_of("cumulative", {"cumulative": {"11": "90"}}, 30)
    assert minority == {(11, "for"): 90}
    majority = lines_of("cumulative", {"cumulative": {"12": spread[0], "13": spread[1], "14": spread[2]}}, 70)
    running: dict[Line, tuple[int, int]] = {}
    for lines in (minority, majority):
        for line, (b, s) in line_deltas({}, lines).items():
            running[line] = (running.get(line, (0, 0))[0] + b, running.get(line, (0, 0))[1] + s)
    figures = [
        NomineeFigures(id=i, for_=running.get((i, "for"), (0, 0))[1], against=0, abstain=0) for i in ids.values()
    ]
    results = by_id(election_results(figures, standard=ElectionStandard.PLURALITY, seats=3))
    assert {name: results[i][0] for name, i in ids.items()} == expected
    # Each holder's ballot speaks for its shares, not its votes.
    assert ballot_weight(minority, standard=ElectionStandard.PLURALITY, cumulative=True, shares=30) == 30
    assert ballot_weight(majority, standard=ElectionStandard.PLURALITY, cumulative=True, shares=70) == 70
    with pytest.raises(LineProblem) as over:
        lines_of("cumulative", {"cumulative": {"11": "91"}}, 30)
    assert (over.value.field, over.value.code) == ("cumulative", "over_limit")
    assert over.value.values == {"given": 91, "limit": 90}


def test_plurality_of_options_leaves_abstentions_out_and_applies_a_threshold() -> None:
    votes = {21: 500, 22: 300, 23: 100, ABSTAIN_OPTION: 2_000}
    win = plurality_of_options(votes, abstain=ABSTAIN_OPTION)
    assert (win.winner, win.tied, win.percent, win.threshold_met) == (21, (), Decimal("55.6"), None)
    half = plurality_of_options(votes, abstain=ABSTAIN_OPTION, threshold=Threshold.parse("1/2", ">"))
    assert (half.winner, half.threshold_met) == (21, True)
    two_thirds = plurality_of_options(votes, abstain=ABSTAIN_OPTION, threshold=Threshold.parse("2/3", ">"))
    assert (two_thirds.winner, two_thirds.threshold_met, two_thirds.percent) == (None, False, Decimal("55.6"))
    # Abstentions, counted as votes, would have let the abstain option "win".
    assert plurality_of_options(votes).winner == ABSTAIN_OPTION


def test_plurality_of_options_exactly_at_the_threshold_depends_on_the_comparator() -> None:
    votes = {21: 50, 22: 30, 23: 20}
    assert plurality_of_options(votes, threshold=Threshold.parse("1/2", ">")).winner is None
    at_least = plurality_of_options(votes, threshold=Threshold.parse("1/2", ">="))
    assert (at_least.winner, at_least.threshold_met, at_least.percent) == (21, True, Decimal("50.0"))


def test_plurality_of_options_has_no_winner_on_a_tie_or_without_votes_cast() -> None:
    tie = plurality_of_options({21: 300, 22: 300, 23: 1})
    assert (tie.winner, tie.tied) == (None, (21, 22))
    only_abstain = plurality_of_options(
        {21: 0, ABSTAIN_OPTION: 100}, abstain=ABSTAIN_OPTION, threshold=Threshold.parse("1/2")
    )
    assert (only_abstain.winner, only_abstain.tied, only_abstain.percent, only_abstain.threshold_met) == (
        None,
        (),
        None,
        None,
    )
    assert plurality_of_options({}).winner is None


# ---- refusals ------------------------------------------------------------------------------


def refusal(form: str, payload: Any, shares: int = 100) -> tuple[str, str]:
    with pytest.raises(LineProblem) as problem:
        lines_of(form, payload, shares)
    return problem.value.field, problem.value.code


@pytest.mark.parametrize(
    ("form", "payload", "expected"),
    [
        ("majority", {"votes": {"99": "for"}}, ("votes", "unknown_id")),
        ("majority", {"votes": {"21": "for"}}, ("votes", "unknown_id")),  # an option of another item
        ("majority", {"votes": {"abc": "for"}}, ("votes", "unknown_id")),
        ("majority", {"votes": {"-11": "for"}}, ("votes", "unknown_id")),
        ("majority", {"votes": {"\u0661\u0661": "for"}}, ("votes", "unknown_id")),
        ("majority", {"splits": {"99": {"for": "1"}}}, ("splits", "unknown_id")),
        ("cumulative", {"cumulative": {"99": "1"}}, ("cumulative", "unknown_id")),
        ("frequency", {"option": 99}, ("option", "unknown_id")),
        ("frequency", {"option": "11"}, ("option", "unknown_id")),
        ("frequency", {"option": True}, ("option", "unknown_id")),
        ("frequency", {"option": 21.0}, ("option", "unknown_id")),
        ("choice", {"splits": {"99": "1"}}, ("splits", "unknown_id")),
        ("majority", {"votes": {"11": "withhold"}}, ("votes.11", "choice")),
        ("majority", {"splits": {"11": {"withhold": "5"}}}, ("splits.11", "choice")),
        ("plurality", {"votes": {"11": "against"}}, ("votes.11", "choice")),
        ("plurality", {"votes": {"11": "abstain"}}, ("votes.11", "choice")),
        ("plurality", {"splits": {"11": {"against": "5"}}}, ("splits.11", "choice")),
        ("majority", {"votes": {"11": "FOR"}}, ("votes.11", "choice")),
        ("majority", {"votes": {"11": None}}, ("votes.11", "choice")),
        ("majority", {"votes": {"11": ["for"]}}, ("votes.11", "choice")),
        ("cumulative", {"cumulative": {"11": "250", "12": "51"}}, ("cumulative", "over_limit")),
        ("cumulative", {"cumulative": {"11": 301}}, ("cumulative", "over_limit")),
        ("frequency", {"splits": {"21": "60", "22": "41"}}, ("splits", "over_limit")),
        ("choice", {"splits": {"21": "101"}}, ("splits", "over_limit")),
        ("majority", {"splits": {"11": {"for": "60", "against": "41"}}}, ("splits.11", "over_limit")),
        ("plurality", {"splits": {"11": {"for": "100", "withhold": "1"}}}, ("splits.11", "over_limit")),
        ("majority", {"votes": {}}, ("votes", "empty")),
        ("majority", {"splits": {}}, ("splits", "empty")),
        ("majority", {"splits": {"11": {}}}, ("splits.11", "empty")),
        ("majority", {"splits": {"11": "100"}}, ("splits.11", "empty")),
        ("cumulative", {"cumulative": {}}, ("cumulative", "empty")),
        ("frequency", {"splits": {}}, ("splits", "empty")),
        ("majority", {"votes": ["11"]}, ("votes", "empty")),
        ("majority", {"votes": "11"}, ("votes", "empty")),
        ("majority", {}, ("ballot", "one_of")),
        ("majority", {"votes": {"11": "for"}, "splits": {"11": {"for": "1"}}}, ("ballot", "one_of")),
        ("frequency", {"option": 21, "splits": {"21": "1"}}, ("ballot", "one_of")),
        ("majority", {"cumulative": {"11": "1"}}, ("ballot", "one_of")),
        ("majority", {"option": 11}, ("ballot", "one_of")),
        ("cumulative", {"votes": {"11": "for"}}, ("ballot", "one_of")),
        ("cumulative", {"splits": {"11": {"for": "1"}}}, ("ballot", "one_of")),
        ("frequency", {"votes": {"21": "for"}}, ("ballot", "one_of")),
        ("frequency", {"cumulative": {"21": "1"}}, ("ballot", "one_of")),
    ],
)
def test_a_payload_a_ballot_may_not_carry_is_refused_naming_the_field(
    form: str, payload: Any, expected: tuple[str, str]
) -> None:
    assert refusal(form, payload) == expected


@pytest.mark.parametrize(
    "value",
    [
        "1.5",
        1.5,
        True,
        False,
        "\u0661\u0662",
        "",
        "-1",
        -1,
        "1e3",
        "0x10",
        None,
        [5],
        {"n": 5},
        "+5",
        "5 5",
        "\uff11\uff12",
    ],
)
@pytest.mark.parametrize(
    ("form", "wrap"),
    [
        ("cumulative", lambda v: ({"cumulative": {"11": v}}, "cumulative.11")),
        ("frequency", lambda v: ({"splits": {"21": v}}, "splits.21")),
        ("majority", lambda v: ({"splits": {"11": {"for": v}}}, "splits.11.for")),
    ],
)
def test_a_number_that_is_not_whole_and_non_negative_is_refused(form: str, wrap: Any, value: object) -> None:
    payload, field = wrap(value)
    assert refusal(form, payload) == (field, "not_whole")


def test_a_number_longer_than_a_bigint_is_refused_as_not_whole_not_overflowed() -> None:
    assert refusal("cumulative", {"cumulative": {"11": 10**30}}) == ("cumulative.11", "not_whole")
    assert refusal("frequency", {"splits": {"21": str(10**30)}}) == ("splits.21", "not_whole")


def test_a_number_padded_with_spaces_reads_as_the_number() -> None:
    # The API's CharField trims too; " 5" is 5, not a different line.
    assert lines_of("cumulative", {"cumulative": {"11": " 5"}}, 100) == {(11, "for"): 5}


def test_zero_lines_are_dropped_and_a_whole_option_ballot_gives_all_the_shares() -> None:
    assert lines_of("cumulative", {"cumulative": {"11": "0", "12": "3"}}, 100) == {(12, "for"): 3}
    assert lines_of("majority", {"splits": {"11": {"for": "0"}}}, 100) == {}
    assert lines_of("frequency", {"option": 22}, 7_123) == {(22, "for"): 7_123}
    assert lines_of("majority", {"votes": {"11": "for", "12": "against", "13": "abstain"}}, 9) == {
        (11, "for"): 9,
        (12, "against"): 9,
        (13, "abstain"): 9,
    }


def test_one_nominee_named_twice_under_different_spellings_is_refused() -> None:
    with pytest.raises(LineProblem):
        lines_of("majority", {"votes": {"11": "for", "011": "against"}}, 100)


def test_a_split_over_aliased_keys_cannot_exceed_the_holding() -> None:
    with pytest.raises(LineProblem):
        lines_of("majority", {"splits": {"11": {"for": "100"}, "011": {"against": "100"}}}, 100)


def test_a_split_over_options_speaks_for_all_the_shares_it_gives() -> None:
    lines = lines_of("frequency", {"splits": {"21": "30", "22": "40"}}, 100)
    assert ballot_weight(lines, standard=None, cumulative=False, shares=100) == 70


def test_a_ballot_weight_is_never_more_than_the_holding() -> None:
    lines = lines_of("majority", {"splits": {"11": {"for": "60", "against": "40"}, "12": {"abstain": "100"}}}, 100)
    assert ballot_weight(lines, standard=ElectionStandard.MAJORITY, cumulative=False, shares=100) == 100
    assert ballot_weight({}, standard=None, cumulative=False, shares=100) == 0


def test_an_overvote_under_plurality_is_refused_naming_the_seats() -> None:
    ids, _standard, _cumulative, seats = FORMS["plurality"]
    three = {str(nominee): "for" for nominee in sorted(ids)[:3]}
    with pytest.raises(LineProblem) as refused:
        lines_of("plurality", {"votes": three}, 100)
    assert (refused.value.field, refused.value.code, refused.value.values) == (
        "votes",
        "over_seats",
        {"given": 3, "limit": seats},
    )
    # A nominee holder's split: each beneficial owner votes for at most `seats` nominees.
    split = {str(nominee): {"for": "100"} for nominee in sorted(ids)[:3]}
    with pytest.raises(LineProblem) as refused:
        lines_of("plurality", {"splits": split}, 100)
    assert refused.value.values == {"given": 300, "limit": 200}
    # Majority voting is a for-or-against on each nominee: any number may be voted for.
    assert len(lines_of("majority", {"votes": three}, 100)) == 3
