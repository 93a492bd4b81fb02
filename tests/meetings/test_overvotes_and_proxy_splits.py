"""What a holder or a proxy may put on an annual-meeting ballot, found by an attacker's review:
overvotes in a contested election, a proxy's split read as the ballot API reads it, the holder
replacing their proxy's ballot, a directed proxy's whole holding, and totals against a recount."""

from __future__ import annotations

from typing import Any

import pytest

from meetings.attendance import attendance_problem
from meetings.ballot_models import BallotLine
from meetings.proxy_instructions import InstructionInvalid
from meetings.recommendations import nominee_recommendations_set
from meetings.services import proxy_appoint
from polls import services
from polls.certification import _recount_details, poll_recount
from polls.exceptions import InvalidPollData
from polls.models import Ballot, Option, Poll
from tests.factories import make_annual_item, make_item, make_meeting, make_register, make_user
from tests.meetings.conftest import Annual, appoint_proxy, cast, client_for, create_item, election, snapshot

pytestmark = pytest.mark.django_db


def test_a_plurality_ballot_for_more_nominees_than_seats_is_refused(annual: Annual) -> None:
    """One seat, two nominees: a ballot "for" both is an overvote (it would count for each)."""
    poll, ids = election(annual, standard="plurality", seats=1, names="XY")
    before = snapshot(poll)
    response = cast(annual, "alice", poll, {"votes": {str(ids["X"]): "for", str(ids["Y"]): "for"}})
    assert response.status_code == 400, response.json()
    assert snapshot(poll) == before


def test_a_nominee_split_giving_more_for_votes_than_shares_times_seats_is_refused(annual: Annual) -> None:
    """Cede holds 1,000 shares and one seat is filled: its beneficial owners can give at most
    1,000 votes for in all, not 1,000 to each nominee."""
    poll, ids = election(annual, standard="plurality", seats=1, names="XY")
    before = snapshot(poll)
    split = {str(ids["X"]): {"for": "1000"}, str(ids["Y"]): {"for": "1000"}}
    response = cast(annual, "cede", poll, {"splits": split})
    assert response.status_code == 400, response.json()
    assert snapshot(poll) == before


# ---- the proxy's one-call ballot takes raw JSON for a proposal's split ------------------------


def _proxy_ballot(annual: Annual, choices: dict[str, Any]) -> Any:
    return client_for(annual.users["proxy"]).post(
        f"/api/v1/meetings/{annual.meeting.pk}/proxy-ballot/", {"choices": choices, "holders": "all"}, format="json"
    )


def test_a_proxy_ballot_with_a_split_that_is_a_list_is_a_400_not_a_500(annual: Annual) -> None:
    item = make_item(annual.meeting)
    appoint_proxy(annual)
    response = _proxy_ballot(annual, {str(item.pk): {"split": ["for"]}})
    assert response.status_code == 400, response.content[:300]
    assert not Ballot.objects.filter(poll=item).exists()


def test_a_proxy_ballot_split_with_true_for_shares_is_refused_as_the_ballot_api_refuses_it(annual: Annual) -> None:
    item = make_item(annual.meeting)
    appoint_proxy(annual)
    holder = annual.holders["dora"].pk
    # The item's own API refuses a boolean share count ...
    direct = cast(annual, "proxy", item, {"split": {"for": True}, "holder": holder})
    assert direct.status_code == 400, direct.json()
    # ... and so does the proxy's one-call ballot, which reads a split "as on POST
    # /api/v1/polls/{id}/ballot/" (it had recorded one share for).
    response = _proxy_ballot(annual, {str(item.pk): {"split": {"for": True}}})
    assert response.status_code == 400, response.json()
    assert not Ballot.objects.filter(poll=item).exists()


def test_a_proxy_ballot_split_in_share_strings_is_taken_as_the_ballot_api_takes_it(annual: Annual) -> None:
    item = make_item(annual.meeting)
    appoint_proxy(annual)
    # The contract's split is {"for": "n", ...}, share counts as strings.
    response = _proxy_ballot(annual, {str(item.pk): {"split": {"for": "300", "against": "100"}}})
    assert response.status_code == 201, response.json()
    ballot = Ballot.objects.get(poll=item)
    assert (ballot.shares_for, ballot.shares_against) == (300, 100)


# ---- running totals against a recount after casts, changes and withdrawals ---------------------


def _drift(poll: Poll) -> list[str]:
    poll.refresh_from_db()
    return _recount_details(poll, poll_recount(poll=poll))


@pytest.mark.parametrize("form", ["majority", "plurality", "cumulative", "frequency"])
def test_running_totals_match_a_recount_after_holder_and_proxy_casts_changes_and_withdrawals(
    annual: Annual, form: str
) -> None:
    first: dict[str, Any]
    second: dict[str, Any]
    third: dict[str, Any]
    cede: dict[str, Any]
    if form == "frequency":
        poll, ids = create_item(annual, "frequency")
        a, b, c = (str(ids[label]) for label in ("1 Year", "2 Years", "Abstain"))
        first, second, third = {"option": int(a)}, {"option": int(c)}, {"splits": {a: "10", b: "20"}}
        cede = {"splits": {a: "600", c: "400"}}
    elif form == "cumulative":
        poll, ids = election(annual, standard="plurality", seats=2, cumulative=True)
        x, p, q = (str(ids[n]) for n in "XPQ")
        first, second, third = {"cumulative": {x: "60"}}, {"cumulative": {p: "30", q: "30"}}, {"cumulative": {q: "1"}}
        cede = {"cumulative": {x: "1000", p: "999"}}
    else:
        poll, ids = election(annual, standard=form, seats=2)
        x, p, q = (str(ids[n]) for n in "XPQ")
        other = "against" if form == "majority" else "withhold"
        first, second, third = {"votes": {x: "for"}}, {"votes": {x: other, p: "for"}}, {"votes": {q: other}}
        cede = {"splits": {x: {"for": "600", other: "400"}, p: {"for": "1000"}}}
    appoint_proxy(annual)
    dora = annual.holders["dora"].pk
    alice = client_for(annual.users["alice"])
    cast(annual, "alice", poll, first, 201)
    cast(annual, "cede", poll, cede, 201)
    cast(annual, "proxy", poll, {**first, "holder": dora}, 201)
    cast(annual, "proxy", poll, {**second, "holder": dora}, 200)
    cast(annual, "dora", poll, third, 200)  # the holder's own ballot replaces the proxy's
    cast(annual, "alice", poll, second, 200)
    assert alice.delete(f"/api/v1/polls/{poll.pk}/ballot/").status_code == 204
    cast(annual, "alice", poll, third, 201)
    cast(annual, "cede", poll, first, 200)
    cast(annual, "bob", poll, second, 201)
    assert client_for(annual.users["bob"]).delete(f"/api/v1/polls/{poll.pk}/ballot/").status_code == 204
    assert _drift(poll) == []
    annual.meeting.refresh_from_db()
    assert attendance_problem(annual.meeting) is None


# ---- a holder's own ballot always wins over their proxy's ------------------------------------


@pytest.mark.parametrize("form", ["proposal", "frequency"])
def test_a_holder_replaces_their_proxys_ballot_even_where_the_item_allows_no_change(annual: Annual, form: str) -> None:
    """DESIGN: "the holder's own ballot always wins"; README: "a holder's own ballot always wins
    over a proxy's, before or after it". With allow_change off, the holder who finds their proxy
    voted first is refused (409) and the proxy's ballot stands."""
    appoint_proxy(annual)
    dora = annual.holders["dora"].pk
    by_proxy: dict[str, Any]
    own: dict[str, Any]
    if form == "proposal":
        poll = make_item(annual.meeting, allow_change=False)
        by_proxy, own = {"choice": "for"}, {"choice": "against"}
    else:
        poll, ids = create_item(annual, "frequency", allow_change=False)
        by_proxy, own = {"option": ids["1 Year"]}, {"option": ids["3 Years"]}
    cast(annual, "proxy", poll, {**by_proxy, "holder": dora}, 201)
    response = cast(annual, "dora", poll, own)
    assert response.status_code == 200, response.json()
    assert Ballot.objects.get(poll=poll, holder_id=dora).voter == annual.users["dora"]


# ---- odd holder ids in the query string --------------------------------------------------------


@pytest.mark.parametrize("raw", ["99999999999999999999999", "-5", "\u0663", " 4 "])
def test_an_odd_holder_id_in_the_query_string_is_a_clear_answer_not_a_500(annual: Annual, raw: str) -> None:
    poll, ids = create_item(annual, "frequency")
    cast(annual, "alice", poll, {"option": ids["1 Year"]}, 201)
    client = client_for(annual.users["alice"])
    got = client.get(f"/api/v1/polls/{poll.pk}/ballot/", {"holder": raw})
    assert got.status_code in (400, 403, 404), got.content[:200]
    gone = client.delete(f"/api/v1/polls/{poll.pk}/ballot/?holder={raw}")
    assert gone.status_code in (400, 403, 404), gone.content[:200]


# ---- cumulative votes past a bigint ----------------------------------------------------------


def test_cumulative_votes_beyond_a_64_bit_column_are_a_400_not_a_500() -> None:
    """A register may have up to 10**18 - 1 shares and an election up to 50 seats, so shares x
    seats passes 2**63 - 1: a 19-digit cumulative vote within that limit would overflow the
    bigint BallotLine.shares and Option.weight columns (a 500 on SQLite)."""
    big = 10**18 - 1
    whale = make_user(username="whale", email="whale@example.com")
    register = make_register([("H-W", "Whale", "whale@example.com", big)], outstanding=big)
    meeting = make_meeting(register)
    poll = make_annual_item(
        meeting,
        "election",
        nominees=["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"],
        seats=10,
        election_standard="plurality",
        cumulative=True,
    )
    nominee = Option.objects.filter(poll=poll).order_by("position").first()
    assert nominee is not None
    response = client_for(whale).post(
        f"/api/v1/polls/{poll.pk}/ballot/", {"cumulative": {str(nominee.pk): "9223372036854775808"}}, format="json"
    )
    assert response.status_code == 400, response.content[:300]


# ---- a directed proxy voting a sliver of the holder's shares ---------------------------------


def test_a_proxy_directed_for_cannot_vote_one_share_for_and_leave_the_rest_unvoted(annual: Annual) -> None:
    """Dora (400 shares) tells her proxy to vote for. One share for, the rest unvoted, would leave
    399 of her shares present at the meeting and counting against the item under
    present-and-entitled: not what she instructed."""
    item = make_item(annual.meeting, standard="present_and_entitled")
    proxy_appoint(
        meeting=annual.meeting,
        holder=annual.holders["dora"],
        proxy=annual.users["proxy"],
        actor=annual.users["dora"],
        instructions={str(item.pk): "for"},
        discretionary=False,
    )
    dora = annual.holders["dora"].pk
    response = cast(annual, "proxy", item, {"split": {"for": "1"}, "holder": dora})
    assert response.status_code == 409, response.json()
    assert not Ballot.objects.filter(poll=item).exists()
    # Her whole holding for, as a split, follows the instruction.
    cast(annual, "proxy", item, {"split": {"for": "400"}, "holder": dora}, 201)
    assert Ballot.objects.get(poll=item).shares_for == 400


# ---- an empty split is the caller's mistake, not ineligibility --------------------------------


def test_a_split_of_zero_shares_on_a_proposal_is_a_400_like_on_the_other_forms(annual: Annual) -> None:
    item = make_item(annual.meeting)
    poll, ids = create_item(annual, "frequency")
    lines = cast(annual, "alice", poll, {"splits": {str(ids["1 Year"]): "0"}})
    assert lines.status_code == 400, lines.json()
    proposal = cast(annual, "alice", item, {"split": {"for": "0"}})
    # Not 403 "That holder has no shares to vote at the record date.": alice holds 30.
    assert proposal.status_code == 400, proposal.json()
    assert "gives no shares" in proposal.json()["detail"]


# ---- unknown keys in an item's part of a meeting ballot ---------------------------------------


@pytest.mark.parametrize("extra", [{"choise": "against"}, {"holder": 1}, {"": 0}])
def test_a_proxy_ballot_naming_an_unknown_key_for_an_item_is_refused_naming_it(
    annual: Annual, extra: dict[str, Any]
) -> None:
    """The item's own API refuses keys it does not know; the proxy's one-call ballot dropped them
    and took the rest ({"choice": "for", "choise": "against"} voted for)."""
    item = make_item(annual.meeting)
    poll, ids = election(annual, standard="majority", seats=2)
    appoint_proxy(annual)
    for choices in ({"choice": "for", **extra}, {"votes": {str(ids["X"]): "for"}, **extra}):
        target = item if "choice" in choices else poll
        response = _proxy_ballot(annual, {str(target.pk): choices})
        assert response.status_code == 400, response.json()
        assert "Unknown keys" in response.json()["detail"]
        assert next(iter(extra)) in response.json()["detail"]
    assert not Ballot.objects.filter(poll__in=[item, poll]).exists()


# ---- a directed proxy in a contested plurality election -----------------------------------------


def _draft_election(annual: Annual, standard: str) -> tuple[Poll, list[int]]:
    """Three nominees for two seats, drafted: the board recommends before voting begins."""
    poll = make_annual_item(
        annual.meeting, "election", nominees=["X", "P", "Q"], seats=2, election_standard=standard, status="draft"
    )
    return poll, list(Option.objects.filter(poll=poll).order_by("position").values_list("pk", flat=True))


def test_an_instruction_for_every_nominee_of_a_contested_plurality_election_is_refused(annual: Annual) -> None:
    """For all three of three nominees for two seats would be an overvote, and the proxy's whole
    one-call ballot, for every holder, refused: the appointment says so instead."""
    poll, (x, p, q) = _draft_election(annual, "plurality")
    services.poll_open(poll=poll)
    with pytest.raises(InstructionInvalid, match="elects fewer directors than it has nominees"):
        appoint_directed(annual, poll, "for")
    # With the board's recommendation, the proxy votes the board's slate.
    slate, (x, p, q) = _draft_election(annual, "plurality")
    nominee_recommendations_set(poll=slate, recommendations={x: "for", p: "for", q: "withhold"}, actor=None)
    services.poll_open(poll=slate)
    appoint_directed(annual, slate, "recommendation")
    response = _proxy_ballot(annual, {})
    assert response.status_code == 201, response.json()
    lines = BallotLine.objects.filter(ballot__poll=slate).values_list("option_id", "choice")
    assert sorted(lines) == sorted([(x, "for"), (p, "for"), (q, "withhold")])


def appoint_directed(annual: Annual, poll: Poll, instruction: str) -> None:
    proxy_appoint(
        meeting=annual.meeting,
        holder=annual.holders["dora"],
        proxy=annual.users["proxy"],
        actor=annual.users["dora"],
        instructions={str(poll.pk): instruction},
        discretionary=False,
    )


def test_the_board_may_not_recommend_for_more_nominees_than_seats_under_plurality(annual: Annual) -> None:
    poll, ids = _draft_election(annual, "plurality")
    with pytest.raises(InvalidPollData, match="at most 2 nominees"):
        nominee_recommendations_set(poll=poll, recommendations=dict.fromkeys(ids, "for"), actor=None)
    # Majority voting is a for-or-against on each nominee: the board may recommend for all.
    majority, ids = _draft_election(annual, "majority")
    nominee_recommendations_set(poll=majority, recommendations=dict.fromkeys(ids, "for"), actor=None)


# ---- results shown after voting, to a holder whose proxy voted ----------------------------------


def test_a_holder_whose_proxy_voted_sees_results_shown_to_those_who_voted(annual: Annual) -> None:
    item = make_item(annual.meeting, results_visibility="after_vote")
    appoint_proxy(annual)
    dora = client_for(annual.users["dora"])
    assert dora.get(f"/api/v1/polls/{item.pk}/results/").status_code == 403
    cast(annual, "proxy", item, {"choice": "for", "holder": annual.holders["dora"].pk}, 201)
    assert dora.get(f"/api/v1/polls/{item.pk}/results/").status_code == 200
    # Someone whose holding nobody voted still waits.
    assert client_for(annual.users["alice"]).get(f"/api/v1/polls/{item.pk}/results/").status_code == 403
