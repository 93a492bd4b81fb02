"""Holes a review found, each pinned by a test."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from meetings.register_import import register_import
from polls import certification
from polls import services as poll_services
from polls.exceptions import RegisterInvalid
from polls.models import PollStatus
from proposals import services
from proposals.exceptions import IllegalAction
from proposals.models import Proposal, Recusal
from proposals.workflow import Action, State
from tests.factories import (
    make_director,
    make_poll,
    make_proposal,
    make_register,
    make_secretary,
    make_user,
    register_csv,
    start_review,
)

pytestmark = pytest.mark.django_db


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


def test_a_draft_poll_cannot_be_cited_as_evidence(api: APIClient) -> None:
    draft = make_poll(status=PollStatus.DRAFT, title="Secret draft")
    api.force_authenticate(make_user())
    response = api.post("/api/v1/proposals/", {"title": "T", "summary": "S", "polls": [draft.pk]}, format="json")
    assert response.status_code == 400
    assert "polls" in response.json()


def test_the_admin_hides_what_a_ballot_chose_while_results_are_hidden(client: Client) -> None:
    poll = make_poll(results_visibility="after_close", secret=False)  # a secret one says "secret ballot"
    poll_services.ballot_cast(poll_id=poll.pk, voter=make_user(), option_id=poll.options.get(label="Yes").pk)
    client.force_login(make_secretary())
    page = client.get("/admin/polls/ballot/").content.decode()
    assert "hidden until the poll closes" in page
    assert ">Yes<" not in page


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


def test_certifying_a_poll_past_its_close_records_the_close_and_escalates(
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_secretary()
    poll = make_poll(opens_in=datetime.timedelta(minutes=-1), lasts=datetime.timedelta(minutes=5))
    poll_services.poll_escalation_set(poll=poll, option_label="Yes")
    poll_services.ballot_cast(poll_id=poll.pk, voter=make_user(), option_id=poll.options.get(label="Yes").pk)
    later = poll.closes_at + datetime.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        certification.poll_certify(poll=poll, certified_by=make_secretary(), now=later)
    actions = list(AuditEvent.objects.filter(stream=f"poll:{poll.pk}").values_list("action", flat=True))
    assert actions == ["poll_opened", "poll_closed", "poll_certified"]
    assert Proposal.objects.filter(escalated_from=poll).count() == 1


def test_a_non_numeric_poll_id_is_a_404_not_a_500(api: APIClient) -> None:
    api.force_authenticate(make_user())
    assert api.post("/api/v1/polls/abc/ballot/", {"option": 1}, format="json").status_code == 404


def test_an_interest_declared_mid_review_recuses_at_once() -> None:
    kimbal = make_director("kimbal")
    make_director("robyn")
    proposal = make_proposal()
    start_review(proposal, make_secretary())
    services.director_save(user=kimbal.user, title="Director", interests=["xai"])
    assert Recusal.objects.get(proposal=proposal).interest == "xai"
    assert AuditEvent.objects.filter(stream=f"proposal:{proposal.pk}", action="director_recused").count() == 1


def test_an_account_created_after_the_import_is_linked_to_its_holding() -> None:
    register = make_register([("H1", "Late Comer", "late@example.com", 10)], outstanding=10)
    user = make_user(username="late", email="LATE@example.com")
    assert register.holders.get().user == user


def test_a_share_count_too_large_to_store_is_a_line_error_not_a_crash() -> None:
    with pytest.raises(RegisterInvalid) as refused:
        register_import(
            source=io.BytesIO(register_csv([("H1", "A", "a@example.com", "9" * 20)])),
            record_date=datetime.date(2025, 9, 15),
            shares_outstanding=10,
            imported_by=None,
        )
    assert refused.value.errors == ["line 2: shares must be at most 18 digits, found 20"]


def test_an_unknown_action_is_a_409_with_the_allowed_actions(api: APIClient) -> None:
    proposal = make_proposal()
    api.force_authenticate(proposal.proposer)
    response = api.post(f"/api/v1/proposals/{proposal.pk}/transitions/", {"action": "approve"}, format="json")
    assert response.status_code == 409
    assert response.json()["allowed_actions"] == ["submit", "withdraw"]
