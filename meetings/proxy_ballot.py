"""A proxy votes every holder it represents at a meeting in one act (the proxy's page, and
POST /api/v1/meetings/{id}/proxy-ballot/): one set of choices for all, exceptions per holder,
and the holders' instructions followed where they direct it.

The call covers the items it names (in `choices` or an exception) and, for a directed holder,
every open item the holder gave an instruction on: there the ballot is the instruction's
(meetings.proxy_rules), whatever the common choice says; an explicit exception is cast as
given and must follow it (409 otherwise). An item a holder voted themselves is left alone (their
own ballot stands), as is an item with no instruction from a holder who gave no discretion;
both are reported. All or nothing: a refusal for any holder records nothing for any of them."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from meetings import ballot_rules, proxy_checks, selectors
from meetings.ballot_rules import ElectionStandard
from meetings.ballot_selectors import BallotItem, ballot_items
from meetings.models import Holder, Meeting, ProxyAppointment
from meetings.proxy_instructions import instructions_by_appointment
from meetings.proxy_rules import choice_for, wanted
from meetings.services import MeetingBallotRefused, meeting_ballot_cast
from polls import receipt_mail, receipts, refusals
from polls.ballots import CastResult
from polls.exceptions import InvalidVote, NotEligible
from polls.models import Ballot, PollStatus

Payload = str | Mapping[str, Any]
SKIP_HOLDER_VOTED = "holder_voted"
SKIP_NO_DISCRETION = "no_discretion"
SKIP_INSTRUCTED_BLANK = "instructed_blank"  # e.g. abstain under plurality voting: left blank


@dataclass
class HolderBallot:
    """What the act did for one holder: its receipts by item, the items its instructions
    decided, and the items left alone with the reason."""

    holder: Holder
    cast: dict[int, CastResult] = field(default_factory=dict)
    directed: dict[int, str] = field(default_factory=dict)
    skipped: dict[int, str] = field(default_factory=dict)

    def receipts(self) -> dict[int, str]:
        return {item_id: receipts.receipt_code(result.link_hash) for item_id, result in self.cast.items()}


class ProxyBallotRefused(InvalidVote):
    """Some holders' ballots refused, each item with its reason: nothing is recorded."""

    def __init__(self, refused: Mapping[Holder, Mapping[str, DomainError]]) -> None:
        self.refused = {holder: dict(errors) for holder, errors in refused.items()}
        holder, errors = next(iter(self.refused.items()))
        first = next(iter(errors.values()))
        self.status_code = first.status_code
        super().__init__(
            _("Nothing was recorded. %(holder)s: %(reason)s") % {"holder": holder.name, "reason": first.message}
        )

    def extra(self) -> dict[str, object]:
        return {
            "holders": {
                str(holder.pk): {key: str(error.message) for key, error in errors.items()}
                for holder, errors in self.refused.items()
            }
        }


def _item_key(raw: object, what: str) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    text = str(raw)
    if text.isascii() and text.isdigit() and str(int(text)) == text:
        return int(text)
    raise InvalidVote(_("%(what)s: %(key)s is not an id.") % {"what": what, "key": repr(text)})


def _appointments(*, meeting: Meeting, actor: User, holders: Sequence[object] | str) -> list[ProxyAppointment]:
    held = list(
        ProxyAppointment.objects.filter(meeting=meeting, proxy_id=actor.pk, revoked_at__isnull=True)
        .select_related("holder__user")
        .order_by("holder__account")
    )
    if holders == "all":
        if not held:
            raise NotEligible(_("You hold no proxy at this meeting."))
        return held
    if isinstance(holders, str) or not holders:
        raise InvalidVote(_('Name the holders to vote as a list of ids, or "all".'))
    wanted_ids = {_item_key(raw, "holders") for raw in holders}
    chosen = [appointment for appointment in held if appointment.holder_id in wanted_ids]
    if len(chosen) != len(wanted_ids):
        # The same refusal for an unknown holder and one whose proxy the caller does not hold.
        raise NotEligible(refusals.HOLDER_REFUSED)
    return chosen


def _exceptions(
    raw: Mapping[Any, Mapping[Any, Payload | None]] | None, chosen: list[ProxyAppointment]
) -> dict[int, dict[int, Payload | None]]:
    cleaned: dict[int, dict[int, Payload | None]] = {}
    ids = {appointment.holder_id for appointment in chosen}
    for holder_key, items in (raw or {}).items():
        holder_id = _item_key(holder_key, "exceptions")
        if holder_id not in ids:
            raise InvalidVote(
                _("exceptions: holder %(holder)s is not among the holders voted.") % {"holder": holder_id}
            )
        if not isinstance(items, Mapping):
            raise InvalidVote(_("exceptions: give each holder's items as {item id: choice or ballot}."))
        cleaned[holder_id] = {_item_key(key, "exceptions"): value for key, value in items.items()}
    return cleaned


def _items(*, meeting: Meeting, named: set[int], instructed: set[int], now: datetime.datetime) -> dict[int, BallotItem]:
    """The items named (each on the meeting's ballot, else a 400 naming it) and the open items
    a holder instructed on, as the ballot reads them."""
    on_meeting = {item.pk: item for item in selectors.meeting_items(meeting)}
    unknown = sorted(named - on_meeting.keys())
    if unknown:
        raise InvalidVote(
            _("%(item)s is not an item on this meeting's ballot.") % {"item": ", ".join(map(str, unknown))}
        )
    scope = [
        item
        for pk, item in on_meeting.items()
        if pk in named or (pk in instructed and item.effective_status(now) == PollStatus.OPEN)
    ]
    return {row.item.pk: row for row in ballot_items(items=scope, holder_id=0)}


def _election_payload(data: BallotItem, instruction: str, given: Payload | None) -> Payload | None:
    terms = data.terms
    if terms is None or terms.cumulative:
        return given  # votes to spread are the proxy's to give; its cast checks them
    allowed = ballot_rules.allowed_choices(ElectionStandard(terms.election_standard))
    free = given.get("votes") if isinstance(given, Mapping) else None
    free_votes = {str(key): value for key, value in free.items()} if isinstance(free, Mapping) else {}
    votes: dict[str, Any] = {}
    for option in data.options:
        tally = getattr(option, "tally", None)
        recommended = tally.recommendation if tally is not None else ""
        if wanted(instruction, recommended) is None:
            if str(option.pk) in free_votes:
                votes[str(option.pk)] = free_votes[str(option.pk)]
            continue
        choice = choice_for(instruction, recommended, allowed)
        if choice is not None:
            votes[str(option.pk)] = choice
    return {"votes": votes} if votes else None


def _option_payload(data: BallotItem, instruction: str, given: Payload | None) -> Payload | None:
    if instruction == "recommendation":
        chosen = data.terms.recommended_option_id if data.terms is not None else None
        return given if chosen is None else {"option": chosen}
    abstain = next((option.pk for option in data.options if option.code == "abstain"), None)
    return {"option": abstain} if abstain is not None else None


def directed_payload(data: BallotItem, instruction: str, given: Payload | None) -> Payload | None:
    """The ballot a directed proxy casts on an item: the instruction's where it decides, the
    proxy's `given` choice where it leaves discretion (the board recommends nothing); None
    when the instruction leaves the item blank."""
    form = data.item.ballot_form
    if form.decided_by_standard:
        recommended = data.terms.recommendation if data.terms is not None else "none"
        target = wanted(instruction, recommended)
        return given if target is None else target
    if getattr(form, "has_nominees", False):
        return _election_payload(data, instruction, given)
    return _option_payload(data, instruction, given)


@dataclass(frozen=True)
class _Common:
    choices: Mapping[int, Payload]
    items: Mapping[int, BallotItem]
    own_votes: set[tuple[int, int]]


def _plan(
    appointment: ProxyAppointment,
    common: _Common,
    exceptions: Mapping[int, Payload | None],
    instructions: Mapping[int, str],
) -> tuple[dict[int, Payload], HolderBallot]:
    """What to cast for one holder, and what is left alone and why."""
    report = HolderBallot(holder=appointment.holder)
    payloads: dict[int, Payload] = {}
    for item_id, data in common.items.items():
        explicit = item_id in exceptions
        given = exceptions[item_id] if explicit else common.choices.get(item_id)
        instruction = instructions.get(item_id)
        if explicit and given is None:
            continue  # this holder is left out of this item
        if given is None and instruction is None:
            continue
        if (item_id, appointment.holder_id) in common.own_votes:
            report.skipped[item_id] = SKIP_HOLDER_VOTED
        elif instruction is None:
            if appointment.discretionary:
                payloads[item_id] = given  # type: ignore[assignment] # not None: checked above
            else:
                report.skipped[item_id] = SKIP_NO_DISCRETION
        elif explicit:
            payloads[item_id] = given  # type: ignore[assignment] # an exception: cast as given, checked
        else:
            made = directed_payload(data, instruction, given)
            if made is None:
                report.skipped[item_id] = SKIP_INSTRUCTED_BLANK
            else:
                payloads[item_id], report.directed[item_id] = made, instruction
    return payloads, report


def _own_votes(items: Mapping[int, BallotItem], chosen: list[ProxyAppointment]) -> set[tuple[int, int]]:
    """(item, holder) pairs whose standing ballot the holder cast themselves."""
    owners = {appointment.holder_id: appointment.holder.user_id for appointment in chosen}
    rows = Ballot.objects.filter(poll_id__in=list(items), holder_id__in=list(owners)).values_list(
        "poll_id", "holder_id", "voter_id"
    )
    return {(poll_id, holder_id) for poll_id, holder_id, voter_id in rows if voter_id == owners[holder_id]}


def _cast_one(
    *, meeting: Meeting, actor: User, appointment: ProxyAppointment, payloads: dict[int, Payload], report: HolderBallot
) -> dict[str, DomainError]:
    """Cast one holder's ballots (in a savepoint of the act); its refusals by item, if any."""
    try:
        cast = meeting_ballot_cast(
            meeting=meeting, actor=actor, holder_id=appointment.holder_id, choices=payloads, mail_receipts=False
        )
    except MeetingBallotRefused as refusal:
        return {str(item): error for item, error in refusal.refused.items()}
    except DomainError as error:
        return {"ballot": error}
    report.cast = dict(zip(payloads, cast, strict=True))
    return {}


@transaction.atomic
def proxy_ballot_cast(
    *,
    meeting: Meeting,
    actor: User,
    choices: Mapping[Any, Payload],
    holders: Sequence[Any] | str = "all",
    exceptions: Mapping[Any, Mapping[Any, Payload | None]] | None = None,
    now: datetime.datetime | None = None,
) -> list[HolderBallot]:
    """Vote the holders `actor` holds proxies for (`holders`: ids, or "all"), each item with the
    common `choices` ({item id: a proposal's choice or the ballot its form takes}), but for the
    `exceptions` ({holder id: {item id: choice, or None to leave it}}) and the instructions."""
    now = now or timezone.now()
    proxy_checks.cutoff_check(meeting, now)
    chosen = _appointments(meeting=meeting, actor=actor, holders=holders)
    common_choices = {_item_key(key, "choices"): value for key, value in choices.items()}
    by_holder = _exceptions(exceptions, chosen)
    instructions = instructions_by_appointment(chosen)
    named = set(common_choices) | {item for items in by_holder.values() for item in items}
    instructed = {item for rows in instructions.values() for item in rows}
    items = _items(meeting=meeting, named=named, instructed=instructed, now=now)
    common = _Common(choices=common_choices, items=items, own_votes=_own_votes(items, chosen))
    reports: list[HolderBallot] = []
    refused: dict[Holder, dict[str, DomainError]] = {}
    for appointment in chosen:
        payloads, report = _plan(
            appointment, common, by_holder.get(appointment.holder_id, {}), instructions.get(appointment.pk, {})
        )
        reports.append(report)
        errors = (
            _cast_one(meeting=meeting, actor=actor, appointment=appointment, payloads=payloads, report=report)
            if payloads
            else {}
        )
        if errors:
            refused[appointment.holder] = errors
    if refused:
        raise ProxyBallotRefused(refused)
    links = [result.link_hash for report in reports for result in report.cast.values()]
    if not links:
        raise InvalidVote(_("Nothing to record: no holder has an item left to vote with these choices."))
    receipt_mail.ballot_receipts_mail(user=actor, link_hashes=links)
    return reports
