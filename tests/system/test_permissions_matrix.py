"""Every role against the main pages and endpoints, one fresh world per cell: what each role
may see and do, and the status everyone else gets."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from meetings.models import HolderControl
from meetings.services import proxy_appoint
from polls.models import Ballot, Poll, PollStatus
from proposals.models import BoardSettings, ConsentSignature, Director, Proposal, WrittenConsent
from tests.factories import (
    make_director,
    make_item,
    make_meeting,
    make_poll,
    make_proposal,
    make_register,
    make_secretary,
    make_user,
    start_review,
)

pytestmark = pytest.mark.django_db

ROLES = ["visitor", "member", "shareholder", "proxy", "director", "recused", "secretary", "admin"]


def build_world() -> dict[str, Any]:
    proxy, secretary = make_user(username="proxy"), make_secretary(username="secretary")
    users: dict[str, User | None] = {
        "visitor": None,
        "member": make_user(username="member"),
        "shareholder": make_user(username="shareholder", email="holder@example.com"),
        "proxy": proxy,
        "director": make_director("director").user,
        "recused": make_director("recused", interests=("xAI",)).user,
        "secretary": secretary,
        "admin": make_user(username="admin", is_staff=True, is_superuser=True),
    }
    register = make_register(
        [("H1", "Holder", "holder@example.com", 100), ("H2", "Fund", "fund@example.com", 50)], outstanding=200
    )
    meeting = make_meeting(register)
    proxy_appoint(
        meeting=meeting,
        holder=register.holders.get(account="H2"),
        proxy=proxy,
        actor=secretary,
    )
    member = users["member"]
    assert member is not None
    proposal = make_proposal(member, title="In review")
    start_review(proposal, secretary)
    # Circulated before "recused" declared an interest would have blocked it: only "director" signs.
    consent = WrittenConsent.objects.create(
        proposal=proposal,
        text="RESOLVED.",
        outcome="approved",
        deadline=timezone.now() + datetime.timedelta(days=7),
        created_by=secretary,
    )
    ConsentSignature.objects.create(consent=consent, director=Director.objects.get(user__username="director"))
    return {
        "users": users,
        "open": make_poll(title="Open"),
        "draft": make_poll(title="Draft", status=PollStatus.DRAFT),
        "item": make_item(meeting),
        "meeting": meeting,
        "in_review": proposal,
        "member_draft": make_proposal(member, title="Member's draft"),
        "consent": consent,
        "member_account": member,
        "register": register,
    }


def new_poll_body() -> dict[str, Any]:
    now = timezone.now()
    return {
        "title": "New",
        "options": [{"label": "A"}, {"label": "B"}],
        "opens_at": now.isoformat(),
        "closes_at": (now + datetime.timedelta(days=1)).isoformat(),
    }


# (name, method, path template, body, expected status per role in ROLES order)
API = [
    ("list polls", "get", "/api/v1/polls/", None, [200] * 8),
    ("a draft poll", "get", "/api/v1/polls/{draft}/", None, [404] * 6 + [200, 200]),
    ("create a poll", "post", "/api/v1/polls/", new_poll_body, [401] + [403] * 5 + [201, 201]),
    ("close a poll", "post", "/api/v1/polls/{open}/close/", None, [401] + [403] * 5 + [200, 200]),
    ("registers", "get", "/api/v1/registers/", None, [401] + [403] * 5 + [200, 200]),
    ("directors", "get", "/api/v1/directors/", None, [401] + [403] * 5 + [200, 200]),
    (
        "vote on the item",
        "post",
        "/api/v1/polls/{item}/ballot/",
        {"choice": "for"},
        [401, 403, 201, 201, 403, 403, 403, 403],
    ),
    (
        "review vote",
        "post",
        "/api/v1/proposals/{in_review}/review-votes/",
        {"decision": "approve"},
        [401, 403, 404, 404, 201, 403, 403, 403],
    ),
    # Referral is the board's decision: nobody refers alone, the secretary included.
    (
        "refer",
        "post",
        "/api/v1/proposals/{in_review}/transitions/",
        {"action": "refer"},
        [401, 403, 404, 404, 403, 403, 403, 403],
    ),
    (
        "a new review due date",
        "post",
        "/api/v1/proposals/{in_review}/reschedule/",
        lambda: {"due_at": (timezone.now() + datetime.timedelta(days=3)).isoformat()},
        [401, 403, 404, 404, 403, 403, 200, 200],
    ),
    ("a member's draft", "get", "/api/v1/proposals/{member_draft}/", None, [404, 200, 404, 404, 404, 404, 200, 200]),
    # A proposal in review is its proposer's (member), the board's and the secretary's.
    ("the audit trail", "get", "/api/v1/proposals/{in_review}/events/", None, [404, 200, 404, 404, 200, 200, 200, 200]),
    # A written consent is board material; "recused" is a director in office, so none can pass, and
    # reads none on a proposal it is recused from (who signed is the board's deliberation).
    (
        "circulate a written consent",
        "post",
        "/api/v1/proposals/{in_review}/consents/",
        {"text": "RESOLVED.", "outcome": "approved"},
        [401] + [403] * 5 + [409, 409],
    ),
    ("a written consent", "get", "/api/v1/consents/{consent}/", None, [401, 404, 404, 404, 200, 404, 200, 200]),
    (
        "sign a written consent",
        "post",
        "/api/v1/consents/{consent}/sign/",
        {"password": "pw-for-tests-1"},
        [401, 404, 404, 404, 200, 404, 403, 403],
    ),
    ("board meetings", "get", "/api/v1/board-meetings/", None, [401, 403, 403, 403, 200, 200, 200, 200]),
    ("the board's settings", "get", "/api/v1/board/", None, [401] + [200] * 7),
    (
        "change the board's quorum basis",
        "patch",
        "/api/v1/board/",
        {"quorum_basis": "disinterested"},
        [401] + [403] * 5 + [200, 200],
    ),
    ("a receipt that does not exist", "get", "/api/v1/receipts/00000-00000-00000-00000/", None, [404] * 8),
    # Control numbers in clear: the secretary's alone.
    (
        "the register's mailing file",
        "get",
        "/api/v1/registers/{register}/mailing.csv",
        None,
        [401] + [403] * 5 + [200, 200],
    ),
    (
        "claim with an unknown control number",
        "post",
        "/api/v1/holdings/claim/",
        {"control_number": "4111 1111 1111 1111"},
        [401] + [400] * 7,
    ),
]
PAGES = [
    ("the admin", "/admin/", [302] * 6 + [200, 200]),
    ("a draft poll's page", "/polls/{draft}/", [404] * 6 + [200, 200]),
    ("the review page", "/proposals/{in_review}/review/", [302, 403, 404, 404, 200, 200, 403, 403]),
    ("the decide confirmation", "/proposals/{in_review}/decide/", [302, 403, 404, 404, 403, 403, 200, 200]),
    ("the board's settings", "/proposals/board/settings/", [302] + [403] * 5 + [200, 200]),
    ("the meeting", "/meetings/{meeting}/", [200] * 8),
    ("ballots in the admin", "/admin/polls/ballot/", [302] * 6 + [200, 200]),
    ("the secretary's console", "/console/", [302] + [403] * 5 + [200, 200]),
    ("the certify page", "/console/polls/{open}/certify/", [302] + [403] * 5 + [200, 200]),
    ("the new poll form", "/console/polls/new/", [302] + [403] * 5 + [200, 200]),
    ("people in the console", "/console/people/", [302] + [403] * 5 + [200, 200]),
    ("add a director", "/console/people/directors/new/", [302] + [403] * 5 + [200, 200]),
    ("invite an account", "/console/people/invite/", [302] + [403] * 5 + [200, 200]),
    (
        "deactivate: the confirmation",
        "/console/people/accounts/{member_account}/deactivate/",
        [302] + [403] * 5 + [200, 200],
    ),
    ("a new written consent", "/proposals/{in_review}/consents/new/", [302] + [403] * 5 + [200, 200]),
    ("a written consent's page", "/proposals/consents/{consent}/", [302, 404, 404, 404, 200, 404, 200, 200]),
    ("the written consents", "/proposals/consents/", [302, 403, 403, 403, 200, 200, 200, 200]),
    ("the board meetings", "/proposals/board-meetings/", [302, 403, 403, 403, 200, 200, 200, 200]),
    ("schedule a board meeting", "/proposals/board-meetings/new/", [302] + [403] * 5 + [200, 200]),
    ("claim a holding", "/holdings/claim/", [302] + [200] * 7),
    ("the register's mailing file", "/registers/{register}/mailing.csv", [302] + [403] * 5 + [200, 200]),
]
# Forms that change something, posted by each role: the status, and whether anything changed
# (a refusal must leave the world as it was).
FORMS = [
    (
        "close a poll from the console",
        "/console/polls/{open}/close/",
        {"confirmed": "yes"},
        [302] + [403] * 5 + [302, 302],
        lambda world: Poll.objects.get(pk=world["open"].pk).status == PollStatus.CLOSED,
        [False] * 6 + [True, True],
    ),
    (
        "close a poll without confirming: the confirmation page",
        "/console/polls/{open}/close/",
        {},
        [302] + [403] * 5 + [200, 200],
        lambda world: Poll.objects.get(pk=world["open"].pk).status == PollStatus.CLOSED,
        [False] * 8,
    ),
    (
        "a new review due date from the page",
        "/proposals/{in_review}/reschedule/",
        "in three days",
        [302, 403, 404, 404, 403, 403, 302, 302],
        # The review was due in seven days; three days is the new date.
        lambda world: Proposal.objects.filter(
            pk=world["in_review"].pk, review_due_at__lt=timezone.now() + datetime.timedelta(days=4)
        ).exists(),
        [False] * 6 + [True, True],
    ),
    (
        "the board's quorum basis",
        "/proposals/board/settings/",
        {"quorum_basis": "disinterested"},
        [302] + [403] * 5 + [302, 302],
        lambda world: BoardSettings.objects.filter(quorum_basis="disinterested").exists(),
        [False] * 6 + [True, True],
    ),
    (
        "deactivate an account from the console",
        "/console/people/accounts/{member_account}/deactivate/",
        {},
        [302] + [403] * 5 + [302, 302],
        lambda world: not User.objects.get(pk=world["member_account"].pk).is_active,
        [False] * 6 + [True, True],
    ),
    (
        "sign a written consent from its page",
        "/proposals/consents/{consent}/sign/",
        {"password": "pw-for-tests-1", "answer": "sign"},
        [302, 404, 404, 404, 302, 404, 403, 403],
        lambda world: ConsentSignature.objects.filter(consent=world["consent"], response="signed").exists(),
        [False] * 4 + [True] + [False] * 3,
    ),
    (
        "vote on a public poll",
        "/polls/{open}/vote/",
        "first option",
        [302] * 8,
        lambda world: Ballot.objects.filter(poll=world["open"]).exists(),
        [False] + [True] * 7,
    ),
    (
        "claim a holding with an unknown control number",
        "/holdings/claim/",
        {"control_number": "4111 1111 1111 1111"},
        [302] + [400] * 7,
        lambda world: HolderControl.objects.filter(claimed_at__isnull=False).exists(),
        [False] * 8,
    ),
    (
        "submit an empty proposal",
        "/proposals/new/",
        {"title": "", "submit": "1"},
        [302] + [400] * 7,
        lambda world: Proposal.objects.count() != 2,
        [False] * 8,
    ),
]


def path_for(template: str, world: dict[str, Any]) -> str:
    return template.format(**{key: getattr(value, "pk", value) for key, value in world.items() if key != "users"})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "template", "body", "expected"), API, ids=[row[0] for row in API])
def test_each_role_gets_its_answer_from_the_api(
    role: str, name: str, method: str, template: str, body: Any, expected: list[int]
) -> None:
    world = build_world()
    client = APIClient()
    user = world["users"][role]
    if user is not None:
        client.force_authenticate(user)
    payload = body() if callable(body) else body
    response = getattr(client, method)(path_for(template, world), payload, format="json")
    assert response.status_code == expected[ROLES.index(role)], (name, role, response.content[:300])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "template", "expected"), PAGES, ids=[row[0] for row in PAGES])
def test_each_role_gets_its_answer_from_the_pages(role: str, name: str, template: str, expected: list[int]) -> None:
    world = build_world()
    client = Client()
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    response = client.get(path_for(template, world))
    assert response.status_code == expected[ROLES.index(role)], (name, role)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "template", "body", "expected", "changed", "changes"), FORMS, ids=[row[0] for row in FORMS]
)
def test_each_role_gets_its_answer_from_the_forms(
    role: str,
    name: str,
    template: str,
    body: Any,
    expected: list[int],
    changed: Callable[[dict[str, Any]], bool],
    changes: list[bool],
) -> None:
    world = build_world()
    client = Client()
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    if body == "first option":
        body = {"option": world["open"].options.first().pk}
    elif body == "in three days":
        body = {"due_at": (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")}
    response = client.post(path_for(template, world), body)
    assert response.status_code == expected[ROLES.index(role)], (name, role)
    assert changed(world) is changes[ROLES.index(role)], (name, role, "what changed")
    if role == "visitor":
        assert response["Location"].startswith("/accounts/login/"), "a visitor is asked to log in first"
