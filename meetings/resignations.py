"""The majority-voting policy's follow-up: a director nominee who gets fewer votes for than
against tenders their resignation, and the board decides whether to accept it. Both are on the
item's trail (`poll:<id>`): the tender when the election is certified, the board's decision when
the secretary records it. Reads come from the trail too, so nothing here can drift from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_append
from core.models import AuditEvent
from polls.exceptions import IllegalTransition, InvalidPollData
from polls.models import Poll, PollStatus
from polls.services import _locked_poll, _refuse_bidi_overrides

TENDERED = "resignation_tendered"
DECISIONS = {"accepted": "resignation_accepted", "rejected": "resignation_rejected"}


def _failed_nominees(poll: Poll) -> list[dict[str, Any]]:
    record = poll.certified_result or {}
    return [row for row in record.get("nominees") or [] if row.get("status") == TENDERED]


def resignations_tender(*, poll_id: int) -> int:
    """On certification (in its transaction): a tender on the trail for each nominee the
    certified result did not elect under majority voting. Idempotent; the number recorded."""
    poll = Poll.objects.filter(pk=poll_id, status=PollStatus.CERTIFIED).first()
    if poll is None:
        return 0
    stream = f"poll:{poll.pk}"
    already = set(AuditEvent.objects.filter(stream=stream, action=TENDERED).values_list("payload__nominee", flat=True))
    recorded = 0
    for row in _failed_nominees(poll):
        if row["id"] not in already:
            audit_append(
                stream=stream,
                action=TENDERED,
                actor=poll.certified_by,
                payload={"nominee": row["id"], "name": row["name"], "for": row["for"], "against": row["against"]},
            )
            recorded += 1
    return recorded


@transaction.atomic
def resignation_decide(*, poll: Poll, nominee_id: int, decision: str, actor: User, note: str = "") -> None:
    """The board's decision on a tendered resignation, recorded by the secretary, once."""
    poll = _locked_poll(poll.pk)
    if decision not in DECISIONS:
        raise InvalidPollData(_("The board's decision is accepted or rejected."))
    _refuse_bidi_overrides(note=note)
    stream = f"poll:{poll.pk}"
    if not AuditEvent.objects.filter(stream=stream, action=TENDERED, payload__nominee=nominee_id).exists():
        raise InvalidPollData(_("That nominee has tendered no resignation on this item."))
    if AuditEvent.objects.filter(
        stream=stream, action__in=list(DECISIONS.values()), payload__nominee=nominee_id
    ).exists():
        raise IllegalTransition(_("The board's decision on this resignation is already recorded."))
    audit_append(
        stream=stream, action=DECISIONS[decision], actor=actor, payload={"nominee": nominee_id, "note": note[:500]}
    )


@dataclass(frozen=True)
class Resignation:
    item: int
    nominee: int
    name: str
    tendered_at: str
    decision: str  # "pending", "accepted" or "rejected"
    decided_at: str | None


def resignations_of(*, poll_ids: list[int]) -> list[Resignation]:
    """Every tendered resignation on these items, with the board's decision if recorded."""
    streams = [f"poll:{pk}" for pk in poll_ids]
    events = AuditEvent.objects.filter(stream__in=streams, action__in=[TENDERED, *DECISIONS.values()]).order_by(
        "stream", "seq"
    )
    tendered: dict[tuple[int, int], Resignation] = {}
    for event in events:
        item, nominee = int(event.stream.split(":")[1]), int(event.payload["nominee"])
        if event.action == TENDERED:
            tendered[(item, nominee)] = Resignation(
                item, nominee, str(event.payload.get("name", "")), event.at.isoformat(), "pending", None
            )
        elif (item, nominee) in tendered:
            decided = "accepted" if event.action == DECISIONS["accepted"] else "rejected"
            found = tendered[(item, nominee)]
            tendered[(item, nominee)] = Resignation(
                item, nominee, found.name, found.tendered_at, decided, event.at.isoformat()
            )
    return list(tendered.values())


def on_poll_certified(sender: Any, poll_id: int, **kwargs: Any) -> None:
    resignations_tender(poll_id=poll_id)
