"""Referral with no recommendation is the board's decision: directors vote to refer, the rule
decides, the secretary cannot refer alone, ties go back to the secretary, and the board's
recommendation follows the proposal onto the shareholders' ballot."""

from __future__ import annotations

import datetime
import html
import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from meetings.ballot_models import ItemTerms
from meetings.services import holders_link_user
from polls import services as poll_services
from proposals import review_votes, services
from proposals.models import Proposal
from proposals.workflow import Action, State
from tests.factories import (
    make_director,
    make_meeting,
    make_proposal,
    make_register,
    make_secretary,
    make_user,
    start_review,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def board() -> dict[str, Any]:
    secretary = make_secretary(username="secretary", email="secretary@example.com")
    directors = {
        name: make_director(name, interests=interests)
        for name, interests in [("robyn", ()), ("elon", ("xAI",)), ("kimbal", ()), ("ira", ()), ("james", ())]
    }
    proposal = start_review(make_proposal(title="Invest $5B in xAI", counterparty="xAI"), secretary)
    return {"secretary": secretary, "directors": directors, "proposal": proposal}


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def text_of(response: Any) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(response.content.decode())))


def test_three_refer_votes_through_the_api_refer_the_proposal_as_the_boards_decision(board: dict[str, Any]) -> None:
    proposal, directors = board["proposal"], board["directors"]
    for name in ("robyn", "kimbal"):
        response = api(directors[name].user).post(
            f"/api/v1/proposals/{proposal.pk}/review-votes/", {"decision": "refer"}, format="json"
        )
        assert response.status_code == 201
    proposal.refresh_from_db()
    assert proposal.status == State.IN_REVIEW  # 2 of 5 in office: no quorum yet
    api(directors["ira"].user).post(
        f"/api/v1/proposals/{proposal.pk}/review-votes/", {"decision": "refer"}, format="json"
    )
    proposal.refresh_from_db()
    assert (proposal.status, proposal.board_recommendation) == (State.REFERRED, "none")
    event = AuditEvent.objects.get(stream=f"proposal:{proposal.pk}", action="refer")
    assert event.actor_id is None  # the board's rule, not a person
    assert event.payload["recommendation"] == "none"
    detail = api(board["secretary"]).get(f"/api/v1/proposals/{proposal.pk}/").json()
    assert detail["board_decision"]["outcome"] == "referred"
    assert detail["board_decision"]["recommendation"] == "none"


def test_a_director_refers_from_the_review_page(client: Client, board: dict[str, Any]) -> None:
    proposal, directors = board["proposal"], board["directors"]
    for name in ("robyn", "kimbal", "ira"):
        client.force_login(directors[name].user)
        page = client.get(f"/proposals/{proposal.pk}/review/")
        assert 'value="refer"' in page.content.decode()
        response = client.post(f"/proposals/{proposal.pk}/review/", {"decision": "refer", "comment": "No view"})
        assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == State.REFERRED
    detail = text_of(client.get(f"/proposals/{proposal.pk}/"))
    assert "referred to the shareholders with no recommendation" in detail
    assert "The board recommends: No recommendation" in detail


def test_the_secretary_cannot_refer_alone_through_the_api(board: dict[str, Any]) -> None:
    proposal = board["proposal"]
    response = api(board["secretary"]).post(
        f"/api/v1/proposals/{proposal.pk}/transitions/", {"action": "refer"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["allowed_actions"] == ["return", "decide"]
    assert "board's decision" in response.json()["detail"]
    proposal.refresh_from_db()
    assert proposal.status == State.IN_REVIEW


def test_the_secretary_has_no_refer_button_and_a_forged_post_changes_nothing(
    client: Client, board: dict[str, Any]
) -> None:
    proposal = board["proposal"]
    client.force_login(board["secretary"])
    page = client.get(f"/proposals/{proposal.pk}/").content.decode()
    assert 'value="refer"' not in page
    response = client.post(f"/proposals/{proposal.pk}/transition/", {"action": "refer"}, follow=True)
    assert "board's decision" in html.unescape(response.content.decode())
    proposal.refresh_from_db()
    assert proposal.status == State.IN_REVIEW


def test_a_refer_by_a_director_after_the_decision_is_refused(board: dict[str, Any]) -> None:
    proposal, directors = board["proposal"], board["directors"]
    for name in ("robyn", "kimbal", "ira"):
        review_votes.review_vote_cast(proposal_id=proposal.pk, actor=directors[name].user, decision="approve")
    response = api(directors["james"].user).post(
        f"/api/v1/proposals/{proposal.pk}/review-votes/", {"decision": "refer"}, format="json"
    )
    assert response.status_code == 409


def test_a_tie_is_reported_to_the_secretary_who_may_set_a_new_due_date(
    board: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    proposal, directors, secretary = board["proposal"], board["directors"], board["secretary"]
    mail.outbox.clear()
    votes = {"robyn": "approve", "kimbal": "approve", "ira": "refer", "james": "refer"}
    with django_capture_on_commit_callbacks(execute=True):
        for name, decision in votes.items():
            review_votes.review_vote_cast(proposal_id=proposal.pk, actor=directors[name].user, decision=decision)
    proposal.refresh_from_db()
    assert proposal.status == State.IN_REVIEW
    assert AuditEvent.objects.filter(stream=f"proposal:{proposal.pk}", action="review_tied").count() == 1
    tied = [message for message in mail.outbox if "The board is tied" in message.subject]
    assert [message.to for message in tied] == [["secretary@example.com"]]
    assert "set a new due date" in tied[0].body
    Proposal.objects.filter(pk=proposal.pk).update(review_due_at=timezone.now() - datetime.timedelta(minutes=1))
    refused = api(secretary).post(f"/api/v1/proposals/{proposal.pk}/transitions/", {"action": "decide"}, format="json")
    assert refused.status_code == 409
    assert "reschedule" in refused.json()["allowed_actions"]
    assert "return" in refused.json()["allowed_actions"]
    due = timezone.now() + datetime.timedelta(days=3)
    moved = api(secretary).post(
        f"/api/v1/proposals/{proposal.pk}/reschedule/", {"due_at": due.isoformat(), "comment": "Meet again"}
    )
    assert moved.status_code == 200
    proposal.refresh_from_db()
    assert abs((proposal.review_due_at - due).total_seconds()) < 1
    # A director changes their vote and the board decides.
    review_votes.review_vote_cast(proposal_id=proposal.pk, actor=directors["james"].user, decision="approve")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.board_recommendation) == (State.APPROVED, "for")


def test_only_the_secretary_sets_a_new_due_date(board: dict[str, Any]) -> None:
    proposal = board["proposal"]
    due = (timezone.now() + datetime.timedelta(days=3)).isoformat()
    response = api(board["directors"]["robyn"].user).post(
        f"/api/v1/proposals/{proposal.pk}/reschedule/", {"due_at": due}
    )
    assert response.status_code == 403
    past = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert (
        api(board["secretary"]).post(f"/api/v1/proposals/{proposal.pk}/reschedule/", {"due_at": past}).status_code
        == 400
    )


def test_the_recommendation_reaches_the_item_on_the_ballot_and_its_results(
    client: Client, board: dict[str, Any]
) -> None:
    proposal, directors, secretary = board["proposal"], board["directors"], board["secretary"]
    for name in ("robyn", "kimbal", "ira"):
        review_votes.review_vote_cast(proposal_id=proposal.pk, actor=directors[name].user, decision="refer")
    register = make_register([("H1", "Holder", "holder@example.com", 100)], outstanding=100)
    meeting = make_meeting(register)
    proposal = services.proposal_transition(
        proposal_id=proposal.pk, action=Action.PUT_TO_VOTE, actor=secretary, meeting=meeting
    )
    assert proposal.item is not None
    put = AuditEvent.objects.get(stream=f"proposal:{proposal.pk}", action="put_to_vote")
    assert put.payload["recommendation"] == "none"
    assert ItemTerms.objects.get(poll=proposal.item).recommendation == "none"
    poll_services.poll_open(poll=proposal.item, actor=secretary)
    holder = make_user(username="holder", email="holder@example.com")
    holders_link_user(user=holder)
    client.force_login(holder)
    ballot = text_of(client.get(f"/meetings/{meeting.pk}/"))
    assert "Your ballot" in ballot
    assert "The board recommends: No recommendation" in ballot.split("Your ballot", 1)[1]
    poll_services.poll_close(poll=proposal.item, actor=secretary)
    results = text_of(client.get(f"/polls/{proposal.item.pk}/results/"))
    assert "The board recommends: No recommendation" in results


def test_an_approved_proposal_put_to_the_vote_recommends_for_on_its_item(board: dict[str, Any]) -> None:
    proposal, directors = board["proposal"], board["directors"]
    for name in ("robyn", "kimbal", "ira"):
        review_votes.review_vote_cast(proposal_id=proposal.pk, actor=directors[name].user, decision="approve")
    meeting = make_meeting(make_register([("H1", "Holder", "holder@example.com", 100)], outstanding=100))
    proposal = services.proposal_transition(
        proposal_id=proposal.pk, action=Action.PUT_TO_VOTE, actor=board["secretary"], meeting=meeting
    )
    assert proposal.item is not None
    # What a directed proxy told to vote with the board follows.
    assert ItemTerms.objects.get(poll=proposal.item).recommendation == "for"
    trail = AuditEvent.objects.filter(stream=f"poll:{proposal.item.pk}", action="recommendation_set")
    assert [event.payload for event in trail] == [{"recommendation": "for"}]


def test_an_approved_proposal_recommends_for_in_the_api(board: dict[str, Any]) -> None:
    proposal, directors = board["proposal"], board["directors"]
    for name in ("robyn", "kimbal", "ira"):
        review_votes.review_vote_cast(proposal_id=proposal.pk, actor=directors[name].user, decision="approve")
    detail = api(directors["james"].user).get(f"/api/v1/proposals/{proposal.pk}/").json()
    assert detail["board_decision"]["recommendation"] == "for"


def test_the_demos_xai_proposal_is_referred_by_the_directors_refer_votes() -> None:
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())
    proposal = Proposal.objects.get(title="Invest $5B in xAI")
    trail = list(AuditEvent.objects.filter(stream=f"proposal:{proposal.pk}").order_by("seq"))
    refer = next(event for event in trail if event.action == "refer")
    assert refer.actor_id is None  # the board rule decided it, not the secretary
    votes = [event.payload["decision"] for event in trail if event.action == "review_vote"]
    assert votes.count("refer") == 3
    assert proposal.board_recommendation == "none"
