"""A public poll's fast first ballot outside any transaction, as the thin vote view casts it:
the ballot (with its trail) and the option's counter are two prepared statements in one
pipeline, which the server runs as one implicit transaction. Both commit or neither; an attempt
that inserts nothing moves no counter, even inside a caller's transaction. PostgreSQL only."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from core.models import AuditEvent, AuditHead
from polls import fastpath
from polls.fastpath import first_ballot_in_one_trip
from polls.models import Ballot, Option, Poll
from tests.factories import make_poll, make_user

pytestmark = [
    pytest.mark.usefixtures("fast_ballot_on_postgres"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def poll() -> Poll:
    return make_poll()


def yes_votes(poll: Poll) -> int:
    return int(Option.objects.get(poll=poll, label="Yes").votes)


def cast(poll: Poll, user: Any) -> Any:
    assert not connection.in_atomic_block
    yes = Option.objects.get(poll=poll, label="Yes").pk
    return first_ballot_in_one_trip(poll_id=poll.pk, actor=user, option_id=yes, now=timezone.now())


def test_the_ballot_and_its_counter_commit_together_and_nothing_stays_open(poll: Poll) -> None:
    ann = make_user(username="ann")
    result = cast(poll, ann)
    assert result is not None and result.created
    assert Ballot.objects.filter(pk=result.ballot.pk, voter=ann).exists()
    assert yes_votes(poll) == 1
    assert AuditEvent.objects.filter(stream=f"ballot:{poll.pk}:voter:{ann.pk}").count() == 1
    assert connection.connection.info.transaction_status == 0  # IDLE: the Sync ended it
    assert cast(poll, ann) is None  # a second ballot is the general path's; nothing moved
    assert yes_votes(poll) == 1


def test_a_failing_counter_statement_leaves_no_ballot_and_no_link(poll: Poll, monkeypatch: pytest.MonkeyPatch) -> None:
    ann = make_user(username="ann")
    monkeypatch.setattr(fastpath, "FIRST_BALLOT_COUNTER_SQL", "SELECT 1 / 0")
    with pytest.raises(DatabaseError):
        cast(poll, ann)
    assert not Ballot.objects.exists()
    assert not AuditHead.objects.filter(stream__startswith=f"ballot:{poll.pk}:").exists()
    assert yes_votes(poll) == 0
    monkeypatch.undo()
    assert cast(poll, ann) is not None and yes_votes(poll) == 1


def test_the_statements_are_prepared_once_with_generic_plans(poll: Poll) -> None:
    for name in ("ann", "ben", "cy"):
        assert cast(poll, make_user(username=name)) is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        plans = [(row[0], row[1], row[2]) for row in cursor.fetchall()]
    ours = [plan for plan in plans if "polls_ballot" in plan[0] or "polls_option SET" in plan[0]]
    assert len(ours) == 2, plans
    assert all(custom == 0 and generic >= 1 for _sql, generic, custom in ours), ours


def test_in_a_callers_transaction_a_declined_attempt_moves_no_counter(poll: Poll) -> None:
    """The first statement's word to the second outlives the attempt (its savepoint) in the
    caller's transaction: it is the attempt's own salt, so a later attempt with the same time
    that inserts nothing does not count again."""
    ann = make_user(username="ann")
    yes = Option.objects.get(poll=poll, label="Yes").pk
    now = timezone.now()
    with transaction.atomic():
        assert first_ballot_in_one_trip(poll_id=poll.pk, actor=ann, option_id=yes, now=now) is not None
        assert first_ballot_in_one_trip(poll_id=poll.pk, actor=ann, option_id=yes, now=now) is None
        assert yes_votes(poll) == 1
