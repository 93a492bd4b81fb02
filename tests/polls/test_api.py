from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from polls.ballots import ballot_cast
from polls.models import Ballot, Poll, PollStatus
from tests.factories import make_poll, make_user

pytestmark = pytest.mark.django_db


def option_id(poll: Poll, label: str) -> int:
    return poll.options.get(label=label).pk


def new_poll_payload(**overrides: Any) -> dict[str, Any]:
    opens = timezone.now()
    return {
        "title": "Should Tesla invest $5B into xAI?",
        "description": "The July 2024 question.",
        "kind": "public",
        "options": [{"label": "Yes"}, {"label": "No"}],
        "opens_at": opens.isoformat(),
        "closes_at": (opens + datetime.timedelta(days=7)).isoformat(),
        "allow_change": True,
        "results_visibility": "live",
        **overrides,
    }


def test_a_member_gets_a_token_for_their_username_and_password(api: APIClient) -> None:
    make_user(username="alice")
    response = api.post("/api/v1/auth/token/", {"username": "alice", "password": "pw-for-tests-1"}, format="json")
    assert response.status_code == 200
    assert len(response.json()["token"]) == 40


def test_a_wrong_password_gets_a_400_with_a_detail(api: APIClient) -> None:
    make_user(username="alice")
    response = api.post("/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_the_secretary_creates_opens_and_closes_a_poll(api_as: Any, secretary: Any) -> None:
    client = api_as(secretary)
    created = client.post("/api/v1/polls/", new_poll_payload(), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "draft"
    assert [option["label"] for option in body["options"]] == ["Yes", "No"]
    opened = client.post(f"/api/v1/polls/{body['id']}/open/")
    assert opened.status_code == 200 and opened.json()["status"] == "open"
    closed = client.post(f"/api/v1/polls/{body['id']}/close/")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = client.post(f"/api/v1/polls/{body['id']}/close/")
    assert again.status_code == 409 and "detail" in again.json()


def test_a_member_cannot_create_a_poll(api_as: Any, member: Any) -> None:
    response = api_as(member).post("/api/v1/polls/", new_poll_payload(), format="json")
    assert response.status_code == 403
    assert "secretary" in response.json()["detail"]
    assert not Poll.objects.exists()


def test_creating_without_credentials_is_a_401(api: APIClient) -> None:
    response = api.post("/api/v1/polls/", new_poll_payload(), format="json")
    assert response.status_code == 401
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"options": [{"label": "Only"}]}, "options"),
        ({"options": [{"label": "Yes"}, {"label": "Yes"}]}, "options"),
        ({"closes_at": "2020-01-01T00:00:00Z"}, "closes_at"),
        ({"results_visibility": "sometimes"}, "results_visibility"),
        ({"title": ""}, "title"),
    ],
)
def test_an_invalid_poll_gets_field_errors_and_nothing_is_stored(
    api_as: Any, secretary: Any, overrides: dict[str, Any], field: str
) -> None:
    response = api_as(secretary).post("/api/v1/polls/", new_poll_payload(**overrides), format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "Invalid input."
    assert field in response.json()
    assert not Poll.objects.exists()


def test_malformed_json_is_a_400_with_a_detail(api_as: Any, member: Any) -> None:
    poll = make_poll()
    response = api_as(member).post(
        f"/api/v1/polls/{poll.pk}/ballot/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    assert not Ballot.objects.exists()


def test_a_member_votes_changes_and_sees_the_ballot(api_as: Any, member: Any) -> None:
    poll = make_poll()
    client = api_as(member)
    first = client.post(f"/api/v1/polls/{poll.pk}/ballot/", {"option": option_id(poll, "Yes")}, format="json")
    assert first.status_code == 201
    changed = client.post(f"/api/v1/polls/{poll.pk}/ballot/", {"option": option_id(poll, "No")}, format="json")
    assert changed.status_code == 200
    mine = client.get(f"/api/v1/polls/{poll.pk}/ballot/")
    assert mine.json()["option"] == option_id(poll, "No")
    results = client.get(f"/api/v1/polls/{poll.pk}/results/").json()
    assert [(option["label"], option["votes"]) for option in results["options"]] == [("Yes", 0), ("No", 1)]


def test_a_withdrawn_ballot_is_gone(api_as: Any, member: Any) -> None:
    poll = make_poll()
    client = api_as(member)
    client.post(f"/api/v1/polls/{poll.pk}/ballot/", {"option": option_id(poll, "Yes")}, format="json")
    assert client.delete(f"/api/v1/polls/{poll.pk}/ballot/").status_code == 204
    assert client.get(f"/api/v1/polls/{poll.pk}/ballot/").status_code == 404


@pytest.mark.parametrize(
    ("case", "expected"),
    [("closed", 409), ("draft", 404), ("unknown poll", 404), ("other poll's option", 400), ("unknown option", 400)],
)
def test_bad_ballots_are_refused_with_a_detail_and_change_nothing(
    api_as: Any, member: Any, case: str, expected: int
) -> None:
    poll = make_poll(status={"closed": PollStatus.CLOSED, "draft": PollStatus.DRAFT}.get(case, PollStatus.OPEN))
    other = make_poll(title="Another")
    poll_id = 999_999 if case == "unknown poll" else poll.pk
    option = {"other poll's option": option_id(other, "Yes"), "unknown option": 999_999}.get(
        case, option_id(poll, "Yes")
    )
    response = api_as(member).post(f"/api/v1/polls/{poll_id}/ballot/", {"option": option}, format="json")
    assert response.status_code == expected
    assert response.json()["detail"]
    assert not Ballot.objects.exists()


def test_a_second_ballot_where_change_is_not_allowed_is_a_409(api_as: Any, member: Any) -> None:
    poll = make_poll(allow_change=False)
    client = api_as(member)
    client.post(f"/api/v1/polls/{poll.pk}/ballot/", {"option": option_id(poll, "Yes")}, format="json")
    response = client.post(f"/api/v1/polls/{poll.pk}/ballot/", {"option": option_id(poll, "No")}, format="json")
    assert response.status_code == 409
    assert "does not allow" in response.json()["detail"]
    assert Ballot.objects.values_list("option__label", flat=True).get() == "Yes"


def test_voting_without_credentials_is_a_401(api: APIClient) -> None:
    poll = make_poll()
    response = api.post(f"/api/v1/polls/{poll.pk}/ballot/", {"option": option_id(poll, "Yes")}, format="json")
    assert response.status_code == 401
    assert not Ballot.objects.exists()


def test_a_non_numeric_poll_id_is_a_404_not_a_500(api: APIClient) -> None:
    api.force_authenticate(make_user())
    assert api.post("/api/v1/polls/abc/ballot/", {"option": 1}, format="json").status_code == 404


def test_results_hidden_until_close_are_refused_even_to_the_secretary(api_as: Any, secretary: Any) -> None:
    poll = make_poll(results_visibility="after_close")
    response = api_as(secretary).get(f"/api/v1/polls/{poll.pk}/results/")
    assert response.status_code == 403
    assert "after the poll closes" in response.json()["detail"]


def test_results_after_voting_are_shown_to_a_voter_only_once_they_voted(api_as: Any, member: Any) -> None:
    poll = make_poll(results_visibility="after_vote")
    client = api_as(member)
    assert client.get(f"/api/v1/polls/{poll.pk}/results/").status_code == 403
    client.post(f"/api/v1/polls/{poll.pk}/ballot/", {"option": option_id(poll, "Yes")}, format="json")
    assert client.get(f"/api/v1/polls/{poll.pk}/results/").status_code == 200


def test_the_list_filters_by_status_as_a_reader_sees_it(api: APIClient) -> None:
    make_poll(title="Running")
    make_poll(title="Upcoming", status=PollStatus.SCHEDULED, opens_in=datetime.timedelta(days=1))
    past_due = make_poll(title="Past due")
    Poll.objects.filter(pk=past_due.pk).update(
        opens_at=timezone.now() - datetime.timedelta(days=2), closes_at=timezone.now() - datetime.timedelta(days=1)
    )
    make_poll(title="Hidden draft", status=PollStatus.DRAFT)
    body = api.get("/api/v1/polls/", {"status": "open"}).json()
    assert [poll["title"] for poll in body["results"]] == ["Running"]
    closed = api.get("/api/v1/polls/", {"status": "closed"}).json()
    assert [poll["title"] for poll in closed["results"]] == ["Past due"]
    assert closed["results"][0]["status"] == "closed"
    everything = api.get("/api/v1/polls/").json()
    assert set(everything) == {"count", "next", "previous", "results"}
    assert "Hidden draft" not in [poll["title"] for poll in everything["results"]]


def test_the_list_searches_and_orders(api: APIClient) -> None:
    make_poll(title="Annual meeting venue")
    make_poll(title="xAI investment")
    found = api.get("/api/v1/polls/", {"search": "xai"}).json()
    assert [poll["title"] for poll in found["results"]] == ["xAI investment"]
    ordered = api.get("/api/v1/polls/", {"ordering": "title"}).json()
    assert [poll["title"] for poll in ordered["results"]] == ["Annual meeting venue", "xAI investment"]


def test_the_secretary_edits_a_draft_but_not_an_open_poll(api_as: Any, secretary: Any) -> None:
    client = api_as(secretary)
    draft = make_poll(status=PollStatus.DRAFT)
    assert client.patch(f"/api/v1/polls/{draft.pk}/", {"title": "Reworded"}, format="json").json()["title"] == (
        "Reworded"
    )
    running = make_poll()
    response = client.patch(f"/api/v1/polls/{running.pk}/", {"title": "Reworded"}, format="json")
    assert response.status_code == 409
    assert Poll.objects.get(pk=running.pk).title != "Reworded"


def test_the_secretary_certifies_through_the_api(api_as: Any, secretary: Any) -> None:
    poll = make_poll(status=PollStatus.CLOSED)
    response = api_as(secretary).post(f"/api/v1/polls/{poll.pk}/certify/")
    assert response.status_code == 200
    assert response.json()["status"] == "certified"


def test_the_vote_path_uses_a_fixed_number_of_queries(api_as: Any, member: Any, django_assert_num_queries: Any) -> None:
    from django.db import connection

    poll = make_poll()
    client = api_as(member)
    yes = option_id(poll, "Yes")
    # PostgreSQL: the token, then two statements in one round trip, one for the ballot, audit
    # link, stream head and root shard, one for the counter (in a savepoint here because the
    # test runs inside a transaction).
    # Elsewhere: the token, then in a transaction the poll, the option, savepoint + insert +
    # release, the counter, the stream's head, the root shard, the new link and the new head.
    expected = 5 if connection.vendor == "postgresql" else 13
    with django_assert_num_queries(expected):
        response = client.post(f"/api/v1/polls/{poll.pk}/ballot/", {"option": yes}, format="json")
    assert response.status_code == 201


def test_the_results_path_reads_two_queries_whatever_the_ballots(
    api: APIClient, django_assert_num_queries: Any
) -> None:
    poll = make_poll()
    for _ in range(25):
        api_poll_vote = make_user()

        ballot_cast(poll_id=poll.pk, actor=api_poll_vote, option_id=option_id(poll, "Yes"))
    # the option counters with their poll in one query, the active-account count (cached for a
    # minute outside tests)
    with django_assert_num_queries(2):
        response = api.get(f"/api/v1/polls/{poll.pk}/results/")
    assert response.json()["total_ballots"] == 25
