"""The admin's meeting and poll forms save through their services while the form is checked, so
that a refusal is a form error; a page that comes back with errors all the same (an inline's)
must have saved nothing, neither the row nor its link on the trail."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from core.models import AuditEvent
from meetings.models import Meeting
from polls.models import Poll, PollStatus
from tests.factories import make_meeting, make_poll, make_split_register

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(client: Client, secretary: Any) -> Client:
    client.force_login(secretary)
    return client


def test_a_meeting_edit_whose_items_come_back_with_an_error_saves_nothing(admin_browser: Client) -> None:
    meeting = make_meeting(make_split_register())
    form = {
        "title": "Renamed meeting",
        "date": meeting.date.isoformat(),
        "register": meeting.register_id,
        "quorum": "1/2",
        "quorum_comparator": ">",
        # An item row naming no item of the meeting (a page edited by hand, or gone stale).
        "items-TOTAL_FORMS": 1,
        "items-INITIAL_FORMS": 1,
        "items-0-id": 999_999,
        "items-0-meeting": meeting.pk,
    }
    response = admin_browser.post(f"/admin/meetings/meeting/{meeting.pk}/change/", form)
    assert response.status_code == 200
    assert (response.context_data or {})["errors"]
    assert Meeting.objects.get(pk=meeting.pk).title == "2025 Annual Meeting"
    assert not AuditEvent.objects.filter(stream=f"meeting:{meeting.pk}", action="meeting_updated").exists()


def test_a_poll_edit_whose_options_come_back_with_an_error_saves_nothing(admin_browser: Client) -> None:
    poll = make_poll(status=PollStatus.DRAFT, title="Before")
    opens = timezone.now() + datetime.timedelta(days=1)
    yes, no = poll.options.order_by("position")
    form = {
        "title": "After",
        "description": "",
        "kind": "public",
        "opens_at_0": opens.strftime("%Y-%m-%d"),
        "opens_at_1": opens.strftime("%H:%M:%S"),
        "closes_at_0": (opens + datetime.timedelta(days=2)).strftime("%Y-%m-%d"),
        "closes_at_1": opens.strftime("%H:%M:%S"),
        "allow_change": "on",
        "results_visibility": "live",
        "options-TOTAL_FORMS": "2",
        "options-INITIAL_FORMS": "2",
        "options-MIN_NUM_FORMS": "2",
        "options-MAX_NUM_FORMS": "20",
        "options-0-id": yes.pk,
        "options-0-poll": poll.pk,
        "options-0-position": "0",
        "options-0-label": "Yes",
        "options-1-id": no.pk,
        "options-1-poll": poll.pk,
        "options-1-position": "not a number",
        "options-1-label": "No",
    }
    response = admin_browser.post(f"/admin/polls/poll/{poll.pk}/change/", form)
    assert response.status_code == 200
    assert (response.context_data or {})["errors"]
    assert Poll.objects.get(pk=poll.pk).title == "Before"
    assert not AuditEvent.objects.filter(stream=f"poll:{poll.pk}", action="poll_updated").exists()
