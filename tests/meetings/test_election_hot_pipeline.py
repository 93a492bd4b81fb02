"""The fast first ballot outside any transaction, as the thin vote view casts it: its two
statements go in one pipeline, which the server runs as one implicit transaction. Both commit
(ballot, totals, confirmation), or neither: a failing second statement leaves no ballot; a second
ballot takes the general path; the prepared statements use generic plans. PostgreSQL only."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection

from core.models import Notification
from meetings import ballot_fastpath
from meetings.ballot_fastpath import first_lines_ballot
from meetings.ballot_models import BallotLine, ItemTerms
from meetings.models import Meeting
from polls import receipt_mail
from polls.models import Ballot, Option, Poll
from tests.factories import make_annual_item, make_meeting, make_register, make_user

pytestmark = [
    pytest.mark.usefixtures("fast_ballot_on_postgres"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def item() -> tuple[Poll, Any]:
    ann = make_user(username="ann", email="ann@example.com")
    meeting = make_meeting(make_register([("H-ANN", "Ann", "ann@example.com", 30)], outstanding=1_000))
    poll = make_annual_item(meeting, "election", nominees=["X", "Y", "Z"], election_standard="majority")
    return poll, ann


def votes(poll: Poll) -> dict[str, Any]:
    x, y, z = (str(pk) for pk in poll.options.order_by("position").values_list("pk", flat=True))
    return {"votes": {x: "for", y: "against", z: "abstain"}}


def cast(poll: Poll, user: Any) -> Any:
    from django.utils import timezone

    assert not connection.in_atomic_block
    return first_lines_ballot(
        poll_id=poll.pk, actor=user, data=votes(poll), now=timezone.now(), confirm=receipt_mail.WithBallot(user)
    )


def test_both_statements_commit_together(item: tuple[Poll, Any]) -> None:
    poll, ann = item
    result = cast(poll, ann)
    assert result is not None and result.created
    assert Ballot.objects.filter(pk=result.ballot.pk, weight=30).exists()
    assert BallotLine.objects.filter(ballot_id=result.ballot.pk).count() == 3
    assert Poll.objects.get(pk=poll.pk).ballot_count == 1
    assert ItemTerms.objects.get(poll=poll).shares_voted == 30
    assert Meeting.objects.values_list("shares_present", flat=True).get() == 30
    assert sorted(Option.objects.filter(poll=poll).values_list("votes", flat=True)) == [0, 0, 1]
    assert Notification.objects.filter(kind=receipt_mail.KIND).count() == 1
    # Nothing left open on the connection: the implicit transaction ended at the pipeline's Sync.
    assert connection.connection.info.transaction_status == 0  # IDLE
    # A second ballot is the general path's (the statement inserts nothing, moves nothing).
    assert cast(poll, ann) is None
    assert Poll.objects.get(pk=poll.pk).ballot_count == 1


def test_a_failing_second_statement_leaves_no_ballot(item: tuple[Poll, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    poll, ann = item
    monkeypatch.setattr(ballot_fastpath, "FIRST_LINES_TOTALS_SQL", "SELECT 1 / 0")
    with pytest.raises(DatabaseError):
        cast(poll, ann)
    assert not Ballot.objects.exists() and not BallotLine.objects.exists()
    assert not Notification.objects.filter(kind=receipt_mail.KIND).exists()
    assert Poll.objects.get(pk=poll.pk).ballot_count == 0
    # The connection is usable afterwards, and the next cast takes the ballot.
    monkeypatch.undo()
    result = cast(poll, ann)
    assert result is not None and Poll.objects.get(pk=poll.pk).ballot_count == 1


def test_the_statements_are_prepared_with_generic_plans(item: tuple[Poll, Any]) -> None:
    poll, ann = item
    cast(poll, ann)
    other = make_user(username="ben", email="ben@example.com")
    cast(poll, other)  # not a holder: the statement is not reached, nothing is written
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_generic_plan"
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        plans = {row[0].split()[0]: (row[1], row[2]) for row in cursor.fetchall()}
    assert plans and all(custom == 0 for _generic, custom in plans.values()), plans


def test_behind_a_transaction_pooler_the_statements_run_in_turn_unprepared(
    item: tuple[Poll, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    poll, ann = item
    connection.close()  # a fresh session: nothing prepared in it yet
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    result = cast(poll, ann)
    assert result is not None and Poll.objects.get(pk=poll.pk).ballot_count == 1
    assert ItemTerms.objects.get(poll=poll).shares_voted == 30
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] == 0


def test_in_a_callers_transaction_a_declined_attempt_moves_nothing(item: tuple[Poll, Any]) -> None:
    """The first statement's word to the second lasts the caller's whole transaction: it is the
    attempt's own, so a later attempt that inserts nothing does not count the ballot again."""
    from django.db import transaction
    from django.utils import timezone

    poll, ann = item
    with transaction.atomic():
        now = timezone.now()
        assert first_lines_ballot(poll_id=poll.pk, actor=ann, data=votes(poll), now=now) is not None
        assert first_lines_ballot(poll_id=poll.pk, actor=ann, data=votes(poll), now=now) is None
        assert Poll.objects.get(pk=poll.pk).ballot_count == 1
        assert ItemTerms.objects.get(poll=poll).shares_voted == 30
