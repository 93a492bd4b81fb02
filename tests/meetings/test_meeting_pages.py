from __future__ import annotations

import datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from meetings.services import item_ballot_cast, tabulation_record
from polls.models import Ballot, Poll, PollStatus, RecordedPoll
from tests.factories import make_item, make_meeting, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting_setup() -> dict[str, Any]:
    alice = make_user(username="alice", email="alice@example.com")
    bob = make_user(username="bob", email="bob@example.com")
    register = make_register(
        [("A-1", "Alice Example", "alice@example.com", 12_000), ("B-1", "Bob Example", "bob@example.com", 8_000)],
        outstanding=40_000,
    )
    meeting = make_meeting(register)
    items = [make_item(meeting, title=f"Item {n}", results_visibility="live") for n in (1, 2, 3)]
    return {"alice": alice, "bob": bob, "register": register, "meeting": meeting, "items": items}


def test_a_shareholder_votes_every_item_on_one_page(client: Client, meeting_setup: dict[str, Any]) -> None:
    client.force_login(meeting_setup["alice"])
    meeting, items = meeting_setup["meeting"], meeting_setup["items"]
    page = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert "Voting <strong>12,000</strong> shares for <strong>Alice Example</strong>" in page
    holder = meeting_setup["register"].holders.get(account="A-1")
    response = client.post(
        f"/meetings/{meeting.pk}/ballot/",
        {
            "holder": holder.pk,
            f"item-{items[0].pk}": "for",
            f"item-{items[1].pk}": "against",
            f"item-{items[2].pk}": "abstain",
        },
        follow=True,
    )
    assert "is recorded" in response.content.decode()
    assert dict(Ballot.objects.values_list("poll_id", "option__code")) == {
        items[0].pk: "for",
        items[1].pk: "against",
        items[2].pk: "abstain",
    }
    assert items[0].options.get(code="for").weight == 12_000


def test_a_proxy_votes_for_another_holder_from_the_page(client: Client, meeting_setup: dict[str, Any]) -> None:
    meeting, items = meeting_setup["meeting"], meeting_setup["items"]
    bob_holder = meeting_setup["register"].holders.get(account="B-1")
    client.force_login(meeting_setup["bob"])
    appointed = client.post(
        f"/meetings/{meeting.pk}/proxies/", {"holder": bob_holder.pk, "proxy": "alice"}, follow=True
    )
    assert "alice may vote for Bob Example" in appointed.content.decode()
    client.force_login(meeting_setup["alice"])
    page = client.get(f"/meetings/{meeting.pk}/?holder={bob_holder.pk}").content.decode()
    assert "as their proxy" in page
    client.post(f"/meetings/{meeting.pk}/ballot/", {"holder": bob_holder.pk, f"item-{items[0].pk}": "against"})
    ballot = Ballot.objects.get()
    assert (ballot.holder_id, ballot.voter_id, ballot.weight) == (bob_holder.pk, meeting_setup["alice"].pk, 8_000)


def test_an_empty_meeting_ballot_says_what_is_missing(client: Client, meeting_setup: dict[str, Any]) -> None:
    client.force_login(meeting_setup["alice"])
    holder = meeting_setup["register"].holders.get(account="A-1")
    response = client.post(f"/meetings/{meeting_setup['meeting'].pk}/ballot/", {"holder": holder.pk})
    assert response.status_code == 400
    assert "Nothing is chosen: vote on at least one item." in response.content.decode()
    assert not Ballot.objects.exists()


def test_a_refused_item_records_none_of_the_page(client: Client, meeting_setup: dict[str, Any]) -> None:
    first = meeting_setup["items"][0]
    final = make_item(meeting_setup["meeting"], title="Votes here are final", allow_change=False)
    item_ballot_cast(poll_id=final.pk, actor=meeting_setup["alice"], choice="against")
    client.force_login(meeting_setup["alice"])
    holder = meeting_setup["register"].holders.get(account="A-1")
    response = client.post(
        f"/meetings/{meeting_setup['meeting'].pk}/ballot/",
        {"holder": holder.pk, f"item-{first.pk}": "for", f"item-{final.pk}": "for"},
    )
    assert response.status_code == 400
    assert "does not allow changes" in response.content.decode()
    assert list(Ballot.objects.values_list("poll_id", "option__code")) == [(final.pk, "against")]
    assert first.options.get(code="for").weight == 0


def test_a_member_who_holds_no_shares_is_told_so(client: Client, meeting_setup: dict[str, Any]) -> None:
    client.force_login(make_user())
    page = client.get(f"/meetings/{meeting_setup['meeting'].pk}/").content.decode()
    assert "You are not a holder in the register of record" in page


def test_a_member_cannot_vote_for_a_holder_they_do_not_represent(client: Client, meeting_setup: dict[str, Any]) -> None:
    client.force_login(meeting_setup["alice"])
    bob_holder = meeting_setup["register"].holders.get(account="B-1")
    response = client.post(
        f"/meetings/{meeting_setup['meeting'].pk}/ballot/",
        {"holder": bob_holder.pk, f"item-{meeting_setup['items'][0].pk}": "for"},
        follow=True,
    )
    assert "You may not vote for that holder" in response.content.decode()
    assert not Ballot.objects.exists()


def test_the_item_results_page_shows_fails_and_would_pass(client: Client) -> None:
    register = make_register([("C-1", "Cede", "cede@example.com", 3_000_000_000)], outstanding=3_200_000_000)
    item = make_item(make_meeting(register), status=PollStatus.CLOSED, standard="present_and_entitled")
    tabulation_record(
        poll=item,
        shares_for=1_060_000_000,
        shares_against=916_300_000,
        shares_abstain=473_000_000,
        actor=make_secretary(),
    )
    page = client.get(f"/polls/{item.pk}/results/").content.decode()
    assert "Fails" in page
    assert "43.3% for" in page
    votes_cast_row = (
        '<th scope="row">Votes cast (for / (for + against))</th>\n'
        '        <td class="num">53.6%</td>\n        <td>would pass</td>'
    )
    assert votes_cast_row in page
    assert "1,060,000,000" in page


def test_the_demo_data_holds_the_x_poll_with_three_snapshots_charted(client: Client) -> None:
    call_command("seed_demo", stdout=StringIO())
    recorded = RecordedPoll.objects.get()
    assert [s.total_votes for s in recorded.snapshots.order_by("taken_at")] == [386_000, 440_189, 958_086]
    assert recorded.snapshots.order_by("taken_at").last().percentages == {"Yes": "67.9", "No": "32.1"}  # type: ignore[union-attr]
    page = client.get(f"/recorded/{recorded.pk}/").content.decode()
    assert page.count("<polyline") == 2
    assert "958,086" in page
    assert "67.9%" in page


def test_the_demo_meeting_shows_the_tesla_outcome(client: Client) -> None:
    call_command("seed_demo", stdout=StringIO())
    item = Poll.objects.get(title="Invest $5B in xAI")
    assert item.status == PollStatus.CERTIFIED
    assert item.certified_result is not None
    assert item.certified_result["outcome"]["reason"] == "failed"
    assert {row["standard"]: row["passed"] for row in item.certified_result["what_if"]}["votes_cast"] is True


def test_the_secretary_records_a_poll_held_elsewhere_and_its_snapshots(api: APIClient) -> None:
    api.force_authenticate(make_secretary())
    created = api.post(
        "/api/v1/recorded-polls/",
        {
            "platform": "X",
            "url": "https://x.com/elonmusk",
            "author": "Elon Musk",
            "question": "xAI?",
            "options": ["Yes", "No"],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    url = f"/api/v1/recorded-polls/{created.json()['id']}/snapshots/"
    taken = timezone.now().isoformat()
    snapshot = {"taken_at": taken, "total_votes": 958086, "percentages": {"Yes": "67.9", "No": "32.1"}}
    assert api.post(url, snapshot, format="json").status_code == 201
    assert api.post(url, snapshot, format="json").status_code == 409
    bad = {"taken_at": taken, "total_votes": 1, "percentages": {"Maybe": "1.0"}}
    assert api.post(url, bad, format="json").status_code == 400
    assert [s["percentages"] for s in api.get(url).json()] == [{"Yes": "67.9", "No": "32.1"}]


def test_the_admin_adds_a_shareholder_item_with_its_three_options(
    client: Client, meeting_setup: dict[str, Any]
) -> None:
    client.force_login(make_secretary())
    now = timezone.now()
    form = {
        "title": "Admin-made item",
        "kind": "shareholder",
        "meeting": meeting_setup["meeting"].pk,
        "standard": "votes_cast",
        "threshold_numerator": "2",
        "threshold_denominator": "3",
        "threshold_comparator": ">=",
        "opens_at_0": now.strftime("%Y-%m-%d"),
        "opens_at_1": now.strftime("%H:%M:%S"),
        "closes_at_0": (now + datetime.timedelta(days=2)).strftime("%Y-%m-%d"),
        "closes_at_1": now.strftime("%H:%M:%S"),
        "results_visibility": "after_close",
        "options-TOTAL_FORMS": "0",
        "options-INITIAL_FORMS": "0",
        "options-MIN_NUM_FORMS": "0",
        "options-MAX_NUM_FORMS": "20",
    }
    response = client.post("/admin/polls/poll/add/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    item = Poll.objects.get(title="Admin-made item")
    assert list(item.options.values_list("code", flat=True)) == ["for", "against", "abstain"]
    assert item.threshold_text == "2/3"


def test_the_admin_refuses_a_shareholder_item_without_a_meeting(client: Client) -> None:
    client.force_login(make_secretary())
    now = timezone.now()
    response = client.post(
        "/admin/polls/poll/add/",
        {
            "title": "Orphan",
            "kind": "shareholder",
            "standard": "votes_cast",
            "opens_at_0": now.strftime("%Y-%m-%d"),
            "opens_at_1": "00:00:00",
            "closes_at_0": (now + datetime.timedelta(days=2)).strftime("%Y-%m-%d"),
            "closes_at_1": "00:00:00",
            "results_visibility": "live",
            "options-TOTAL_FORMS": "0",
            "options-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "A shareholder item belongs to a meeting." in response.content.decode()
    assert not Poll.objects.exists()
