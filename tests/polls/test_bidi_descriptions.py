"""A poll's or a meeting item's description is free text: Arabic or Hebrew is welcome there, a
bidirectional override, embedding or isolate is refused on every path with nothing stored."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from polls import services
from polls.exceptions import InvalidPollData
from polls.models import Poll
from tests.factories import make_annual_item, make_meeting, make_poll, make_register, make_secretary

pytestmark = pytest.mark.django_db

ARABIC = "\u0647\u0644 \u062a\u0633\u062a\u062b\u0645\u0631 \u0627\u0644\u0634\u0631\u0643\u0629\u061f\n\u200f5%"


def test_a_poll_description_with_an_override_is_a_400_naming_it(api: APIClient) -> None:
    api.force_authenticate(make_secretary())
    now = timezone.now()
    data = {
        "title": "Invest?",
        "description": "Read \u202eeht sllif",
        "kind": "public",
        "options": [{"label": "Yes"}, {"label": "No"}],
        "opens_at": (now + datetime.timedelta(hours=1)).isoformat(),
        "closes_at": (now + datetime.timedelta(days=1)).isoformat(),
    }
    response = api.post("/api/v1/polls/", data, format="json")
    assert response.status_code == 400, response.content
    assert "description" in str(response.json())
    assert not Poll.objects.exists()


def test_a_poll_described_in_arabic_is_stored_as_written() -> None:
    assert make_poll(description=ARABIC).description == ARABIC


def test_editing_a_description_to_hold_an_isolate_is_refused_and_the_poll_unchanged() -> None:
    poll = make_poll(status="draft", description="Plain.")
    with pytest.raises(InvalidPollData, match="description"):
        services.poll_update(poll=poll, actor=make_secretary(), description="Plain \u2066x\u2069.")
    assert Poll.objects.get(pk=poll.pk).description == "Plain."


def test_a_meeting_item_description_with_an_embedding_is_refused() -> None:
    from tests.factories import make_item

    meeting = make_meeting(make_register([("H1", "Alice", "alice@example.com", 1)], outstanding=1))
    with pytest.raises(InvalidPollData, match="description"):
        make_item(meeting, description="\u202bembedded")
    with pytest.raises(InvalidPollData, match="description"):
        make_annual_item(meeting, "election", nominees=["Ann", "Bob"], seats=1, description="\u202bembedded")
    assert not Poll.objects.exists()


def test_a_resignation_decision_whose_note_holds_an_override_is_refused_and_not_recorded() -> None:
    from core.models import AuditEvent
    from meetings.resignations import resignation_decide

    meeting = make_meeting(make_register([("H1", "Alice", "alice@example.com", 1)], outstanding=1))
    item = make_annual_item(meeting, "election", nominees=["Ann", "Bob"], seats=1, election_standard="plurality")
    secretary = make_secretary()
    before = AuditEvent.objects.count()
    with pytest.raises(InvalidPollData, match="note"):
        resignation_decide(poll=item, nominee_id=1, decision="accepted", actor=secretary, note="\u2067ok")
    assert AuditEvent.objects.count() == before
