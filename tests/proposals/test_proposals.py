from __future__ import annotations

import datetime
import itertools
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from polls.models import PollStatus
from proposals import materials, notifications, review_votes, selectors, services
from proposals.exceptions import IllegalAction, InvalidProposal, NotAllowed
from proposals.models import Proposal, ReviewVote
from proposals.workflow import TRANSITIONS, Action, Role, State
from tests.factories import (
    make_director,
    make_poll,
    make_proposal,
    make_secretary,
    make_user,
    proposal_state_force,
)

pytestmark = pytest.mark.django_db

IN_A_WEEK = datetime.timedelta(days=7)


def force_status(proposal: Proposal, status: str) -> Proposal:
    # Test set-up only: jump to a state without walking the table (the service never does this).
    return proposal_state_force(proposal, status)


def actor_for(role: Role, proposal: Proposal, secretary: Any) -> Any:
    return {Role.PROPOSER: proposal.proposer, Role.SECRETARY: secretary, Role.SYSTEM: None}[role]


LEGAL = {(t.source, t.action): t for t in TRANSITIONS}


@pytest.mark.parametrize(("state", "action"), list(itertools.product(list(State), list(Action))))
def test_the_api_answers_every_state_and_action_pair_as_the_table_says(state: State, action: Action) -> None:
    secretary = make_secretary()
    proposal = force_status(make_proposal(), state)
    client = APIClient()
    client.force_authenticate(secretary)
    payload: dict[str, Any] = {"action": action.value, "comment": "Because."}
    if action == Action.START_REVIEW:
        payload["due_at"] = (timezone.now() + IN_A_WEEK).isoformat()
    transition = LEGAL.get((state, action))
    response = client.post(f"/api/v1/proposals/{proposal.pk}/transitions/", payload, format="json")
    if transition is None:
        assert response.status_code == 409, response.json()
        assert "allowed_actions" in response.json()
        assert Proposal.objects.get(pk=proposal.pk).status == state
        assert not AuditEvent.objects.filter(stream=f"proposal:{proposal.pk}", action=action.value).exists()
    elif Role.SECRETARY not in transition.roles:
        assert response.status_code == 403, response.json()
        assert response.json()["allowed_actions"] == selectors.actions_for(secretary, proposal)
        assert Proposal.objects.get(pk=proposal.pk).status == state
    elif action == Action.PUT_TO_VOTE:
        assert response.status_code == 400  # the meeting is missing: a field error, not a transition
        assert Proposal.objects.get(pk=proposal.pk).status == state
    else:
        assert response.status_code == 200, response.json()
        assert response.json()["status"] in transition.targets


def test_an_illegal_action_lists_the_allowed_ones_and_changes_nothing() -> None:
    proposal = make_proposal()
    with pytest.raises(IllegalAction) as refused:
        services.proposal_transition(proposal_id=proposal.pk, action=Action.IMPLEMENT, actor=proposal.proposer)
    assert refused.value.allowed_actions == ["submit", "withdraw"]
    assert Proposal.objects.get(pk=proposal.pk).status == State.DRAFT


def test_an_unknown_action_is_a_409_with_the_allowed_actions(api: APIClient) -> None:
    proposal = make_proposal()
    api.force_authenticate(proposal.proposer)
    response = api.post(f"/api/v1/proposals/{proposal.pk}/transitions/", {"action": "approve"}, format="json")
    assert response.status_code == 409
    assert response.json()["allowed_actions"] == ["submit", "withdraw"]


def test_the_right_action_by_the_wrong_role_is_refused() -> None:
    proposal = make_proposal()
    with pytest.raises(NotAllowed, match="Only the proposer may submit"):
        services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=make_user())


def test_returning_needs_a_comment() -> None:
    proposal = force_status(make_proposal(), State.IN_REVIEW)
    with pytest.raises(InvalidProposal, match="needs a comment"):
        services.proposal_transition(proposal_id=proposal.pk, action=Action.RETURN, actor=make_secretary())


def test_a_director_with_an_interest_in_the_counterparty_is_recused_and_cannot_vote(api: APIClient) -> None:
    elon = make_director("elon", interests=("XAI", "SpaceX"))
    make_director("robyn")
    secretary = make_secretary()
    proposal = make_proposal()
    services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=proposal.proposer)
    services.proposal_transition(
        proposal_id=proposal.pk, action=Action.START_REVIEW, actor=secretary, due_at=timezone.now() + IN_A_WEEK
    )
    recused = AuditEvent.objects.get(stream=f"proposal:{proposal.pk}", action="director_recused")
    assert recused.payload == {"director": "elon", "interest": "XAI"}
    api.force_authenticate(elon.user)
    response = api.post(f"/api/v1/proposals/{proposal.pk}/review-votes/", {"decision": "approve"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "You are recused: you declared an interest in XAI."
    assert not ReviewVote.objects.exists()
    assert selectors.review_tally(proposal).disinterested == 1


def test_a_member_who_is_not_a_director_cannot_review(api: APIClient) -> None:
    proposal = force_status(make_proposal(), State.IN_REVIEW)
    api.force_authenticate(proposal.proposer)
    response = api.post(f"/api/v1/proposals/{proposal.pk}/review-votes/", {"decision": "approve"}, format="json")
    assert response.status_code == 403
    assert "Only directors" in response.json()["detail"]
    api.force_authenticate(make_user())
    response = api.post(f"/api/v1/proposals/{proposal.pk}/review-votes/", {"decision": "approve"}, format="json")
    assert response.status_code == 404  # a proposal in review is not theirs to see


def test_the_board_decides_automatically_once_the_rule_cannot_change() -> None:
    directors = [make_director(name) for name in ("a", "b", "c")]
    proposal = make_proposal()
    services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=proposal.proposer)
    services.proposal_transition(
        proposal_id=proposal.pk, action=Action.START_REVIEW, actor=make_secretary(), due_at=timezone.now() + IN_A_WEEK
    )
    review_votes.review_vote_cast(proposal_id=proposal.pk, actor=directors[0].user, decision="approve")
    assert Proposal.objects.get(pk=proposal.pk).status == State.IN_REVIEW
    review_votes.review_vote_cast(proposal_id=proposal.pk, actor=directors[1].user, decision="approve")
    assert Proposal.objects.get(pk=proposal.pk).status == State.APPROVED
    decided = AuditEvent.objects.get(stream=f"proposal:{proposal.pk}", action="decide")
    assert decided.actor is None
    assert decided.payload["to"] == "approved"


def test_the_secretary_decides_at_the_due_date_on_the_votes_cast() -> None:
    directors = [make_director(name) for name in ("a", "b", "c", "d")]
    proposal = force_status(make_proposal(), State.IN_REVIEW)
    review_votes.review_vote_cast(proposal_id=proposal.pk, actor=directors[0].user, decision="approve")
    decided = services.proposal_transition(proposal_id=proposal.pk, action=Action.DECIDE, actor=make_secretary())
    assert decided.status == State.REJECTED  # 1 of 4 voted: no quorum
    event = AuditEvent.objects.get(stream=f"proposal:{proposal.pk}", action="decide")
    assert "no quorum" in event.payload["comment"]


def test_the_secretary_cannot_decide_before_the_review_is_due() -> None:
    make_director("a")
    proposal = make_proposal()
    services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=proposal.proposer)
    secretary = make_secretary()
    services.proposal_transition(
        proposal_id=proposal.pk,
        action=Action.START_REVIEW,
        actor=secretary,
        due_at=timezone.now() + datetime.timedelta(days=7),
    )
    with pytest.raises(IllegalAction, match="decides only at the due date") as refused:
        services.proposal_transition(proposal_id=proposal.pk, action=Action.DECIDE, actor=secretary)
    assert "decide" not in refused.value.allowed_actions
    assert Proposal.objects.get(pk=proposal.pk).status == State.IN_REVIEW


def test_edits_are_refused_outside_draft_and_returned(api: APIClient) -> None:
    proposal = force_status(make_proposal(), State.IN_REVIEW)
    api.force_authenticate(proposal.proposer)
    response = api.patch(f"/api/v1/proposals/{proposal.pk}/", {"title": "Invest $10B"}, format="json")
    assert response.status_code == 403
    assert Proposal.objects.get(pk=proposal.pk).title == "Invest $5B in xAI"


def test_the_proposer_edits_a_draft(api: APIClient) -> None:
    proposal = make_proposal()
    api.force_authenticate(proposal.proposer)
    response = api.patch(f"/api/v1/proposals/{proposal.pk}/", {"amount": "5000000000.00"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["amount"] == "5000000000.00"


def test_a_member_creates_a_proposal_through_the_api(api: APIClient) -> None:
    api.force_authenticate(make_user())
    response = api.post(
        "/api/v1/proposals/",
        {"title": "Invest $5B in xAI", "summary": "As the poll asked.", "kind": "investment", "counterparty": "xAI"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "draft"
    assert response.json()["allowed_actions"] == ["submit", "withdraw"]


def test_a_draft_poll_cannot_be_cited_as_evidence(api: APIClient) -> None:
    draft = make_poll(status=PollStatus.DRAFT, title="Secret draft")
    api.force_authenticate(make_user())
    response = api.post("/api/v1/proposals/", {"title": "T", "summary": "S", "polls": [draft.pk]}, format="json")
    assert response.status_code == 400
    assert "polls" in response.json()


def test_drafts_are_private_to_their_proposer_and_the_secretary(api: APIClient) -> None:
    proposal = make_proposal()
    api.force_authenticate(make_user())
    assert api.get(f"/api/v1/proposals/{proposal.pk}/").status_code == 404
    api.force_authenticate(proposal.proposer)
    assert api.get(f"/api/v1/proposals/{proposal.pk}/").status_code == 200


def test_a_draft_withdrawn_before_submission_stays_private(api: APIClient) -> None:
    proposal = make_proposal()
    services.proposal_transition(proposal_id=proposal.pk, action=Action.WITHDRAW, actor=proposal.proposer)
    assert api.get(f"/api/v1/proposals/{proposal.pk}/").status_code == 404
    api.force_authenticate(proposal.proposer)
    assert api.get(f"/api/v1/proposals/{proposal.pk}/").status_code == 200


def test_a_submitted_then_withdrawn_proposal_stays_with_the_board(api: APIClient) -> None:
    # Submitting does not publish (DESIGN, "Who sees what"): the board saw it, the public never did.
    proposal = make_proposal()
    services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=proposal.proposer)
    services.proposal_transition(proposal_id=proposal.pk, action=Action.WITHDRAW, actor=proposal.proposer)
    assert api.get(f"/api/v1/proposals/{proposal.pk}/").status_code == 404
    api.force_authenticate(make_director("robyn").user)
    assert api.get(f"/api/v1/proposals/{proposal.pk}/").status_code == 200


@pytest.mark.parametrize(
    ("name", "content", "accepted"),
    [
        ("minutes.pdf", b"%PDF-1.7\n...", True),
        ("chart.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, True),
        ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, True),
        ("notes.txt", "Voto consultivo: più azioni".encode(), True),
        ("report.pdf", b"MZ\x90\x00\x03\x00\x00\x00", False),  # an executable that says it is a PDF
        ("chart.png", b"%PDF-1.7\n", False),  # a PDF that says it is a PNG
    ],
)
def test_attachments_are_checked_by_content_not_by_name(name: str, content: bytes, accepted: bool) -> None:
    proposal = make_proposal()
    upload = SimpleUploadedFile(name, content)
    if accepted:
        attachment = materials.attachment_add(proposal=proposal, actor=proposal.proposer, upload=upload)
        assert attachment.size == len(content)
    else:
        with pytest.raises(InvalidProposal):
            materials.attachment_add(proposal=proposal, actor=proposal.proposer, upload=upload)
        assert not proposal.attachments.exists()


def test_an_attachment_over_ten_megabytes_is_refused() -> None:
    proposal = make_proposal()
    upload = SimpleUploadedFile("big.txt", b"a" * (10 * 1024 * 1024 + 1))
    with pytest.raises(InvalidProposal, match="limited to 10 MB"):
        materials.attachment_add(proposal=proposal, actor=proposal.proposer, upload=upload)


def test_only_people_who_may_see_the_proposal_can_download_its_files(client: Any, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    proposal = make_proposal()
    attachment = materials.attachment_add(
        proposal=proposal, actor=proposal.proposer, upload=SimpleUploadedFile("a.txt", b"hello")
    )
    client.force_login(make_user())
    assert client.get(f"/proposals/attachments/{attachment.pk}/").status_code == 404  # a draft: private
    client.force_login(proposal.proposer)
    response = client.get(f"/proposals/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"hello"


def test_comments_are_added_and_listed(api: APIClient) -> None:
    proposal = force_status(make_proposal(), State.SUBMITTED)
    api.force_authenticate(make_director("robyn").user)
    assert (
        api.post(f"/api/v1/proposals/{proposal.pk}/comments/", {"body": "Why xAI?"}, format="json").status_code == 201
    )
    assert [c["body"] for c in api.get(f"/api/v1/proposals/{proposal.pk}/comments/").json()] == ["Why xAI?"]


def test_reminders_go_once_to_directors_who_have_not_voted(django_capture_on_commit_callbacks: Any) -> None:
    voted, waiting = make_director("voted"), make_director("waiting")
    proposal = force_status(make_proposal(), State.IN_REVIEW)
    Proposal.objects.filter(pk=proposal.pk).update(review_due_at=timezone.now() + datetime.timedelta(hours=20))
    ReviewVote.objects.create(proposal=proposal, director=voted, decision="approve")
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications.review_reminders_send() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications.review_reminders_send() == 0
    assert [m.to for m in mail.outbox] == [[waiting.user.email]]
    assert "Reminder" in mail.outbox[0].subject


def test_a_notification_is_sent_once_even_if_its_task_runs_twice(django_capture_on_commit_callbacks: Any) -> None:
    secretary = make_secretary(email="sec@example.com")
    proposal = make_proposal()
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=proposal.proposer)
    from core.models import Notification
    from core.notifications import notification_send

    notification = Notification.objects.get(kind="submitted")
    assert notification_send(notification_id=notification.pk) is False
    assert [m.to for m in mail.outbox] == [[secretary.email]]
    assert mail.outbox[0].alternatives[0][1] == "text/html"  # type: ignore[union-attr]


def test_the_directors_api_records_interests_for_the_secretary(api: APIClient) -> None:
    make_user(username="elon")
    api.force_authenticate(make_secretary())
    response = api.post(
        "/api/v1/directors/", {"user": "elon", "title": "CEO", "interests": ["xAI", " SpaceX "]}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["interests"] == ["SpaceX", "xAI"]
    api.force_authenticate(make_user())
    assert api.get("/api/v1/directors/").status_code == 403


def test_the_events_endpoint_returns_the_chained_trail(api: APIClient) -> None:
    proposal = make_proposal()
    services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=proposal.proposer)
    api.force_authenticate(proposal.proposer)
    events = api.get(f"/api/v1/proposals/{proposal.pk}/events/").json()
    assert [e["action"] for e in events] == ["created", "submit"]
    assert len(events[1]["hash"]) == 64


def test_the_api_offers_no_way_to_change_or_delete_events(api: APIClient) -> None:
    proposal = make_proposal()
    api.force_authenticate(make_secretary())
    url = f"/api/v1/proposals/{proposal.pk}/events/"
    assert api.delete(url).status_code == 405
    assert api.put(url, {}, format="json").status_code == 405
    assert api.post(url, {}, format="json").status_code == 405
    assert AuditEvent.objects.filter(stream=f"proposal:{proposal.pk}").count() == 1
