"""Every write to polls goes through here: the pages, the API, the admin, commands and tasks."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from polls.exceptions import (
    ChangeNotAllowed,
    IllegalTransition,
    InvalidOption,
    InvalidPollData,
    NoBallot,
    NotEligible,
    PollNotFound,
    PollNotOpen,
    RecountMismatch,
)
from polls.models import Ballot, Option, Poll, PollKind, PollStatus, ResultsVisibility

MIN_OPTIONS = 2
MAX_OPTIONS = 20


@transaction.atomic
def poll_create(
    *,
    title: str,
    options: Sequence[str],
    opens_at: datetime.datetime,
    closes_at: datetime.datetime,
    created_by: User | None,
    description: str = "",
    kind: str = PollKind.PUBLIC,
    allow_change: bool = True,
    results_visibility: str = ResultsVisibility.LIVE,
) -> Poll:
    labels = [label.strip() for label in options]
    if not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
        raise InvalidPollData(f"A poll needs between {MIN_OPTIONS} and {MAX_OPTIONS} options.")
    if any(not label for label in labels) or len(set(labels)) != len(labels):
        raise InvalidPollData("Options must be non-empty and distinct.")
    if closes_at <= opens_at:
        raise InvalidPollData("The poll must close after it opens.")
    poll = Poll.objects.create(
        title=title,
        description=description,
        kind=kind,
        opens_at=opens_at,
        closes_at=closes_at,
        allow_change=allow_change,
        results_visibility=results_visibility,
        created_by=created_by,
    )
    Option.objects.bulk_create(Option(poll=poll, label=label, position=i) for i, label in enumerate(labels))
    return poll


def _locked_poll(poll_id: int) -> Poll:
    try:
        return Poll.objects.select_for_update().get(pk=poll_id)
    except Poll.DoesNotExist:
        raise PollNotFound() from None


@transaction.atomic
def poll_schedule(*, poll: Poll) -> Poll:
    """Publish a draft: it opens by itself at `opens_at` (the sweep, or the next read)."""
    poll = _locked_poll(poll.pk)
    if poll.status != PollStatus.DRAFT:
        raise IllegalTransition(f"Only a draft can be scheduled; this poll is {poll.get_status_display()}.")
    if poll.closes_at <= timezone.now():
        raise IllegalTransition("The closing time has already passed.")
    poll.status = PollStatus.SCHEDULED
    poll.save(update_fields=["status", "updated_at"])
    return poll


@transaction.atomic
def poll_open(*, poll: Poll, now: datetime.datetime | None = None) -> Poll:
    """Open now. A poll scheduled for later opens early; one whose closing time passed cannot."""
    now = now or timezone.now()
    poll = _locked_poll(poll.pk)
    if poll.status not in (PollStatus.DRAFT, PollStatus.SCHEDULED):
        raise IllegalTransition(f"Only a draft or scheduled poll can be opened; this one is {poll.status}.")
    if poll.closes_at <= now:
        raise IllegalTransition("The closing time has already passed; move it before opening.")
    poll.status = PollStatus.OPEN
    poll.opens_at = min(poll.opens_at, now)
    poll.save(update_fields=["status", "opens_at", "updated_at"])
    return poll


@transaction.atomic
def poll_close(*, poll: Poll, now: datetime.datetime | None = None) -> Poll:
    """Close now (or record that the closing time has come). Ballots in flight finish first:
    the row lock waits for them, since each ballot holds a key-share lock on its poll. The
    closing time is read after the lock, so every accepted ballot was cast before it."""
    poll = _locked_poll(poll.pk)
    now = now or timezone.now()
    if poll.status not in (PollStatus.OPEN, PollStatus.SCHEDULED):
        raise IllegalTransition(f"Only an open poll can be closed; this one is {poll.status}.")
    poll.status = PollStatus.CLOSED
    poll.closes_at = min(poll.closes_at, now)
    if poll.opens_at >= poll.closes_at:
        poll.opens_at = poll.closes_at - datetime.timedelta(microseconds=1)
    poll.save(update_fields=["status", "opens_at", "closes_at", "updated_at"])
    return poll


@dataclass(frozen=True)
class SweepReport:
    opened: int
    closed: int


def polls_sweep(*, now: datetime.datetime | None = None) -> SweepReport:
    """Bring stored statuses in line with the clock. Each poll moves in its own transaction
    and under its own lock, so a second sweep running at the same time changes nothing."""
    now = now or timezone.now()
    opened = closed = 0
    due_to_open = Poll.objects.filter(status=PollStatus.SCHEDULED, opens_at__lte=now, closes_at__gt=now)
    for poll_id in due_to_open.values_list("pk", flat=True):
        with transaction.atomic():
            poll = _locked_poll(poll_id)
            if poll.status == PollStatus.SCHEDULED and poll.opens_at <= now < poll.closes_at:
                poll.status = PollStatus.OPEN
                poll.save(update_fields=["status", "updated_at"])
                opened += 1
    due_to_close = Poll.objects.filter(
        status__in=[PollStatus.OPEN, PollStatus.SCHEDULED], closes_at__lte=now
    ).values_list("pk", flat=True)
    for poll_id in due_to_close:
        with transaction.atomic():
            poll = _locked_poll(poll_id)
            if poll.status in (PollStatus.OPEN, PollStatus.SCHEDULED) and poll.closes_at <= now:
                poll.status = PollStatus.CLOSED
                poll.save(update_fields=["status", "updated_at"])
                closed += 1
    return SweepReport(opened=opened, closed=closed)


def _poll_for_ballot(poll_id: int) -> Poll:
    """Read the poll under a lock that lets ballots run side by side but makes `poll_close`
    (FOR UPDATE) wait for them, and them wait for it: no ballot lands after a close."""
    if connection.vendor == "postgresql":
        sql = f"SELECT * FROM {Poll._meta.db_table} WHERE id = %s FOR KEY SHARE"  # noqa: S608
        poll = next(iter(Poll.objects.raw(sql, [poll_id])), None)
    else:
        # SQLite serialises writers (IMMEDIATE transactions), which gives the same guarantee.
        poll = Poll.objects.filter(pk=poll_id).first()
    if poll is None:
        raise PollNotFound()
    return poll


def _check_open(poll: Poll, now: datetime.datetime) -> None:
    status = poll.effective_status(now)
    if status != PollStatus.OPEN:
        raise PollNotOpen(f"This poll is {status}; ballots are accepted only while it is open.")


def _move_totals(*, add_to: int | None, take_from: int | None, weight: int) -> None:
    # Locks are taken in primary-key order so two voters swapping options cannot deadlock.
    changes = sorted(
        [(pk, sign) for pk, sign in ((add_to, 1), (take_from, -1)) if pk is not None],
        key=lambda change: change[0],
    )
    for pk, sign in changes:
        Option.objects.filter(pk=pk).update(votes=F("votes") + sign, weight=F("weight") + sign * weight)


@dataclass(frozen=True)
class CastResult:
    ballot: Ballot
    created: bool
    changed: bool


@transaction.atomic
def ballot_cast(*, poll_id: int, voter: User, option_id: int, now: datetime.datetime | None = None) -> CastResult:
    """Record `voter`'s choice. The unique constraint, not a prior SELECT, decides whether this
    is a first ballot; the running totals move in the same transaction."""
    now = now or timezone.now()
    if not voter.is_authenticated or not voter.is_active:
        raise NotEligible("Log in to vote.")
    poll = _poll_for_ballot(poll_id)
    if poll.status == PollStatus.DRAFT:
        raise PollNotFound()  # drafts are not public: voters cannot tell them from nothing
    if poll.kind != PollKind.PUBLIC:
        raise NotEligible("This poll is a shareholder vote; use the meeting ballot.")
    _check_open(poll, now)
    option = Option.objects.filter(pk=option_id, poll_id=poll.pk).only("pk").first()
    if option is None:
        raise InvalidOption()
    existing = None
    # A concurrent first ballot by the same voter makes our insert fail; if that one then
    # rolls back, there is nothing to change and the second attempt inserts.
    for _attempt in range(2):
        try:
            with transaction.atomic():
                ballot = Ballot.objects.create(poll_id=poll.pk, voter=voter, option_id=option.pk, weight=1)
        except IntegrityError:
            existing = Ballot.objects.select_for_update().filter(poll_id=poll.pk, voter_id=voter.pk).first()
            if existing is not None:
                break
        else:
            _move_totals(add_to=option.pk, take_from=None, weight=ballot.weight)
            return CastResult(ballot=ballot, created=True, changed=False)
    if existing is None:
        raise ChangeNotAllowed("Your ballot could not be recorded; please try again.")
    ballot = existing
    if not poll.allow_change:
        raise ChangeNotAllowed()
    if ballot.option_id == option.pk:
        return CastResult(ballot=ballot, created=False, changed=False)
    previous = ballot.option_id
    ballot.option_id = option.pk
    ballot.save(update_fields=["option", "updated_at"])
    _move_totals(add_to=option.pk, take_from=previous, weight=ballot.weight)
    return CastResult(ballot=ballot, created=False, changed=True)


@transaction.atomic
def ballot_withdraw(*, poll_id: int, voter: User, now: datetime.datetime | None = None) -> None:
    now = now or timezone.now()
    poll = _poll_for_ballot(poll_id)
    _check_open(poll, now)
    if not poll.allow_change:
        raise ChangeNotAllowed("This poll does not allow withdrawing a ballot.")
    ballot = Ballot.objects.select_for_update().filter(poll_id=poll.pk, voter_id=voter.pk).first()
    if ballot is None:
        raise NoBallot()
    option_id, weight = ballot.option_id, ballot.weight
    ballot.delete()
    _move_totals(add_to=None, take_from=option_id, weight=weight)


@dataclass(frozen=True)
class RecountLine:
    option_id: int
    label: str
    running_votes: int
    counted_votes: int
    running_weight: int
    counted_weight: int

    @property
    def matches(self) -> bool:
        return self.running_votes == self.counted_votes and self.running_weight == self.counted_weight


def poll_recount(*, poll: Poll) -> list[RecountLine]:
    """Count every ballot again, beside the running totals (one GROUP BY)."""
    counted = {
        row["option_id"]: (row["n"], row["w"] or 0)
        for row in Ballot.objects.filter(poll_id=poll.pk)
        .values("option_id")
        .annotate(n=Count("id"), w=Sum("weight"))
        .order_by()
    }
    return [
        RecountLine(
            option_id=option.pk,
            label=option.label,
            running_votes=option.votes,
            counted_votes=counted.get(option.pk, (0, 0))[0],
            running_weight=option.weight,
            counted_weight=counted.get(option.pk, (0, 0))[1],
        )
        for option in Option.objects.filter(poll_id=poll.pk).order_by("position", "id")
    ]


@transaction.atomic
def poll_certify(*, poll: Poll, certified_by: User, now: datetime.datetime | None = None) -> Poll:
    """Recount, compare with the running totals, and freeze the result under the certifier's name."""
    now = now or timezone.now()
    poll = _locked_poll(poll.pk)
    if poll.effective_status(now) != PollStatus.CLOSED:
        raise IllegalTransition(f"Only a closed poll can be certified; this one is {poll.effective_status(now)}.")
    mismatches = [line for line in poll_recount(poll=poll) if not line.matches]
    if mismatches:
        detail = "; ".join(
            f"{line.label}: running {line.running_votes} votes / {line.running_weight} weight, "
            f"recount {line.counted_votes} / {line.counted_weight}"
            for line in mismatches
        )
        raise RecountMismatch(f"Certification stopped, the running totals differ from the recount: {detail}.")
    poll.status = PollStatus.CERTIFIED
    poll.certified_at = now
    poll.certified_by = certified_by
    poll.save(update_fields=["status", "certified_at", "certified_by", "updated_at"])
    return poll


EDITABLE_STATUSES = (PollStatus.DRAFT, PollStatus.SCHEDULED)


@transaction.atomic
def poll_update(*, poll: Poll, **changes: object) -> Poll:
    """Edit the question or the window before voting starts; once ballots can exist, the
    terms they were cast under stay fixed."""
    allowed = {"title", "description", "opens_at", "closes_at", "allow_change", "results_visibility"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidPollData(f"These fields cannot be edited: {', '.join(sorted(unknown))}.")
    poll = _locked_poll(poll.pk)
    if poll.effective_status() not in EDITABLE_STATUSES:
        raise IllegalTransition("A poll can be edited only before it opens.")
    for field, value in changes.items():
        setattr(poll, field, value)
    if poll.closes_at <= poll.opens_at:
        raise InvalidPollData("The poll must close after it opens.")
    poll.save(update_fields=[*changes, "updated_at"])
    return poll
