"""Casting and withdrawing ballots: the general path every ballot form shares, with the
running totals and the audit link moved in the ballot's own transaction."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_append
from core.models import AuditHead
from polls import kinds, secrecy
from polls.exceptions import ChangeNotAllowed, InvalidOption, NoBallot, NotEligible, PollNotFound, PollNotOpen
from polls.models import Ballot, Option, Poll, PollStatus
from polls.services import _status_word


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
        raise PollNotOpen(
            _("This poll is %(status)s; ballots are accepted only while it is open.") % {"status": _status_word(status)}
        )


def _apply_deltas(deltas: dict[int, tuple[int, int]]) -> None:
    """Move running totals by (votes, weight) per option, in the ballot's own transaction.
    Rows are locked in primary-key order so two voters swapping options cannot deadlock."""
    for option_id in sorted(deltas):
        votes, weight = deltas[option_id]
        if votes or weight:
            Option.objects.filter(pk=option_id).update(votes=F("votes") + votes, weight=F("weight") + weight)


def _move_totals(*, add_to: int | None, take_from: int | None, weight: int) -> None:
    deltas: dict[int, tuple[int, int]] = {}
    if take_from is not None:
        deltas[take_from] = (-1, -weight)
    if add_to is not None:
        previous = deltas.get(add_to, (0, 0))
        deltas[add_to] = (previous[0] + 1, previous[1] + weight)
    _apply_deltas(deltas)


def _ballot_stream(poll: Poll, ballot: Ballot) -> str:
    # One chain per holder's (or voter's) ballot: voters never wait on each other's chains.
    if ballot.holder_id is not None:
        return f"ballot:{poll.pk}:holder:{ballot.holder_id}"
    return f"ballot:{poll.pk}:voter:{ballot.voter_id}"


def _audit_ballot(poll: Poll, ballot: Ballot, actor: User, action: str, extra: dict[str, object] | None = None) -> str:
    """Append the ballot's link; its hash, from which the voter's receipt code derives. `extra`:
    what a ballot form records beside the row's fields (an election ballot's lines)."""
    payload: dict[str, object]
    if ballot.holder_id is None:
        assert ballot.option_id is not None  # noqa: S101 - public ballots always name their option
        payload = secrecy.public_ballot_payload(
            poll_id=poll.pk, option_id=ballot.option_id, weight=ballot.weight, secret=poll.secret, salt=ballot.salt
        )
    else:
        payload = {"poll": poll.pk, "option": ballot.option_id, "weight": ballot.weight}
        payload.update(
            holder=ballot.holder_id,
            shares_for=ballot.shares_for,
            shares_against=ballot.shares_against,
            shares_abstain=ballot.shares_abstain,
        )
    payload.update(extra or {})
    return audit_append(stream=_ballot_stream(poll, ballot), action=action, actor=actor, payload=payload).hash


@dataclass(frozen=True)
class Created:
    ballot: Ballot


def _insert_or_lock_ballot(insert: Callable[[], Ballot], mine: QuerySet[Ballot]) -> Created | Ballot:
    """Insert a first ballot, or lock the one already there. The unique constraint decides,
    not a prior SELECT. A concurrent first ballot makes the insert fail; if that one then rolls
    back there is nothing to lock, and the second attempt inserts."""
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return Created(insert())
        except IntegrityError:
            existing = mine.select_for_update().first()
            if existing is not None:
                return existing
    raise ChangeNotAllowed(_("Your ballot could not be recorded; please try again."))


@dataclass(frozen=True)
class CastResult:
    ballot: Ballot
    created: bool
    changed: bool
    # The hash of the ballot's latest audit link: the receipt code is its prefix (polls/receipts.py).
    link_hash: str
    # What the ballot's form adds to the API's answer (a ballot of lines: its `lines`).
    detail: dict[str, Any] = field(default_factory=dict)


def ballot_cast(*, poll_id: int, actor: User, option_id: int, now: datetime.datetime | None = None) -> CastResult:
    """Record the choice of `actor`, the voter. The unique constraint, not a prior SELECT,
    decides whether this is a first ballot; the running totals and the audit link move in the
    same transaction.

    On PostgreSQL a first ballot, the common case, is one round trip; anything else (a change,
    a refusal to explain, a voter whose audit chain already exists) takes the general path."""
    now = now or timezone.now()
    if not actor.is_authenticated or not actor.is_active:
        raise NotEligible(_("Log in to vote."))
    if connection.vendor == "postgresql":
        from polls.fastpath import first_ballot_in_one_trip  # it builds on this module

        first = first_ballot_in_one_trip(poll_id=poll_id, actor=actor, option_id=option_id, now=now)
        if first is not None:
            return first
    return _ballot_cast_general(poll_id=poll_id, actor=actor, option_id=option_id, now=now)


@transaction.atomic
def _ballot_cast_general(*, poll_id: int, actor: User, option_id: int, now: datetime.datetime) -> CastResult:
    poll = _poll_for_ballot(poll_id)
    if poll.status == PollStatus.DRAFT:
        raise PollNotFound()  # drafts are not public: voters cannot tell them from nothing
    delegated = kinds.form_of(poll).cast_option(poll_id=poll.pk, actor=actor, option_id=option_id)
    if delegated is not None:
        return delegated
    kinds.form_of(poll).check_option_ballot()
    _check_open(poll, now)
    option = Option.objects.filter(pk=option_id, poll_id=poll.pk).only("pk").first()
    if option is None:
        raise InvalidOption()
    existing = _insert_or_lock_ballot(
        lambda: Ballot.objects.create(
            poll_id=poll.pk, voter=actor, option_id=option.pk, weight=1, salt=secrecy.new_salt() if poll.secret else ""
        ),
        Ballot.objects.filter(poll_id=poll.pk, voter_id=actor.pk, holder__isnull=True),
    )
    if isinstance(existing, Created):
        # The trail's root shard before the counter row, as the fast path and a withdrawal take
        # them: two ballots never wait for each other's rows in opposite orders.
        link_hash = _audit_ballot(poll, existing.ballot, actor, "ballot_cast")
        _move_totals(add_to=option.pk, take_from=None, weight=1)
        return CastResult(ballot=existing.ballot, created=True, changed=False, link_hash=link_hash)
    ballot = existing
    if not poll.allow_change:
        raise ChangeNotAllowed()
    if ballot.option_id == option.pk:
        # Nothing is appended: the receipt is the one the chain's last link already gave.
        head = AuditHead.objects.filter(stream=_ballot_stream(poll, ballot)).values_list("hash", flat=True).first()
        return CastResult(ballot=ballot, created=False, changed=False, link_hash=head or "")
    previous = ballot.option_id
    ballot.option_id = option.pk
    if poll.secret:
        # A fresh key, so this link's commitment cannot be matched with the previous one's.
        ballot.salt = secrecy.new_salt()
    ballot.save(update_fields=["option", "salt", "updated_at"])
    link_hash = _audit_ballot(poll, ballot, actor, "ballot_changed")
    _move_totals(add_to=option.pk, take_from=previous, weight=ballot.weight)
    return CastResult(ballot=ballot, created=False, changed=True, link_hash=link_hash)


@transaction.atomic
def ballot_withdraw(
    *, poll_id: int, actor: User, holder_id: int | None = None, now: datetime.datetime | None = None
) -> None:
    """Take a ballot back while the poll is open and allows changes; on a shareholder item,
    the holder's ballot (cast by the holder or its proxy)."""
    now = now or timezone.now()
    poll = _poll_for_ballot(poll_id)
    if poll.status == PollStatus.DRAFT:
        raise PollNotFound()
    _check_open(poll, now)
    if not poll.allow_change:
        raise ChangeNotAllowed(_("This poll does not allow withdrawing a ballot."))
    form = kinds.form_of(poll)
    ballots = Ballot.objects.select_for_update().filter(poll_id=poll.pk)
    ballot = form.ballot_to_withdraw(poll=poll, actor=actor, holder_id=holder_id, ballots=ballots)
    if ballot is None:
        raise NoBallot()
    deltas = form.withdraw_deltas(poll=poll, ballot=ballot)
    _audit_ballot(poll, ballot, actor, "ballot_withdrawn")
    ballot.delete()
    _apply_deltas(deltas)
    form.after_withdraw(poll=poll)
