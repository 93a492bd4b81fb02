"""A staff account given every model permission in the admin is still not the secretary: what the
API and the console leave to the secretary (an item's lifecycle, certification, tabulation,
meetings, the register and its holders, proxies, related parties) it may not do in the admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from core.models import AuditEvent
from meetings.models import Holder, ProxyAppointment, Tabulation
from meetings.services import proxy_appoint
from polls.models import Poll, PollStatus
from proposals.models import Party
from tests.factories import make_item, make_meeting, make_poll, make_split_register, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Any:
    """Staff with every permission of the apps' models, but not in the secretary group."""
    user = make_user(username="it-admin", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["polls", "meetings", "proposals"]))
    return user


@pytest.fixture
def staff_browser(client: Client, staff: Any) -> Client:
    client.force_login(staff)
    return client


@pytest.fixture
def closed_item() -> Poll:
    meeting = make_meeting(make_split_register())
    return make_item(meeting, status=PollStatus.CLOSED)


def test_staff_with_model_permissions_cannot_open_a_poll_from_the_admin(staff_browser: Client) -> None:
    poll = make_poll(status=PollStatus.DRAFT)
    staff_browser.post("/admin/polls/poll/", {"action": "open_polls", "_selected_action": [poll.pk]})
    poll.refresh_from_db()
    assert poll.status == PollStatus.DRAFT


def test_staff_with_model_permissions_is_not_offered_the_lifecycle_actions(staff_browser: Client) -> None:
    make_poll()
    page = staff_browser.get("/admin/polls/poll/").content.decode()
    for action in ("schedule_polls", "open_polls", "close_polls", "certify_polls"):
        assert f'value="{action}"' not in page


def test_staff_with_model_permissions_cannot_certify_an_item_from_the_admin(
    staff_browser: Client, closed_item: Poll
) -> None:
    staff_browser.post("/admin/polls/poll/", {"action": "certify_polls", "_selected_action": [closed_item.pk]})
    closed_item.refresh_from_db()
    assert closed_item.status == PollStatus.CLOSED


def test_staff_with_model_permissions_cannot_enter_a_tabulation(staff_browser: Client, closed_item: Poll) -> None:
    form = {"poll": closed_item.pk, "shares_for": "10", "shares_against": "0", "shares_abstain": "0"}
    form |= {"broker_non_votes": "0", "source": "inspector"}
    assert staff_browser.post("/admin/meetings/tabulation/add/", form).status_code == 403
    assert staff_browser.get("/admin/meetings/tabulation/lines/").status_code == 403
    assert not Tabulation.objects.exists()


def test_staff_with_model_permissions_cannot_change_a_poll_or_add_one(staff_browser: Client) -> None:
    poll = make_poll(status=PollStatus.DRAFT, title="Before")
    assert staff_browser.get("/admin/polls/poll/add/").status_code == 403
    assert staff_browser.post(f"/admin/polls/poll/{poll.pk}/change/", {"title": "After"}).status_code == 403
    poll.refresh_from_db()
    assert poll.title == "Before"


def test_staff_with_model_permissions_does_not_read_the_ballots_or_the_audit_trail(client: Client) -> None:
    """The trail holds the board's review votes and comments; ballots show who voted."""
    reader = make_user(username="auditor", is_staff=True)
    reader.user_permissions.set(Permission.objects.filter(codename__in=["view_auditevent", "view_ballot"]))
    client.force_login(reader)
    make_poll()
    event = AuditEvent.objects.first()
    assert event is not None
    assert client.get("/admin/core/auditevent/").status_code == 403
    assert client.get(f"/admin/core/auditevent/{event.pk}/change/").status_code == 403
    assert client.get("/admin/polls/ballot/").status_code == 403


def test_staff_with_model_permissions_may_still_read_the_poll_list(staff_browser: Client) -> None:
    make_poll(title="Readable by staff")
    assert "Readable by staff" in staff_browser.get("/admin/polls/poll/").content.decode()


def test_staff_with_model_permissions_does_not_see_the_register_holders_or_proxies(staff_browser: Client) -> None:
    register = make_split_register()
    assert staff_browser.get("/admin/meetings/holder/").status_code == 403
    holder = Holder.objects.filter(register=register).first()
    assert holder is not None
    assert staff_browser.get(f"/admin/meetings/holder/{holder.pk}/change/").status_code == 403
    assert staff_browser.get("/admin/meetings/proxyappointment/").status_code == 403
    assert staff_browser.get("/admin/meetings/registersnapshot/add/").status_code == 403


def test_staff_with_model_permissions_cannot_revoke_a_proxy(staff_browser: Client, secretary: Any) -> None:
    meeting = make_meeting(make_split_register())
    holder = Holder.objects.filter(register=meeting.register).first()
    assert holder is not None
    appointment = proxy_appoint(meeting=meeting, holder=holder, proxy=make_user(), actor=secretary)
    staff_browser.post("/admin/meetings/proxyappointment/", {"action": "revoke", "_selected_action": [appointment.pk]})
    assert ProxyAppointment.objects.get(pk=appointment.pk).revoked_at is None


def test_staff_with_model_permissions_cannot_add_or_confirm_a_related_party(staff_browser: Client) -> None:
    party = Party.objects.create(name="xAI Holdings")
    assert staff_browser.post("/admin/proposals/party/add/", {"name": "SpaceX"}).status_code == 403
    staff_browser.post("/admin/proposals/party/", {"action": "confirm", "_selected_action": [party.pk]})
    party.refresh_from_db()
    assert not party.confirmed
    assert not Party.objects.filter(name="SpaceX").exists()


def test_the_secretary_still_opens_a_poll_from_the_admin(client: Client, secretary: Any) -> None:
    poll = make_poll(status=PollStatus.DRAFT)
    client.force_login(secretary)
    client.post("/admin/polls/poll/", {"action": "open_polls", "_selected_action": [poll.pk]})
    poll.refresh_from_db()
    assert poll.status == PollStatus.OPEN


def test_the_admin_actions_and_their_messages_read_in_italian(secretary: Any) -> None:
    poll = make_poll(status=PollStatus.DRAFT)
    browser = Client(HTTP_ACCEPT_LANGUAGE="it")
    browser.force_login(secretary)
    page = browser.get("/admin/polls/poll/").content.decode()
    assert "Certifica (riconta e congela)" in page
    assert "Programma (si apre all&#x27;orario di apertura)" in page
    answer = browser.post("/admin/polls/poll/", {"action": "open_polls", "_selected_action": [poll.pk]}, follow=True)
    assert "1 votazione aperta." in answer.content.decode()


def test_celery_beat_schedules_are_the_superusers_not_the_secretarys_or_staffs(client: Client, secretary: Any) -> None:
    """A schedule runs any task with any arguments: a receipt mailed for any account, say."""
    staff = make_user(username="ops", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="django_celery_beat"))
    for user in (staff, secretary):
        client.force_login(user)
        assert client.get("/admin/django_celery_beat/periodictask/").status_code == 403
        assert client.get("/admin/django_celery_beat/periodictask/add/").status_code == 403
        assert "django_celery_beat" not in client.get("/admin/").content.decode()
    client.force_login(make_user(username="root", is_staff=True, is_superuser=True))
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 200
