from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from polls.ballots import ballot_cast
from polls.models import Ballot, Poll, PollStatus
from tests.factories import make_poll, make_secretary, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(client: Client, secretary: Any) -> Client:
    client.force_login(secretary)
    return client


def test_the_secretary_reaches_the_admin_poll_list(admin_browser: Client) -> None:
    make_poll(title="The xAI question")
    response = admin_browser.get("/admin/polls/poll/?status__exact=open&q=xAI")
    assert response.status_code == 200
    assert "The xAI question" in response.content.decode()


def test_the_secretary_adds_a_poll_with_its_options_in_the_admin(admin_browser: Client) -> None:
    now = timezone.now()
    form = {
        "title": "Admin-made poll",
        "description": "",
        "kind": "public",
        "opens_at_0": now.strftime("%Y-%m-%d"),
        "opens_at_1": now.strftime("%H:%M:%S"),
        "closes_at_0": (now + datetime.timedelta(days=2)).strftime("%Y-%m-%d"),
        "closes_at_1": now.strftime("%H:%M:%S"),
        "allow_change": "on",
        "results_visibility": "live",
        "options-TOTAL_FORMS": "2",
        "options-INITIAL_FORMS": "0",
        "options-MIN_NUM_FORMS": "2",
        "options-MAX_NUM_FORMS": "20",
        "options-0-position": "0",
        "options-0-label": "Yes",
        "options-1-position": "1",
        "options-1-label": "No",
    }
    response = admin_browser.post("/admin/polls/poll/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    poll = Poll.objects.get(title="Admin-made poll")
    assert poll.status == PollStatus.DRAFT
    assert list(poll.options.values_list("label", flat=True)) == ["Yes", "No"]


def test_admin_actions_open_and_close_polls_through_the_services(admin_browser: Client) -> None:
    poll = make_poll(status=PollStatus.DRAFT)
    admin_browser.post("/admin/polls/poll/", {"action": "open_polls", "_selected_action": [poll.pk]})
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.OPEN
    admin_browser.post("/admin/polls/poll/", {"action": "close_polls", "_selected_action": [poll.pk]})
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.CLOSED


def test_an_admin_action_that_is_not_possible_says_why(admin_browser: Client) -> None:
    poll = make_poll(status=PollStatus.CLOSED)
    response = admin_browser.post(
        "/admin/polls/poll/", {"action": "open_polls", "_selected_action": [poll.pk]}, follow=True
    )
    assert "Only a draft or scheduled poll can be opened" in response.content.decode()
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.CLOSED


def test_ballots_are_read_only_in_the_admin(admin_browser: Client, member: Any) -> None:
    poll = make_poll()
    ballot_cast(poll_id=poll.pk, actor=member, option_id=poll.options.first().pk)  # type: ignore[union-attr]
    ballot = Ballot.objects.get()
    assert admin_browser.get("/admin/polls/ballot/").status_code == 200
    assert admin_browser.get("/admin/polls/ballot/add/").status_code == 403
    admin_browser.post(f"/admin/polls/ballot/{ballot.pk}/delete/", {"post": "yes"})
    assert Ballot.objects.filter(pk=ballot.pk).exists()


def test_hidden_results_stay_hidden_in_the_admin(admin_browser: Client, member: Any) -> None:
    poll = make_poll(results_visibility="after_close")
    ballot_cast(poll_id=poll.pk, actor=member, option_id=poll.options.first().pk)  # type: ignore[union-attr]
    page = admin_browser.get(f"/admin/polls/poll/{poll.pk}/change/").content.decode()
    assert "hidden until results are visible" in page


def test_the_admin_hides_what_a_ballot_chose_while_results_are_hidden(client: Client) -> None:
    poll = make_poll(results_visibility="after_close", secret=False)  # a secret one says "secret ballot"
    ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=poll.options.get(label="Yes").pk)
    client.force_login(make_secretary())
    page = client.get("/admin/polls/ballot/").content.decode()
    assert "hidden until the poll closes" in page
    assert ">Yes<" not in page


def test_a_member_without_staff_rights_cannot_enter_the_admin(client: Client, member: Any) -> None:
    client.force_login(member)
    response = client.get("/admin/polls/poll/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
