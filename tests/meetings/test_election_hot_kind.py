"""The thin vote view reads a ballot of lines' poll kind with the token (polls/api/hot.py): on an
unknown poll, a draft item, a proposal (not voted with lines) and a public poll, its answer is
the viewset's, byte for byte, and nothing is recorded; a dead token still gets the viewset's 401."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from core.models import ApiToken, Notification
from meetings.ballot_fastpath import items_cache_clear
from polls.models import Ballot, Poll, PollStatus
from tests.factories import make_annual_item, make_item, make_meeting, make_poll, make_register, make_user

pytestmark = pytest.mark.django_db

VIA_VIEWSET: dict[str, Any] = {"HTTP_ACCEPT": "application/json, */*"}
COMPARED_HEADERS = ("Content-Type", "Allow", "Vary", "WWW-Authenticate")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    items_cache_clear()


@pytest.fixture
def ann(api_as: Any) -> Any:
    make_user(username="ann", email="ann@example.com")
    return api_as(User.objects.get(username="ann"))


@pytest.fixture
def meeting() -> Any:
    return make_meeting(make_register([("H-ANN", "Ann", "ann@example.com", 30)], outstanding=1_000))


def both(client: Any, path: str, body: dict[str, Any]) -> tuple[Any, Any]:
    thin = client.post(path, body, format="json")
    full = client.post(path, body, format="json", **VIA_VIEWSET)
    return thin, full


def assert_same(thin: Any, full: Any, status: int) -> None:
    assert thin.status_code == full.status_code == status
    assert thin.content == full.content
    assert {h: thin.headers.get(h) for h in COMPARED_HEADERS} == {h: full.headers.get(h) for h in COMPARED_HEADERS}
    assert not Ballot.objects.exists()
    assert not Notification.objects.exists()


def test_an_unknown_poll_is_the_viewsets_404(ann: Any) -> None:
    thin, full = both(ann, "/api/v1/polls/987654321/ballot/", {"votes": {"1": "for"}})
    assert_same(thin, full, 404)


def test_a_draft_item_is_the_viewsets_404(ann: Any, meeting: Any) -> None:
    item = make_annual_item(
        meeting, "election", nominees=["X", "Y"], election_standard="majority", status=PollStatus.DRAFT
    )
    nominee = item.options.order_by("position").values_list("pk", flat=True)[0]
    thin, full = both(ann, f"/api/v1/polls/{item.pk}/ballot/", {"votes": {str(nominee): "for"}})
    assert_same(thin, full, 404)


@pytest.mark.parametrize("which", ["proposal", "public poll"])
def test_a_poll_not_voted_with_lines_refuses_them_as_the_viewset(ann: Any, meeting: Any, which: str) -> None:
    poll: Poll = make_item(meeting, standard="present_and_entitled") if which == "proposal" else make_poll()
    option = poll.options.values_list("pk", flat=True)[0]
    thin, full = both(ann, f"/api/v1/polls/{poll.pk}/ballot/", {"votes": {str(option): "for"}})
    assert thin.status_code == full.status_code and thin.status_code >= 400
    assert_same(thin, full, thin.status_code)


def test_a_dead_token_is_the_viewsets_401(ann: Any, meeting: Any) -> None:
    item = make_annual_item(meeting, "election", nominees=["X", "Y"], election_standard="majority")
    user = User.objects.get(username="ann")
    user.set_password("a new one, which kills her tokens")
    user.save()
    assert ApiToken.objects.filter(user=user).exists()
    nominee = item.options.order_by("position").values_list("pk", flat=True)[0]
    thin, full = both(ann, f"/api/v1/polls/{item.pk}/ballot/", {"votes": {str(nominee): "for"}})
    assert_same(thin, full, 401)
