"""Opening, closing, scheduling and editing a poll, and importing a register, are the
secretary's, asked by the services themselves: a staff account given model permissions in the
admin, whose actions and pages call the same services, is refused there too."""

from __future__ import annotations

import datetime
import io

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from meetings import meeting_services
from meetings.ballot_services import annual_item_create
from meetings.models import Meeting, RegisterSnapshot
from meetings.register_import import register_import
from polls import services
from polls.exceptions import NotSecretary
from polls.models import Poll, PollStatus
from tests.factories import (
    make_item,
    make_meeting,
    make_poll,
    make_register,
    make_secretary,
    make_user,
    register_csv,
)

pytestmark = pytest.mark.django_db


def _staff_with(*permissions: str) -> User:
    clerk = make_user(username="clerk", is_staff=True)
    for permission in permissions:
        app, codename = permission.split(".")
        clerk.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    return clerk


@pytest.mark.parametrize(
    ("action", "status"),
    [("open_polls", PollStatus.SCHEDULED), ("close_polls", PollStatus.OPEN), ("schedule_polls", PollStatus.DRAFT)],
)
def test_a_staff_account_with_the_change_permission_cannot_move_a_poll_through_the_admin(
    client: Client, action: str, status: str
) -> None:
    poll = make_poll(status=status, opens_in=datetime.timedelta(hours=1 if status == PollStatus.SCHEDULED else -1))
    client.force_login(_staff_with("polls.view_poll", "polls.change_poll"))
    client.post("/admin/polls/poll/", {"action": action, "_selected_action": [poll.pk]})
    poll.refresh_from_db()
    assert poll.status == status


def test_a_staff_account_with_the_add_permission_cannot_import_a_register_in_the_admin(client: Client) -> None:
    client.force_login(_staff_with("meetings.add_registersnapshot", "meetings.view_registersnapshot"))
    upload = io.BytesIO(register_csv([("A-1", "Alice Example", "alice@example.com", 10)]))
    upload.name = "register.csv"
    answer = client.post(
        "/admin/meetings/registersnapshot/add/",
        {"record_date": "2025-09-15", "shares_outstanding": "100", "file": upload},
    )
    assert answer.status_code == 403  # the admin asks the role first (core.admin.SecretaryOnly)
    assert not RegisterSnapshot.objects.exists()


def test_the_lifecycle_services_refuse_a_member_and_take_the_secretary_and_the_system() -> None:
    member, secretary = make_user(), make_secretary()
    poll = make_poll(status=PollStatus.DRAFT)
    for move in (services.poll_schedule, services.poll_open, services.poll_close):
        with pytest.raises(NotSecretary):
            move(poll=poll, actor=member)
    with pytest.raises(NotSecretary):
        services.poll_update(poll=poll, actor=member, title="Reworded")
    assert services.poll_update(poll=poll, actor=secretary, title="Reworded").title == "Reworded"
    assert services.poll_open(poll=poll, actor=secretary).status == PollStatus.OPEN
    assert services.poll_close(poll=poll, actor=None).status == PollStatus.CLOSED


def test_the_register_import_refuses_a_member() -> None:
    with pytest.raises(NotSecretary):
        register_import(
            source=io.BytesIO(register_csv([("A-1", "Alice Example", "alice@example.com", 10)])),
            record_date=datetime.date(2025, 9, 15),
            shares_outstanding=100,
            actor=make_user(),
        )
    assert not RegisterSnapshot.objects.exists()


def test_a_staff_account_with_meeting_permissions_cannot_create_or_edit_a_meeting_in_the_admin(client: Client) -> None:
    register = make_register([("A-1", "Alice Example", "alice@example.com", 10)], outstanding=100)
    meeting = make_meeting(register, title="2025 Annual Meeting")
    client.force_login(_staff_with("meetings.add_meeting", "meetings.change_meeting", "meetings.view_meeting"))
    fields = {"date": "2025-11-06", "register": register.pk, "quorum": "1/2", "quorum_comparator": ">"}
    fields |= {"items-TOTAL_FORMS": "0", "items-INITIAL_FORMS": "0"}
    client.post("/admin/meetings/meeting/add/", {"title": "A meeting of my own", **fields})
    client.post(f"/admin/meetings/meeting/{meeting.pk}/change/", {"title": "Renamed", **fields})
    assert list(Meeting.objects.values_list("title", flat=True)) == ["2025 Annual Meeting"]


def test_the_meeting_and_item_services_refuse_a_member() -> None:
    member = make_user()
    register = make_register([("A-1", "Alice Example", "alice@example.com", 10)], outstanding=100)
    meeting = make_meeting(register)
    item = make_item(meeting, status=PollStatus.DRAFT)
    now = timezone.now()
    refused = [
        lambda: meeting_services.meeting_create(
            title="Mine", date=datetime.date(2025, 11, 6), register=register, actor=member
        ),
        lambda: meeting_services.meeting_update(meeting=meeting, actor=member, title="Renamed"),
        lambda: meeting_services.item_create(
            meeting=meeting, title="Mine", opens_at=now, closes_at=now + datetime.timedelta(days=1), actor=member
        ),
        lambda: meeting_services.item_rules_update(poll=item, actor=member, threshold="2/3"),
        lambda: annual_item_create(
            meeting=meeting,
            kind="choice",
            title="Mine",
            opens_at=now,
            closes_at=now + datetime.timedelta(days=1),
            actor=member,
            options=["One", "Two"],
        ),
    ]
    for attempt in refused:
        with pytest.raises(NotSecretary):
            attempt()
    assert Meeting.objects.count() == 1
    assert Poll.objects.count() == 1
