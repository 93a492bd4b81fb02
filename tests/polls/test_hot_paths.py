"""The thin vote and results views (polls/api/hot.py) answer exactly as the viewset would, and
leave every other case to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from polls.api.views import PollViewSet
from polls.ballots import ballot_cast
from polls.models import Poll, PollStatus, ResultsVisibility
from tests.factories import make_poll, make_user

# An Accept the viewset answers with JSON all the same, but the thin views leave to it.
VIA_VIEWSET: dict[str, Any] = {"HTTP_ACCEPT": "application/json, */*"}
pytestmark = pytest.mark.django_db

COMPARED_HEADERS = ("Content-Type", "Allow", "Vary", "WWW-Authenticate")


def yes(poll: Poll) -> int:
    return poll.options.get(label="Yes").pk


def headers(response: Any) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in COMPARED_HEADERS}


def test_a_token_vote_answers_with_the_viewsets_status_fields_and_headers(api_as: Any, member: Any) -> None:
    first, second = make_poll(), make_poll()
    client = api_as(member)
    with mock.patch.object(PollViewSet, "_cast", autospec=True, side_effect=PollViewSet._cast) as viewset_cast:
        thin = client.post(f"/api/v1/polls/{first.pk}/ballot/", {"option": yes(first)}, format="json")
        assert viewset_cast.call_count == 0
        full = client.post(f"/api/v1/polls/{second.pk}/ballot/", {"option": yes(second)}, format="json", **VIA_VIEWSET)
        assert viewset_cast.call_count == 1
    assert thin.status_code == full.status_code == 201
    assert headers(thin) == headers(full)
    thin_body, full_body = thin.json(), full.json()
    assert thin_body.keys() == full_body.keys()
    assert thin_body["poll"] == first.pk and thin_body["option"] == yes(first)
    assert thin_body["voter"] == full_body["voter"] == member.username
    assert len(thin_body["receipt"]) == len(full_body["receipt"]) == 23


def test_a_refused_thin_vote_has_the_viewsets_error_answer(api_as: Any, member: Any) -> None:
    poll = make_poll(status=PollStatus.CLOSED)
    client = api_as(member)
    thin = client.post(f"/api/v1/polls/{poll.pk}/ballot/", {"option": yes(poll)}, format="json")
    full = client.post(f"/api/v1/polls/{poll.pk}/ballot/", {"option": yes(poll)}, format="json", **VIA_VIEWSET)
    assert thin.status_code == full.status_code == 409
    assert thin.content == full.content
    assert headers(thin) == headers(full)


def test_a_bad_token_on_the_vote_path_gets_the_viewsets_401_challenge(api: APIClient) -> None:
    poll = make_poll()
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = api.post(f"/api/v1/polls/{poll.pk}/ballot/", {"option": yes(poll)}, format="json")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"


def test_other_vote_bodies_still_get_the_viewsets_validation(api_as: Any, member: Any) -> None:
    poll = make_poll()
    response = api_as(member).post(f"/api/v1/polls/{poll.pk}/ballot/", {"option": "x"}, format="json")
    assert response.status_code == 400
    assert "option" in response.json()


def test_the_thin_results_answer_is_byte_equal_to_the_viewsets(api: APIClient, django_assert_num_queries: Any) -> None:
    poll = make_poll()
    for _ in range(3):
        ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=yes(poll))
    api.get(f"/api/v1/polls/{poll.pk}/results/")  # the active-account count, cached from now on
    with django_assert_num_queries(2):  # the options with their poll; the cache's count in tests
        thin = api.get(f"/api/v1/polls/{poll.pk}/results/")
    full = api.get(f"/api/v1/polls/{poll.pk}/results/", **VIA_VIEWSET)
    assert thin.status_code == full.status_code == 200
    assert thin.content == full.content
    assert headers(thin) == headers(full)
    assert thin.json()["total_ballots"] == 3


def test_results_shown_only_to_voters_stay_hidden_from_an_anonymous_reader(api: APIClient) -> None:
    poll = make_poll(results_visibility=ResultsVisibility.AFTER_VOTE)
    assert api.get(f"/api/v1/polls/{poll.pk}/results/").status_code == 403


def test_a_drafts_results_are_not_found_by_a_reader(api: APIClient) -> None:
    poll = make_poll(status=PollStatus.DRAFT)
    assert api.get(f"/api/v1/polls/{poll.pk}/results/").status_code == 404


def test_the_schema_of_the_two_hot_operations_is_still_the_viewsets() -> None:
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    ballot, results = paths["/api/v1/polls/{id}/ballot/"], paths["/api/v1/polls/{id}/results/"]
    assert set(ballot) == {"get", "post", "delete"}
    post = ballot["post"]
    assert post["operationId"] == "polls_ballot_create"
    # 415: a body of another media type, answered by the viewset (core.schema_hooks).
    assert set(post["responses"]) == {"200", "201", "400", "401", "403", "404", "409", "415"}
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BallotCastRequest"
    }
    for code in ("200", "201"):
        assert post["responses"][code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/BallotReceipt"
        }
    assert post["security"] == [{"tokenAuth": []}, {"cookieAuth": []}]
    get = results["get"]
    assert set(results) == {"get"}
    assert get["operationId"] == "polls_results_retrieve"
    assert set(get["responses"]) == {"200", "403", "404"}
    assert get["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Results"}


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-16"),
        lambda text: text.encode("utf-32"),
        lambda text: text.encode("utf-8-sig"),
    ],
    ids=["utf-16", "utf-32", "utf-8 with a byte order mark"],
)
def test_a_body_not_in_plain_utf8_gets_the_viewsets_400_and_records_nothing(
    api_as: Any, member: Any, encode: Callable[[str], bytes]
) -> None:
    poll = make_poll()
    payload = encode(f'{{"option": {yes(poll)}}}')
    client = api_as(member)
    thin = client.post(f"/api/v1/polls/{poll.pk}/ballot/", payload, content_type="application/json")
    full = client.post(f"/api/v1/polls/{poll.pk}/ballot/", payload, content_type="application/json", **VIA_VIEWSET)
    assert thin.status_code == full.status_code == 400
    assert thin.content == full.content
    assert not poll.ballots.exists()


def test_a_token_after_a_no_break_space_gets_the_viewsets_401(member: Any) -> None:
    from core.services import api_token_issue

    poll = make_poll()
    key, _ = api_token_issue(user=member, otp_verified=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token\u00a0{key}")
    response = client.post(f"/api/v1/polls/{poll.pk}/ballot/", {"option": yes(poll)}, format="json")
    assert response.status_code == 401
    assert not poll.ballots.exists()
