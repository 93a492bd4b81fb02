"""A director recused from a proposal reads no individual review vote on it: not on the board
meeting's page nor in its printable minutes, where the votes taken at the meeting are listed."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from proposals import board_meetings
from tests.factories import make_director, make_proposal, make_secretary, make_user, start_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def voted() -> dict[str, Any]:
    secretary = make_secretary(username="secretary")
    brad, ira, kathleen = (make_director(name) for name in ("brad", "ira", "kathleen"))
    elon = make_director("elon", interests=("xAI",))
    xai = start_review(make_proposal(make_user(username="proposer"), title="Invest in xAI"), secretary)
    solar = start_review(
        make_proposal(make_user(username="other"), title="Buy SolarCity", counterparty="SolarCity"), secretary
    )
    meeting = board_meetings.board_meeting_create(
        starts_at=timezone.now() + datetime.timedelta(days=1), place="Austin", agenda=[xai, solar], actor=secretary
    )
    board_meetings.attendance_record(meeting_id=meeting.pk, present=[brad, ira, kathleen, elon], actor=secretary)
    for proposal in (xai, solar):
        board_meetings.meeting_vote_record(
            meeting_id=meeting.pk, proposal_id=proposal.pk, director=brad, decision="reject", actor=secretary
        )
    return {"secretary": secretary, "elon": elon, "brad": brad, "ira": ira, "kathleen": kathleen, "meeting": meeting}


def _page(user: Any, path: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_a_recused_director_sees_no_vote_taken_at_the_meeting_on_the_proposal_they_are_recused_from(
    voted: dict[str, Any],
) -> None:
    page = _page(voted["elon"].user, f"/proposals/board-meetings/{voted['meeting'].pk}/")
    assert "Invest in xAI" in page  # the agenda still lists it
    assert "“Invest in xAI”" not in page.split('id="votes-heading"')[1].split("</section>")[0]
    assert "“Buy SolarCity”" in page  # a vote on a proposal they are not recused from


def test_a_disinterested_director_sees_every_vote_taken_at_the_meeting(voted: dict[str, Any]) -> None:
    page = _page(voted["ira"].user, f"/proposals/board-meetings/{voted['meeting'].pk}/")
    votes = page.split('id="votes-heading"')[1].split("</section>")[0]
    assert "“Invest in xAI”" in votes
    assert "“Buy SolarCity”" in votes


def test_the_printable_minutes_show_a_recused_director_no_vote_on_that_proposal(voted: dict[str, Any]) -> None:
    meeting = voted["meeting"]
    board_meetings.minutes_save(meeting_id=meeting.pk, text="The board met.", actor=voted["secretary"])
    board_meetings.minutes_circulate(meeting_id=meeting.pk, actor=voted["secretary"])
    for name in ("brad", "ira", "kathleen"):
        board_meetings.minutes_approve(meeting_id=meeting.pk, actor=voted[name].user)
    path = f"/proposals/board-meetings/{meeting.pk}/minutes/"
    assert "Invest in xAI" in _page(voted["ira"].user, path)
    recused = _page(voted["elon"].user, path)
    assert "Invest in xAI" not in recused
    assert "Buy SolarCity" in recused
