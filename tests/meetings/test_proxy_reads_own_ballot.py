"""A proxy learns that its holder voted (the page's casters say so) but not how: the holder's own
ballot is the holder's, and a proxy reads back only the ballots it cast itself."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from meetings.models import Holder
from meetings.services import item_ballot_cast, proxy_appoint
from polls.models import Poll
from tests.factories import make_item, make_meeting, make_split_register, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def voted() -> tuple[Poll, Holder, Any, Any]:
    """Yolanda Fund voted against on its own; its proxy holds an appointment for the meeting."""
    owner = make_user(username="yolanda", email="yolanda@example.com")
    proxy = make_user(username="the-proxy", email="proxy@example.com")
    meeting = make_meeting(make_split_register(), date=timezone.localdate() + datetime.timedelta(days=7))
    holder = Holder.objects.get(register=meeting.register, account="H-1")
    Holder.objects.filter(pk=holder.pk).update(user=owner)
    holder.refresh_from_db()
    proxy_appoint(meeting=meeting, holder=holder, proxy=proxy, actor=owner)
    item = make_item(meeting, title="Authorize the investment in xAI")
    item_ballot_cast(poll_id=item.pk, actor=owner, choice="against")
    return item, holder, owner, proxy


def test_the_proxy_reads_no_ballot_of_the_holders_own_in_the_api(voted: tuple[Poll, Holder, Any, Any]) -> None:
    item, holder, owner, proxy = voted
    client = APIClient()
    client.force_authenticate(proxy)
    answer = client.get(f"/api/v1/polls/{item.pk}/ballot/?holder={holder.pk}")
    assert answer.status_code == 404
    assert "shares_against" not in answer.content.decode()
    client.force_authenticate(owner)
    assert client.get(f"/api/v1/polls/{item.pk}/ballot/?holder={holder.pk}").json()["shares_against"] == "7123"


def test_the_meeting_page_does_not_preselect_the_holders_choice_for_the_proxy(
    voted: tuple[Poll, Holder, Any, Any],
) -> None:
    item, holder, owner, proxy = voted
    assert item.meeting is not None
    reader = Client()
    reader.force_login(proxy)
    page = reader.get(f"/meetings/{item.meeting.pk}/?holder={holder.pk}").content.decode()
    assert "cast by the holder at" in page  # the proxy learns that the holder voted, not how
    assert 'value="against" id="id_item-1_1" checked' not in page.replace(f"item-{item.pk}", "item-1")
    reader.force_login(owner)
    own = reader.get(f"/meetings/{item.meeting.pk}/?holder={holder.pk}").content.decode()
    assert 'value="against" id="id_item-1_1" checked' in own.replace(f"item-{item.pk}", "item-1")
