"""An election, frequency or choice ballot is lines (shares to a choice on a nominee or option),
not a proposal's three share columns. What reads a ballot must know that: the admin's audit view
hides the lines while the item is open (DESIGN, Who sees what), the admin's ballot list shows
them once it may, and an inspector's tabulation with no figure per nominee or option is refused
by the console, the admin and the API alike rather than recorded as all zeros."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.models import AuditEvent
from meetings.ballot_models import TabulationLine
from meetings.ballot_services import item_lines_cast, lines_tabulation_record
from meetings.models import Tabulation
from polls import services
from polls.exceptions import InvalidPollData
from polls.models import Option, Poll
from tests.factories import api_for, make_annual_item, make_meeting, make_register, make_secretary, make_user

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


# ---- E: the admin's ballot list --------------------------------------------------------------------


def test_the_admin_ballot_list_shows_a_closed_elections_ballot_by_its_lines(
    agm: dict[str, Any], secretary_browser: Client
) -> None:
    item = _election(agm)
    ada, bob = _ids(item)
    _vote(agm, item, "cede", {ada: "for", bob: "against"})
    services.poll_close(poll=item)
    response = secretary_browser.get("/admin/polls/ballot/")
    assert response.status_code == 200
    assert "Ada Lovelace: For 10,000; Bob Failing: Against 10,000" in html.unescape(response.content.decode())


def test_the_admin_ballot_page_shows_a_closed_frequency_items_ballot_by_its_option(
    agm: dict[str, Any], secretary_browser: Client
) -> None:
    item = make_annual_item(agm["meeting"], "frequency")
    item_lines_cast(poll_id=item.pk, actor=agm["users"]["alice"], data={"option": _ids(item)[0]})
    services.poll_close(poll=item)
    ballot = item.ballots.get()
    response = secretary_browser.get(f"/admin/polls/ballot/{ballot.pk}/change/")
    assert response.status_code == 200
    assert "1 year: 500" in html.unescape(response.content.decode())


def test_the_admin_ballot_list_keeps_an_open_elections_lines_hidden(
    agm: dict[str, Any], secretary_browser: Client
) -> None:
    item = _election(agm, results_visibility="after_close")
    ada, _bob = _ids(item)
    _vote(agm, item, "cede", {ada: "for"})
    page = html.unescape(secretary_browser.get("/admin/polls/ballot/").content.decode())
    assert "hidden until the poll closes" in page
    assert "Ada Lovelace: For" not in page


def test_the_admin_ballot_list_reads_a_pages_lines_in_one_query_however_many_ballots(
    agm: dict[str, Any], secretary_browser: Client
) -> None:
    item = _election(agm)
    ada, bob = _ids(item)
    _vote(agm, item, "cede", {ada: "for", bob: "against"})
    services.poll_close(poll=item)
    with CaptureQueriesContext(connection) as one:
        assert secretary_browser.get("/admin/polls/ballot/").status_code == 200
    other = _election(agm, title="Elect more directors")
    cy, dee = _ids(other)
    for who in ("alice", "bob", "carol"):
        _vote(agm, other, who, {cy: "for", dee: "against"})
    services.poll_close(poll=other)
    with CaptureQueriesContext(connection) as four:
        page = secretary_browser.get("/admin/polls/ballot/")
    assert html.unescape(page.content.decode()).count("Bob Failing: Against") == 4
    assert len(four.captured_queries) == len(one.captured_queries)


# ---- I: an empty tabulation --------------------------------------------------------------------------


@pytest.fixture
def closed_election(agm: dict[str, Any]) -> Poll:
    item = _election(agm)
    ada, bob = _ids(item)
    _vote(agm, item, "cede", {ada: "for", bob: "for"})
    services.poll_close(poll=item)
    return item


def _as_rendered(browser: Client, page: str, item: Poll) -> dict[str, str]:
    """The form's fields with the values the page shows them with: what pressing the button sends."""
    shown = browser.get(page).content.decode()
    assert 'name="broker_non_votes" value="0"' in shown
    data = {f"line_{pk}_{choice}": "" for pk in _ids(item) for choice in ("for", "against", "abstain")}
    return data | {"broker_non_votes": "0", "source": ""}


def test_the_console_tabulation_form_sent_untouched_is_refused_and_records_nothing(
    secretary_browser: Client, closed_election: Poll
) -> None:
    page = f"/console/polls/{closed_election.pk}/tabulation/"
    response = secretary_browser.post(page, _as_rendered(secretary_browser, page, closed_election))
    assert response.status_code == 400
    assert "Enter at least one figure for a nominee or option" in html.unescape(response.content.decode())
    assert not Tabulation.objects.exists()
    assert not AuditEvent.objects.filter(action="tabulation_recorded").exists()


def test_the_admin_tabulation_form_sent_untouched_is_refused_and_records_nothing(
    secretary_browser: Client, closed_election: Poll
) -> None:
    page = f"/admin/meetings/tabulation/lines/{closed_election.pk}/"
    response = secretary_browser.post(page, _as_rendered(secretary_browser, page, closed_election))
    assert response.status_code == 200  # the admin shows its form again with the error
    assert "Enter at least one figure for a nominee or option" in html.unescape(response.content.decode())
    assert not Tabulation.objects.exists()


@pytest.mark.parametrize("figures", [{"lines": []}, {"lines": [], "broker_non_votes": 40, "source": "Inspector"}])
def test_the_api_refuses_a_tabulation_with_empty_lines_and_records_nothing(
    secretary: Any, closed_election: Poll, figures: dict[str, Any]
) -> None:
    response = api_for(secretary).post(f"/api/v1/polls/{closed_election.pk}/tabulation/", figures, format="json")
    assert response.status_code == 400
    assert "Enter at least one figure for a nominee or option" in response.json()["detail"]
    assert not Tabulation.objects.exists()
    assert not AuditEvent.objects.filter(action="tabulation_recorded").exists()


def test_an_empty_tabulation_leaves_the_one_recorded_before_as_it_was(
    secretary: Any, secretary_browser: Client, closed_election: Poll
) -> None:
    ada, bob = _ids(closed_election)
    lines = [{"option": ada, "choice": "for", "shares": 9_000}, {"option": bob, "choice": "against", "shares": 800}]
    lines_tabulation_record(poll=closed_election, actor=secretary, lines=lines, broker_non_votes=70)
    events = AuditEvent.objects.count()
    blank = {f"line_{pk}_{choice}": "" for pk in (ada, bob) for choice in ("for", "against", "abstain")}
    page = f"/console/polls/{closed_election.pk}/tabulation/"
    assert secretary_browser.post(page, blank | {"broker_non_votes": "5", "source": ""}).status_code == 400
    refused = api_for(secretary).post(f"/api/v1/polls/{closed_election.pk}/tabulation/", {"lines": []}, format="json")
    assert refused.status_code == 400
    with pytest.raises(InvalidPollData):
        lines_tabulation_record(poll=closed_election, actor=secretary, lines=[], broker_non_votes=5)
    assert Tabulation.objects.get().broker_non_votes == 70
    assert sorted(TabulationLine.objects.values_list("option_id", "choice", "shares")) == [
        (ada, "for", 9_000),
        (bob, "against", 800),
    ]
    assert AuditEvent.objects.count() == events
