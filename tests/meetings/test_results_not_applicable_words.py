"""A figure that does not apply ("n/a") is a word like any other on the results pages: Italian
readers see the catalogue's "n.d.", not the English abbreviation (the certify page already did)."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client

from meetings.ballot_services import item_lines_cast
from polls import services
from polls.models import Option, Poll, PollStatus
from tests.factories import make_annual_item, make_item, make_meeting, make_poll, make_register, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def agm() -> dict[str, Any]:
    users = {name: make_user(username=name, email=f"{name}@example.com") for name in ("cede", "alice")}
    register = make_register(
        [("H-CEDE", "Cede & Co", "cede@example.com", 10_000), ("H-ALICE", "Alice", "alice@example.com", 500)],
        outstanding=20_000,
    )
    return {"meeting": make_meeting(register, title="2025 Annual Meeting"), "users": users}


def _ids(item: Poll) -> list[int]:
    return list(Option.objects.filter(poll=item).order_by("position").values_list("pk", flat=True))


def _italian_page(client: Client, poll: Poll) -> str:
    response = client.get(f"/polls/{poll.pk}/results/", HTTP_ACCEPT_LANGUAGE="it")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_an_italian_election_page_writes_a_nominee_without_votes_percent_as_n_d(
    agm: dict[str, Any], client: Client
) -> None:
    item = make_annual_item(agm["meeting"], "election", nominees=["Ada", "Bob"], election_standard="majority")
    ada, _bob = _ids(item)
    item_lines_cast(poll_id=item.pk, actor=agm["users"]["cede"], data={"votes": {str(ada): "for"}})
    services.poll_close(poll=item)
    page = _italian_page(client, item)
    assert "Candidato" in page
    assert "n/a" not in page
    assert "n.d." in page


def test_an_italian_choice_page_without_votes_writes_its_total_and_threshold_as_n_d(
    agm: dict[str, Any], client: Client
) -> None:
    item = make_annual_item(
        agm["meeting"], "choice", options=["Rome", "Milan"], threshold="1/2", comparator=">", results_visibility="live"
    )
    page = _italian_page(client, item)
    assert "n/a" not in page
    # The total's percentage and whether the threshold is met: two figures that do not apply.
    assert page.count("n.d.") >= 2


def test_an_italian_proposal_page_writes_the_what_if_percent_without_votes_as_n_d(
    agm: dict[str, Any], client: Client
) -> None:
    item = make_item(agm["meeting"], status=PollStatus.OPEN, results_visibility="live")
    page = _italian_page(client, item)
    assert "n/a" not in page
    assert "n.d." in page


def test_an_italian_public_poll_page_without_ballots_writes_its_total_as_n_d(client: Client) -> None:
    poll = make_poll(results_visibility="live")
    page = _italian_page(client, poll)
    assert "n/a" not in page
    assert "n.d." in page
