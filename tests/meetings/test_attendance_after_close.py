"""Attendance is every item's quorum and the base of present_and_entitled: once every item of the
meeting has closed nobody (holder, proxy or secretary) changes it, since that would change results
already decided; and a proxy checks its holder in only until the meeting's proxy cut-off, as it
votes for them."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from meetings.models import Meeting
from meetings.services import item_ballot_cast, proxy_appoint
from polls import services
from polls.models import PollStatus, VoteStandard
from polls.selectors import poll_results
from tests.factories import make_item, make_meeting, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting() -> dict[str, Any]:
    alice = make_user(username="alice", email="alice@example.com")
    bob = make_user(username="bob", email="bob@example.com")
    proxy = make_user(username="proxy")
    register = make_register(
        [("A-1", "Alice Example", "alice@example.com", 600), ("B-1", "Bob Example", "bob@example.com", 400)],
        outstanding=1_000,
    )
    meeting = make_meeting(register)
    item = make_item(meeting, standard=VoteStandard.PRESENT_AND_ENTITLED)
    holders = {holder.account: holder for holder in register.holders.all()}
    proxy_appoint(meeting=meeting, holder=holders["B-1"], proxy=proxy, actor=bob)
    item_ballot_cast(poll_id=item.pk, actor=alice, choice="for", holder_id=holders["A-1"].pk)
    return {"meeting": meeting, "item": item, "holders": holders, "bob": bob, "proxy": proxy}


def _close(item: Any) -> None:
    services.poll_close(poll=item)


def _check_in(api_as: Any, user: Any, meeting: Meeting, holder: Any) -> Any:
    return api_as(user).post(f"/api/v1/meetings/{meeting.pk}/attendance/", {"holder": holder.pk}, format="json")


@pytest.mark.parametrize("who", ["bob", "proxy", "secretary"])
def test_nobody_checks_a_holder_in_once_every_item_has_closed(meeting: dict[str, Any], api_as: Any, who: str) -> None:
    _close(meeting["item"])
    passed = poll_results(poll=meeting["item"]).outcome
    user = make_secretary() if who == "secretary" else meeting[who]
    answer = _check_in(api_as, user, meeting["meeting"], meeting["holders"]["B-1"])
    assert answer.status_code == 409
    assert Meeting.objects.get(pk=meeting["meeting"].pk).shares_present == 600
    assert poll_results(poll=meeting["item"]).outcome == passed


def test_a_holder_still_checks_in_while_an_item_is_open(meeting: dict[str, Any], api_as: Any) -> None:
    assert _check_in(api_as, meeting["bob"], meeting["meeting"], meeting["holders"]["B-1"]).status_code == 201
    assert Meeting.objects.get(pk=meeting["meeting"].pk).shares_present == 1_000


def test_a_proxy_cannot_check_its_holder_in_after_the_cut_off(meeting: dict[str, Any], api_as: Any) -> None:
    past = timezone.now() - datetime.timedelta(minutes=1)
    Meeting.objects.filter(pk=meeting["meeting"].pk).update(proxy_cutoff=past)
    target = Meeting.objects.get(pk=meeting["meeting"].pk)
    assert _check_in(api_as, meeting["proxy"], target, meeting["holders"]["B-1"]).status_code == 409
    assert Meeting.objects.get(pk=target.pk).shares_present == 600
    assert meeting["item"].effective_status() == PollStatus.OPEN
    assert _check_in(api_as, meeting["bob"], target, meeting["holders"]["B-1"]).status_code == 201
