"""An annual meeting for the ballot-form tests (issue 14): a register of holders who vote their
own shares, a nominee holder (Cede & Co) who splits, a holder who votes by proxy, and a member
who holds nothing."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from meetings.ballot_fastpath import items_cache_clear
from meetings.ballot_models import BallotLine, ItemTerms, NomineeTally
from meetings.models import Holder, Meeting
from meetings.services import proxy_appoint
from polls.models import Ballot, Option, Poll
from tests.factories import make_meeting, make_register, make_secretary, make_user

OUTSTANDING = 2_000


@pytest.fixture
def browser(client: Client, secretary: Any) -> Client:
    """The secretary's browser (the root conftest's secretary)."""
    client.force_login(secretary)
    return client


@pytest.fixture
def api_secretary(api: APIClient, secretary: Any) -> APIClient:
    api.force_authenticate(secretary)
    return api


@dataclass
class Annual:
    meeting: Meeting
    users: dict[str, Any]
    holders: dict[str, Holder]


@pytest.fixture
def fast_ballot_on_postgres() -> None:
    """For the fast first ballot's tests: its SQL is PostgreSQL's, and its per-process cache of
    open items must not carry one test's items into the next."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the fast first ballot is PostgreSQL's SQL")
    items_cache_clear()


@pytest.fixture
def annual() -> Annual:
    users = {
        name: make_user(username=name, email=f"{name}@example.com")
        for name in ("alice", "bob", "cede", "dora", "proxy", "outsider")
    }
    register = make_register(
        [
            ("H-ALICE", "Alice Minority", "alice@example.com", 30),
            ("H-BOB", "Bob Majority", "bob@example.com", 70),
            ("H-CEDE", "Cede & Co", "cede@example.com", 1_000),
            ("H-DORA", "Dora Absent", "dora@example.com", 400),
            ("H-QUIET", "Quiet Fund", "quiet@example.com", 500),
        ],
        outstanding=OUTSTANDING,
    )
    holders = {h.account.removeprefix("H-").lower(): h for h in register.holders.all()}
    return Annual(meeting=make_meeting(register), users=users, holders=holders)


def snapshot(poll: Poll) -> dict[str, Any]:
    """Every stored figure a ballot can move, to compare before and after a refusal."""
    return {
        "ballots": Ballot.objects.filter(poll_id=poll.pk).count(),
        "lines": sorted(
            BallotLine.objects.filter(ballot__poll_id=poll.pk).values_list("ballot_id", "option_id", "choice", "shares")
        ),
        "options": sorted(Option.objects.filter(poll_id=poll.pk).values_list("pk", "votes", "weight")),
        "tallies": sorted(
            NomineeTally.objects.filter(option__poll_id=poll.pk).values_list(
                "pk", "against_ballots", "against_shares", "abstain_ballots", "abstain_shares"
            )
        ),
        "shares_voted": ItemTerms.objects.get(poll_id=poll.pk).shares_voted,
        "ballot_count": Poll.objects.get(pk=poll.pk).ballot_count,
        "weights": Ballot.objects.filter(poll_id=poll.pk).aggregate(w=Sum("weight"))["w"],
    }


# ---- the API, as the tests of the forms use it ----------------------------------------------


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def create_item(annual: Annual, form: str, **fields: Any) -> tuple[Poll, dict[str, int]]:
    """The secretary creates the item through the API and opens it; its options' ids by label."""
    secretary = client_for(make_secretary())
    now = timezone.now()
    payload = {
        "title": f"An {form} item",
        "kind": "shareholder",
        "form": form,
        "meeting": annual.meeting.pk,
        "opens_at": now.isoformat(),
        "closes_at": (now + datetime.timedelta(days=1)).isoformat(),
        "results_visibility": "live",
        **fields,
    }
    created = secretary.post("/api/v1/polls/", payload, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["form"] == form and body["kind"] == "shareholder"
    opened = secretary.post(f"/api/v1/polls/{body['id']}/open/")
    assert opened.status_code == 200, opened.json()
    return Poll.objects.get(pk=body["id"]), {option["label"]: option["id"] for option in body["options"]}


def election(annual: Annual, *, standard: str, seats: int, names: str = "XPQ", cumulative: bool = False) -> Any:
    return create_item(
        annual,
        "election",
        nominees=[{"name": name} for name in names],
        seats=seats,
        election_standard=standard,
        cumulative=cumulative,
    )


def cast(annual: Annual, who: str, poll: Poll, payload: dict[str, Any], expect: int | None = None) -> Any:
    response = client_for(annual.users[who]).post(f"/api/v1/polls/{poll.pk}/ballot/", payload, format="json")
    if expect is not None:
        assert response.status_code == expect, response.json()
    return response


def appoint_proxy(annual: Annual, holder: str = "dora") -> None:
    proxy_appoint(
        meeting=annual.meeting,
        holder=annual.holders[holder],
        proxy=annual.users["proxy"],
        actor=annual.users[holder],
    )


def results(poll: Poll) -> dict[str, Any]:
    response = client_for(make_secretary()).get(f"/api/v1/polls/{poll.pk}/results/")
    assert response.status_code == 200, response.json()
    return dict(response.json())


def nominees(body: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        n["name"]: (n["for"], n["against"], n["withheld"], n["abstain"], n["percent"], n["elected"], n["status"])
        for n in body["nominees"]
    }


def options(body: dict[str, Any]) -> dict[str, tuple[int, str]]:
    return {o["label"]: (o["votes"], o["weight"]) for o in body["options"]}


def fill(value: Any, ids: Mapping[str, object]) -> Any:
    """Put the item's ids where a case names them: "{X}" in keys and values."""
    if isinstance(value, dict):
        return {fill(k, ids): fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    if isinstance(value, str) and "{" in value:
        return value.format(**{k.replace(" ", "_"): v for k, v in ids.items()})
    return value
