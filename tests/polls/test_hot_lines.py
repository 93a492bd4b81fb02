"""A token holder's ballot of lines (`{"votes": {...}}`) on the thin vote view (polls/api/hot.py)
answers as the viewset does, records the same and queues the same confirmation; a refusal is
byte-equal; any value the cast serializer would change or refuse, and a proxy's `holder`, still
go to the viewset. Both databases: on PostgreSQL the first ballot and its confirmation are one
statement (meetings/ballot_fastpath.py), elsewhere the general path's transaction."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from rest_framework.test import APIClient

from core.models import Notification
from meetings.ballot_fastpath import items_cache_clear
from meetings.ballot_models import BallotLine
from polls import receipt_mail
from polls.api.views import PollViewSet
from polls.models import Ballot, Poll
from tests.factories import make_annual_item, make_meeting, make_register, make_user

pytestmark = pytest.mark.django_db

VIA_VIEWSET: dict[str, Any] = {"HTTP_ACCEPT": "application/json, */*"}
COMPARED_HEADERS = ("Content-Type", "Allow", "Vary", "WWW-Authenticate")
HOLDINGS = [
    ("H-ANN", "Ann", "ann@example.com", 30),
    ("H-BEN", "Ben", "ben@example.com", 70),
]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    items_cache_clear()


@pytest.fixture
def election() -> tuple[Poll, Poll]:
    """Two open majority elections of three nominees on a meeting of Ann's and Ben's holdings."""
    make_user(username="ann", email="ann@example.com")
    make_user(username="ben", email="ben@example.com")
    meeting = make_meeting(make_register(HOLDINGS, outstanding=1_000))
    return tuple(  # type: ignore[return-value]
        make_annual_item(meeting, "election", nominees=["X", "Y", "Z"], election_standard="majority") for _ in range(2)
    )


def votes(poll: Poll, *choices: str) -> dict[str, Any]:
    ids = [str(pk) for pk in poll.options.order_by("position").values_list("pk", flat=True)]
    return {"votes": dict(zip(ids, choices, strict=False))}


def headers(response: Any) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in COMPARED_HEADERS}


def holder_client(api_as: Any, username: str) -> APIClient:
    from django.contrib.auth.models import User

    return api_as(User.objects.get(username=username))


def test_a_holders_votes_on_the_thin_view_answer_and_record_as_the_viewsets(
    api_as: Any, election: tuple[Poll, Poll]
) -> None:
    thin_item, full_item = election
    client = holder_client(api_as, "ann")
    with mock.patch.object(PollViewSet, "_cast", autospec=True, side_effect=PollViewSet._cast) as viewset_cast:
        thin = client.post(
            f"/api/v1/polls/{thin_item.pk}/ballot/", votes(thin_item, "for", "against", "abstain"), format="json"
        )
        assert viewset_cast.call_count == 0
        full = client.post(
            f"/api/v1/polls/{full_item.pk}/ballot/",
            votes(full_item, "for", "against", "abstain"),
            format="json",
            **VIA_VIEWSET,
        )
        assert viewset_cast.call_count == 1
    assert thin.status_code == full.status_code == 201
    assert headers(thin) == headers(full)
    thin_body, full_body = thin.json(), full.json()
    assert list(thin_body) == list(full_body)
    same = ("option", "voter", "weight", "shares_for", "shares_against", "shares_abstain")
    assert {k: thin_body[k] for k in same} == {k: full_body[k] for k in same}
    assert [(line["choice"], line["shares"]) for line in thin_body["lines"]] == [
        (line["choice"], line["shares"]) for line in full_body["lines"]
    ]
    for item, body in ((thin_item, thin_body), (full_item, full_body)):
        ballot = Ballot.objects.get(poll=item)
        assert body["holder"] == ballot.holder_id and ballot.weight == 30
        assert BallotLine.objects.filter(ballot=ballot).count() == 3
        # The same confirmation, one each: its codes are the answer's receipt.
        queued = Notification.objects.filter(kind=receipt_mail.KIND, context__codes=[body["receipt"]])
        assert queued.count() == 1 and queued.get().recipient == "ann@example.com"


def test_a_second_ballot_on_the_thin_view_changes_it_as_the_viewset_would(
    api_as: Any, election: tuple[Poll, Poll]
) -> None:
    item, _other = election
    client = holder_client(api_as, "ben")
    path = f"/api/v1/polls/{item.pk}/ballot/"
    first = client.post(path, votes(item, "for", "for"), format="json")
    again = client.post(path, votes(item, "for", "for"), format="json")
    changed = client.post(path, votes(item, "against"), format="json")
    assert (first.status_code, again.status_code, changed.status_code) == (201, 200, 200)
    assert Ballot.objects.filter(poll=item).count() == 1
    assert BallotLine.objects.filter(ballot__poll=item).count() == 1  # against X, as last cast
    # Every cast's new receipt is confirmed, each in its ballot's transaction.
    receipts = [response.json()["receipt"] for response in (first, again, changed)]
    assert sorted(n.context["codes"][0] for n in Notification.objects.filter(kind=receipt_mail.KIND)) == sorted(
        receipts
    )


def test_a_refused_ballot_of_lines_is_byte_equal_on_both(api_as: Any, election: tuple[Poll, Poll]) -> None:
    item, _other = election
    client = holder_client(api_as, "ann")
    path = f"/api/v1/polls/{item.pk}/ballot/"
    body = votes(item, "withhold")  # not a choice under majority voting
    thin = client.post(path, body, format="json")
    full = client.post(path, body, format="json", **VIA_VIEWSET)
    assert thin.status_code == full.status_code == 400
    assert thin.content == full.content
    assert headers(thin) == headers(full)
    assert not Ballot.objects.filter(poll=item).exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"votes": {"X": " for"}},  # the serializer trims it
        {"votes": {"X": 1}},  # the serializer makes it a string
        {"votes": {}},
        {"votes": {"X": "for"}, "holder": 1},  # a proxy's: the viewset's
        {"cumulative": {"X": "\uff11"}},  # a digit, but not an ASCII one
    ],
)
def test_bodies_the_serializer_would_touch_go_to_the_viewset(
    api_as: Any, election: tuple[Poll, Poll], body: dict[str, Any]
) -> None:
    item, _other = election
    ids = [str(pk) for pk in item.options.order_by("position").values_list("pk", flat=True)]
    key = "votes" if "votes" in body else "cumulative"
    body = {**body, key: {ids[0]: value for value in list(body[key].values())[:1]}}  # noqa: B035 - one entry
    client = holder_client(api_as, "ann")
    with mock.patch.object(PollViewSet, "_cast", autospec=True, side_effect=PollViewSet._cast) as viewset_cast:
        client.post(f"/api/v1/polls/{item.pk}/ballot/", body, format="json")
    assert viewset_cast.call_count == 1
