"""Writes on the shareholder's side: a holder's ballot on an item or on a meeting's items at
once, proxies, the inspector's tabulation, and linking accounts to holdings."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_append
from core.errors import DomainError
from core.roles import is_secretary
from core.validators import shown
from meetings import proxy_checks, proxy_instructions, proxy_mail, selectors
from meetings.attendance import attendance_mark
from meetings.attendance_models import AttendanceSource
from meetings.ballot_rules import split_shares
from meetings.kinds import SHARE_FIELDS, share_deltas
from meetings.models import Holder, Meeting, ProxyAppointment, Tabulation
from meetings.proxy_rules import holder_overrides
from polls import kinds, receipt_mail, refusals
from polls.ballots import (
    CastResult,
    Created,
    _apply_deltas,
    _audit_ballot,
    _check_open,
    _insert_or_lock_ballot,
    _poll_for_ballot,
)
from polls.exceptions import (
    ChangeNotAllowed,
    IllegalTransition,
    InvalidPollData,
    InvalidVote,
    NotEligible,
    PollNotFound,
)
from polls.models import Ballot, Choice, Option, Poll, PollStatus
from polls.services import CHOICE_LABELS, _locked_poll, grouped_number


def holder_for_ballot(
    *,
    poll: Poll,
    actor: User,
    holder_id: int | None,
    payload: Mapping[str, Any] | None = None,
    now: datetime.datetime | None = None,
) -> Holder:
    """The holder `actor` votes (or withdraws) for on `poll`: its own, or one whose proxy it
    holds. A proxy is held to the rules of proxies (meetings.proxy_checks): the meeting's
    cut-off, the holder's own ballot, and its instruction on the item, against `payload` (the
    ballot as the API gives it) when there is one."""
    meeting = poll.meeting
    assert meeting is not None  # noqa: S101 - the check constraint ties items to meetings
    if holder_id is not None:
        holder = Holder.objects.filter(pk=holder_id, register_id=meeting.register_id).first()
        # One refusal for "no such holder" and "not yours": it names nobody and confirms nothing.
        if holder is None:
            raise NotEligible(refusals.HOLDER_REFUSED)
    else:
        holder = _the_holder_represented(actor=actor, meeting=meeting)
    if holder.user_id == actor.pk:
        return holder
    appointment = ProxyAppointment.objects.filter(
        meeting_id=meeting.pk, holder_id=holder.pk, proxy_id=actor.pk, revoked_at__isnull=True
    ).first()
    if appointment is None:
        raise NotEligible(refusals.HOLDER_REFUSED)
    proxy_checks.proxy_vote_check(poll=poll, holder=holder, appointment=appointment, payload=payload, now=now)
    return holder


def _the_holder_represented(*, actor: User, meeting: Meeting) -> Holder:
    holders = selectors.holders_represented(user=actor, meeting=meeting)
    if not holders:
        raise NotEligible(
            _("You are not a holder in the register of record (%(record_date)s) and hold no proxy for one.")
            % {"record_date": f"{meeting.register.record_date:%Y-%m-%d}"}
        )
    if len(holders) > 1:
        raise InvalidVote(_("You may vote for several holders; say which one with `holder`."))
    return holders[0]


def _shares_by_choice(*, holder: Holder, choice: str | None, split: object) -> dict[str, int]:
    if (choice is None) == (split is None):
        raise InvalidVote(_("Give either a choice (for, against, abstain) or a split of shares, not both."))
    if choice is not None:
        if choice not in Choice.values:
            raise InvalidVote(_("Unknown choice %(choice)s; use for, against or abstain.") % {"choice": repr(choice)})
        amounts = {code: 0 for code in Choice.values}
        amounts[choice] = holder.shares
    else:
        # Raw from a meeting ballot or a proxy's, or ints from the ballot serializer: read alike.
        given = split_shares(split)
        if given is None:
            raise InvalidVote(_("Split amounts must be whole, non-negative numbers of shares."))
        unknown = set(given) - set(Choice.values)
        if unknown:
            raise InvalidVote(
                _("Unknown choices in the split: %(choices)s.")
                % {"choices": ", ".join(shown(code, 40) for code in sorted(unknown)[:10])}
            )
        amounts = {code: given.get(code, 0) for code in Choice.values}
        if sum(amounts.values()) == 0 and holder.shares > 0:
            raise InvalidVote(_("The split gives no shares to anything; give shares to at least one choice."))
        if sum(amounts.values()) > holder.shares:
            raise InvalidVote(
                _("The split votes %(split)s shares but %(holder)s holds %(shares)s.")
                % {
                    "split": grouped_number(sum(amounts.values())),
                    "holder": holder.name,
                    "shares": grouped_number(holder.shares),
                }
            )
    if sum(amounts.values()) == 0:
        raise NotEligible(_("That holder has no shares to vote at the record date."))
    return amounts


@transaction.atomic
def item_ballot_cast(
    *,
    poll_id: int,
    actor: User,
    choice: str | None = None,
    split: object = None,
    holder_id: int | None = None,
    now: datetime.datetime | None = None,
) -> CastResult:
    """Record a holder's ballot on a shareholder item, cast by the holder or its proxy. The
    latest ballot for the holder counts, whoever cast it; one row per (item, holder) is kept
    by the database."""
    now = now or timezone.now()
    if not actor.is_authenticated or not actor.is_active:
        raise NotEligible(_("Log in to vote."))
    poll = _poll_for_ballot(poll_id)
    if poll.status == PollStatus.DRAFT:
        raise PollNotFound()
    kinds.form_of(poll).check_share_ballot()
    _check_open(poll, now)
    holder = holder_for_ballot(
        poll=poll, actor=actor, holder_id=holder_id, payload={"choice": choice, "split": split}, now=now
    )
    amounts = _shares_by_choice(holder=holder, choice=choice, split=split)
    options = dict(Option.objects.filter(poll_id=poll.pk).values_list("code", "pk"))
    chosen_option = options[choice] if choice is not None else None
    fields = {SHARE_FIELDS[code]: amounts[code] for code in Choice.values}
    zero = {code: 0 for code in Choice.values}
    existing = _insert_or_lock_ballot(
        lambda: Ballot.objects.create(
            poll_id=poll.pk,
            voter=actor,
            holder=holder,
            option_id=chosen_option,
            weight=sum(amounts.values()),
            **fields,
        ),
        Ballot.objects.filter(poll_id=poll.pk, holder_id=holder.pk),
    )
    # Voting on any item makes the holder present at the meeting (its quorum, every item's base).
    assert poll.meeting_id is not None  # noqa: S101 - items belong to meetings
    attendance_mark(meeting_id=poll.meeting_id, holder=holder, source=AttendanceSource.BALLOT, actor=actor)
    if isinstance(existing, Created):
        _apply_deltas(share_deltas(options, zero, amounts))
        Poll.objects.filter(pk=poll.pk).update(ballot_count=F("ballot_count") + 1)
        link_hash = _audit_ballot(poll, existing.ballot, actor, "ballot_cast")
        proxy_mail.proxy_vote_queue(ballot=existing.ballot, holder=holder, actor=actor, link_hash=link_hash)
        return CastResult(ballot=existing.ballot, created=True, changed=False, link_hash=link_hash)
    ballot = existing
    overrides = holder_overrides(holder_user_id=holder.user_id, voter_id=ballot.voter_id, actor_id=actor.pk)
    if not poll.allow_change and not overrides:
        raise ChangeNotAllowed(
            _("A ballot for %(holder)s is already recorded and this item does not allow changes.")
            % {"holder": holder.name}
        )
    old = {code: getattr(ballot, SHARE_FIELDS[code]) or 0 for code in Choice.values}
    ballot.voter = actor
    ballot.option_id = chosen_option
    ballot.weight = sum(amounts.values())
    for name, value in fields.items():
        setattr(ballot, name, value)
    ballot.save(update_fields=["voter", "option", "weight", *fields, "updated_at"])
    _apply_deltas(share_deltas(options, old, amounts))
    link_hash = _audit_ballot(poll, ballot, actor, "ballot_changed")
    proxy_mail.proxy_vote_queue(ballot=ballot, holder=holder, actor=actor, link_hash=link_hash)
    return CastResult(ballot=ballot, created=False, changed=old != amounts, link_hash=link_hash)


class MeetingBallotRefused(InvalidVote):
    """A meeting ballot some of whose items refused, each with its reason: nothing is recorded."""

    def __init__(self, refused: Mapping[int, DomainError]) -> None:
        self.refused = dict(refused)
        first = next(iter(self.refused.values()))
        self.status_code = first.status_code
        super().__init__(first.message)

    def extra(self) -> dict[str, object]:
        return {"items": {str(item_id): str(error.message) for item_id, error in self.refused.items()}}


# What an item's part of a meeting ballot may say, whatever its form (each form's cast refuses
# the keys it does not take); the holder is the ballot's, not the item's.
ITEM_BALLOT_KEYS = frozenset({"choice", "split", "votes", "splits", "cumulative", "option"})


def _item_payload(choice: object, holder_id: int) -> dict[str, Any]:
    """One item's part of a meeting ballot as its form's cast reads it, for the holder."""
    if isinstance(choice, str):
        return {"choice": choice, "holder": holder_id}
    if isinstance(choice, Mapping):
        unknown = sorted(str(key) for key in choice if key not in ITEM_BALLOT_KEYS)
        if unknown:
            # A misspelt key would otherwise be dropped, and the ballot taken without it.
            raise InvalidVote(
                _("Unknown keys in the item's ballot: %(keys)s.")
                % {"keys": ", ".join(shown(key, 40) for key in unknown[:10])}
            )
        return {**choice, "holder": holder_id}
    raise InvalidVote(_("Give each item a choice (for, against, abstain) or its ballot."))


@transaction.atomic
def meeting_ballot_cast(
    *,
    meeting: Meeting,
    actor: User,
    holder_id: int,
    choices: Mapping[int, str | Mapping[str, Any]],
    mail_receipts: bool = True,
) -> list[CastResult]:
    """A holder's ballot on several of a meeting's items at once, cast by the holder or its
    proxy. Per item, a proposal's choice (for, against, abstain) or the payload its ballot form
    takes, as in the API (an election's `votes` or `cumulative`, an option's `option`, splits).
    One act: every item is tried, and if any refuses none is recorded (MeetingBallotRefused
    names each refused item). A proxy's ballot follows the holder's instructions item by item
    (meetings.proxy_checks), and the holder is told of each ballot cast for them. The receipts
    of all of them go out in one e-mail once the ballot commits (unless `mail_receipts` is
    False: a proxy voting many holders at once gets one e-mail for all of them)."""
    if not choices:
        raise InvalidVote(_("Choose for, against or abstain on at least one item."))
    on_meeting = {poll.pk: poll for poll in Poll.objects.filter(meeting_id=meeting.pk, pk__in=list(choices))}
    directions = proxy_checks.directions_for(
        meeting=meeting, actor=actor, holder_id=holder_id, items=list(on_meeting.values())
    )
    cast: list[CastResult] = []
    refused: dict[int, DomainError] = {}
    for item_id, choice in choices.items():
        try:
            poll = on_meeting.get(item_id)
            if poll is None:
                raise PollNotFound()
            data = _item_payload(choice, holder_id)
            # The item's own form casts it (a proposal's through item_ballot_cast), all in this
            # transaction: a refusal here undoes the items cast before it. A proxy's ballot is
            # read against the holder's instruction first, as an election's cast cannot pass it on.
            if directions is None:
                cast.append(kinds.form_of(poll).cast(poll_id=item_id, actor=actor, data=data))
                continue
            directions.check(item_id, data)
            with directions.cast_checked(item_id):
                cast.append(kinds.form_of(poll).cast(poll_id=item_id, actor=actor, data=data))
        except DomainError as error:
            refused[item_id] = error
    if refused:
        raise MeetingBallotRefused(refused)
    if directions is not None:
        for result in cast:  # a proposal's was queued by its cast already: the key makes it once
            proxy_mail.proxy_vote_queue(
                ballot=result.ballot, holder=directions.holder, actor=actor, link_hash=result.link_hash
            )
    if mail_receipts:
        receipt_mail.ballot_receipts_mail(user=actor, link_hashes=[result.link_hash for result in cast])
    return cast


@transaction.atomic
def proxy_appoint(
    *,
    meeting: Meeting,
    holder: Holder,
    proxy: User | None,
    actor: User,
    named_as: str = "",
    instructions: Mapping[Any, Any] | None = None,
    discretionary: bool = True,
) -> ProxyAppointment:
    """The holder (or the secretary for them) names an account to vote its shares at every item
    of the meeting: as instructed where `instructions` ({item id: for, against, abstain or
    recommendation}) direct it, elsewhere at its discretion, or not at all when `discretionary`
    is False. A new appointment replaces the previous one. A name that matched no account
    (`proxy` None) is recorded all the same, so it reads like any other (meetings.proxies)."""
    # The meeting's row lock orders appointments (and their events on the meeting's chain).
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    acts_for_holder = holder.user_id == actor.pk or is_secretary(actor)
    if holder.register_id != meeting.register_id or not acts_for_holder:
        raise NotEligible(refusals.HOLDER_REFUSED)
    if proxy is not None and proxy.pk == holder.user_id:
        raise InvalidVote(_("A holder does not need a proxy to vote its own shares."))
    directed = proxy_instructions.instructions_clean(meeting=meeting, raw=instructions)
    replaced = list(
        ProxyAppointment.objects.select_for_update()
        .filter(meeting=meeting, holder=holder, revoked_at__isnull=True)
        .values_list("proxy_id", flat=True)
    )
    ProxyAppointment.objects.filter(meeting=meeting, holder=holder, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    appointment = ProxyAppointment.objects.create(
        meeting=meeting,
        holder=holder,
        proxy=proxy,
        named_as=named_as or (proxy.get_username() if proxy is not None else ""),
        discretionary=discretionary,
        appointed_by=actor,
    )
    proxy_instructions.instructions_store(appointment=appointment, instructions=directed)
    audit_append(
        stream=f"meeting:{meeting.pk}",
        action="proxy_appointed",
        actor=actor,
        payload={
            "holder": holder.pk,
            "proxy": proxy.pk if proxy is not None else None,
            "replaces": replaced,
            "instructions": {str(item.pk): value for item, value in sorted(directed.items(), key=lambda p: p[0].pk)},
            "discretionary": discretionary,
        },
    )
    return appointment


@transaction.atomic
def proxy_revoke(*, appointment: ProxyAppointment, actor: User) -> ProxyAppointment:
    Meeting.objects.select_for_update().get(pk=appointment.meeting_id)
    appointment = ProxyAppointment.objects.select_for_update().select_related("holder").get(pk=appointment.pk)
    if appointment.holder.user_id != actor.pk and not is_secretary(actor):
        raise NotEligible(_("Only the holder (or the secretary) may revoke its proxy."))
    if appointment.revoked_at is None:
        appointment.revoked_at = timezone.now()
        appointment.save(update_fields=["revoked_at"])
        audit_append(
            stream=f"meeting:{appointment.meeting_id}",
            action="proxy_revoked",
            actor=actor,
            payload={"holder": appointment.holder_id, "proxy": appointment.proxy_id},
        )
    return appointment


@transaction.atomic
def tabulation_record(
    *,
    poll: Poll,
    shares_for: int,
    shares_against: int,
    shares_abstain: int,
    actor: User,
    broker_non_votes: int = 0,
    source: str = "",
) -> Tabulation:
    """The inspector's official totals for an item; they replace the ballots' totals in the
    result. Refused once the item is certified."""
    poll = _locked_poll(poll.pk)
    if not kinds.form_of(poll).takes_tabulation:
        raise InvalidPollData(_("Only shareholder items take an official tabulation."))
    if poll.status == PollStatus.CERTIFIED:
        raise IllegalTransition(_("The item is certified; its result is frozen."))
    if poll.effective_status() != PollStatus.CLOSED:
        # Official totals entered while ballots are still coming would be a peek at the split.
        raise IllegalTransition(refusals.TABULATION_BEFORE_CLOSE)
    figures = [shares_for, shares_against, shares_abstain, broker_non_votes]
    if any(value < 0 for value in figures):
        raise InvalidPollData(_("Tabulated totals must not be negative."))
    assert poll.meeting is not None  # noqa: S101 - items belong to meetings
    outstanding = poll.meeting.register.shares_outstanding
    if sum(figures) > outstanding:
        raise InvalidPollData(
            _("The tabulation counts %(counted)s shares, more than the %(outstanding)s outstanding.")
            % {"counted": grouped_number(sum(figures)), "outstanding": grouped_number(outstanding)}
        )
    audit_append(
        stream=f"poll:{poll.pk}",
        action="tabulation_recorded",
        actor=actor,
        payload={"for": shares_for, "against": shares_against, "abstain": shares_abstain, "bnv": broker_non_votes},
    )
    tabulation, _created = Tabulation.objects.update_or_create(
        poll=poll,
        defaults={
            "shares_for": shares_for,
            "shares_against": shares_against,
            "shares_abstain": shares_abstain,
            "broker_non_votes": broker_non_votes,
            "source": source,
            "entered_by": actor,
        },
    )
    return tabulation


def holders_link_user(*, user: User) -> int:
    """Link an account to the holder rows carrying its e-mail address (e.g. after sign-up)."""
    if not user.email:
        return 0
    return Holder.objects.filter(user__isnull=True, email__iexact=user.email).update(user=user)


def item_options_ensure(*, poll: Poll) -> None:
    """Give a shareholder item made in the admin its for / against / abstain options."""
    if not kinds.form_of(poll).fixed_options or Option.objects.filter(poll_id=poll.pk).exists():
        return
    Option.objects.bulk_create(
        Option(poll=poll, label=CHOICE_LABELS[choice], code=choice, position=i) for i, choice in enumerate(Choice)
    )
