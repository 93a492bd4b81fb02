"""No early results, for anyone: while an item or poll is open and its results are not yet
visible, the secretary's console, the tabulation answers and the admin show turnout only."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core.models import AuditEvent
from meetings.models import Tabulation
from meetings.services import holders_link_user, item_ballot_cast
from polls import certification, services
from polls.ballots import ballot_cast
from polls.models import Ballot, Poll, PollStatus
from tests.factories import (
    make_item,
    make_meeting,
    make_poll,
    make_secretary,
    make_split_register,
    make_user,
)

pytestmark = pytest.mark.django_db

REFUSAL = "Enter the inspector's totals after the poll closes."


@pytest.fixture
def item() -> Poll:
    """An open item whose results show after close, with 7,123 shares for and 3,456 against."""
    register = make_split_register()
    item = make_item(make_meeting(register), results_visibility="after_close")
    for account, choice in (("yolanda", "for"), ("zachary", "against")):
        voter = make_user(username=account, email=f"{account}@example.com")
        holders_link_user(user=voter)
        item_ballot_cast(poll_id=item.pk, actor=voter, choice=choice)
    return item


@pytest.fixture
def secretary_browser(client: Client) -> Client:
    client.force_login(make_secretary())
    return client


def test_the_certify_page_of_an_open_item_shows_turnout_but_no_split(secretary_browser: Client, item: Poll) -> None:
    response = secretary_browser.get(f"/console/polls/{item.pk}/certify/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "10,579" in page  # shares cast so far: 7,123 + 3,456
    assert "7,123" not in page
    assert "3,456" not in page
    assert "Outcome if certified now" not in page
    assert "Recounted shares" not in page


def test_the_certify_page_of_an_open_public_poll_hides_the_votes_per_option(secretary_browser: Client) -> None:
    poll = make_poll(options=("Yes", "No"), results_visibility="after_close")
    for _voter in range(3):
        ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=poll.options.get(label="Yes").pk)
    ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=poll.options.get(label="No").pk)
    page = secretary_browser.get(f"/console/polls/{poll.pk}/certify/").content.decode()
    assert "Ballots cast so far" in page
    assert "Running votes" not in page


def test_the_certify_page_shows_the_recount_once_the_item_closes(secretary_browser: Client, item: Poll) -> None:
    services.poll_close(poll=item)
    page = secretary_browser.get(f"/console/polls/{item.pk}/certify/").content.decode()
    assert "7,123" in page
    assert "3,456" in page
    assert "Outcome if certified now" in page


def test_a_tabulation_through_the_api_before_close_is_a_409_that_shows_nothing(api: APIClient, item: Poll) -> None:
    api.force_authenticate(make_secretary())
    response = api.post(
        f"/api/v1/polls/{item.pk}/tabulation/",
        {"shares_for": 1, "shares_against": 2, "shares_abstain": 3},
        format="json",
    )
    assert response.status_code == 409
    assert response.json() == {"detail": REFUSAL}
    assert "7123" not in response.content.decode()
    assert not Tabulation.objects.exists()
    assert not AuditEvent.objects.filter(action="tabulation_recorded").exists()


def test_a_tabulation_is_accepted_between_close_and_certification_only(api: APIClient, item: Poll) -> None:
    secretary = make_secretary()
    api.force_authenticate(secretary)
    services.poll_close(poll=item)
    figures = {"shares_for": 9_000, "shares_against": 1_000, "shares_abstain": 0}
    accepted = api.post(f"/api/v1/polls/{item.pk}/tabulation/", figures, format="json")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["totals"]["for"] == "9000"
    certification.poll_certify(poll=item, actor=secretary, confirm_difference=True)
    refused = api.post(f"/api/v1/polls/{item.pk}/tabulation/", {**figures, "shares_for": 1}, format="json")
    assert refused.status_code == 409
    assert Tabulation.objects.get().shares_for == 9_000


def test_the_console_tabulation_form_on_an_open_item_is_a_form_error(secretary_browser: Client, item: Poll) -> None:
    response = secretary_browser.post(
        f"/console/polls/{item.pk}/tabulation/", {"shares_for": 5, "shares_against": 5, "shares_abstain": 5}
    )
    assert response.status_code == 400
    assert REFUSAL in html.unescape(response.content.decode())
    assert not Tabulation.objects.exists()


def test_the_admin_tabulation_form_refuses_an_open_item_and_a_certified_one(
    secretary_browser: Client, item: Poll
) -> None:
    form = {"poll": item.pk, "shares_for": 5, "shares_against": 5, "shares_abstain": 5, "broker_non_votes": 0}
    response = secretary_browser.post("/admin/meetings/tabulation/add/", form)
    assert response.status_code == 200  # the form again, with the reason
    assert REFUSAL in html.unescape(response.content.decode())
    assert not Tabulation.objects.exists()
    services.poll_close(poll=item)
    certification.poll_certify(poll=item, actor=make_secretary())
    response = secretary_browser.post("/admin/meetings/tabulation/add/", form)
    assert response.status_code == 200
    assert "certified" in response.content.decode()
    assert not Tabulation.objects.exists()


def test_the_admin_records_a_tabulation_after_close(secretary_browser: Client, item: Poll) -> None:
    services.poll_close(poll=item)
    form = {"poll": item.pk, "shares_for": 5, "shares_against": 6, "shares_abstain": 7, "broker_non_votes": 0}
    response = secretary_browser.post("/admin/meetings/tabulation/add/", form)
    assert response.status_code == 302
    tabulation = Tabulation.objects.get()
    assert (tabulation.shares_for, tabulation.shares_against, tabulation.shares_abstain) == (5, 6, 7)


def test_the_admin_hides_the_choice_of_ballots_and_their_audit_payloads_while_results_are_hidden(
    secretary_browser: Client,
) -> None:
    poll = make_poll(options=("Walrus", "Narwhal"), results_visibility="after_close", secret=False)
    walrus = poll.options.get(label="Walrus")
    ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=walrus.pk)
    ballot = Ballot.objects.get()
    event = AuditEvent.objects.get(stream__startswith=f"ballot:{poll.pk}:")
    assert event.payload["option"] == walrus.pk  # stored as cast: the trail itself is intact
    for url in (
        "/admin/polls/ballot/",
        f"/admin/polls/ballot/{ballot.pk}/change/",
        f"/admin/core/auditevent/{event.pk}/change/",
    ):
        page = html.unescape(secretary_browser.get(url).content.decode())
        assert "hidden until the poll closes" in page, url
        assert "Walrus" not in page, url
        assert f'"option": {walrus.pk}' not in page, url
    services.poll_close(poll=poll)
    page = html.unescape(secretary_browser.get(f"/admin/core/auditevent/{event.pk}/change/").content.decode())
    assert f'"option": {walrus.pk}' in page
    assert "Walrus" in secretary_browser.get("/admin/polls/ballot/").content.decode()


def test_the_admin_hides_a_shareholder_ballots_split_while_the_item_is_open(
    secretary_browser: Client, item: Poll
) -> None:
    event = AuditEvent.objects.filter(stream__startswith=f"ballot:{item.pk}:").first()
    assert event is not None
    page = html.unescape(secretary_browser.get(f"/admin/core/auditevent/{event.pk}/change/").content.decode())
    assert '"shares_for": "hidden until the poll closes"' in page
    assert '"shares_for": 7123' not in page and '"shares_against": 3456' not in page
    listing = secretary_browser.get("/admin/polls/ballot/").content.decode()
    assert "7,123" not in listing and "3,456" not in listing


def test_results_through_the_api_stay_refused_while_the_item_is_open(api: APIClient, item: Poll) -> None:
    api.force_authenticate(make_secretary())
    response = api.get(f"/api/v1/polls/{item.pk}/results/")
    assert response.status_code == 403
    assert "7123" not in response.content.decode()
    assert item.status == PollStatus.OPEN


def test_bad_tabulation_input_changes_nothing(api: APIClient, item: Poll, secretary: Any) -> None:
    services.poll_close(poll=item)
    api.force_authenticate(secretary)
    response = api.post(f"/api/v1/polls/{item.pk}/tabulation/", {"shares_for": -1}, format="json")
    assert response.status_code == 400
    assert not Tabulation.objects.exists()


def test_the_admin_refuses_to_filter_ballots_or_events_by_what_was_chosen(secretary_browser: Client) -> None:
    poll = make_poll(options=("Walrus", "Narwhal"), results_visibility="after_close", secret=False)
    walrus = poll.options.get(label="Walrus").pk
    ballot_cast(poll_id=poll.pk, actor=make_user(username="chose-walrus"), option_id=walrus)
    for url in (
        f"/admin/polls/ballot/?option={walrus}",
        f"/admin/polls/ballot/?option__id__exact={walrus}",
        "/admin/polls/ballot/?shares_for__gt=0",
        f"/admin/core/auditevent/?payload__option={walrus}",
    ):
        response = secretary_browser.get(url)
        assert "chose-walrus" not in response.content.decode(), url
        assert response.status_code in (302, 400), url


def test_the_console_tabulation_page_says_it_waits_for_the_close(secretary_browser: Client, item: Poll) -> None:
    assert REFUSAL in html.unescape(secretary_browser.get(f"/console/polls/{item.pk}/tabulation/").content.decode())
    services.poll_close(poll=item)
    assert REFUSAL not in html.unescape(secretary_browser.get(f"/console/polls/{item.pk}/tabulation/").content.decode())


def test_the_admin_hides_who_chose_what_while_open_even_where_the_totals_are_live(secretary_browser: Client) -> None:
    poll = make_poll(options=("Walrus", "Narwhal"), results_visibility="live", secret=False)
    ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=poll.options.get(label="Walrus").pk)
    listing = secretary_browser.get("/admin/polls/ballot/").content.decode()
    assert "hidden until the poll closes" in listing
    assert "Walrus" not in listing
