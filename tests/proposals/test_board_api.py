"""`/api/v1/board/` as DESIGN names it: read by the signed-in, changed by the secretary."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from core.audit import audit_trail
from proposals.models import BoardSettings
from tests.factories import make_director, make_secretary, make_user

pytestmark = pytest.mark.django_db


def test_a_visitor_cannot_read_the_board_settings(api: APIClient) -> None:
    assert api.get("/api/v1/board/").status_code == 401


def test_a_director_reads_the_default_quorum_basis_and_cannot_change_it(api_as: Any) -> None:
    client = api_as(make_director("robyn").user)
    assert client.get("/api/v1/board/").json() == {"quorum_basis": "all_in_office"}
    assert client.patch("/api/v1/board/", {"quorum_basis": "disinterested"}, format="json").status_code == 403
    assert not BoardSettings.objects.exists()


def test_the_secretary_changes_the_quorum_basis_on_the_trail(api_as: Any) -> None:
    client = api_as(make_secretary())
    response = client.patch("/api/v1/board/", {"quorum_basis": "disinterested"}, format="json")
    assert (response.status_code, response.json()) == (200, {"quorum_basis": "disinterested"})
    assert [event.action for event in audit_trail("board")] == ["board_settings_changed"]


@pytest.mark.parametrize(
    "body", [{"quorum_basis": "everyone"}, {"quorum_basis": "disinterested", "unknown": 1}, {}, {"quorum_basis": None}]
)
def test_a_bad_board_setting_is_a_400_and_changes_nothing(api_as: Any, body: dict[str, Any]) -> None:
    client = api_as(make_secretary())
    assert client.patch("/api/v1/board/", body, format="json").status_code == 400
    assert not BoardSettings.objects.exists()


def test_a_member_is_refused_too(api_as: Any) -> None:
    assert (
        api_as(make_user()).patch("/api/v1/board/", {"quorum_basis": "disinterested"}, format="json").status_code == 403
    )
