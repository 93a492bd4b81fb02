"""Directed proxies (issue 15, part 4): an appointment carries an instruction per item (for,
against, abstain, the board's recommendation) or discretion; a directed proxy's ballot must
follow it (409 naming it); the holder's own ballot wins before and after a proxy's, the holder
sees who cast each ballot and when and is e-mailed; proxy voting stops at the meeting's cut-off."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import Notification
from meetings.ballot_models import BallotLine, NomineeTally
from meetings.models import Holder, Meeting, ProxyAppointment, ProxyInstruction
from meetings.recommendations import item_recommendation_set
from meetings.services import item_ballot_cast, proxy_appoint
from polls.models import Ballot, Option, Poll
from tests.factories import make_annual_item, make_item, make_meeting, make_register, make_user

pytestmark = pytest.mark.django_db


@dataclass
class Case:
    meeting: Meeting
    users: dict[str, Any]
    holders: dict[str, Holder]


@pytest.fixture
def case() -> Case:
    users = {name: make_user(username=name, email=f"{name}@example.com") for name in ("dora", "ed", "proxy")}
    register = make_register(
        [
            ("H-DORA", "Dora Holder", "dora@example.com", 400),
            ("H-ED", "Ed Holder", "ed@example.com", 100),
        ],
        outstanding=1_000,
    )
    holders = {h.account.removeprefix("H-").lower(): h for h in register.holders.all()}
    # A week ahead: the default cut-off (23:59 the day before) is still to come.
    meeting = make_meeting(register, date=timezone.localdate() + datetime.timedelta(days=7))
    return Case(meeting=meeting, users=users, holders=holders)


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def appoint(case: Case, holder: str = "dora", **fields: Any) -> Any:
    return api(case.users[holder]).post(
        f"/api/v1/meetings/{case.meeting.pk}/proxies/",
        {"holder": case.holders[holder].pk, "proxy": "proxy", **fields},
        format="json",
    )


def vote(case: Case, who: str, item: Poll, payload: dict[str, Any]) -> Any:
    return api(case.users[who]).post(f"/api/v1/polls/{item.pk}/ballot/", payload, format="json")


# ---- appointing ---------------------------------------------------------------------------


def test_an_appointment_carries_instructions_per_item_and_shows_them(case: Case) -> None:
    first, second = make_item(case.meeting, title="Ratify the auditor"), make_item(case.meeting, title="Say on pay")
    response = appoint(case, instructions={str(first.pk): "for", str(second.pk): "recommendation"}, discretionary=False)
    assert response.status_code == 201, response.json()
    appointment = ProxyAppointment.objects.get(revoked_at__isnull=True)
    assert appointment.discretionary is False
    assert dict(appointment.instructions.values_list("item_id", "instruction")) == {
        first.pk: "for",
        second.pk: "recommendation",
    }
    listed = api(case.users["proxy"]).get(f"/api/v1/meetings/{case.meeting.pk}/proxies/").json()
    assert listed[0]["instructions"] == {str(first.pk): "for", str(second.pk): "recommendation"}
    assert listed[0]["discretionary"] is False


def test_an_instruction_for_an_item_not_on_the_meeting_is_a_400_naming_it(case: Case) -> None:
    item = make_item(case.meeting)
    other = make_item(make_meeting(case.meeting.register, title="Another meeting"), title="Elsewhere")
    response = appoint(case, instructions={str(item.pk): "for", str(other.pk): "against"})
    assert response.status_code == 400
    body = response.json()
    assert f"'{other.pk}' is not an item on this meeting's ballot" in body["detail"]
    assert str(other.pk) in body["instructions"]
    assert not ProxyAppointment.objects.exists() and not ProxyInstruction.objects.exists()
    assert appoint(case, instructions={"abc": "for"}).status_code == 400
    assert appoint(case, instructions={str(item.pk): "maybe"}).status_code == 400
    assert not ProxyAppointment.objects.exists()


def test_an_item_choosing_among_options_takes_only_abstain_or_the_recommendation(case: Case) -> None:
    frequency = make_annual_item(case.meeting, "frequency")
    response = appoint(case, instructions={str(frequency.pk): "for"})
    assert response.status_code == 400
    assert "instruct abstain or the board's recommendation" in response.json()["detail"]
    assert appoint(case, instructions={str(frequency.pk): "abstain"}).status_code == 201


# ---- a directed proxy's ballot --------------------------------------------------------------


def test_a_directed_proxy_voting_against_its_instruction_is_refused_with_409_naming_it(case: Case) -> None:
    item = make_item(case.meeting, title="Ratify the auditor")
    appoint(case, instructions={str(item.pk): "for"})
    dora = case.holders["dora"].pk
    response = vote(case, "proxy", item, {"choice": "against", "holder": dora})
    assert response.status_code == 409
    body = response.json()
    assert body["detail"] == (
        "Dora Holder instructed their proxy to vote for on “Ratify the auditor”; "
        "this ballot does not follow the instruction."
    )
    assert (body["instruction"], body["item"]) == ("for", item.pk)
    split = vote(case, "proxy", item, {"split": {"for": "200", "abstain": "200"}, "holder": dora})
    assert split.status_code == 409
    assert not Ballot.objects.exists()
    assert dict(Option.objects.filter(poll=item).values_list("code", "weight")) == {
        "for": 0,
        "against": 0,
        "abstain": 0,
    }
    assert vote(case, "proxy", item, {"choice": "for", "holder": dora}).status_code == 201


def test_the_boards_recommendation_is_what_a_recommendation_instruction_votes(case: Case) -> None:
    item = make_item(case.meeting, status="scheduled")
    item_recommendation_set(poll=item, recommendation="against", actor=None)
    from polls import services as poll_services

    poll_services.poll_open(poll=item)
    appoint(case, instructions={str(item.pk): "recommendation"})
    dora = case.holders["dora"].pk
    refused = vote(case, "proxy", item, {"choice": "for", "holder": dora})
    assert refused.status_code == 409
    assert "vote with the board's recommendation" in refused.json()["detail"]
    assert vote(case, "proxy", item, {"choice": "against", "holder": dora}).status_code == 201


def test_an_election_follows_each_nominees_recommendation_or_the_choice_on_every_nominee(case: Case) -> None:
    election = make_annual_item(
        case.meeting, "election", nominees=["Ann", "Bob"], seats=2, election_standard="plurality"
    )
    ann, bob = Option.objects.filter(poll=election).order_by("position")
    NomineeTally.objects.filter(option=bob).update(recommendation="against")
    appoint(case, instructions={str(election.pk): "recommendation"})
    url = f"/api/v1/meetings/{case.meeting.pk}/proxy-ballot/"
    dora = case.holders["dora"].pk
    wrong = {"choices": {str(election.pk): {"votes": {str(ann.pk): "for", str(bob.pk): "for"}}}}
    response = api(case.users["proxy"]).post(url, {**wrong, "exceptions": {str(dora): wrong["choices"]}}, format="json")
    assert response.status_code == 409, response.json()
    assert "with the board's recommendation" in response.json()["detail"]
    assert not BallotLine.objects.exists()
    # Against is withheld under plurality voting.
    right = {str(election.pk): {"votes": {str(ann.pk): "for", str(bob.pk): "withhold"}}}
    response = api(case.users["proxy"]).post(url, {"exceptions": {str(dora): right}}, format="json")
    assert response.status_code == 201, response.json()
    assert sorted(BallotLine.objects.values_list("option_id", "choice")) == [(ann.pk, "for"), (bob.pk, "withhold")]


def test_a_directed_election_is_cast_where_its_instruction_is_read_and_never_withdrawn(case: Case) -> None:
    election = make_annual_item(case.meeting, "election", nominees=["Ann", "Bob"], election_standard="majority")
    ann = Option.objects.get(poll=election, label="Ann")
    appoint(case, instructions={str(election.pk): "against"})
    dora = case.holders["dora"].pk
    # The item's own API reads the instruction too: "for" where the holder said "against" is refused.
    response = vote(case, "proxy", election, {"votes": {str(ann.pk): "for"}, "holder": dora})
    assert response.status_code == 409
    assert "Dora Holder instructed their proxy to vote against" in response.json()["detail"]
    assert not Ballot.objects.exists()
    client = Client()
    client.force_login(case.users["proxy"])
    page = client.post(
        f"/meetings/{case.meeting.pk}/ballot/", {"holder": dora, f"item-{election.pk}-nominee-{ann.pk}": "for"}
    )
    assert page.status_code == 400
    assert "Dora Holder instructed their proxy to vote against" in page.content.decode()
    page = client.post(
        f"/meetings/{case.meeting.pk}/ballot/", {"holder": dora, f"item-{election.pk}-nominee-{ann.pk}": "against"}
    )
    assert page.status_code == 302
    assert list(BallotLine.objects.values_list("option_id", "choice")) == [(ann.pk, "against")]
    withdrawn = api(case.users["proxy"]).delete(f"/api/v1/polls/{election.pk}/ballot/?holder={dora}")
    assert withdrawn.status_code == 409
    assert BallotLine.objects.count() == 1


def test_a_proxy_without_discretion_votes_only_the_items_it_was_instructed_on(case: Case) -> None:
    instructed, other = make_item(case.meeting, title="Instructed"), make_item(case.meeting, title="Not instructed")
    appoint(case, instructions={str(instructed.pk): "abstain"}, discretionary=False)
    dora = case.holders["dora"].pk
    response = vote(case, "proxy", other, {"choice": "for", "holder": dora})
    assert response.status_code == 409
    assert "no instruction on “Not instructed” and no discretion" in response.json()["detail"]
    assert vote(case, "proxy", instructed, {"choice": "abstain", "holder": dora}).status_code == 201


# ---- the holder's own ballot wins -----------------------------------------------------------


def test_a_proxys_ballot_after_the_holders_own_is_refused(case: Case) -> None:
    item = make_item(case.meeting)
    appoint(case)
    dora = case.holders["dora"].pk
    assert vote(case, "dora", item, {"choice": "for", "holder": dora}).status_code == 201
    response = vote(case, "proxy", item, {"choice": "against", "holder": dora})
    assert response.status_code == 409
    assert response.json()["detail"].startswith("The holder has voted")
    ballot = Ballot.objects.get()
    assert (ballot.voter, ballot.shares_for) == (case.users["dora"], 400)
    # Nor may the proxy withdraw it.
    withdrawn = api(case.users["proxy"]).delete(f"/api/v1/polls/{item.pk}/ballot/?holder={dora}")
    assert withdrawn.status_code == 409
    assert Ballot.objects.filter(pk=ballot.pk).exists()


def test_the_holders_own_later_ballot_replaces_the_proxys(case: Case) -> None:
    item = make_item(case.meeting)
    appoint(case)
    holder = case.holders["dora"]
    item_ballot_cast(poll_id=item.pk, actor=case.users["proxy"], choice="against", holder_id=holder.pk)
    item_ballot_cast(poll_id=item.pk, actor=case.users["dora"], choice="for", holder_id=holder.pk)
    ballot = Ballot.objects.get()
    assert (ballot.voter, ballot.shares_for, ballot.shares_against) == (case.users["dora"], 400, 0)
    assert dict(Option.objects.filter(poll=item).values_list("code", "weight")) == {
        "for": 400,
        "against": 0,
        "abstain": 0,
    }


def test_the_holders_page_says_who_cast_each_ballot_and_when(case: Case) -> None:
    auditor, pay = make_item(case.meeting, title="Ratify the auditor"), make_item(case.meeting, title="Say on pay")
    appoint(case)
    holder = case.holders["dora"]
    item_ballot_cast(poll_id=auditor.pk, actor=case.users["proxy"], choice="for", holder_id=holder.pk)
    item_ballot_cast(poll_id=pay.pk, actor=case.users["dora"], choice="against", holder_id=holder.pk)
    client = Client()
    client.force_login(case.users["dora"])
    page = client.get(f"/meetings/{case.meeting.pk}/?holder={holder.pk}").content.decode()
    by_proxy = Ballot.objects.get(poll=auditor)
    assert "Who cast the ballots for Dora Holder" in page
    assert f'Ratify the auditor: cast by your proxy proxy at <time datetime="{by_proxy.updated_at.isoformat()}' in page
    assert "Say on pay: cast by you at" in page
    # The holder votes the first item too: their own ballot replaces the proxy's.
    item_ballot_cast(poll_id=auditor.pk, actor=case.users["dora"], choice="against", holder_id=holder.pk)
    page = client.get(f"/meetings/{case.meeting.pk}/?holder={holder.pk}").content.decode()
    assert "cast by your proxy" not in page
    assert "Ratify the auditor: cast by you at" in page


def test_the_holder_is_emailed_who_voted_for_them(case: Case, django_capture_on_commit_callbacks: Any) -> None:
    item = make_item(case.meeting, title="Ratify the auditor")
    appoint(case)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = vote(case, "proxy", item, {"choice": "for", "holder": case.holders["dora"].pk})
    assert response.status_code == 201
    to_holder = [message for message in mail.outbox if message.to == ["dora@example.com"]]
    assert len(to_holder) == 1
    message = to_holder[0]
    assert message.subject == "[Quorum] Your proxy proxy voted on Ratify the auditor"
    assert 'Your proxy proxy cast a ballot for Dora Holder on "Ratify the auditor" at' in message.body
    assert f"/meetings/{case.meeting.pk}/" in message.body
    notification = Notification.objects.get(kind="proxy_vote")
    assert notification.sent_at is not None and notification.subject == f"meeting:{case.meeting.pk}"
    # The holder voting themselves is not told; a refused proxy ballot sends nothing.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        vote(case, "dora", item, {"choice": "against", "holder": case.holders["dora"].pk})
        vote(case, "proxy", item, {"choice": "for", "holder": case.holders["dora"].pk})
    assert [message.to for message in mail.outbox if "proxy" in message.subject] == []


@override_settings(LANGUAGE_CODE="en")
def test_the_email_comes_once_per_ballot_even_through_the_meeting_ballot(
    case: Case, django_capture_on_commit_callbacks: Any
) -> None:
    first, second = make_item(case.meeting, title="One"), make_item(case.meeting, title="Two")
    appoint(case)
    client = Client()
    client.force_login(case.users["proxy"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/meetings/{case.meeting.pk}/ballot/",
            {"holder": case.holders["dora"].pk, f"item-{first.pk}": "for", f"item-{second.pk}": "against"},
        )
    assert response.status_code == 302
    subjects = sorted(message.subject for message in mail.outbox if message.to == ["dora@example.com"])
    assert subjects == ["[Quorum] Your proxy proxy voted on One", "[Quorum] Your proxy proxy voted on Two"]


# ---- the cut-off ----------------------------------------------------------------------------


def test_past_the_cut_off_a_proxy_gets_409_naming_it_and_the_holder_still_votes(case: Case) -> None:
    item = make_item(case.meeting)
    appoint(case)
    cutoff = timezone.now() - datetime.timedelta(minutes=5)
    Meeting.objects.filter(pk=case.meeting.pk).update(proxy_cutoff=cutoff)
    dora = case.holders["dora"].pk
    response = vote(case, "proxy", item, {"choice": "for", "holder": dora})
    assert response.status_code == 409
    body = response.json()
    assert body["detail"].startswith("Proxy voting at this meeting closed at its cut-off")
    assert body["proxy_cutoff"] == cutoff.isoformat()
    bulk = api(case.users["proxy"]).post(
        f"/api/v1/meetings/{case.meeting.pk}/proxy-ballot/", {"choices": {str(item.pk): "for"}}, format="json"
    )
    assert bulk.status_code == 409 and bulk.json()["proxy_cutoff"] == cutoff.isoformat()
    assert not Ballot.objects.exists()
    assert vote(case, "dora", item, {"choice": "for", "holder": dora}).status_code == 201


@override_settings(TIME_ZONE="Europe/Rome")
def test_the_default_cut_off_is_2359_the_day_before_in_the_sites_time_zone(case: Case) -> None:
    Meeting.objects.filter(pk=case.meeting.pk).update(date=datetime.date(2027, 6, 10))
    case.meeting.refresh_from_db()
    expected = datetime.datetime(2027, 6, 9, 21, 59, tzinfo=datetime.UTC)  # 23:59 in Rome (CEST)
    assert case.meeting.proxy_cutoff_at == expected
    shown = api(case.users["dora"]).get(f"/api/v1/meetings/{case.meeting.pk}/").json()
    assert datetime.datetime.fromisoformat(shown["proxy_cutoff"]) == expected
    item = make_item(case.meeting, closes_at=expected + datetime.timedelta(days=2))
    appoint(case)
    at = expected - datetime.timedelta(seconds=1)
    item_ballot_cast(
        poll_id=item.pk, actor=case.users["proxy"], choice="for", holder_id=case.holders["dora"].pk, now=at
    )
    from meetings.proxy_checks import ProxyCutoffPassed

    with pytest.raises(ProxyCutoffPassed):
        item_ballot_cast(
            poll_id=item.pk, actor=case.users["proxy"], choice="for", holder_id=case.holders["dora"].pk, now=expected
        )


def test_a_meeting_in_the_past_has_no_proxy_voting_but_its_holders_vote(case: Case) -> None:
    Meeting.objects.filter(pk=case.meeting.pk).update(date=timezone.localdate())
    item = make_item(case.meeting)
    proxy_appoint(meeting=case.meeting, holder=case.holders["ed"], proxy=case.users["proxy"], actor=case.users["ed"])
    assert vote(case, "proxy", item, {"choice": "for", "holder": case.holders["ed"].pk}).status_code == 409
    assert vote(case, "ed", item, {"choice": "for", "holder": case.holders["ed"].pk}).status_code == 201
