"""A proposal's free text (its summary and body, the comments of a review vote, a transition, a
rescheduling or a follow-up) keeps right-to-left text but refuses an override, embedding or
isolate on every path, naming the field, with nothing stored."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from proposals import board, review_votes, services
from proposals.exceptions import InvalidProposal
from proposals.models import Proposal, ReviewVote
from proposals.workflow import Action, State
from tests.factories import make_director, make_proposal, make_secretary, make_user, proposal_state_force

pytestmark = pytest.mark.django_db

HEBREW = "\u05d4\u05e9\u05e7\u05e2\u05d4 \u05d1-xAI\n\u200f\u05e1\u05db\u05d5\u05dd: 5"


@pytest.mark.parametrize("field", ["summary", "body"])
def test_a_proposal_summary_or_body_with_an_override_is_a_400_naming_it(api: APIClient, field: str) -> None:
    api.force_authenticate(make_user())
    data = {"title": "Invest", "summary": "A summary.", "body": "A body.", "kind": "investment", "counterparty": "xAI"}
    data[field] = "Pay \u202e000,01$"
    response = api.post("/api/v1/proposals/", data, format="json")
    assert response.status_code == 400, response.content
    assert field in str(response.json())
    assert not Proposal.objects.exists()


def test_a_proposal_in_hebrew_is_stored_as_written() -> None:
    proposal = make_proposal(summary=HEBREW, body=HEBREW)
    assert (proposal.summary, proposal.body) == (HEBREW, HEBREW)


def test_editing_a_body_to_hold_an_isolate_is_refused_and_the_draft_unchanged() -> None:
    proposal = make_proposal(body="Plain.")
    with pytest.raises(InvalidProposal, match="body"):
        services.proposal_update(proposal=proposal, actor=proposal.proposer, body="Plain \u2067tricky\u2069.")
    assert Proposal.objects.get(pk=proposal.pk).body == "Plain."


def test_a_review_vote_comment_with_an_override_is_refused_and_no_vote_is_stored() -> None:
    director = make_director("robyn")
    proposal = proposal_state_force(make_proposal(), State.IN_REVIEW)
    with pytest.raises(InvalidProposal, match="comment"):
        review_votes.review_vote_cast(
            proposal_id=proposal.pk, actor=director.user, decision="approve", comment="ok \u202ddenied"
        )
    assert not ReviewVote.objects.exists()
    review_votes.review_vote_cast(proposal_id=proposal.pk, actor=director.user, decision="approve", comment=HEBREW)
    assert ReviewVote.objects.get().comment == HEBREW


def test_returning_a_proposal_with_an_override_in_the_comment_is_refused_and_it_stays_in_review() -> None:
    proposal = proposal_state_force(make_proposal(), State.IN_REVIEW)
    with pytest.raises(InvalidProposal, match="comment"):
        services.proposal_transition(
            proposal_id=proposal.pk, action=Action.RETURN, actor=make_secretary(), comment="Fix \u202bit"
        )
    assert Proposal.objects.get(pk=proposal.pk).status == State.IN_REVIEW


def test_rescheduling_a_review_with_an_override_in_the_comment_is_refused() -> None:
    proposal = proposal_state_force(make_proposal(), State.IN_REVIEW)
    due = timezone.now() + datetime.timedelta(days=3)
    with pytest.raises(InvalidProposal, match="comment"):
        board.review_reschedule(proposal_id=proposal.pk, actor=make_secretary(), due_at=due, comment="\u202aWait")
    assert Proposal.objects.get(pk=proposal.pk).review_due_at != due


def test_a_written_consent_whose_resolution_holds_an_override_is_refused_and_none_circulates() -> None:
    from proposals import consent
    from proposals.models import WrittenConsent
    from tests.factories import start_review

    secretary = make_secretary(username="secretary")
    make_director("robyn")
    proposal = start_review(make_proposal(make_user(username="proposer")), secretary)
    with pytest.raises(InvalidProposal, match="text"):
        consent.consent_create(
            proposal_id=proposal.pk, text="RESOLVED, \u202edevorppa", outcome="rejected", actor=secretary
        )
    assert not WrittenConsent.objects.exists()
