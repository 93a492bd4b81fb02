"""A proxy appointment's instructions, item by item (meetings.ProxyInstruction rows): checked
against the meeting's items when the holder gives them, stored with the appointment, read
back for the pages and the API."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from meetings.ballot_models import ItemTerms
from meetings.models import Meeting, ProxyAppointment, ProxyInstruction
from meetings.proxy_rules import INSTRUCTIONS, OPTION_INSTRUCTIONS
from polls.exceptions import InvalidVote
from polls.models import Option, Poll, PollStatus


class InstructionInvalid(InvalidVote):
    """An instruction the meeting cannot take (400), naming the item."""

    def __init__(self, message: str, item: object) -> None:
        self.item = item
        super().__init__(message)

    def extra(self) -> dict[str, object]:
        return {"instructions": {str(self.item): [str(self.message)]}}


# Ids are 64-bit keys: a larger number names no item (and some databases cannot even compare it).
MAX_ID = 2**63 - 1


def _item_id(raw: object) -> int | None:
    """An item id as the API or a form gives it: an integer, or its canonical digits."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if 0 < raw <= MAX_ID else None
    text = str(raw)
    if not (text.isascii() and text.isdigit() and str(int(text)) == text):
        return None
    return _item_id(int(text))


def instructions_clean(*, meeting: Meeting, raw: Mapping[Any, Any] | None) -> dict[Poll, str]:
    """The instructions by item, each item on the meeting's ballot and each instruction one
    its form takes: for, against, abstain or the board's recommendation (an item choosing
    among options takes only abstain or the recommendation). The first bad one is a 400
    naming its item; nothing is stored."""
    if not raw:
        return {}
    wanted = {key: _item_id(key) for key in raw}
    items = {
        item.pk: item
        for item in Poll.objects.filter(meeting_id=meeting.pk, pk__in=[pk for pk in wanted.values() if pk is not None])
        .exclude(status=PollStatus.DRAFT)
        .only("pk", "kind", "title", "meeting_id")
    }
    cleaned: dict[Poll, str] = {}
    for key, value in raw.items():
        pk = wanted[key]
        item = items.get(pk) if pk is not None else None
        if item is None:
            raise InstructionInvalid(
                _("%(item)s is not an item on this meeting's ballot; instructions are for its items.")
                % {"item": repr(str(key))},
                key,
            )
        if value not in INSTRUCTIONS:
            raise InstructionInvalid(
                _("The instruction on “%(item)s” is for, against, abstain or recommendation.") % {"item": item.title},
                key,
            )
        if not _takes(item, str(value)):
            raise InstructionInvalid(
                _("“%(item)s” is a choice among options: instruct abstain or the board's recommendation.")
                % {"item": item.title},
                key,
            )
        if value == "for" and _contested_plurality(item):
            # For every nominee would be an overvote, and the proxy's ballot refused.
            raise InstructionInvalid(
                _(
                    "“%(item)s” elects fewer directors than it has nominees: instruct against, abstain or the "
                    "board's recommendation, or leave it to the proxy's discretion."
                )
                % {"item": item.title},
                key,
            )
        cleaned[item] = str(value)
    return cleaned


def _contested_plurality(item: Poll) -> bool:
    """An election with more nominees than one ballot may vote for: a plurality election, not
    cumulative, with more nominees than seats."""
    terms = ItemTerms.objects.filter(poll_id=item.pk).first()
    limit = terms.for_limit if terms is not None else None
    return limit is not None and Option.objects.filter(poll_id=item.pk).count() > limit


def _takes(item: Poll, instruction: str) -> bool:
    form = item.ballot_form
    if form.decided_by_standard or getattr(form, "has_nominees", False):
        return True
    return instruction in OPTION_INSTRUCTIONS


def instructions_store(*, appointment: ProxyAppointment, instructions: Mapping[Poll, str]) -> None:
    ProxyInstruction.objects.bulk_create(
        ProxyInstruction(appointment=appointment, item=item, instruction=instruction)
        for item, instruction in sorted(instructions.items(), key=lambda pair: pair[0].pk)
    )


def instructions_by_appointment(appointments: Iterable[ProxyAppointment]) -> dict[int, dict[int, str]]:
    """{appointment id: {item id: instruction}} in one query."""
    found: dict[int, dict[int, str]] = {}
    ids = [appointment.pk for appointment in appointments]
    for appointment_id, item_id, instruction in ProxyInstruction.objects.filter(appointment_id__in=ids).values_list(
        "appointment_id", "item_id", "instruction"
    ):
        found.setdefault(appointment_id, {})[item_id] = instruction
    return found
