from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from polls.ballots import ballot_cast
from polls.models import Ballot, Poll, PollStatus
from tests.factories import make_poll, make_user

pytestmark = pytest.mark.django_db


def option_id(poll: Poll, label: str) -> int:
    return poll.options.get(label=label).pk


@pytest.fixture
def browser(client: Client, member: Any) -> Client:
    client.force_login(member)
    return client


def test_the_home_page_lists_open_upcoming_and_closed_polls(client: Client) -> None:
    import datetime

    make_poll(title="Running now")
    make_poll(title="Starts tomorrow", status=PollStatus.SCHEDULED, opens_in=datetime.timedelta(days=1))
    make_poll(title="Already over", status=PollStatus.CLOSED)
    make_poll(title="Secret draft", status=PollStatus.DRAFT)
    page = client.get("/").content.decode()
    assert page.index("Running now") < page.index("Starts tomorrow") < page.index("Already over")
    assert "Secret draft" not in page


def test_a_member_votes_and_changes_the_vote_through_the_form(browser: Client) -> None:
    poll = make_poll()
    response = browser.post(f"/polls/{poll.pk}/vote/", {"option": option_id(poll, "Yes")})
    assert response.status_code == 302
    assert response["Location"] == f"/polls/{poll.pk}/"
    page = browser.get(response["Location"]).content.decode()
    assert "Your vote has been recorded." in page
    assert "Your vote: <strong>Yes</strong>" in page
    browser.post(f"/polls/{poll.pk}/vote/", {"option": option_id(poll, "No")})
    assert Ballot.objects.values_list("option__label", flat=True).get() == "No"
    results = browser.get(f"/polls/{poll.pk}/results/").content.decode()
    assert "100.0%" in results
    assert "Turnout" in results


def test_a_vote_without_a_choice_shows_the_error_next_to_the_field(browser: Client) -> None:
    poll = make_poll()
    response = browser.post(f"/polls/{poll.pk}/vote/", {})
    assert response.status_code == 400
    assert 'id="option-error"' in response.content.decode()
    assert "Choose one of the options." in response.content.decode()
    assert not Ballot.objects.exists()


def test_an_option_of_another_poll_is_refused_on_the_page(browser: Client) -> None:
    poll, other = make_poll(), make_poll(title="Other")
    response = browser.post(f"/polls/{poll.pk}/vote/", {"option": option_id(other, "Yes")})
    assert response.status_code == 400
    assert "not part of this poll" in response.content.decode()
    assert not Ballot.objects.exists()


def test_voting_in_a_closed_poll_shows_why_and_records_nothing(browser: Client) -> None:
    poll = make_poll(status=PollStatus.CLOSED)
    response = browser.post(f"/polls/{poll.pk}/vote/", {"option": option_id(poll, "Yes")}, follow=True)
    assert response.redirect_chain == [(f"/polls/{poll.pk}/", 302)]
    assert "accepted only while it is open" in response.content.decode()
    assert not Ballot.objects.exists()


def test_a_second_vote_where_change_is_not_allowed_shows_a_message(browser: Client) -> None:
    poll = make_poll(allow_change=False)
    browser.post(f"/polls/{poll.pk}/vote/", {"option": option_id(poll, "Yes")})
    response = browser.post(f"/polls/{poll.pk}/vote/", {"option": option_id(poll, "No")})
    assert "does not allow changing" in response.content.decode()
    assert Ballot.objects.values_list("option__label", flat=True).get() == "Yes"


def test_a_visitor_is_sent_to_log_in_before_voting(client: Client) -> None:
    poll = make_poll()
    response = client.post(f"/polls/{poll.pk}/vote/", {"option": option_id(poll, "Yes")})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Ballot.objects.exists()


def test_a_draft_is_not_found_for_members(browser: Client) -> None:
    poll = make_poll(status=PollStatus.DRAFT)
    assert browser.get(f"/polls/{poll.pk}/").status_code == 404


def test_an_unknown_poll_is_a_404(client: Client) -> None:
    assert client.get("/polls/424242/").status_code == 404


def test_results_hidden_until_close_redirect_with_an_explanation(browser: Client) -> None:
    poll = make_poll(results_visibility="after_close")
    response = browser.get(f"/polls/{poll.pk}/results/", follow=True)
    assert "only after the poll closes" in response.content.decode()


def test_withdrawing_from_the_page_asks_first_then_removes_the_ballot(browser: Client) -> None:
    poll = make_poll()
    browser.post(f"/polls/{poll.pk}/vote/", {"option": option_id(poll, "Yes")})
    asked = browser.post(f"/polls/{poll.pk}/withdraw/")
    assert asked.status_code == 200
    assert 'name="confirmed" value="yes"' in asked.content.decode()
    assert Ballot.objects.count() == 1
    response = browser.post(f"/polls/{poll.pk}/withdraw/", {"confirmed": "yes"}, follow=True)
    assert "Your vote has been withdrawn." in response.content.decode()
    assert not Ballot.objects.exists()


def test_login_and_logout_work_through_the_forms(client: Client, member: Any) -> None:
    response = client.post("/accounts/login/", {"username": member.username, "password": "pw-for-tests-1"})
    assert response.status_code == 302
    assert "Signed in as" in client.get("/").content.decode()
    client.post("/accounts/logout/")
    assert "Log in" in client.get("/").content.decode()


def test_a_wrong_password_keeps_the_username_and_says_so(client: Client, member: Any) -> None:
    response = client.post("/accounts/login/", {"username": member.username, "password": "wrong"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Please enter a correct username and password" in page
    assert f'value="{member.username}"' in page


def test_forms_require_a_csrf_token(member: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(member)
    poll = make_poll()
    response = strict.post(f"/polls/{poll.pk}/vote/", {"option": option_id(poll, "Yes")})
    assert response.status_code == 403
    assert not Ballot.objects.exists()


def test_the_stylesheet_is_served_by_the_app(client: Client) -> None:
    response = client.get("/static/css/quorum.css")
    assert response.status_code == 200
    assert b":focus-visible" in b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_the_poll_page_uses_the_same_queries_at_one_ballot_and_at_many(
    browser: Client, django_assert_num_queries: Any
) -> None:
    poll = make_poll()
    browser.post(f"/polls/{poll.pk}/vote/", {"option": option_id(poll, "Yes")})
    # session, user, poll, the user's ballot, options for the form, messages: none grows with ballots
    with CaptureQueriesContext(connection) as one_ballot:
        assert browser.get(f"/polls/{poll.pk}/").status_code == 200
    for _ in range(20):
        ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=option_id(poll, "No"))
    with django_assert_num_queries(len(one_ballot)):
        assert browser.get(f"/polls/{poll.pk}/").status_code == 200
    assert len(one_ballot) <= 7


def test_the_home_page_has_a_plain_title_and_lists_each_section_once(client: Client) -> None:
    page = client.get("/").content.decode()
    assert "<title>Polls · Quorum</title>" in page
    for heading in ("Open now", "Upcoming", "Closed", "Shareholder meetings", "Polls held elsewhere"):
        assert page.count(f">{heading}</h2>") == 1
