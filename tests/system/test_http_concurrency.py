"""Concurrency through HTTP: gunicorn with four worker processes on the PostgreSQL test
database, driven by parallel clients on 127.0.0.1. Bounded: a few hundred requests, each with
a 30 s timeout."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from core.services import api_token_issue
from polls import certification, services
from polls.ballots import ballot_cast
from polls.models import Ballot, Poll, PollStatus
from tests.factories import make_poll, make_secretary, make_user
from tests.system.live import gunicorn, server_env

PORT = int(os.environ.get("QUORUM_HTTP_TEST_PORT", "8097"))
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server() -> Iterator[str]:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: several server processes share the database")
    env = server_env("config.settings")
    with gunicorn(env, port=PORT, workers=4, tries=100) as base:
        yield base


def post(url: str, token: str, body: dict[str, Any] | None = None) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body or {}).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def token_for(user: Any) -> str:
    return api_token_issue(user=user, otp_verified=True)[0]


def in_parallel(count: int, work: Any) -> list[Any]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(work, range(count)))


def test_two_hundred_voters_at_once_leave_two_hundred_ballots(server: str) -> None:
    poll = make_poll()
    yes = poll.options.get(label="Yes").pk
    tokens = [token_for(make_user()) for _ in range(200)]
    codes = in_parallel(200, lambda i: post(f"{server}/api/v1/polls/{poll.pk}/ballot/", tokens[i], {"option": yes}))
    assert Counter(codes) == {201: 200}
    assert Ballot.objects.filter(poll=poll).count() == 200
    assert all(line.matches for line in certification.poll_recount(poll=poll))


def test_fifty_requests_from_one_voter_leave_one_ballot(server: str) -> None:
    poll = make_poll(allow_change=False)
    yes = poll.options.get(label="Yes").pk
    token = token_for(make_user())
    codes = in_parallel(50, lambda i: post(f"{server}/api/v1/polls/{poll.pk}/ballot/", token, {"option": yes}))
    assert Counter(codes) == {201: 1, 409: 49}
    assert Ballot.objects.filter(poll=poll).count() == 1
    assert poll.options.get(label="Yes").votes == 1


def test_voters_changing_their_votes_leave_totals_equal_to_a_recount(server: str) -> None:
    poll = make_poll(options=("Yes", "No", "Abstain"))
    options = list(poll.options.values_list("pk", flat=True))
    tokens = [token_for(make_user()) for _ in range(20)]

    def flip_flop(i: int) -> list[int]:
        url = f"{server}/api/v1/polls/{poll.pk}/ballot/"
        return [post(url, tokens[i], {"option": options[(i + n) % 3]}) for n in range(8)]

    codes = [code for run in in_parallel(20, flip_flop) for code in run]
    assert set(codes) <= {200, 201}
    assert Ballot.objects.filter(poll=poll).count() == 20
    assert all(line.matches for line in certification.poll_recount(poll=poll))


def test_two_secretaries_certifying_at_once_leave_one_certification_and_one_409(server: str) -> None:
    poll = make_poll()
    ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=poll.options.get(label="Yes").pk)
    services.poll_close(poll=poll)
    tokens = [token_for(make_secretary()), token_for(make_secretary())]
    codes = in_parallel(2, lambda i: post(f"{server}/api/v1/polls/{poll.pk}/certify/", tokens[i]))
    assert sorted(codes) == [200, 409]
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.CERTIFIED
