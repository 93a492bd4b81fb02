"""Comments are free text: Arabic or Hebrew, with its directional marks and line breaks, is
welcome there; a bidirectional override, embedding or isolate (U+202A-U+202E, U+2066-U+2069),
which turns the displayed text around, is refused on every path with nothing stored."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from proposals import board_meetings, materials
from proposals.exceptions import InvalidProposal
from proposals.models import Comment, MinutesComment, Proposal
from tests.factories import make_director, make_proposal, make_secretary, make_user, proposal_state_force, start_review

pytestmark = pytest.mark.django_db

OVERRIDES = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
ARABIC = "\u0644\u0645\u0627\u0630\u0627 xAI\u061f\n\u200f\u0634\u0643\u0631\u0627\u064b"
HEBREW = "\u05dc\u05de\u05d4 xAI?\n\u200e\u05ea\u05d5\u05d3\u05d4"


def commented_proposal() -> Proposal:
    return proposal_state_force(make_proposal(), "submitted")


@pytest.mark.parametrize("char", OVERRIDES)
def test_a_comment_with_an_override_is_a_400_naming_the_body_and_nothing_is_stored(api: APIClient, char: str) -> None:
    proposal = commented_proposal()
    api.force_authenticate(make_director("robyn").user)
    response = api.post(
        f"/api/v1/proposals/{proposal.pk}/comments/", {"body": f"Fine {char}yb devorppa"}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "body" in response.json()
    assert not Comment.objects.exists()


@pytest.mark.parametrize("body", [ARABIC, HEBREW])
def test_a_comment_in_arabic_or_hebrew_with_its_marks_is_accepted(api: APIClient, body: str) -> None:
    proposal = commented_proposal()
    api.force_authenticate(make_director("robyn").user)
    response = api.post(f"/api/v1/proposals/{proposal.pk}/comments/", {"body": body}, format="json")
    assert response.status_code == 201, response.content
    assert Comment.objects.get().body == body


def test_the_comment_page_shows_a_form_error_for_an_override_and_stores_nothing() -> None:
    proposal = commented_proposal()
    client = Client()
    client.force_login(make_director("robyn").user)
    response = client.post(f"/proposals/{proposal.pk}/comment/", {"body": "Fine \u202eyb devorppa"})
    assert response.status_code == 400
    assert "direction overrides" in response.content.decode()
    assert not Comment.objects.exists()


def test_the_comment_service_refuses_an_override_when_called_directly() -> None:
    proposal = commented_proposal()
    with pytest.raises(InvalidProposal, match="body"):
        materials.comment_add(proposal=proposal, actor=make_director("robyn").user, body="ok \u2066no")
    assert not Comment.objects.exists()


def test_a_minutes_comment_with_an_override_is_refused_and_one_in_hebrew_is_kept() -> None:
    secretary = make_secretary(username="secretary")
    director = make_director("kathleen")
    proposal = start_review(make_proposal(make_user(username="proposer")), secretary)
    meeting = board_meetings.board_meeting_create(
        starts_at=timezone.now() + datetime.timedelta(days=1), place="Austin", agenda=[proposal], actor=secretary
    )
    board_meetings.minutes_save(meeting_id=meeting.pk, actor=secretary, text="# Minutes")
    board_meetings.minutes_circulate(meeting_id=meeting.pk, actor=secretary)
    with pytest.raises(InvalidProposal, match="body"):
        board_meetings.minutes_comment_add(meeting_id=meeting.pk, actor=director.user, body="ok \u202bno")
    page = Client()
    page.force_login(director.user)
    response = page.post(f"/proposals/board-meetings/{meeting.pk}/minutes/comment/", {"body": "ok \u202dno"})
    assert response.status_code != 302
    assert not MinutesComment.objects.exists()
    board_meetings.minutes_comment_add(meeting_id=meeting.pk, actor=director.user, body=HEBREW)
    assert MinutesComment.objects.get().body == HEBREW


def test_the_override_refusal_reads_in_italian() -> None:
    from django.utils import translation

    from core.validators import bidi_overrides_message

    with translation.override("it"):
        assert bidi_overrides_message(["body"]).endswith("non sono ammessi in: body.")
        client = Client()
        client.force_login(make_director("robyn").user)
        proposal = commented_proposal()
        response = client.post(f"/proposals/{proposal.pk}/comment/", {"body": "\u202eno"}, HTTP_ACCEPT_LANGUAGE="it")
        assert "direzione del testo" in response.content.decode()


def test_minutes_with_an_override_are_refused_and_the_draft_kept() -> None:
    secretary = make_secretary(username="secretary")
    proposal = start_review(make_proposal(make_user(username="proposer")), secretary)
    meeting = board_meetings.board_meeting_create(
        starts_at=timezone.now() + datetime.timedelta(days=1), place="Austin", agenda=[proposal], actor=secretary
    )
    board_meetings.minutes_save(meeting_id=meeting.pk, actor=secretary, text="# Minutes\n\n" + HEBREW)
    with pytest.raises(InvalidProposal, match="minutes"):
        board_meetings.minutes_save(meeting_id=meeting.pk, actor=secretary, text="# Minutes\n\n\u202eResolved")
    meeting.refresh_from_db()
    assert meeting.minutes == "# Minutes\n\n" + HEBREW
