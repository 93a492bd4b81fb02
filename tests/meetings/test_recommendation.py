"""The board's recommendation (issue 15, part 5): for, against or none on a proposal, given on
item create and fixed once it opens; per nominee on an election; shown on the ballot and the
proxy form with a link to the proposal put to the vote and its proxy material, and in the API."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from meetings.ballot_models import ItemTerms, NomineeTally
from meetings.models import Meeting
from meetings.recommendations import item_recommendation_set
from polls.exceptions import IllegalTransition, InvalidPollData
from polls.models import Option, Poll
from proposals.models import Proposal
from tests.factories import (
    api_for,
    make_annual_item,
    make_item,
    make_meeting,
    make_proposal,
    make_register,
    make_secretary,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting() -> Meeting:
    make_user(username="dora", email="dora@example.com")
    register = make_register([("H-DORA", "Dora Holder", "dora@example.com", 400)], outstanding=1_000)
    return make_meeting(register, date=timezone.localdate() + datetime.timedelta(days=7))


def create(meeting: Meeting, **fields: Any) -> Any:
    now = timezone.now()
    return api_for(make_secretary()).post(
        "/api/v1/polls/",
        {
            "title": "Ratify the auditor",
            "kind": "shareholder",
            "meeting": meeting.pk,
            "opens_at": (now + datetime.timedelta(hours=1)).isoformat(),
            "closes_at": (now + datetime.timedelta(days=2)).isoformat(),
            **fields,
        },
        format="json",
    )


def dora() -> Any:
    return User.objects.get(username="dora")


def dora_page(meeting: Meeting) -> str:
    client = Client()
    client.force_login(dora())
    return client.get(f"/meetings/{meeting.pk}/").content.decode()


def test_item_create_takes_the_recommendation_and_the_api_shows_it(meeting: Meeting) -> None:
    response = create(meeting, recommendation="against")
    assert response.status_code == 201, response.json()
    item = Poll.objects.get(pk=response.json()["id"])
    assert ItemTerms.objects.get(poll=item).recommendation == "against"
    election = make_annual_item(meeting, "election", nominees=["Ann", "Bob"], election_standard="majority")
    bob = Option.objects.get(poll=election, label="Bob")
    NomineeTally.objects.filter(option=bob).update(recommendation="against")
    from polls import services as poll_services

    poll_services.poll_open(poll=item)
    desk = api_for(dora()).get(f"/api/v1/meetings/{meeting.pk}/proxy-ballot/").json()
    shown = {row["id"]: row for row in desk["items"]}
    assert shown[item.pk]["recommendation"] == "against"
    assert {n["name"]: n["recommendation"] for n in shown[election.pk]["nominees"]} == {"Ann": "for", "Bob": "against"}


def test_a_bad_recommendation_is_a_400_and_creates_nothing(meeting: Meeting) -> None:
    response = create(meeting, recommendation="abstain")
    assert response.status_code == 400
    assert response.json()["recommendation"] == ['The recommendation is "for", "against" or "none".']
    assert not Poll.objects.exists()


def test_the_recommendation_is_fixed_once_the_item_opens_and_is_for_proposals_only(meeting: Meeting) -> None:
    item = make_item(meeting, status="draft", opens_at=timezone.now() + datetime.timedelta(hours=1))
    item_recommendation_set(poll=item, recommendation="for", actor=None)
    from polls import services as poll_services

    poll_services.poll_open(poll=item)
    with pytest.raises(IllegalTransition):
        item_recommendation_set(poll=item, recommendation="against", actor=None)
    assert ItemTerms.objects.get(poll=item).recommendation == "for"
    election = make_annual_item(meeting, "election", nominees=["Ann", "Bob"], election_standard="majority")
    with pytest.raises(InvalidPollData):
        item_recommendation_set(poll=election, recommendation="for", actor=None)


def test_the_ballot_shows_the_boards_recommendation_on_a_proposal(meeting: Meeting) -> None:
    item = make_item(meeting, status="draft", title="Ratify the auditor")
    item_recommendation_set(poll=item, recommendation="for", actor=None)
    from polls import services as poll_services

    poll_services.poll_open(poll=item)
    page = dora_page(meeting)
    assert '<p class="board-recommendation"><strong>The board recommends:</strong> For</p>' in page


def test_the_ballot_links_the_proposal_put_to_the_vote_and_its_proxy_material(meeting: Meeting) -> None:
    item = make_item(meeting, status="draft", title="Invest in xAI")
    item_recommendation_set(poll=item, recommendation="against", actor=None)
    from polls import services as poll_services

    poll_services.poll_open(poll=item)
    proposal = make_proposal()
    Proposal.objects.filter(pk=proposal.pk).update(item=item)
    page = dora_page(meeting)
    assert "<strong>The board recommends:</strong> Against" in page
    assert f'href="/proposals/{proposal.pk}/">the proposal and its proxy material</a>' in page


def test_the_proxy_form_shows_the_recommendation_beside_each_instruction(meeting: Meeting) -> None:
    item = make_item(meeting, status="draft", title="Ratify the auditor")
    item_recommendation_set(poll=item, recommendation="against", actor=None)
    from polls import services as poll_services

    poll_services.poll_open(poll=item)
    election = make_annual_item(meeting, "election", nominees=["Ann", "Bob"], election_standard="majority")
    page = dora_page(meeting)
    assert f'name="instruction-{item.pk}"' in page and f'name="instruction-{election.pk}"' in page
    assert "<strong>The board recommends:</strong> Against" in page
    assert "<strong>The board recommends:</strong> Ann: For; Bob: For" in page
    assert "With the board&#x27;s recommendation" in page


def test_the_proxy_form_appoints_with_instructions(meeting: Meeting) -> None:
    item = make_item(meeting, title="Ratify the auditor")
    make_user(username="proxy", email="proxy@example.com")
    client = Client()
    client.force_login(dora())
    holder = meeting.register.holders.get()
    response = client.post(
        f"/meetings/{meeting.pk}/proxies/",
        {"holder": holder.pk, "proxy": "proxy", f"instruction-{item.pk}": "recommendation", "limited": "on"},
    )
    assert response.status_code == 302
    appointment = holder.proxies.get(revoked_at__isnull=True)
    assert appointment.discretionary is False
    assert list(appointment.instructions.values_list("item_id", "instruction")) == [(item.pk, "recommendation")]
    page = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert "(only the items you instructed)" in page
    assert "Ratify the auditor: With the board&#x27;s recommendation" in page
