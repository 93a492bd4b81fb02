"""Reads for polls. Results come from the running totals, so they cost the same at ten
ballots or ten million."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.utils import timezone

from polls.arithmetic import largest_remainder_tenths, leaders, tenths_to_percent
from polls.models import Ballot, Option, Poll, PollStatus
from polls.permissions import can_manage_polls


def polls_visible_to(user: User | AnonymousUser) -> QuerySet[Poll]:
    polls = Poll.objects.all()
    if not can_manage_polls(user):
        polls = polls.exclude(status=PollStatus.DRAFT)
    return polls


def effective_status_q(status: str, now: datetime.datetime) -> Q:
    """The database condition for "a reader sees this status now": the twin of
    `Poll.effective_status`, for filtering without waiting for the sweep."""
    running = Q(status__in=[PollStatus.OPEN, PollStatus.SCHEDULED])
    if status == PollStatus.OPEN:
        return running & Q(opens_at__lte=now, closes_at__gt=now)
    if status == PollStatus.SCHEDULED:
        return Q(status=PollStatus.SCHEDULED, opens_at__gt=now)
    if status == PollStatus.CLOSED:
        return Q(status=PollStatus.CLOSED) | (running & Q(closes_at__lte=now))
    return Q(status=status)


@dataclass(frozen=True)
class PollListing:
    open: list[Poll]
    upcoming: list[Poll]
    closed: list[Poll]


def poll_listing(*, user: User | AnonymousUser, now: datetime.datetime | None = None) -> PollListing:
    """Polls grouped by what a reader sees now, whatever the sweep has or has not done."""
    now = now or timezone.now()
    visible = polls_visible_to(user)
    finished = effective_status_q(PollStatus.CLOSED, now) | Q(status=PollStatus.CERTIFIED)
    return PollListing(
        open=list(visible.filter(effective_status_q(PollStatus.OPEN, now)).order_by("closes_at")),
        upcoming=list(visible.filter(effective_status_q(PollStatus.SCHEDULED, now)).order_by("opens_at")),
        closed=list(visible.filter(finished).order_by("-closes_at")[:50]),
    )


def ballot_of(*, poll: Poll, user: User | AnonymousUser) -> Ballot | None:
    if not user.is_authenticated:
        return None
    return Ballot.objects.filter(poll_id=poll.pk, voter_id=user.pk).select_related("option").first()


@dataclass(frozen=True)
class OptionResult:
    id: int
    label: str
    votes: int
    weight: int
    percent: Decimal


@dataclass(frozen=True)
class Turnout:
    ballots: int
    eligible: int
    percent: Decimal


@dataclass(frozen=True)
class PollResults:
    poll: Poll
    status: str
    options: list[OptionResult]
    total_ballots: int
    total_weight: int
    winner: OptionResult | None
    tied: list[OptionResult]
    turnout: Turnout
    certified: bool


def _eligible_voters(poll: Poll) -> int:
    # Every active account may vote in a public poll.
    return get_user_model().objects.filter(is_active=True).count()


def poll_results(*, poll: Poll, now: datetime.datetime | None = None) -> PollResults:
    options = list(Option.objects.filter(poll_id=poll.pk).order_by("position", "id"))
    votes = [option.votes for option in options]
    tenths = largest_remainder_tenths(votes)
    rows = [
        OptionResult(
            id=option.pk,
            label=option.label,
            votes=option.votes,
            weight=option.weight,
            percent=tenths_to_percent(share),
        )
        for option, share in zip(options, tenths, strict=True)
    ]
    top = [rows[i] for i in leaders(votes)]
    total_ballots = sum(votes)
    eligible = _eligible_voters(poll)
    turnout_tenths = total_ballots * 1000 // eligible if eligible else 0
    return PollResults(
        poll=poll,
        status=poll.effective_status(now),
        options=rows,
        total_ballots=total_ballots,
        total_weight=sum(option.weight for option in options),
        winner=top[0] if len(top) == 1 else None,
        tied=top if len(top) > 1 else [],
        turnout=Turnout(ballots=total_ballots, eligible=eligible, percent=tenths_to_percent(turnout_tenths)),
        certified=poll.status == PollStatus.CERTIFIED,
    )
