"""Board meetings: attendance, votes taken at the meeting that decide a proposal like review
votes, and minutes rendered safely, circulated, approved by the board and then frozen."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from core.audit import audit_trail
from proposals import board_meetings
from proposals.exceptions import IllegalAction
from proposals.models import BoardMeeting, MinutesStatus, Proposal, ReviewVote
from tests.factories import make_director, make_proposal, make_secretary, make_user, start_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def board() -> dict[str, Any]:
    secretary = make_secretary(username="secretary")
    directors = [make_director(name) for name in ("brad", "ira", "kathleen")]
    proposal = start_review(make_proposal(make_user(username="proposer"), counterparty="SolarCity"), secretary)
    meeting = board_meetings.board_meeting_create(
        starts_at=timezone.now() + datetime.timedelta(days=1),
        place="Austin, Gigafactory Texas",
        agenda=[proposal],
        actor=secretary,
    )
    return {"secretary": secretary, "directors": directors, "proposal": proposal, "meeting": meeting}


def page_as(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_votes_taken_at_the_meeting_decide_the_proposal_like_review_votes(board: dict[str, Any]) -> None:
    secretary, (brad, ira, kathleen) = board["secretary"], board["directors"]
    meeting, proposal = board["meeting"], board["proposal"]
    client = page_as(secretary)
    assert (
        client.post(f"/proposals/board-meetings/{meeting.pk}/attendance/", {"present": [brad.pk, ira.pk]}).status_code
        == 302
    )
    for director in (brad, ira):
        response = client.post(
            f"/proposals/board-meetings/{meeting.pk}/votes/",
            {"proposal": proposal.pk, "director": director.pk, "decision": "approve"},
        )
        assert response.status_code == 302
    assert Proposal.objects.get(pk=proposal.pk).status == "approved"
    assert ReviewVote.objects.filter(meeting=meeting).count() == 2
    votes = [e for e in audit_trail(f"proposal:{proposal.pk}") if e.action == "review_vote"]
    assert [e.payload["meeting"] for e in votes] == [meeting.pk, meeting.pk]
    assert all(e.actor_id == secretary.pk for e in votes)
    page = page_as(kathleen.user).get(f"/proposals/board-meetings/{meeting.pk}/")
    assert "at the meeting of" in page.content.decode()
    call_command("verify_audit")


def test_an_absent_director_cannot_have_a_vote_recorded_at_the_meeting(board: dict[str, Any]) -> None:
    meeting, (brad, ira, _kathleen) = board["meeting"], board["directors"]
    board_meetings.attendance_record(meeting_id=meeting.pk, present=[brad], actor=board["secretary"])
    with pytest.raises(IllegalAction):
        board_meetings.meeting_vote_record(
            meeting_id=meeting.pk,
            proposal_id=board["proposal"].pk,
            director=ira,
            decision="approve",
            actor=board["secretary"],
        )
    assert not ReviewVote.objects.exists()


def test_minutes_are_rendered_without_any_script_or_raw_html(board: dict[str, Any]) -> None:
    html = board_meetings.minutes_html(
        "# Minutes\n\n<script>alert(1)</script> **Resolved** [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    assert "<h3>Minutes</h3>" in html, "headings sit under the page's own"
    assert "<strong>Resolved</strong>" in html
    assert "<script" not in html and "<img" not in html, "raw HTML is shown as text"
    assert "href" not in html, "a javascript: link is not made a link"


def test_minutes_approved_by_a_majority_are_frozen_and_printable(board: dict[str, Any]) -> None:
    secretary, (brad, ira, kathleen) = board["secretary"], board["directors"]
    meeting = board["meeting"]
    secretary_page = page_as(secretary)
    secretary_page.post(f"/proposals/board-meetings/{meeting.pk}/minutes/save/", {"minutes": "# Minutes\n\nDraft."})
    assert secretary_page.post(f"/proposals/board-meetings/{meeting.pk}/minutes/circulate/").status_code == 302
    comment = page_as(kathleen.user).post(
        f"/proposals/board-meetings/{meeting.pk}/minutes/comment/", {"body": "Add who chaired."}
    )
    assert comment.status_code == 302
    secretary_page.post(
        f"/proposals/board-meetings/{meeting.pk}/minutes/save/", {"minutes": "# Minutes\n\nRobyn chaired."}
    )
    for director in (brad, ira):
        assert (
            page_as(director.user).post(f"/proposals/board-meetings/{meeting.pk}/minutes/approve/").status_code == 302
        )
    meeting.refresh_from_db()
    assert meeting.minutes_status == MinutesStatus.APPROVED
    assert meeting.minutes_digest == board_meetings.minutes_digest("# Minutes\n\nRobyn chaired.")
    edit = secretary_page.post(f"/proposals/board-meetings/{meeting.pk}/minutes/save/", {"minutes": "Rewritten."})
    assert edit.status_code == 409
    assert BoardMeeting.objects.get(pk=meeting.pk).minutes == "# Minutes\n\nRobyn chaired."
    printable = page_as(kathleen.user).get(f"/proposals/board-meetings/{meeting.pk}/minutes/")
    assert printable.status_code == 200
    digest = meeting.minutes_digest
    assert " ".join(digest[i : i + 8] for i in range(0, 64, 8)) in printable.content.decode()
    actions = [event.action for event in audit_trail(f"board_meeting:{meeting.pk}")]
    assert actions[-2:] == ["minutes_approval", "minutes_approved"]
    call_command("verify_audit")


def test_a_correction_after_circulation_withdraws_the_approvals(board: dict[str, Any]) -> None:
    secretary, (brad, _ira, _kathleen) = board["secretary"], board["directors"]
    meeting = board["meeting"]
    board_meetings.minutes_save(meeting_id=meeting.pk, text="Draft.", actor=secretary)
    board_meetings.minutes_circulate(meeting_id=meeting.pk, actor=secretary)
    board_meetings.minutes_approve(meeting_id=meeting.pk, actor=brad.user)
    board_meetings.minutes_save(meeting_id=meeting.pk, text="Corrected.", actor=secretary)
    assert not meeting.minutes_approvals.exists()


def test_board_meetings_are_the_boards(board: dict[str, Any]) -> None:
    meeting = board["meeting"]
    assert page_as(make_user(username="member")).get(f"/proposals/board-meetings/{meeting.pk}/").status_code == 403
    assert Client().get(f"/proposals/board-meetings/{meeting.pk}/").status_code == 302
    assert page_as(board["directors"][0].user).get("/proposals/board-meetings/new/").status_code == 403


def test_through_the_api_votes_decide_and_approved_minutes_refuse_edits_with_409(board: dict[str, Any]) -> None:
    from rest_framework.test import APIClient

    secretary, (brad, ira, kathleen) = board["secretary"], board["directors"]
    api = APIClient()
    api.force_authenticate(secretary)
    created = api.post(
        "/api/v1/board-meetings/",
        {
            "starts_at": timezone.now().isoformat(),
            "video_link": "https://meet.example.com/board",
            "agenda": [board["proposal"].pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    meeting_id = created.json()["id"]
    present = api.post(
        f"/api/v1/board-meetings/{meeting_id}/attendance/", {"present": ["brad", "ira", "kathleen"]}, format="json"
    )
    assert present.json()["present"] == ["brad", "ira", "kathleen"]
    for name in ("brad", "ira"):
        vote = api.post(
            f"/api/v1/board-meetings/{meeting_id}/votes/",
            {"proposal": board["proposal"].pk, "director": name, "decision": "reject"},
            format="json",
        )
        assert vote.status_code == 201, vote.content
    assert Proposal.objects.get(pk=board["proposal"].pk).status == "rejected"
    assert (
        api.put(f"/api/v1/board-meetings/{meeting_id}/minutes/", {"text": "Rejected."}, format="json").status_code
        == 200
    )
    assert api.post(f"/api/v1/board-meetings/{meeting_id}/minutes/circulate/").status_code == 200
    for director in (brad, ira, kathleen):
        as_director = APIClient()
        as_director.force_authenticate(director.user)
        answer = as_director.post(f"/api/v1/board-meetings/{meeting_id}/minutes/approve/")
        assert answer.status_code == (200 if director is not kathleen else 409)
    assert api.get(f"/api/v1/board-meetings/{meeting_id}/minutes/").json()["status"] == "approved"
    edit = api.put(f"/api/v1/board-meetings/{meeting_id}/minutes/", {"text": "Approved."}, format="json")
    assert edit.status_code == 409
    member = APIClient()
    member.force_authenticate(make_user(username="member"))
    assert member.get("/api/v1/board-meetings/").status_code == 403
