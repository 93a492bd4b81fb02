"""Real concurrent connections against PostgreSQL: the database, not Python, keeps one ballot
per voter and the running totals exact."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections

from polls import certification, services
from polls.ballots import ballot_cast
from polls.exceptions import PollNotOpen
from polls.models import Ballot, Poll
from tests.factories import make_poll, make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so nothing races")


def run_together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Start `count` threads at the same instant, each on its own database connection."""
    barrier = threading.Barrier(count)

    def worker(index: int) -> Any:
        try:
            barrier.wait(timeout=30)
            return work(index)
        except Exception as error:  # noqa: BLE001 - reported to the test as a value
            return error
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


def assert_totals_match_recount(poll: Poll) -> None:
    lines = certification.poll_recount(poll=poll)
    assert all(line.matches for line in lines), lines


def test_fifty_threads_casting_as_one_voter_leave_exactly_one_ballot() -> None:
    poll = make_poll(options=("Yes", "No", "Abstain"))
    options = list(poll.options.values_list("pk", flat=True))
    voter = make_user()
    outcomes = run_together(50, lambda i: ballot_cast(poll_id=poll.pk, actor=voter, option_id=options[i % 3]))
    assert [outcome for outcome in outcomes if isinstance(outcome, Exception)] == []
    assert sum(1 for outcome in outcomes if outcome.created) == 1
    assert Ballot.objects.filter(poll=poll).count() == 1
    assert sum(poll.options.values_list("votes", flat=True)) == 1
    assert_totals_match_recount(poll)


def test_fifty_voters_at_once_leave_fifty_ballots() -> None:
    poll = make_poll()
    options = list(poll.options.values_list("pk", flat=True))
    voters = [make_user() for _ in range(50)]
    outcomes = run_together(50, lambda i: ballot_cast(poll_id=poll.pk, actor=voters[i], option_id=options[i % 2]))
    assert all(outcome.created for outcome in outcomes), outcomes
    assert Ballot.objects.filter(poll=poll).count() == 50
    assert dict(poll.options.values_list("label", "votes")) == {"Yes": 25, "No": 25}
    assert_totals_match_recount(poll)


def test_voters_changing_their_minds_at_once_keep_the_totals_equal_to_a_recount() -> None:
    poll = make_poll(options=("Yes", "No", "Abstain"))
    options = list(poll.options.values_list("pk", flat=True))
    voters = [make_user() for _ in range(20)]

    def flip_flop(i: int) -> int:
        rng = random.Random(i)  # noqa: S311 - a test's choice of options, not a secret
        for _ in range(10):
            ballot_cast(poll_id=poll.pk, actor=voters[i], option_id=rng.choice(options))
        return i

    outcomes = run_together(20, flip_flop)
    assert outcomes == list(range(20))
    assert Ballot.objects.filter(poll=poll).count() == 20
    assert_totals_match_recount(poll)


def test_no_ballot_lands_after_a_concurrent_close() -> None:
    poll = make_poll()
    options = list(poll.options.values_list("pk", flat=True))
    voters = [make_user() for _ in range(30)]

    def vote_or_close(i: int) -> str:
        if i == 15:
            services.poll_close(poll=poll)
            return "closed"
        try:
            ballot_cast(poll_id=poll.pk, actor=voters[i], option_id=options[i % 2])
        except PollNotOpen:
            return "refused"
        return "cast"

    outcomes = run_together(31, lambda i: vote_or_close(i) if i < 30 else "idle")
    closed = Poll.objects.get(pk=poll.pk)
    late = Ballot.objects.filter(poll=poll, cast_at__gt=closed.closes_at).count()
    assert late == 0
    assert Ballot.objects.filter(poll=poll).count() == outcomes.count("cast")
    assert_totals_match_recount(poll)
