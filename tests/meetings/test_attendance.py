"""Attendance makes a meeting's quorum and every item's present-and-entitled base: a holder who
votes on one item is present for all of them (numbers worked by hand in each test)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import F

from meetings.attendance import attendance_problem
from meetings.attendance_models import Attendance
from meetings.models import Meeting
from meetings.services import item_ballot_cast
from polls.selectors import poll_results
from tests.factories import make_item, make_meeting, make_register, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting() -> dict[str, Any]:
    # 150,000 outstanding: A 60,000, B 30,000, C 20,000, D 40,000.
    rows = [
        ("A", "Ada", "ada@example.com", 60_000),
        ("B", "Ben", "ben@example.com", 30_000),
        ("C", "Cy", "cy@example.com", 20_000),
        ("D", "Di", "di@example.com", 40_000),
    ]
    register = make_register(rows, outstanding=150_000)
    users = {}
    for account, name, email, _shares in rows:
        users[account] = make_user(username=name.lower(), email=email)
        register.holders.filter(account=account).update(user=users[account])
    held = make_meeting(register)
    items = [make_item(held, title=f"Item {n}", standard="present_and_entitled") for n in (1, 2)]
    return {"meeting": held, "items": items, "users": users}


def test_a_holder_who_votes_only_on_item_1_counts_for_item_2s_quorum_and_against_it(meeting: dict[str, Any]) -> None:
    first, second = meeting["items"]
    users = meeting["users"]
    item_ballot_cast(poll_id=first.pk, actor=users["A"], choice="for")
    item_ballot_cast(poll_id=second.pk, actor=users["B"], choice="for")
    item_ballot_cast(poll_id=second.pk, actor=users["C"], choice="against")
    # Present: A + B + C = 110,000 of 150,000 (73.3%): quorum. Item 2 alone drew 50,000 (33.3%).
    results = poll_results(poll=second)
    assert results.quorum is not None and results.outcome is not None
    assert (results.quorum.present, str(results.quorum.percent), results.quorum.met) == (110_000, "73.3", True)
    # Present and entitled: 30,000 for of 110,000 present = 27.3%: A's skipped shares count against.
    assert (str(results.outcome.percent), results.outcome.passed) == ("27.3", False)
    # Votes cast would pass: 30,000 of 50,000 = 60.0%.
    votes_cast = next(row for row in results.what_if if row.standard == "votes_cast")
    assert (str(votes_cast.percent), votes_cast.passed) == ("60.0", True)
    assert results.extra["attendance"] == {"shares_present": "110000"}


def test_checking_in_without_voting_makes_a_holder_present_once(meeting: dict[str, Any], api_as: Any) -> None:
    held = meeting["meeting"]
    holder = held.register.holders.get(account="D")
    api = api_as(meeting["users"]["D"])
    first = api.post(f"/api/v1/meetings/{held.pk}/attendance/", {"holder": holder.pk}, format="json")
    again = api.post(f"/api/v1/meetings/{held.pk}/attendance/", {"holder": holder.pk}, format="json")
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["source"] == "check_in"
    assert Meeting.objects.get(pk=held.pk).shares_present == 40_000
    detail = api.get(f"/api/v1/meetings/{held.pk}/").json()["attendance"]
    assert detail == {"shares_present": "40000", "shares_outstanding": "150000", "quorum_met": False}
    item_ballot_cast(poll_id=meeting["items"][0].pk, actor=meeting["users"]["D"], choice="for")
    assert Attendance.objects.filter(meeting=held).count() == 1  # voting after checking in adds nothing


def test_only_the_holder_their_proxy_or_the_secretary_may_check_a_holder_in(
    meeting: dict[str, Any], api_as: Any, secretary: Any
) -> None:
    held = meeting["meeting"]
    holder = held.register.holders.get(account="D")
    url = f"/api/v1/meetings/{held.pk}/attendance/"
    stranger = api_as(make_user(username="stranger")).post(url, {"holder": holder.pk}, format="json")
    assert stranger.status_code == 403
    assert api_as(meeting["users"]["A"]).post(url, {"holder": 10**12}, format="json").status_code == 403
    assert Meeting.objects.get(pk=held.pk).shares_present == 0
    in_person = api_as(secretary).post(url, {"holder": holder.pk}, format="json")
    assert (in_person.status_code, in_person.json()["source"]) == (201, "in_person")
    assert [row["holder"] for row in api_as(secretary).get(url).json()] == [holder.pk]
    assert api_as(meeting["users"]["A"]).get(url).json() == []  # a holder sees only whom they represent


def test_the_meeting_page_shows_attendance_and_checks_a_holder_in(meeting: dict[str, Any], client: Any) -> None:
    held = meeting["meeting"]
    holder = held.register.holders.get(account="D")
    client.force_login(meeting["users"]["D"])
    page = client.get(f"/meetings/{held.pk}/").content.decode()
    assert "Attendance: 0 of 150,000 shares present." in page
    assert "Check in Di without voting" in page
    answer = client.post(f"/meetings/{held.pk}/check-in/", {"holder": holder.pk}, follow=True).content.decode()
    assert "Di is present at the meeting." in answer
    assert "Attendance: 40,000 of 150,000 shares present." in answer
    assert "No quorum yet" in answer
    refused = client.post(f"/meetings/{held.pk}/check-in/", {"holder": "x\x00"}, follow=True)
    assert refused.status_code == 200
    assert Meeting.objects.get(pk=held.pk).shares_present == 40_000


def test_a_withdrawn_ballot_still_accounts_for_the_holders_presence_on_the_trail(meeting: dict[str, Any]) -> None:
    from django.core.management import call_command

    from polls.ballots import ballot_withdraw

    first, _second = meeting["items"]
    item_ballot_cast(poll_id=first.pk, actor=meeting["users"]["A"], choice="for")
    ballot_withdraw(poll_id=first.pk, actor=meeting["users"]["A"])
    meeting["meeting"].refresh_from_db()
    assert meeting["meeting"].shares_present == 60_000  # presence is not undone
    assert attendance_problem(meeting["meeting"]) is None
    call_command("verify_audit")


def test_an_attendance_row_whose_shares_were_raised_by_sql_is_found(meeting: dict[str, Any]) -> None:
    first, _second = meeting["items"]
    item_ballot_cast(poll_id=first.pk, actor=meeting["users"]["B"], choice="for")
    held = meeting["meeting"]
    # Both the row and the counter, so the sums still agree: only the holder's shares show it.
    Attendance.objects.filter(meeting=held).update(shares=F("shares") + 5_000)
    Meeting.objects.filter(pk=held.pk).update(shares_present=F("shares_present") + 5_000)
    held.refresh_from_db()
    holder = held.register.holders.get(account="B")
    assert attendance_problem(held) == (
        f"meeting {held.pk} attendance of holder {holder.pk}: no ballot or check-in on the trail"
    )
