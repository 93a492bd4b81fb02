"""Approval by the disinterested shares (a majority of the minority), worked by hand on a
2024-style ratification where 13% of the shares are interested and vote for."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from meetings.disinterest import interested_mark, item_disinterest_set
from meetings.services import item_ballot_cast
from polls import services
from polls.certification import poll_certify
from polls.exceptions import IllegalTransition
from polls.models import Poll, PollStatus
from polls.selectors import poll_results
from tests.factories import make_item, make_meeting, make_register, make_user

pytestmark = pytest.mark.django_db


def ratification(against: int, more_for: int) -> dict[str, Any]:
    # 1,000,000 outstanding. M (13%) is interested and votes for; X votes for 300,000; Y votes
    # against `against`; Q votes for `more_for`.
    rows = [
        ("M", "Musk", "m@example.com", 130_000),
        ("X", "Xavier", "x@example.com", 300_000),
        ("Y", "Yolanda", "y@example.com", against),
        ("Q", "Quinn", "q@example.com", max(more_for, 1)),
    ]
    register = make_register(rows, outstanding=1_000_000)
    users = {}
    for account, name, email, _shares in rows:
        users[account] = make_user(username=name.lower(), email=email)
        register.holders.filter(account=account).update(user=users[account])
    item = make_item(make_meeting(register), status=PollStatus.DRAFT, title="Ratify the 2018 award")
    secretary = make_user(username="secretary")
    item_disinterest_set(poll=item, standard="votes_cast", threshold="1/2", comparator=">", actor=secretary)
    musk = register.holders.get(account="M")
    interested_mark(poll=item, holder_id=musk.pk, reason="The award's recipient", actor=secretary)
    services.poll_open(poll=item)
    item_ballot_cast(poll_id=item.pk, actor=users["M"], choice="for")
    item_ballot_cast(poll_id=item.pk, actor=users["X"], choice="for")
    item_ballot_cast(poll_id=item.pk, actor=users["Y"], choice="against")
    if more_for:
        item_ballot_cast(poll_id=item.pk, actor=users["Q"], choice="for")
    return {"item": Poll.objects.get(pk=item.pk), "secretary": secretary, "musk": musk}


def test_it_passes_on_votes_cast_but_fails_among_the_disinterested_shares() -> None:
    item = ratification(against=320_000, more_for=0)["item"]
    results = poll_results(poll=item)
    # All shares: 430,000 for of 750,000 cast = 57.3%. Disinterested: 300,000 of 620,000 = 48.4%.
    assert results.outcome is not None
    assert (str(results.outcome.percent), results.outcome.passed) == ("57.3", False)
    tally = results.extra["disinterested"]
    assert (tally["for"], tally["against"], tally["percent"], tally["passed"]) == ("300000", "320000", "48.4", False)
    assert tally["passed_without_condition"] is True
    assert tally["outstanding"] == "870000"


def test_it_passes_when_the_disinterested_shares_approve_too() -> None:
    item = ratification(against=270_000, more_for=50_000)["item"]
    results = poll_results(poll=item)
    # Disinterested: 350,000 for of 620,000 cast = 56.5%; all shares: 480,000 of 750,000 = 64.0%.
    assert results.outcome is not None and results.outcome.passed
    assert (results.extra["disinterested"]["percent"], results.extra["disinterested"]["passed"]) == ("56.5", True)


def test_certification_freezes_both_tallies() -> None:
    setup = ratification(against=320_000, more_for=0)
    item = setup["item"]
    services.poll_close(poll=item)
    poll_certify(poll=Poll.objects.get(pk=item.pk), actor=setup["secretary"])
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM meetings_iteminterest")
    frozen = poll_results(poll=Poll.objects.get(pk=item.pk))
    assert frozen.outcome is not None and not frozen.outcome.passed
    assert frozen.extra["disinterested"]["percent"] == "48.4"


def test_a_holder_cannot_be_marked_interested_once_the_item_has_opened() -> None:
    setup = ratification(against=320_000, more_for=0)
    other = setup["item"].meeting.register.holders.get(account="X")
    with pytest.raises(IllegalTransition):
        interested_mark(poll=setup["item"], holder_id=other.pk, reason="Late", actor=setup["secretary"])


def test_the_api_marks_a_holder_interested_before_the_item_opens(api_as: Any, secretary: Any) -> None:
    register = make_register([("M", "Musk", "m@example.com", 130)], outstanding=1_000)
    item = make_item(make_meeting(register), status=PollStatus.DRAFT)
    holder = register.holders.get()
    url = f"/api/v1/polls/{item.pk}/interested/"
    marked = api_as(secretary).post(url, {"holder": holder.pk, "reason": "Recipient"}, format="json")
    assert marked.status_code == 201
    assert [row["holder"] for row in api_as(secretary).get(url).json()] == [holder.pk]
    assert api_as(make_user(username="member")).post(url, {"holder": holder.pk, "reason": "x"}).status_code == 403
    bad = api_as(secretary).post(url, {"holder": holder.pk, "reason": "a\x00b"}, format="json")
    assert bad.status_code == 400
