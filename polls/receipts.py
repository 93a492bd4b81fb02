"""Voter receipts: what anyone holding a receipt code may learn, and nothing more.

A receipt code is the first 80 bits of the ballot's audit link hash (an HMAC under AUDIT_KEY,
polls/audit.py), so it cannot be guessed from the poll or the voter, and it names one link of
one ballot chain. A check answers only whether that link is the ballot that stands (and, once
the poll is certified, was counted), was replaced by a later one, or was withdrawn; it never
reads the link's payload or shows its stream, which name the choice and the voter or holder.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.models import AuditEvent, AuditHead
from polls.models import Ballot, Poll, PollStatus

CODE_HEX = 20  # 80 bits: beyond guessing, short enough to read out and type
GROUP = 5
CAST_ACTIONS = ("ballot_cast", "ballot_changed")
WITHDRAWN_ACTION = "ballot_withdrawn"
# What a reader may type: hex digits with optional dashes or spaces, any case. Anything longer
# is refused before it is even normalised.
MAX_INPUT = 40
_INPUT = re.compile(r"[0-9a-fA-F\- ]+")


class ReceiptStatus(models.TextChoices):
    COUNTED = "counted", pgettext_lazy("receipt status", "counted")
    RECORDED = "recorded", pgettext_lazy("receipt status", "recorded")
    SUPERSEDED = "superseded", pgettext_lazy("receipt status", "superseded")
    WITHDRAWN = "withdrawn", pgettext_lazy("receipt status", "withdrawn")


@dataclass(frozen=True)
class Receipt:
    code: str
    status: str
    cast_at: datetime.datetime
    poll_id: int
    poll_title: str

    @property
    def status_label(self) -> str:
        return str(ReceiptStatus(self.status).label)

    @property
    def message(self) -> str:
        """The one sentence a check answers, in the reader's language."""
        # The site's one date style in the reader's language, with the zone named: never raw ISO.
        local = timezone.localtime(self.cast_at)
        when = {"at": f"{date_format(local, 'DATETIME_FORMAT')} ({local.tzname()})"}
        if self.status == ReceiptStatus.COUNTED:
            return _("Recorded as cast at %(at)s; counted in the certified result.") % when
        if self.status == ReceiptStatus.RECORDED:
            return _("Recorded as cast at %(at)s; the poll is not certified yet.") % when
        if self.status == ReceiptStatus.SUPERSEDED:
            return _("Recorded as cast at %(at)s; superseded by a later ballot.") % when
        return _("Recorded as cast at %(at)s; withdrawn.") % when


def receipt_code(link_hash: str) -> str:
    """The code shown to the voter: the hash's first 20 hex digits in groups of five."""
    prefix = link_hash[:CODE_HEX].lower()
    return "-".join(prefix[i : i + GROUP] for i in range(0, len(prefix), GROUP))


def receipt_prefix(code: str) -> str | None:
    """The hash prefix a typed code stands for, or None when it cannot be a code."""
    if len(code) > MAX_INPUT or not _INPUT.fullmatch(code):
        return None
    prefix = code.replace("-", "").replace(" ", "").lower()
    return prefix if len(prefix) == CODE_HEX else None


def _poll_id_of(stream: str) -> int | None:
    # Ballot chains are named ballot:<poll>:voter:<id> or ballot:<poll>:holder:<id> (services).
    parts = stream.split(":")
    return int(parts[1]) if len(parts) == 4 and parts[1].isdigit() else None


def receipt_find(code: str) -> Receipt | None:
    """The receipt for `code`, or None for anything that is not a ballot's receipt (unknown,
    malformed, another chain's link, a withdrawal's link): callers answer all of them alike."""
    prefix = receipt_prefix(code)
    if prefix is None:
        return None
    # A range rather than LIKE: both databases serve it from the plain index on `hash`, which
    # holds lowercase hex only, so every hash with this prefix sorts in [prefix, prefix + "g").
    event = (
        AuditEvent.objects.filter(
            hash__gte=prefix, hash__lt=prefix + "g", stream__startswith="ballot:", action__in=CAST_ACTIONS
        )
        .values("stream", "seq", "at")
        .first()
    )
    if event is None:
        return None
    poll_id = _poll_id_of(event["stream"])
    poll = Poll.objects.filter(pk=poll_id).values("status", "title").first() if poll_id else None
    if poll is None or poll_id is None:
        return None
    later = list(
        AuditEvent.objects.filter(stream=event["stream"], seq__gt=event["seq"]).values_list("action", flat=True)
    )
    if any(action in CAST_ACTIONS for action in later):
        status = ReceiptStatus.SUPERSEDED
    elif WITHDRAWN_ACTION in later:
        status = ReceiptStatus.WITHDRAWN
    elif poll["status"] == PollStatus.CERTIFIED:
        status = ReceiptStatus.COUNTED
    else:
        status = ReceiptStatus.RECORDED
    return Receipt(
        code=receipt_code(prefix),
        status=status,
        cast_at=event["at"],
        poll_id=poll_id,
        poll_title=poll["title"],
    )


def ballot_stream(*, poll_id: int, holder_id: int | None, voter_id: int | None) -> str:
    """The chain a ballot's links are on; the same names as polls.ballots._ballot_stream."""
    if holder_id is not None:
        return f"ballot:{poll_id}:holder:{holder_id}"
    return f"ballot:{poll_id}:voter:{voter_id}"


def receipts_current(streams: Iterable[str]) -> dict[str, str]:
    """The standing receipt code of each chain, for showing voters the receipts of their own
    ballots: while a ballot stands, its chain's last link is its latest cast or change."""
    return {
        stream: receipt_code(link)
        for stream, link in AuditHead.objects.filter(stream__in=list(streams)).values_list("stream", "hash")
    }


def ballot_receipt(*, poll_id: int, holder_id: int | None, voter_id: int | None) -> str:
    """The standing receipt code of one ballot ("" if its chain has no link, which a standing
    ballot always has)."""
    stream = ballot_stream(poll_id=poll_id, holder_id=holder_id, voter_id=voter_id)
    return receipts_current([stream]).get(stream, "")


def holder_receipts(*, items: Sequence[Poll], holder_id: int) -> list[tuple[Poll, str]]:
    """A holder's standing receipts on a meeting's items, for whoever votes for the holder."""
    voted = set(Ballot.objects.filter(poll__in=items, holder_id=holder_id).values_list("poll_id", flat=True))
    streams = {item.pk: ballot_stream(poll_id=item.pk, holder_id=holder_id, voter_id=None) for item in items}
    current = receipts_current(streams[pk] for pk in voted)
    return [(item, current[streams[item.pk]]) for item in items if streams[item.pk] in current]
