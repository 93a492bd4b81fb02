"""The one-statement first ballot (polls/fastpath.py) and the general path (polls/ballots.py)
on the same cases. Where the statement takes a ballot, it leaves what the general path leaves:
the ballot row, the running totals, the audit link (its payload's shape, its place in the chain,
the receipt) and the trail's root. Where it does not, it writes nothing and leaves the case to
the general path, whose refusal `ballot_cast` gives. PostgreSQL only: the statement is its SQL."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import Max, Sum
from django.utils import timezone

from core.models import AuditEvent, AuditHead, AuditRoot
from polls import secrecy
from polls.ballots import CastResult, _ballot_cast_general, ballot_cast, ballot_withdraw
from polls.exceptions import InvalidOption, PollError, PollNotFound, PollNotOpen
from polls.fastpath import first_ballot_in_one_trip
from polls.models import Ballot, Option, Poll, PollStatus
from tests.factories import make_poll, make_user

pytestmark = [pytest.mark.usefixtures("fast_ballot_on_postgres"), pytest.mark.postgres, pytest.mark.django_db]


@dataclass(frozen=True)
class Attempt:
    poll: Poll
    voter: User
    option_id: int


def yes(poll: Poll) -> int:
    return poll.options.get(label="Yes").pk


def open_poll(now: datetime.datetime) -> Attempt:
    poll = make_poll(secret=False)
    return Attempt(poll, make_user(), yes(poll))


def secret_poll(now: datetime.datetime) -> Attempt:
    poll = make_poll(secret=True)
    return Attempt(poll, make_user(), yes(poll))


def scheduled_but_due(now: datetime.datetime) -> Attempt:
    """Its opening time has come and the sweep has not run: open to a reader and to a voter."""
    poll = make_poll(status=PollStatus.SCHEDULED, opens_in=datetime.timedelta(hours=1), secret=False)
    Poll.objects.filter(pk=poll.pk).update(opens_at=now - datetime.timedelta(minutes=1))
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.SCHEDULED
    return Attempt(poll, make_user(), yes(poll))


def closed(now: datetime.datetime) -> Attempt:
    poll = make_poll(status=PollStatus.CLOSED, secret=False)
    return Attempt(poll, make_user(), yes(poll))


def past_its_closing_time(now: datetime.datetime) -> Attempt:
    poll = make_poll(secret=False)
    Poll.objects.filter(pk=poll.pk).update(closes_at=now)
    return Attempt(poll, make_user(), yes(poll))


def draft(now: datetime.datetime) -> Attempt:
    poll = make_poll(status=PollStatus.DRAFT, secret=False)
    return Attempt(poll, make_user(), yes(poll))


def unknown_option(now: datetime.datetime) -> Attempt:
    poll = make_poll(secret=False)
    return Attempt(poll, make_user(), (Option.objects.aggregate(top=Max("pk"))["top"] or 0) + 1000)


def option_of_another_poll(now: datetime.datetime) -> Attempt:
    poll, other = make_poll(secret=False), make_poll(title="Another poll", secret=False)
    return Attempt(poll, make_user(), yes(other))


def withdrew_before(now: datetime.datetime) -> Attempt:
    """The voter's chain already has links (cast, withdrawn): a first ballot again appends."""
    poll = make_poll(secret=False)
    voter = make_user()
    _ballot_cast_general(poll_id=poll.pk, actor=voter, option_id=poll.options.get(label="No").pk, now=now)
    ballot_withdraw(poll_id=poll.pk, actor=voter, now=now)
    return Attempt(poll, voter, yes(poll))


@dataclass(frozen=True)
class Case:
    setup: Callable[[datetime.datetime], Attempt]
    taken: bool  # by the fast path
    refusal: type[PollError] | None  # the general path's


CASES = {
    "open poll": Case(open_poll, taken=True, refusal=None),
    "secret poll": Case(secret_poll, taken=True, refusal=None),
    "scheduled but due": Case(scheduled_but_due, taken=True, refusal=None),
    "closed": Case(closed, taken=False, refusal=PollNotOpen),
    "past its closing time, not yet swept": Case(past_its_closing_time, taken=False, refusal=PollNotOpen),
    "draft": Case(draft, taken=False, refusal=PollNotFound),
    "unknown option": Case(unknown_option, taken=False, refusal=InvalidOption),
    "option of another poll": Case(option_of_another_poll, taken=False, refusal=InvalidOption),
    "voter who withdrew before": Case(withdrew_before, taken=False, refusal=None),
}


def written() -> tuple[Any, ...]:
    """Everything a ballot writes, to show a declined statement wrote nothing."""
    return (
        list(Ballot.objects.order_by("pk").values_list("pk", "option_id", "salt")),
        list(Option.objects.order_by("pk").values_list("pk", "votes", "weight")),
        AuditEvent.objects.count(),
        list(AuditHead.objects.order_by("stream").values_list("stream", "seq", "hash")),
        AuditRoot.objects.aggregate(n=Sum("n"))["n"],
    )


def outcome(attempt: Attempt, result: CastResult) -> dict[str, Any]:
    """What a cast left, with this poll's ids, salt and hashes replaced by what they must match."""
    poll, voter = attempt.poll, attempt.voter
    ballot = Ballot.objects.select_related("option").get(poll=poll, voter=voter)
    stream = f"ballot:{poll.pk}:voter:{voter.pk}"
    link = AuditEvent.objects.filter(stream=stream).latest("seq")
    head = AuditHead.objects.get(stream=stream)
    assert ballot.option is not None
    payload = dict(link.payload)
    assert payload.pop("poll") == poll.pk
    if "commitment" in payload:
        commitment = secrecy.ballot_commitment(salt=ballot.salt, poll_id=poll.pk, option_id=ballot.option.pk)
        assert payload.pop("commitment") == commitment
        payload["commitment"] = "of the ballot's salt and option"
    else:
        assert payload.pop("option") == ballot.option.pk
        payload["option"] = ballot.option.label
    return {
        "result": (result.created, result.changed, result.ballot.pk == ballot.pk),
        "ballot": (ballot.option.label, ballot.weight, len(ballot.salt), ballot.holder_id),
        "totals": list(poll.options.order_by("position").values_list("label", "votes", "weight")),
        "link": (link.action, link.seq, link.actor_id == voter.pk, link.actor_name == voter.username, payload),
        "link in the chain": (link.prev_hash != "") == (link.seq > 1)
        and (head.seq, head.hash) == (link.seq, link.hash),
        "link in the root": link.root_n is not None and link.root_shard is not None,
        "receipt": result.link_hash == link.hash,
    }


@pytest.mark.parametrize("name", list(CASES))
def test_the_fast_path_and_the_general_path_leave_the_same(name: str) -> None:
    case, now = CASES[name], timezone.now()
    fast, general = case.setup(now), case.setup(now)
    before = written()
    taken = first_ballot_in_one_trip(poll_id=fast.poll.pk, actor=fast.voter, option_id=fast.option_id, now=now)
    assert (taken is not None) is case.taken
    if taken is None:
        assert written() == before
    if case.refusal is not None:
        with pytest.raises(case.refusal):
            _ballot_cast_general(poll_id=general.poll.pk, actor=general.voter, option_id=general.option_id, now=now)
        with pytest.raises(case.refusal):  # what a voter gets: the statement declines, the general path refuses
            ballot_cast(poll_id=fast.poll.pk, actor=fast.voter, option_id=fast.option_id, now=now)
        assert written() == before
        return
    if taken is None:
        taken = ballot_cast(poll_id=fast.poll.pk, actor=fast.voter, option_id=fast.option_id, now=now)
    rooted = AuditRoot.objects.aggregate(n=Sum("n"))["n"]
    result = _ballot_cast_general(poll_id=general.poll.pk, actor=general.voter, option_id=general.option_id, now=now)
    assert AuditRoot.objects.aggregate(n=Sum("n"))["n"] == rooted + 1  # each folds one link into the root
    assert outcome(fast, taken) == outcome(general, result)
