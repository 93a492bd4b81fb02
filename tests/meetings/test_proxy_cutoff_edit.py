"""The proxy cut-off is the secretary's to set (issue 15, part 4): on create and edit through the
API, the console and the admin; no later than the end of the meeting day; on the meeting's trail;
once voting has begun it may be extended but never moved into the past, where proxy ballots
already cast would lie after it."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from core.models import AuditEvent
from meetings.models import Meeting
from tests.factories import api_for, make_item, make_meeting, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db


def site_moment(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def meeting() -> Meeting:
    register = make_register([("H1", "Holder", "holder@example.com", 100)], outstanding=100)
    return make_meeting(register, date=timezone.localdate() + datetime.timedelta(days=10))


def test_the_secretary_moves_the_cutoff_through_the_api_and_it_is_on_the_trail(meeting: Meeting) -> None:
    cutoff = site_moment(meeting.date, 9)
    response = api_for(make_secretary()).patch(
        f"/api/v1/meetings/{meeting.pk}/", {"proxy_cutoff": cutoff.isoformat()}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert datetime.datetime.fromisoformat(response.json()["proxy_cutoff"]) == cutoff
    meeting.refresh_from_db()
    assert meeting.proxy_cutoff_at == cutoff
    event = AuditEvent.objects.get(stream=f"meeting:{meeting.pk}", action="meeting_updated")
    assert event.payload["changes"] == {"proxy_cutoff": {"from": None, "to": cutoff.isoformat()}}
    back = api_for(make_secretary(username="sec2")).patch(
        f"/api/v1/meetings/{meeting.pk}/", {"proxy_cutoff": None}, format="json"
    )
    assert back.status_code == 200
    assert datetime.datetime.fromisoformat(back.json()["proxy_cutoff"]) == site_moment(
        meeting.date - datetime.timedelta(days=1), 23, 59
    )


def test_a_meeting_is_created_with_its_cutoff(meeting: Meeting) -> None:
    date = meeting.date + datetime.timedelta(days=30)
    cutoff = site_moment(date - datetime.timedelta(days=2), 17)
    response = api_for(make_secretary()).post(
        "/api/v1/meetings/",
        {
            "title": "Special meeting",
            "date": date.isoformat(),
            "register": meeting.register_id,
            "proxy_cutoff": cutoff.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Meeting.objects.get(pk=response.json()["id"]).proxy_cutoff == cutoff


def test_a_cutoff_after_the_meeting_day_is_a_400_and_changes_nothing(meeting: Meeting) -> None:
    late = site_moment(meeting.date + datetime.timedelta(days=1), 0)
    response = api_for(make_secretary()).patch(
        f"/api/v1/meetings/{meeting.pk}/", {"proxy_cutoff": late.isoformat()}, format="json"
    )
    assert response.status_code == 400
    assert "no later than the end of the meeting day" in str(response.json())
    meeting.refresh_from_db()
    assert meeting.proxy_cutoff is None
    assert not AuditEvent.objects.filter(stream=f"meeting:{meeting.pk}", action="meeting_updated").exists()
    not_a_time = api_for(make_secretary(username="sec2")).patch(
        f"/api/v1/meetings/{meeting.pk}/", {"proxy_cutoff": "tomorrow\u0000"}, format="json"
    )
    assert not_a_time.status_code == 400


def test_moving_the_meeting_before_a_set_cutoff_is_refused(meeting: Meeting) -> None:
    Meeting.objects.filter(pk=meeting.pk).update(proxy_cutoff=site_moment(meeting.date, 9))
    earlier = meeting.date - datetime.timedelta(days=3)
    response = api_for(make_secretary()).patch(
        f"/api/v1/meetings/{meeting.pk}/", {"date": earlier.isoformat()}, format="json"
    )
    assert response.status_code == 400
    meeting.refresh_from_db()
    assert meeting.date != earlier


def test_once_voting_has_begun_the_cutoff_may_be_extended_but_not_moved_into_the_past(meeting: Meeting) -> None:
    make_item(meeting)
    secretary = api_for(make_secretary())
    past = timezone.now() - datetime.timedelta(minutes=5)
    refused = secretary.patch(f"/api/v1/meetings/{meeting.pk}/", {"proxy_cutoff": past.isoformat()}, format="json")
    assert refused.status_code == 409
    assert "cannot move into the past" in str(refused.json())
    extended = site_moment(meeting.date, 8)
    moved = secretary.patch(f"/api/v1/meetings/{meeting.pk}/", {"proxy_cutoff": extended.isoformat()}, format="json")
    assert moved.status_code == 200
    meeting.refresh_from_db()
    assert meeting.proxy_cutoff == extended


def test_a_member_cannot_move_the_cutoff(meeting: Meeting) -> None:
    cutoff = site_moment(meeting.date, 9)
    response = api_for(make_user(username="member")).patch(
        f"/api/v1/meetings/{meeting.pk}/", {"proxy_cutoff": cutoff.isoformat()}, format="json"
    )
    assert response.status_code == 403
    meeting.refresh_from_db()
    assert meeting.proxy_cutoff is None


def test_the_console_edits_the_cutoff(meeting: Meeting) -> None:
    client = Client()
    client.force_login(make_secretary())
    page = client.get(f"/console/meetings/{meeting.pk}/edit/")
    assert 'name="proxy_cutoff"' in page.content.decode()
    form = {
        "title": meeting.title,
        "date": meeting.date.isoformat(),
        "register": meeting.register_id,
        "quorum": "1/2",
        "quorum_comparator": ">",
        "proxy_cutoff": f"{meeting.date.isoformat()}T07:30",
    }
    response = client.post(f"/console/meetings/{meeting.pk}/edit/", form)
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.proxy_cutoff == site_moment(meeting.date, 7, 30)
    too_late = client.post(
        f"/console/meetings/{meeting.pk}/edit/",
        {**form, "proxy_cutoff": f"{(meeting.date + datetime.timedelta(days=2)).isoformat()}T07:30"},
    )
    assert too_late.status_code == 400
    assert "no later than the end of the meeting day" in too_late.content.decode()
