"""A proxy with many appointments votes them all at once (issue 15, part 4): one page and one
API call, common choices with per-holder exceptions, directed holders following their
instructions, a holder's own ballot left standing, all or nothing."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from meetings.ballot_models import BallotLine
from meetings.models import Holder, Meeting
from meetings.services import item_ballot_cast, proxy_appoint
from polls.models import Ballot, Option, Poll
from tests.factories import make_annual_item, make_item, make_meeting, make_register, make_user

pytestmark = pytest.mark.django_db

HOLDERS = 20


@dataclass
class Desk:
    meeting: Meeting
    proxy: Any
    owners: list[Any]
    holders: list[Holder]
    auditor: Poll
    pay: Poll


@pytest.fixture
def desk() -> Desk:
    owners = [make_user(username=f"owner{i:02d}", email=f"owner{i:02d}@example.com") for i in range(HOLDERS)]
    proxy = make_user(username="fund-proxy", email="fund-proxy@example.com")
    register = make_register(
        [(f"H-{i:02d}", f"Holder {i:02d}", f"owner{i:02d}@example.com", 10 * (i + 1)) for i in range(HOLDERS)],
        outstanding=10_000,
    )
    meeting = make_meeting(register, date=timezone.localdate() + datetime.timedelta(days=7))
    holders = list(register.holders.order_by("account"))
    for owner, holder in zip(owners, holders, strict=True):
        proxy_appoint(meeting=meeting, holder=holder, proxy=proxy, actor=owner)
    auditor = make_item(meeting, title="Ratify the auditor")
    pay = make_item(meeting, title="Say on pay")
    return Desk(meeting=meeting, proxy=proxy, owners=owners, holders=holders, auditor=auditor, pay=pay)


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post(desk: Desk, body: dict[str, Any]) -> Any:
    return api(desk.proxy).post(f"/api/v1/meetings/{desk.meeting.pk}/proxy-ballot/", body, format="json")


def direct(desk: Desk, index: int, instructions: dict[int, str], discretionary: bool = True) -> None:
    proxy_appoint(
        meeting=desk.meeting,
        holder=desk.holders[index],
        proxy=desk.proxy,
        actor=desk.owners[index],
        instructions=instructions,
        discretionary=discretionary,
    )


def weights(item: Poll) -> dict[str, int]:
    return dict(Option.objects.filter(poll=item).values_list("code", "weight"))


def test_one_api_call_votes_twenty_holders_with_exceptions(desk: Desk) -> None:
    h0, h1 = desk.holders[0], desk.holders[1]
    response = post(
        desk,
        {
            "choices": {str(desk.auditor.pk): "for", str(desk.pay.pk): "against"},
            "holders": "all",
            "exceptions": {str(h0.pk): {str(desk.pay.pk): "abstain"}, str(h1.pk): {str(desk.auditor.pk): None}},
        },
    )
    assert response.status_code == 201, response.json()
    rows = {row["holder"]: row for row in response.json()}
    assert len(rows) == HOLDERS
    assert set(rows[h0.pk]["receipts"]) == {str(desk.auditor.pk), str(desk.pay.pk)}
    assert set(rows[h1.pk]["receipts"]) == {str(desk.pay.pk)}
    assert Ballot.objects.filter(poll=desk.auditor).count() == HOLDERS - 1
    assert Ballot.objects.filter(poll=desk.pay).count() == HOLDERS
    total = sum(h.shares for h in desk.holders)
    assert weights(desk.auditor) == {"for": total - h1.shares, "against": 0, "abstain": 0}
    assert weights(desk.pay) == {"for": 0, "against": total - h0.shares, "abstain": h0.shares}
    assert set(Ballot.objects.values_list("voter_id", flat=True)) == {desk.proxy.pk}


def test_a_listed_subset_and_an_unknown_holder(desk: Desk) -> None:
    chosen = [desk.holders[2].pk, desk.holders[3].pk]
    response = post(desk, {"choices": {str(desk.auditor.pk): "for"}, "holders": chosen})
    assert response.status_code == 201
    assert sorted(Ballot.objects.values_list("holder_id", flat=True)) == sorted(chosen)
    stranger = make_register([("H-X", "Stranger", "x@example.com", 5)], outstanding=10).holders.get()
    refused = post(desk, {"choices": {str(desk.pay.pk): "for"}, "holders": [stranger.pk]})
    assert refused.status_code == 403
    assert not Ballot.objects.filter(poll=desk.pay).exists()


def test_directed_holders_follow_their_instructions_and_own_ballots_stand(desk: Desk) -> None:
    direct(desk, 0, {desk.auditor.pk: "against"})
    direct(desk, 1, {desk.pay.pk: "abstain"}, discretionary=False)
    item_ballot_cast(poll_id=desk.auditor.pk, actor=desk.owners[2], choice="abstain", holder_id=desk.holders[2].pk)
    response = post(desk, {"choices": {str(desk.auditor.pk): "for"}})
    assert response.status_code == 201, response.json()
    rows = {row["holder"]: row for row in response.json()}
    h0, h1, h2 = desk.holders[:3]
    assert rows[h0.pk]["directed"] == {str(desk.auditor.pk): "against"}
    # Holder 1 directed the pay vote, which the call did not name: it is cast all the same;
    # the auditor is left alone, as holder 1 gave no discretion.
    assert rows[h1.pk]["directed"] == {str(desk.pay.pk): "abstain"}
    assert rows[h1.pk]["skipped"] == {str(desk.auditor.pk): "no_discretion"}
    assert rows[h2.pk]["skipped"] == {str(desk.auditor.pk): "holder_voted"}
    assert Ballot.objects.get(poll=desk.auditor, holder=h0).shares_against == h0.shares
    assert Ballot.objects.get(poll=desk.pay, holder=h1).shares_abstain == h1.shares
    own = Ballot.objects.get(poll=desk.auditor, holder=h2)
    assert (own.voter_id, own.shares_abstain) == (desk.owners[2].pk, h2.shares)


def test_an_exception_against_an_instruction_refuses_the_whole_call(desk: Desk) -> None:
    direct(desk, 5, {desk.auditor.pk: "for"})
    h5 = desk.holders[5]
    response = post(
        desk,
        {"choices": {str(desk.auditor.pk): "for"}, "exceptions": {str(h5.pk): {str(desk.auditor.pk): "against"}}},
    )
    assert response.status_code == 409
    body = response.json()
    assert "Holder 05 instructed their proxy to vote for" in body["detail"]
    assert body["holders"] == {str(h5.pk): {str(desk.auditor.pk): body["holders"][str(h5.pk)][str(desk.auditor.pk)]}}
    assert not Ballot.objects.exists()
    assert weights(desk.auditor) == {"for": 0, "against": 0, "abstain": 0}


def test_bad_calls_are_400s_that_record_nothing(desk: Desk) -> None:
    other = make_item(make_meeting(desk.meeting.register, title="Another"), title="Elsewhere")
    cases: list[dict[str, Any]] = [
        {"choices": {str(other.pk): "for"}},
        {"choices": {"x": "for"}},
        {"choices": {str(desk.auditor.pk): "maybe"}},
        {"choices": {str(desk.auditor.pk): "for"}, "holders": "some"},
        {"choices": {str(desk.auditor.pk): "for"}, "exceptions": {"999999": {str(desk.auditor.pk): "for"}}},
    ]
    for body in cases:
        response = post(desk, body)
        assert response.status_code == 400, (body, response.json())
    assert not Ballot.objects.exists()
    named = post(desk, cases[0]).json()["detail"]
    assert f"{other.pk} is not an item on this meeting's ballot" in named


def test_the_proxy_page_votes_twenty_holders_in_one_post(desk: Desk) -> None:
    election = make_annual_item(desk.meeting, "election", nominees=["Ann", "Bob"], election_standard="majority")
    ann, bob = Option.objects.filter(poll=election).order_by("position")
    direct(desk, 3, {desk.pay.pk: "recommendation"})
    client = Client()
    client.force_login(desk.proxy)
    url = f"/meetings/{desk.meeting.pk}/proxy-ballot/"
    page = client.get(url).content.decode()
    for holder in desk.holders:
        assert f'name="holder-{holder.pk}"' in page
        assert holder.name in page
    assert "Instructions:" in page and "Say on pay: With the board&#x27;s recommendation" in page
    form = {f"holder-{holder.pk}": "on" for holder in desk.holders if holder != desk.holders[19]}
    form |= {
        f"item-{desk.auditor.pk}": "for",
        f"item-{desk.pay.pk}": "against",
        f"item-{election.pk}-nominee-{ann.pk}": "for",
        f"item-{election.pk}-nominee-{bob.pk}": "against",
        f"exception-{desk.holders[0].pk}-{desk.auditor.pk}": "abstain",
        f"exception-{desk.holders[1].pk}-{desk.pay.pk}": "skip",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Ballot.objects.filter(poll=desk.auditor).count() == HOLDERS - 1
    assert Ballot.objects.filter(poll=desk.pay).count() == HOLDERS - 2
    assert Ballot.objects.get(poll=desk.auditor, holder=desk.holders[0]).shares_abstain == desk.holders[0].shares
    # Holder 3's pay vote follows the board, which recommends nothing on it: the proxy's choice.
    assert Ballot.objects.get(poll=desk.pay, holder=desk.holders[3]).shares_against == desk.holders[3].shares
    assert BallotLine.objects.filter(ballot__poll=election).count() == 2 * (HOLDERS - 1)
    followed = client.get(url)
    messages = [str(m) for m in followed.context["messages"]]
    assert messages[0] == f"Recorded {3 * (HOLDERS - 1) - 1} ballots for {HOLDERS - 1} holders."


def test_the_page_shows_a_refusal_on_the_page_and_records_nothing(desk: Desk) -> None:
    direct(desk, 4, {desk.auditor.pk: "for"})
    client = Client()
    client.force_login(desk.proxy)
    form = {f"holder-{holder.pk}": "on" for holder in desk.holders}
    form |= {f"item-{desk.auditor.pk}": "against", f"exception-{desk.holders[4].pk}-{desk.auditor.pk}": "against"}
    response = client.post(f"/meetings/{desk.meeting.pk}/proxy-ballot/", form)
    assert response.status_code == 400
    assert "Holder 04: Holder 04 instructed their proxy to vote for" in response.content.decode()
    assert not Ballot.objects.exists()
    nobody = client.post(f"/meetings/{desk.meeting.pk}/proxy-ballot/", {f"item-{desk.auditor.pk}": "for"})
    assert nobody.status_code == 400
    assert "Choose at least one holder to vote for." in nobody.content.decode()


def test_past_the_cut_off_the_page_says_so(desk: Desk) -> None:
    Meeting.objects.filter(pk=desk.meeting.pk).update(proxy_cutoff=timezone.now() - datetime.timedelta(hours=1))
    client = Client()
    client.force_login(desk.proxy)
    page = client.get(f"/meetings/{desk.meeting.pk}/proxy-ballot/").content.decode()
    assert "The proxy cut-off has passed" in page
    assert "Record the ballots" not in page
