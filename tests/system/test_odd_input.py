"""Findings of the odd-input review (control characters, NUL, huge numbers, odd shapes, odd
routes) on every write surface: one regression test each, what the app answered before the fix
noted beside it. NUL matters on PostgreSQL, which refuses it in text; run this file there too."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from proposals.workflow import Action
from tests.factories import make_proposal

pytestmark = pytest.mark.django_db


# --- `.json` twins of the router's routes ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/proposals/{id}/transitions.json"),
        ("get", "/api/v1/proposals/{id}/events.json"),
        ("get", "/api/v1/proposals/{id}/review-votes.json"),
        ("get", "/api/v1/polls.json"),
    ],
)
def test_a_format_suffix_on_an_api_route_is_a_404_not_a_500(api_as: object, method: str, path: str) -> None:
    # Before: the router added a `.json` twin of every route, and the extra actions, which take
    # no `format` argument, answered it with a TypeError (500). The schema lists no such route.
    proposal = make_proposal()
    client: APIClient = api_as(proposal.proposer)  # type: ignore[operator]
    response = getattr(client, method)(path.format(id=proposal.pk), {"action": Action.SUBMIT}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    proposal.refresh_from_db()
    assert proposal.status == "draft"
