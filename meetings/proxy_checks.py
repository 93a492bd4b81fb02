"""What a proxy may do when it votes for a holder: before the meeting's cut-off, never over the
holder's own ballot, and, where the appointment directs it, as the holder instructed
(meetings.proxy_rules reads a ballot against an instruction). Each refusal is a 409 naming the
rule, and the ballot's transaction rolls back with it."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from meetings import ballot_rules
from meetings.ballot_rules import ElectionStandard, LineProblem, split_shares
from meetings.ballot_selectors import BallotItem, ballot_items
from meetings.models import Holder, Meeting, ProxyAppointment, ProxyInstruction
from meetings.proxy_rules import UNVOTED, Mark, follows
from polls.models import Ballot, Choice, Poll

# An instruction in the reader's words, as the refusal and the pages name it.
INSTRUCTION_WORDS = {
    "for": gettext_lazy("for"),
    "against": gettext_lazy("against"),
    "abstain": gettext_lazy("abstain"),
    "recommendation": gettext_lazy("with the board's recommendation"),
}


class ProxyRefused(DomainError):
    """A proxy's ballot refused by the rules of proxies; nothing is recorded."""

    status_code = 409
    default_message = gettext_lazy("A proxy may not cast this ballot.")


class ProxyCutoffPassed(ProxyRefused):
    def __init__(self, cutoff: datetime.datetime) -> None:
        self.cutoff = cutoff
        local = timezone.localtime(cutoff, timezone.get_default_timezone())
        super().__init__(
            _(
                "Proxy voting at this meeting closed at its cut-off, %(cutoff)s (%(zone)s); "
                "holders may still vote their own shares until each item closes."
            )
            % {"cutoff": date_format(local, "DATETIME_FORMAT"), "zone": local.tzname()}
        )

    def extra(self) -> dict[str, object]:
        return {"proxy_cutoff": self.cutoff.isoformat()}


class HolderHasVoted(ProxyRefused):
    def __init__(self, holder: Holder, item: Poll) -> None:
        self.item_id = item.pk
        super().__init__(
            _("The holder has voted: %(holder)s voted on “%(item)s” themselves, and a holder's own ballot stands.")
            % {"holder": holder.name, "item": item.title}
        )

    def extra(self) -> dict[str, object]:
        return {"item": self.item_id, "rule": "holder_voted"}


class InstructionNotFollowed(ProxyRefused):
    def __init__(self, holder: Holder, item: Poll, instruction: str) -> None:
        self.item_id, self.instruction = item.pk, instruction
        super().__init__(
            _(
                "%(holder)s instructed their proxy to vote %(instruction)s on “%(item)s”; "
                "this ballot does not follow the instruction."
            )
            % {"holder": holder.name, "instruction": INSTRUCTION_WORDS[instruction], "item": item.title}
        )

    def extra(self) -> dict[str, object]:
        return {"item": self.item_id, "instruction": self.instruction}


class NotInstructed(ProxyRefused):
    def __init__(self, holder: Holder, item: Poll) -> None:
        self.item_id = item.pk
        super().__init__(
            _(
                "%(holder)s gave their proxy no instruction on “%(item)s” and no discretion: "
                "the proxy may vote only the items it was instructed on."
            )
            % {"holder": holder.name, "item": item.title}
        )

    def extra(self) -> dict[str, object]:
        return {"item": self.item_id, "rule": "no_discretion"}


class InstructionUnchecked(ProxyRefused):
    """A directed item reached without its ballot to check (an election's per-item cast, which
    does not hand its payload on, or a withdrawal): refused rather than let through unread."""

    def __init__(self, holder: Holder, item: Poll, instruction: str) -> None:
        self.item_id, self.instruction = item.pk, instruction
        super().__init__(
            _(
                "%(holder)s instructed their proxy to vote %(instruction)s on “%(item)s”: cast it on the meeting's "
                "ballot (its page, or POST /api/v1/meetings/%(meeting)s/proxy-ballot/), where the instruction is "
                "checked; a directed proxy does not withdraw it."
            )
            % {
                "holder": holder.name,
                "instruction": INSTRUCTION_WORDS[instruction],
                "item": item.title,
                "meeting": item.meeting_id,
            }
        )

    def extra(self) -> dict[str, object]:
        return {"item": self.item_id, "instruction": self.instruction}


# (item id, holder id) pairs whose ballot this context checked against its instruction already
# (meeting_ballot_cast, before the item's own cast, which cannot pass the ballot on).
_CHECKED: ContextVar[frozenset[tuple[int, int]]] = ContextVar("proxy_instructions_checked", default=frozenset())


@contextmanager
def checked(*, item_id: int, holder_id: int) -> Iterator[None]:
    token = _CHECKED.set(_CHECKED.get() | {(item_id, holder_id)})
    try:
        yield
    finally:
        _CHECKED.reset(token)


def cutoff_check(meeting: Meeting, now: datetime.datetime | None = None) -> None:
    cutoff = meeting.proxy_cutoff_at
    if (now or timezone.now()) >= cutoff:
        raise ProxyCutoffPassed(cutoff)


def holder_voted(*, poll_id: int, holder: Holder) -> bool:
    """Whether the holder's standing ballot on the item is their own (not a proxy's)."""
    if holder.user_id is None:
        return False
    return Ballot.objects.filter(poll_id=poll_id, holder_id=holder.pk, voter_id=holder.user_id).exists()


def _proposal_marks(data: BallotItem, payload: Mapping[str, Any], shares: int) -> list[Mark] | None:
    recommended = data.terms.recommendation if data.terms is not None else "none"
    choice, split = payload.get("choice"), payload.get("split")
    if isinstance(choice, str) and choice in Choice.values:
        return [Mark(choice, recommended)]
    amounts = split_shares(split) if choice is None else None
    if amounts is None:
        return None  # not a ballot the item takes: its own cast says why
    marks = [Mark(code, recommended) for code, value in amounts.items() if value > 0]
    if sum(amounts.values()) < shares:
        # Shares left unvoted are present all the same, and count against the item under a
        # present-and-entitled standard: an instruction is followed with the whole holding.
        marks.append(Mark(UNVOTED, recommended))
    return marks


def _line_marks(data: BallotItem, payload: Mapping[str, Any], shares: int) -> list[Mark] | None:
    terms = data.terms
    if terms is None:
        return None
    standard = ElectionStandard(terms.election_standard) if terms.election_standard else None
    try:
        lines = ballot_rules.ballot_lines(
            payload={key: value for key, value in payload.items() if key != "holder"},
            ids=frozenset(option.pk for option in data.options),
            shares=shares,
            standard=standard,
            seats=terms.seats,
            cumulative=terms.cumulative,
        )
    except LineProblem:
        return None
    options = {option.pk: option for option in data.options}
    chosen = terms.recommended_option_id
    marks = []
    for option_id, choice in lines:
        option = options[option_id]
        tally = getattr(option, "tally", None)
        if tally is not None:  # a nominee
            marks.append(Mark(str(choice), tally.recommendation))
        else:  # an option of a frequency or choice item
            recommended = "" if chosen is None else ("for" if option_id == chosen else "against")
            marks.append(Mark("abstain" if option.code == "abstain" else "for", recommended))
    return marks


def ballot_marks(data: BallotItem, payload: Mapping[str, Any], shares: int) -> list[Mark] | None:
    """A ballot's marks as proxy_rules reads them; None when it is not a ballot the item takes."""
    if data.item.ballot_form.decided_by_standard:
        return _proposal_marks(data, payload, shares)
    return _line_marks(data, payload, shares)


def instruction_of(appointment: ProxyAppointment, item_id: int) -> str | None:
    return (
        ProxyInstruction.objects.filter(appointment_id=appointment.pk, item_id=item_id)
        .values_list("instruction", flat=True)
        .first()
    )


def instruction_check(*, data: BallotItem, holder: Holder, instruction: str, payload: Mapping[str, Any]) -> None:
    marks = ballot_marks(data, payload, holder.shares)
    if marks is not None and not follows(instruction, marks):
        raise InstructionNotFollowed(holder, data.item, instruction)


def proxy_vote_check(
    *,
    poll: Poll,
    holder: Holder,
    appointment: ProxyAppointment,
    payload: Mapping[str, Any] | None = None,
    now: datetime.datetime | None = None,
) -> None:
    """Refuse a proxy's ballot (or withdrawal) for `holder` on `poll` that the rules forbid. The
    ballot's content is checked against an instruction when it is given (`payload`, as the
    API's ballot: choice or split, votes, splits, cumulative or option)."""
    assert poll.meeting is not None  # noqa: S101 - items belong to meetings
    cutoff_check(poll.meeting, now)
    if holder_voted(poll_id=poll.pk, holder=holder):
        raise HolderHasVoted(holder, poll)
    instruction = instruction_of(appointment, poll.pk)
    if instruction is None:
        if not appointment.discretionary:
            raise NotInstructed(holder, poll)
        return
    if payload is not None:
        data = ballot_items(items=[poll], holder_id=holder.pk)[0]
        instruction_check(data=data, holder=holder, instruction=instruction, payload=payload)
    elif (poll.pk, holder.pk) not in _CHECKED.get():
        raise InstructionUnchecked(holder, poll, instruction)


@dataclass(frozen=True)
class Directions:
    """A proxy's instructions from one holder, with the items they direct as the checks read
    them: for a ballot on several items at once, whose forms' own casts do not see the payload."""

    holder: Holder
    instructions: dict[int, str]
    items: dict[int, BallotItem]

    def check(self, item_id: int, payload: Mapping[str, Any]) -> None:
        instruction = self.instructions.get(item_id)
        if instruction is not None and item_id in self.items:
            instruction_check(data=self.items[item_id], holder=self.holder, instruction=instruction, payload=payload)

    def cast_checked(self, item_id: int) -> AbstractContextManager[None]:
        """Around the item's own cast, once `check` passed: its proxy checks need not see the ballot."""
        return checked(item_id=item_id, holder_id=self.holder.pk)


def directions_for(*, meeting: Meeting, actor: Any, holder_id: int, items: list[Poll]) -> Directions | None:
    """The instructions `actor` votes `holder_id` under at `meeting`; None when it votes its own
    shares or holds no proxy for the holder (the item's cast then answers for itself)."""
    appointment = (
        ProxyAppointment.objects.filter(
            meeting_id=meeting.pk, holder_id=holder_id, proxy_id=actor.pk, revoked_at__isnull=True
        )
        .select_related("holder")
        .first()
    )
    if appointment is None or appointment.holder.user_id == actor.pk:
        return None
    instructions = dict(
        ProxyInstruction.objects.filter(appointment_id=appointment.pk).values_list("item_id", "instruction")
    )
    directed = [item for item in items if item.pk in instructions]
    data = {row.item.pk: row for row in ballot_items(items=directed, holder_id=holder_id)} if directed else {}
    return Directions(holder=appointment.holder, instructions=instructions, items=data)
