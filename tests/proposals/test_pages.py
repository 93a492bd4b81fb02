from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from core.models import AuditEvent
from proposals import services
from proposals.models import Proposal, ReviewVote
from proposals.workflow import Action, State
from tests.factories import make_director, make_proposal, make_secretary, make_user

pytestmark = pytest.mark.django_db


def in_review(proposal: Proposal) -> Proposal:
    services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=proposal.proposer)
    return services.proposal_transition(
        proposal_id=proposal.pk,
        action=Action.START_REVIEW,
        actor=make_secretary(),
        due_at=timezone.now() + datetime.timedelta(days=7),
    )


def test_a_member_submits_a_proposal_from_the_form(client: Client) -> None:
    client.force_login(make_user())
    response = client.post(
        "/proposals/new/",
        {
            "title": "Invest $5B in xAI",
            "summary": "As the poll asked.",
            "kind": "investment",
            "counterparty": "xAI",
            "amount": "5000000000",
            "currency": "usd",
            "submit": "1",
        },
        follow=True,
    )
    assert "Proposal submitted." in response.content.decode()
    proposal = Proposal.objects.get()
    assert (proposal.status, proposal.currency) == (State.SUBMITTED, "USD")


def test_a_form_with_missing_values_keeps_what_was_typed(client: Client) -> None:
    client.force_login(make_user())
    response = client.post("/proposals/new/", {"title": "Invest in xAI", "kind": "investment"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="Invest in xAI"' in page
    assert "This field is required." in page
    assert not Proposal.objects.exists()


def test_the_detail_page_shows_the_timeline_and_the_actions_the_user_may_take(client: Client) -> None:
    proposal = make_proposal()
    client.force_login(proposal.proposer)
    page = client.get(f"/proposals/{proposal.pk}/").content.decode()
    assert "Timeline" in page
    assert 'name="action" value="submit"' in page
    assert 'name="action" value="start_review"' not in page


def test_the_secretary_starts_the_review_from_the_page(client: Client) -> None:
    proposal = make_proposal()
    services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=proposal.proposer)
    client.force_login(make_secretary())
    due = (timezone.localtime() + datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/proposals/{proposal.pk}/transition/", {"action": "start_review", "due_at": due}, follow=True
    )
    assert "now in review" in response.content.decode()
    assert Proposal.objects.get(pk=proposal.pk).status == State.IN_REVIEW


def test_returning_without_a_comment_shows_why_on_the_page(client: Client) -> None:
    proposal = in_review(make_proposal())
    client.force_login(make_secretary())
    response = client.post(f"/proposals/{proposal.pk}/transition/", {"action": "return"})
    assert response.status_code == 400
    assert "needs a comment" in response.content.decode()
    assert Proposal.objects.get(pk=proposal.pk).status == State.IN_REVIEW


def test_a_recused_director_sees_the_reason_and_cannot_vote(client: Client) -> None:
    elon = make_director("elon", interests=("xAI",))
    make_director("robyn")
    proposal = in_review(make_proposal())
    client.force_login(elon.user)
    page = client.get(f"/proposals/{proposal.pk}/review/").content.decode()
    assert "you declared an interest in xAI" in page
    client.post(f"/proposals/{proposal.pk}/review/", {"decision": "approve"})
    assert not ReviewVote.objects.exists()
    detail = client.get(f"/proposals/{proposal.pk}/").content.decode()
    assert "You stand aside from this review: you declared an interest in xAI" in detail
    assert "robyn" not in detail, "a recused director sees no deliberation, not even who is yet to vote"


def test_a_director_reviews_from_the_queue(client: Client) -> None:
    robyn = make_director("robyn")
    make_director("kimbal")
    proposal = in_review(make_proposal())
    client.force_login(robyn.user)
    assert "Waiting for your review" in client.get("/proposals/").content.decode()
    client.post(f"/proposals/{proposal.pk}/review/", {"decision": "reject", "comment": "Not now."})
    vote = ReviewVote.objects.get()
    assert (vote.decision, vote.comment) == ("reject", "Not now.")


def test_a_member_who_is_not_a_director_gets_a_403_on_the_review_page(client: Client) -> None:
    proposal = in_review(make_proposal())
    client.force_login(proposal.proposer)
    assert client.get(f"/proposals/{proposal.pk}/review/").status_code == 403
    client.force_login(make_user())
    assert client.get(f"/proposals/{proposal.pk}/review/").status_code == 404  # the board's, not theirs


def test_the_secretary_queue_lists_what_waits(client: Client) -> None:
    proposal = make_proposal(title="Waiting to start")
    services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=proposal.proposer)
    client.force_login(make_secretary())
    page = client.get("/proposals/").content.decode()
    assert page.index("To start the board review") < page.index("Waiting to start")


def test_an_attachment_that_lies_about_its_type_is_refused_on_the_page(
    client: Client, settings: Any, tmp_path: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = str(tmp_path)
    proposal = make_proposal()
    client.force_login(proposal.proposer)
    response = client.post(
        f"/proposals/{proposal.pk}/attach/", {"file": SimpleUploadedFile("report.pdf", b"MZ\x90\x00binary")}
    )
    assert response.status_code == 400
    assert "Attach a PDF, PNG, JPEG or plain-text file." in response.content.decode()
    assert not AuditEvent.objects.filter(action="attached").exists()


def test_editing_a_proposal_in_review_is_forbidden(client: Client) -> None:
    proposal = in_review(make_proposal())
    client.force_login(proposal.proposer)
    assert client.get(f"/proposals/{proposal.pk}/edit/").status_code == 403
