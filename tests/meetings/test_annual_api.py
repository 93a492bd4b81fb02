"""Election, frequency and choice items through the API (issue 14): the secretary creates and
opens them, holders vote their shares (by themselves, by proxy, a nominee holder by split),
change and withdraw, and results/ gives the numbers worked out by hand; who may not vote is
refused; the schema names the new fields. Bad input: test_annual_api_input.py."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from meetings.attendance import attendance_check_in
from meetings.ballot_models import BallotLine, ItemTerms
from meetings.services import proxy_appoint
from polls.models import Ballot
from tests.meetings.conftest import (
    Annual,
    appoint_proxy,
    cast,
    client_for,
    create_item,
    election,
    nominees,
    options,
    results,
    snapshot,
)

pytestmark = pytest.mark.django_db


# ---- each form, worked by hand --------------------------------------------------------------


def test_a_majority_election_with_a_nominee_split_a_proxy_a_change_and_a_withdrawal(annual: Annual) -> None:
    poll, ids = election(annual, standard="majority", seats=2)
    x, p, q = (str(ids[name]) for name in "XPQ")
    cast(annual, "alice", poll, {"votes": {x: "for", p: "against", q: "abstain"}}, 201)
    cast(annual, "bob", poll, {"votes": {x: "against", p: "for"}}, 201)  # Q left unvoted: allowed
    split = {x: {"for": "600", "against": "300", "abstain": "100"}, p: {"for": "1000"}}
    cast(annual, "cede", poll, {"splits": split}, 201)
    appoint_proxy(annual)
    by_proxy = cast(annual, "proxy", poll, {"votes": {q: "against"}, "holder": annual.holders["dora"].pk}, 201)
    assert by_proxy.json()["voter"] == "proxy" and by_proxy.json()["holder"] == annual.holders["dora"].pk
    assert Ballot.objects.get(poll=poll, holder=annual.holders["dora"]).voter == annual.users["proxy"]

    body = results(poll)
    assert body["form"] == "election"
    assert body["election"] == {"standard": "majority", "seats": 2, "cumulative": False}
    assert nominees(body) == {
        "X": ("630", "370", None, "100", "63.0", True, "elected"),
        "P": ("1070", "30", None, "0", "97.3", True, "elected"),
        "Q": ("0", "400", None, "30", "0.0", False, "resignation_tendered"),
    }
    assert body["total_ballots"] == 4
    assert body["quorum"]["present"] == "1500"  # 30 + 70 + 1,000 + 400: each ballot once, at most its shares
    assert body["quorum"]["met"] is True

    changed = cast(annual, "bob", poll, {"votes": {x: "for", p: "for", q: "for"}}, 200)
    assert changed.json()["weight"] == "70"
    assert nominees(results(poll))["Q"] == ("70", "400", None, "30", "14.9", False, "resignation_tendered")

    withdrawn = client_for(annual.users["alice"]).delete(f"/api/v1/polls/{poll.pk}/ballot/")
    assert withdrawn.status_code == 204
    body = results(poll)
    assert nominees(body) == {
        "X": ("670", "300", None, "100", "69.1", True, "elected"),
        "P": ("1070", "0", None, "0", "100.0", True, "elected"),
        "Q": ("70", "400", None, "0", "14.9", False, "resignation_tendered"),
    }
    assert body["total_ballots"] == 3
    # The item's ballots now speak for 1,470 shares (alice stays present at the meeting).
    assert ItemTerms.objects.get(poll=poll).shares_voted == 1_470
    assert options(body)["X"] == (2, "670")  # bob and cede give X shares for
    assert not BallotLine.objects.filter(ballot__holder=annual.holders["alice"]).exists()

    # The proxy changes and withdraws the holder's ballot too.
    holder = annual.holders["dora"].pk
    cast(annual, "proxy", poll, {"votes": {q: "for"}, "holder": holder}, 200)
    assert nominees(results(poll))["Q"][:2] == ("470", "0")
    gone = client_for(annual.users["proxy"]).delete(f"/api/v1/polls/{poll.pk}/ballot/?holder={holder}")
    assert gone.status_code == 204
    assert nominees(results(poll))["Q"][:2] == ("70", "0")
    assert ItemTerms.objects.get(poll=poll).shares_voted == 1_070


def test_a_plurality_election_reports_withheld_votes_and_a_tie_at_the_last_seat(annual: Annual) -> None:
    poll, ids = election(annual, standard="plurality", seats=2)
    x, p, q = (str(ids[name]) for name in "XPQ")
    cast(annual, "alice", poll, {"votes": {x: "for"}}, 201)
    cast(annual, "bob", poll, {"votes": {p: "for", q: "withhold"}}, 201)
    cast(
        annual,
        "cede",
        poll,
        {"splits": {x: {"for": "400", "withhold": "600"}, p: {"for": "360"}, q: {"for": "430"}}},
        201,
    )
    appoint_proxy(annual)
    cast(annual, "proxy", poll, {"votes": {q: "for"}, "holder": annual.holders["dora"].pk}, 201)
    body = results(poll)
    assert body["election"] == {"standard": "plurality", "seats": 2, "cumulative": False}
    assert nominees(body) == {
        "X": ("430", None, "600", None, "41.7", False, "tied"),
        "P": ("430", None, "0", None, "100.0", False, "tied"),
        "Q": ("830", None, "70", None, "92.2", True, "elected"),
    }
    cast(annual, "bob", poll, {"votes": {p: "withhold", q: "withhold"}}, 200)
    assert {name: row[6] for name, row in nominees(results(poll)).items()} == {
        "X": "elected",
        "P": "not_elected",
        "Q": "elected",
    }


def test_a_cumulative_election_lets_a_30_percent_holder_elect_one_of_three(annual: Annual) -> None:
    poll, ids = election(annual, standard="plurality", seats=3, names="XPQR", cumulative=True)
    x, p, q, r = (str(ids[name]) for name in "XPQR")
    over = cast(annual, "alice", poll, {"cumulative": {x: "91"}}, 400)
    assert "cumulative" in over.json()["detail"] and "90" in over.json()["detail"]
    cast(annual, "alice", poll, {"cumulative": {x: "90"}}, 201)  # 30 shares x 3 seats
    cast(annual, "bob", poll, {"cumulative": {p: "80", q: "70", r: "60"}}, 201)  # 70 x 3 = 210
    body = results(poll)
    assert body["election"] == {"standard": "plurality", "seats": 3, "cumulative": True}
    assert body["quorum"]["present"] == "100"  # shares, not votes
    # 100 of 2,000 shares are no quorum: the votes are counted, they elect nobody.
    assert {name: (row[0], row[6]) for name, row in nominees(body).items()} == {
        "X": ("90", "no_quorum"),
        "P": ("80", "no_quorum"),
        "Q": ("70", "no_quorum"),
        "R": ("60", "no_quorum"),
    }
    attendance_check_in(meeting=annual.meeting, holder_id=annual.holders["cede"].pk, actor=annual.users["cede"])
    assert {name: (row[0], row[6]) for name, row in nominees(results(poll)).items()} == {
        "X": ("90", "elected"),
        "P": ("80", "elected"),
        "Q": ("70", "elected"),
        "R": ("60", "not_elected"),
    }
    # A nominee holder spreads its 3,000 votes.
    cast(annual, "cede", poll, {"cumulative": {r: "3000"}}, 201)
    assert nominees(results(poll))["R"][6] == "elected"
    cast(annual, "cede", poll, {"cumulative": {r: "3001"}}, 400)
    assert nominees(results(poll))["R"][0] == "3060"


def test_a_frequency_vote_by_option_by_split_and_by_proxy(annual: Annual) -> None:
    poll, ids = create_item(annual, "frequency")
    assert sorted(ids) == ["1 Year", "2 Years", "3 Years", "Abstain"]
    one, two, three, abstain = ids["1 Year"], ids["2 Years"], ids["3 Years"], ids["Abstain"]
    cast(annual, "alice", poll, {"option": one}, 201)  # the one-key fast path
    cast(annual, "bob", poll, {"option": three}, 201)
    cast(annual, "cede", poll, {"splits": {str(one): "300", str(three): "200", str(abstain): "500"}}, 201)
    appoint_proxy(annual)
    cast(annual, "proxy", poll, {"option": two, "holder": annual.holders["dora"].pk}, 201)
    body = results(poll)
    assert body["form"] == "frequency"
    by_id = {o["id"]: (o["votes"], o["weight"]) for o in body["options"]}
    assert by_id == {one: (2, "330"), two: (1, "400"), three: (2, "270"), abstain: (1, "500")}
    assert body["decision"]["winner"] == two
    assert body["decision"]["percent"] == "40.0"  # 400 of the 1,000 votes cast: abstentions aside
    assert body["decision"]["advisory"] is True and body["decision"]["threshold"] is None
    cast(annual, "cede", poll, {"option": one}, 200)
    body = results(poll)
    assert body["decision"]["winner"] == one and body["decision"]["percent"] == "68.7"  # 1,030 of 1,500
    assert client_for(annual.users["bob"]).delete(f"/api/v1/polls/{poll.pk}/ballot/").status_code == 204
    assert {o["id"]: o["weight"] for o in results(poll)["options"]}[three] == "0"


def test_a_choice_item_with_a_threshold(annual: Annual) -> None:
    poll, ids = create_item(annual, "choice", options=[{"label": "A"}, {"label": "B"}, {"label": "C"}], threshold="1/2")
    a, b, c = ids["A"], ids["B"], ids["C"]
    cast(annual, "alice", poll, {"option": a}, 201)
    cast(annual, "bob", poll, {"option": b}, 201)
    cast(annual, "cede", poll, {"splits": {str(a): "400", str(b): "400", str(c): "200"}}, 201)
    decision = results(poll)["decision"]
    assert decision == {
        "winner": None,
        "percent": "42.7",  # 470 of 1,100
        "threshold": "> 1/2",
        "threshold_met": False,
        "advisory": False,
        "reason": "",
        "broker_non_votes": "0",
    }
    appoint_proxy(annual)
    cast(annual, "proxy", poll, {"option": b, "holder": annual.holders["dora"].pk}, 201)
    decision = results(poll)["decision"]
    assert (decision["winner"], decision["percent"], decision["threshold_met"]) == (b, "58.0", True)


@pytest.mark.parametrize(("comparator", "winner"), [(">=", "A"), (">", None)])
def test_a_choice_threshold_reached_exactly_depends_on_its_comparator(
    annual: Annual, comparator: str, winner: str | None
) -> None:
    poll, ids = create_item(
        annual,
        "choice",
        options=[{"label": "A"}, {"label": "B"}, {"label": "C"}],
        threshold="1/2",
        comparator=comparator,
    )
    cast(annual, "bob", poll, {"option": ids["A"]}, 201)
    cast(annual, "cede", poll, {"splits": {str(ids["B"]): "40", str(ids["C"]): "30"}}, 201)
    decision = results(poll)["decision"]
    assert decision["percent"] == "50.0"
    assert decision["winner"] == (ids[winner] if winner else None)
    assert decision["threshold_met"] is (winner is not None)


def test_a_choice_threshold_in_results_names_its_comparator(annual: Annual) -> None:
    poll, _ids = create_item(
        annual, "choice", options=[{"label": "A"}, {"label": "B"}], threshold="1/2", comparator=">="
    )
    assert results(poll)["decision"]["threshold"] == ">= 1/2"


def test_a_ballot_re_cast_unchanged_keeps_its_lines_and_totals(annual: Annual) -> None:
    poll, ids = election(annual, standard="majority", seats=1, names="XY")
    payload = {"votes": {str(ids["X"]): "for", str(ids["Y"]): "against"}}
    cast(annual, "alice", poll, payload, 201)
    before = snapshot(poll)
    cast(annual, "alice", poll, payload, 200)
    assert snapshot(poll) == before


# ---- who may vote ---------------------------------------------------------------------------


def test_a_visitor_without_a_token_gets_a_401_and_nothing_is_stored(annual: Annual) -> None:
    poll, ids = election(annual, standard="majority", seats=1, names="XY")
    before = snapshot(poll)
    visitor = APIClient()
    response = visitor.post(f"/api/v1/polls/{poll.pk}/ballot/", {"votes": {str(ids["X"]): "for"}}, format="json")
    assert response.status_code == 401
    assert visitor.delete(f"/api/v1/polls/{poll.pk}/ballot/").status_code == 401
    assert snapshot(poll) == before


def test_a_member_who_holds_nothing_gets_a_403_that_names_nobody(annual: Annual) -> None:
    poll, ids = election(annual, standard="majority", seats=1, names="XY")
    before = snapshot(poll)
    payload = {"votes": {str(ids["X"]): "for"}}
    plain = cast(annual, "outsider", poll, payload, 403)
    others = cast(annual, "outsider", poll, {**payload, "holder": annual.holders["cede"].pk}, 403)
    nobody = cast(annual, "outsider", poll, {**payload, "holder": 987_654}, 403)
    # Naming another holder or a made-up one reads the same: the answer confirms nothing.
    assert others.json() == nobody.json()
    for response in (plain, others, nobody):
        text = json.dumps(response.json())
        assert set(response.json()) == {"detail"}
        for holder in annual.holders.values():
            assert holder.name not in text and str(holder.shares) not in text
    assert snapshot(poll) == before


def test_a_proxy_that_was_revoked_or_never_appointed_cannot_vote_for_the_holder(annual: Annual) -> None:
    from meetings.models import ProxyAppointment
    from meetings.services import proxy_revoke

    poll, ids = create_item(annual, "frequency")
    holder = annual.holders["dora"].pk
    cast(annual, "proxy", poll, {"option": ids["1 Year"], "holder": holder}, 403)
    appoint_proxy(annual)
    proxy_revoke(appointment=ProxyAppointment.objects.get(holder_id=holder), actor=annual.users["dora"])
    cast(annual, "proxy", poll, {"option": ids["1 Year"], "holder": holder}, 403)
    assert not Ballot.objects.filter(poll=poll).exists()


def test_an_option_ballot_on_an_election_is_a_400_like_any_payload_the_form_does_not_take(annual: Annual) -> None:
    poll, ids = election(annual, standard="majority", seats=1, names="XY")
    response = cast(annual, "alice", poll, {"option": ids["X"]})
    assert response.status_code == 400


def test_an_option_ballot_on_an_election_is_refused_and_stores_nothing(annual: Annual) -> None:
    poll, ids = election(annual, standard="majority", seats=1, names="XY")
    before = snapshot(poll)
    response = cast(annual, "alice", poll, {"option": ids["X"]})
    assert response.status_code in (400, 403), response.json()
    assert response.json()["detail"]
    assert snapshot(poll) == before


def test_an_unknown_top_level_key_is_a_400(annual: Annual) -> None:
    poll, ids = election(annual, standard="majority", seats=1, names="XY")
    before = snapshot(poll)
    response = cast(annual, "alice", poll, {"votes": {str(ids["X"]): "for"}, "holdr": annual.holders["dora"].pk})
    assert response.status_code == 400
    assert "holdr" in json.dumps(response.json())
    assert snapshot(poll) == before


def test_one_nominee_named_twice_is_a_400_and_never_weighs_more_than_the_holding(annual: Annual) -> None:
    poll, ids = election(annual, standard="majority", seats=1, names="XY")
    x = str(ids["X"])
    before = snapshot(poll)
    response = cast(annual, "alice", poll, {"votes": {x: "for", f"0{x}": "against"}})
    assert Ballot.objects.filter(poll=poll).values_list("weight", flat=True).first() in (None, 30)
    assert response.status_code == 400
    assert snapshot(poll) == before


def test_a_split_over_options_counts_every_share_it_gives_toward_quorum(annual: Annual) -> None:
    poll, ids = create_item(annual, "frequency")
    response = cast(annual, "cede", poll, {"splits": {str(ids["1 Year"]): "500", str(ids["3 Years"]): "500"}}, 201)
    assert response.json()["weight"] == "1000"
    assert results(poll)["quorum"]["present"] == "1000"


# ---- the schema -----------------------------------------------------------------------------


def test_the_openapi_schema_describes_the_new_fields(api: APIClient) -> None:
    schema = api.get("/api/v1/schema/?format=json").json()
    components = schema["components"]["schemas"]

    def properties(name: str) -> set[str]:
        return set(components[name]["properties"])

    assert {"votes", "cumulative", "splits", "option", "holder"} <= properties("BallotCastRequest")
    assert {"form", "nominees", "seats", "election_standard", "cumulative", "options", "threshold"} <= properties(
        "PollCreateRequest"
    )
    assert {"form", "election", "nominees", "decision"} <= properties("Results")
    assert {"for", "against", "withheld", "abstain", "broker_non_votes", "percent", "elected", "status"} <= properties(
        "NomineeResult"
    )
    assert {"winner", "percent", "threshold", "threshold_met", "advisory", "broker_non_votes"} <= properties(
        "OptionDecision"
    )
    assert "lines" in properties("TabulationRequest")
    assert "form" in properties("Poll")


# ---- changes and several holders ----------------------------------------------------------


def test_an_item_that_allows_no_change_refuses_a_second_ballot_and_keeps_the_first(annual: Annual) -> None:
    poll, ids = create_item(annual, "frequency", allow_change=False)
    cast(annual, "alice", poll, {"option": ids["1 Year"]}, 201)
    before = snapshot(poll)
    cast(annual, "alice", poll, {"option": ids["2 Years"]}, 409)
    cast(annual, "alice", poll, {"splits": {str(ids["2 Years"]): "30"}}, 409)
    assert client_for(annual.users["alice"]).delete(f"/api/v1/polls/{poll.pk}/ballot/").status_code == 409
    assert snapshot(poll) == before


def test_a_proxy_who_is_also_a_holder_must_say_which_holder(annual: Annual) -> None:
    poll, ids = create_item(annual, "frequency")
    proxy_appoint(
        meeting=annual.meeting, holder=annual.holders["dora"], proxy=annual.users["alice"], actor=annual.users["dora"]
    )
    # Two holders to speak for: the one-key fast path and the full payload both ask which.
    cast(annual, "alice", poll, {"option": ids["1 Year"]}, 400)
    cast(annual, "alice", poll, {"splits": {str(ids["1 Year"]): "5"}}, 400)
    cast(annual, "alice", poll, {"option": ids["1 Year"], "holder": annual.holders["dora"].pk}, 201)
    cast(annual, "alice", poll, {"option": ids["2 Years"], "holder": annual.holders["alice"].pk}, 201)
    assert {o["label"]: o["weight"] for o in results(poll)["options"]}["1 Year"] == "400"


def test_the_holder_and_its_proxy_read_the_ballots_lines_back_and_each_receipt_checks(annual: Annual) -> None:
    poll, ids = election(annual, standard="majority", seats=1, names="XY")
    x, y = ids["X"], ids["Y"]
    first = cast(annual, "cede", poll, {"splits": {str(x): {"for": "600", "against": "400"}}}, 201).json()
    second = cast(annual, "cede", poll, {"splits": {str(y): {"abstain": "1000"}}}, 200).json()
    assert second["lines"] == [{"option": y, "choice": "abstain", "shares": "1000"}]
    mine = client_for(annual.users["cede"]).get(f"/api/v1/polls/{poll.pk}/ballot/")
    assert mine.status_code == 200 and mine.json()["lines"] == second["lines"]
    anyone = APIClient()
    assert anyone.get(f"/api/v1/receipts/{second['receipt']}/").json()["status"] in ("counted", "recorded")
    assert anyone.get(f"/api/v1/receipts/{first['receipt']}/").json()["status"] == "superseded"
    appoint_proxy(annual)
    holder = annual.holders["dora"].pk
    cast(annual, "proxy", poll, {"votes": {str(x): "against"}, "holder": holder}, 201)
    read = client_for(annual.users["proxy"]).get(f"/api/v1/polls/{poll.pk}/ballot/?holder={holder}")
    assert read.status_code == 200
    assert [(line["option"], line["choice"]) for line in read.json()["lines"]] == [(x, "against")]
