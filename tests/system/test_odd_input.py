"""Findings of the odd-input review (control characters, NUL, huge numbers, odd shapes, odd
routes) on every write surface: one regression test each, what the app answered before the fix
noted beside it. NUL matters on PostgreSQL, which refuses it in text; run this file there too."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from meetings.models import Meeting
from polls.models import Poll
from proposals.models import BoardMeeting
from proposals.workflow import Action
from tests.factories import api_for, make_meeting, make_proposal, make_register, make_secretary, make_user

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


# --- dates at the edges of the calendar ----------------------------------------------------------


@pytest.fixture
def register() -> Any:
    return make_register([("H-1", "Holder One", "one@example.com", 10)], outstanding=10)


@pytest.mark.parametrize(
    "body",
    [
        {"date": "0001-01-01"},
        {"date": "9999-12-31", "proxy_cutoff": "9999-12-31T10:00:00Z"},
        {"date": "2027-01-01", "proxy_cutoff": "0001-01-01T00:00:00Z"},
        {"date": "1899-12-31"},
        {"date": "3000-01-01"},
    ],
)
def test_a_meeting_dated_at_the_edge_of_the_calendar_is_a_400_and_nothing_is_stored(
    register: Any, body: dict[str, str]
) -> None:
    # Before: dated 0001-01-01, the meeting was stored and its answer was a 500 (the default
    # proxy cut-off, the day before, overflowed), and from then on so was every meeting list;
    # dated 9999-12-31 with a cut-off, the check of the cut-off overflowed.
    response = api_for(make_secretary()).post(
        "/api/v1/meetings/", {"title": "Annual meeting", "register": register.pk, **body}, format="json"
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json()["detail"] == "Choose a date between the years 1900 and 2999."
    assert not Meeting.objects.exists()
    assert APIClient().get("/api/v1/meetings/").status_code == 200


def test_moving_a_meeting_to_the_year_one_is_a_400_and_the_meeting_keeps_its_date(register: Any) -> None:
    # Before: a 500, and the meeting was saved with that date (its cut-off is the default).
    meeting = make_meeting(register, proxy_cutoff=None)
    response = api_for(make_secretary()).patch(f"/api/v1/meetings/{meeting.pk}/", {"date": "0001-01-01"}, format="json")
    assert response.status_code == 400
    meeting.refresh_from_db()
    assert meeting.date == datetime.date(2025, 11, 6)
    assert APIClient().get(f"/api/v1/meetings/{meeting.pk}/").status_code == 200


def test_the_console_refuses_a_meeting_in_the_year_one_with_a_form_error(client: Client, register: Any) -> None:
    client.force_login(make_secretary())
    response = client.post(
        "/console/meetings/new/",
        {"title": "Annual meeting", "date": "0001-01-01", "register": register.pk, "quorum": "1/2",
         "quorum_comparator": ">"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Choose a date between the years 1900 and 2999." in response.content.decode()
    assert not Meeting.objects.exists()


def test_the_calendar_refusal_reads_in_italian(register: Any) -> None:
    client = api_for(make_secretary())
    with translation.override("it"):
        response = client.post(
            "/api/v1/meetings/",
            {"title": "Assemblea", "register": register.pk, "date": "0001-01-01"},
            format="json",
            HTTP_ACCEPT_LANGUAGE="it",
        )
    assert response.json()["detail"] == "Scelga una data tra gli anni 1900 e 2999."


def public_poll(**window: str) -> dict[str, Any]:
    return {
        "title": "Where next?", "kind": "public", "options": [{"label": "Austin"}, {"label": "Rome"}],
        "opens_at": "2030-01-01T10:00:00Z", "closes_at": "2030-01-08T10:00:00Z", **window,
    }  # fmt: skip


def test_a_poll_opening_in_the_year_one_in_a_site_east_of_utc_is_a_form_error(settings: Any, client: Client) -> None:
    # Before: in a site in Rome, midnight of 1 January of the year 1 is a moment of the year 1 BC
    # in UTC. It was stored (PostgreSQL holds BC timestamps), and reading it back failed: the
    # console and the meeting's console page were 500s (DataError) until the row was mended.
    settings.TIME_ZONE = "Europe/Rome"
    client.force_login(make_secretary())
    response = client.post(
        "/console/polls/new/",
        {"title": "Where next?", "options": "Austin\nRome", "opens_at": "0001-01-01T00:00",
         "closes_at": "2030-01-01T00:00", "results_visibility": "live"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Choose a date between the years 1900 and 2999." in response.content.decode()
    assert not Poll.objects.exists()
    assert client.get("/console/").status_code == 200


def test_a_poll_closing_in_the_year_9999_is_a_400_from_the_api(secretary: Any) -> None:
    # Before: stored; the same moment overflows on every page once the site's zone is east of UTC.
    response = api_for(secretary).post("/api/v1/polls/", public_poll(closes_at="9999-12-31T23:59:59Z"), format="json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["detail"] == "Choose a date between the years 1900 and 2999."
    assert not Poll.objects.exists()


def test_moving_a_polls_close_to_the_year_9999_is_a_400_and_the_poll_keeps_its_window(secretary: Any) -> None:
    client = api_for(secretary)
    poll_id = client.post("/api/v1/polls/", public_poll(), format="json").json()["id"]
    response = client.patch(f"/api/v1/polls/{poll_id}/", {"closes_at": "9999-12-31T23:59:59Z"}, format="json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["detail"] == "Choose a date between the years 1900 and 2999."
    assert Poll.objects.get(pk=poll_id).closes_at.year == 2030


def test_a_shareholder_item_opening_in_the_year_one_is_a_form_error_in_the_console(
    client: Client, register: Any
) -> None:
    meeting = make_meeting(register)
    client.force_login(make_secretary())
    response = client.post(
        f"/console/meetings/{meeting.pk}/items/new/",
        {"title": "Ratify the auditor", "standard": "votes_cast", "threshold": "1/2", "comparator": ">",
         "opens_at": "0001-01-01T00:00", "closes_at": "2030-01-01T00:00", "results_visibility": "after_close"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Choose a date between the years 1900 and 2999." in response.content.decode()
    assert not Poll.objects.filter(meeting=meeting).exists()


def test_a_board_meeting_in_the_year_one_in_a_site_east_of_utc_is_a_form_error(settings: Any, client: Client) -> None:
    # Before: stored as a moment BC (PostgreSQL) and the board's meeting list, for every
    # director, was a 500 until the row was mended; on SQLite the page overflowed at once.
    settings.TIME_ZONE = "Europe/Rome"
    client.force_login(make_secretary())
    response = client.post(
        "/proposals/board-meetings/new/", {"starts_at": "0001-01-01T00:00", "place": "Austin, Gigafactory"}
    )
    assert response.status_code == 400
    assert "Choose a date between the years 1900 and 2999." in response.content.decode()
    assert not BoardMeeting.objects.exists()
    assert client.get("/proposals/board-meetings/").status_code == 200


def test_the_api_refuses_a_board_meeting_in_the_year_9999(secretary: Any) -> None:
    response = api_for(secretary).post(
        "/api/v1/board-meetings/", {"starts_at": "9999-12-31T23:59:59Z", "place": "Austin"}, format="json"
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json()["detail"] == "Choose a date between the years 1900 and 2999."
    assert not BoardMeeting.objects.exists()


# --- the admin's two-factor device pages --------------------------------------------------------


@pytest.mark.parametrize("view", ["config", "qrcode"])
def test_a_devices_secret_pages_in_the_admin_are_refused_for_a_known_or_unknown_id(client: Client, view: str) -> None:
    # Before: an unknown device id was a 500 (DoesNotExist, looked up before any check), and a
    # known one showed the device's secret to any admin with view rights on devices.
    from django_otp.plugins.otp_totp.models import TOTPDevice

    root = make_user(username="root", is_superuser=True, is_staff=True)
    device = TOTPDevice.objects.create(user=make_user(), name="phone", confirmed=True)
    client.force_login(root)
    for device_id in (device.pk, 99_999_999):
        response = client.get(f"/admin/otp_totp/totpdevice/{device_id}/{view}/")
        assert response.status_code == 403
        assert device.key not in response.content.decode()
    assert device.key not in client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()


# --- the schema's answers -----------------------------------------------------------------------


def test_a_body_of_another_media_type_is_a_415_the_schema_documents(api_as: Any) -> None:
    # Before: every operation that reads a body answered 415 to text/plain or XML, and none
    # listed it: a client generated from the schema had no answer for it.
    client: APIClient = api_as(make_user())
    response = client.post("/api/v1/proposals/", data=b"<proposal/>", content_type="application/xml")
    assert response.status_code == 415
    assert "detail" in response.json()
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    with_body = [
        (path, method)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]
    assert ("/api/v1/proposals/", "post") in with_body
    missing = [(p, m) for p, m in with_body if "415" not in schema["paths"][p][m]["responses"]]
    assert missing == []
