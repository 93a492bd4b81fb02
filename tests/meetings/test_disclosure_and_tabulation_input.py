"""An election, frequency or choice ballot is lines (shares to a choice on a nominee or option),
not a proposal's three share columns. What reads a ballot must know that: the admin's audit view
hides the lines while the item is open (DESIGN, Who sees what)."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client

from core.models import AuditEvent
from meetings.ballot_services import item_lines_cast
from polls import services
from polls.models import Option, Poll
from tests.factories import make_annual_item, make_meeting, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db

HOLDERS = [("cede", 10_000), ("alice", 500), ("bob", 300), ("carol", 200)]


@pytest.fixture
def agm() -> dict[str, Any]:
    users = {name: make_user(username=name, email=f"{name}@example.com") for name, _shares in HOLDERS}
    register = make_register(
        [(f"H-{name.upper()}", name.title(), f"{name}@example.com", shares) for name, shares in HOLDERS],
        outstanding=20_000,
    )
    return {"meeting": make_meeting(register, title="2025 Annual Meeting"), "users": users}


@pytest.fixture
def secretary() -> Any:
    return make_secretary()


@pytest.fixture
def secretary_browser(client: Client, secretary: Any) -> Client:
    client.force_login(secretary)
    return client


def _ids(item: Poll) -> list[int]:
    return list(Option.objects.filter(poll=item).order_by("position").values_list("pk", flat=True))


def _election(agm: dict[str, Any], **fields: Any) -> Poll:
    return make_annual_item(
        agm["meeting"], "election", nominees=["Ada Lovelace", "Bob Failing"], election_standard="majority", **fields
    )


def _vote(agm: dict[str, Any], item: Poll, who: str, votes: dict[int, str]) -> None:
    data = {"votes": {str(pk): choice for pk, choice in votes.items()}}
    item_lines_cast(poll_id=item.pk, actor=agm["users"][who], data=data)


def _audit_page(browser: Client, item: Poll) -> str:
    event = AuditEvent.objects.get(stream__startswith=f"ballot:{item.pk}:")
    assert "lines" in event.payload
    return html.unescape(browser.get(f"/admin/core/auditevent/{event.pk}/change/").content.decode())


# ---- D: the admin's audit view -------------------------------------------------------------------


def test_an_open_elections_ballot_lines_are_hidden_in_the_admin_audit_view(
    agm: dict[str, Any], secretary_browser: Client
) -> None:
    item = _election(agm, results_visibility="after_close")
    ada, bob = _ids(item)
    _vote(agm, item, "cede", {ada: "for", bob: "against"})
    page = _audit_page(secretary_browser, item)
    assert '"lines": "hidden until the poll closes"' in page
    assert '"against", 10000' not in page
    assert '"for", 10000' not in page


def test_an_open_frequency_items_ballot_lines_are_hidden_even_when_its_totals_are_live(
    agm: dict[str, Any], secretary_browser: Client
) -> None:
    item = make_annual_item(agm["meeting"], "frequency", results_visibility="live")
    one_year = _ids(item)[0]
    item_lines_cast(poll_id=item.pk, actor=agm["users"]["alice"], data={"option": one_year})
    page = _audit_page(secretary_browser, item)
    assert '"lines": "hidden until the poll closes"' in page
    assert f'[{one_year}, "for", 500]' not in page


def test_a_closed_elections_ballot_lines_are_shown_in_the_admin_audit_view(
    agm: dict[str, Any], secretary_browser: Client
) -> None:
    item = _election(agm, results_visibility="after_close")
    ada, bob = _ids(item)
    _vote(agm, item, "cede", {ada: "for", bob: "against"})
    services.poll_close(poll=item)
    page = _audit_page(secretary_browser, item)
    assert f'[{ada}, "for", 10000]' in page and f'[{bob}, "against", 10000]' in page
