"""What a read may show of a poll's ballots: turnout always, the split only once results are
visible (polls.permissions.can_see_results), who chose what only after the close, and never a
secret poll's choices.

Pages, the console, the API and the admin ask here rather than each deciding on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Sum

from core.models import AuditEvent
from polls import kinds, refusals
from polls.models import Option, Poll, PollStatus

if TYPE_CHECKING:
    from polls.permissions import AnyUser

# Keys of a ballot event that tell what was chosen: an election, frequency or choice ballot's
# `lines` name each nominee's or option's choice and shares, as telling as a proposal's split.
CHOICE_KEYS = ("option", "shares_for", "shares_against", "shares_abstain", "lines")
BALLOT_STREAM = re.compile(r"^ballot:(\d+):")


@dataclass(frozen=True)
class TurnoutSoFar:
    """How many ballots and how many shares (votes, on a public poll) are cast: no split."""

    ballots: int
    shares: int


def turnout_so_far(poll: Poll) -> TurnoutSoFar:
    weight = Option.objects.filter(poll_id=poll.pk).aggregate(votes=Sum("votes"), weight=Sum("weight"))
    ballots = kinds.form_of(poll).ballots_cast(poll, votes=int(weight["votes"] or 0))
    return TurnoutSoFar(ballots=ballots, shares=int(weight["weight"] or 0))


def ballot_choice_hidden(*, user: AnyUser, poll: Poll) -> str | None:
    """Why a ballot's choice may not be shown to `user` (a label to show instead), or None.
    Who chose what is never shown while the poll is open, even where the totals are live, and
    never on a secret poll. `user` is kept for callers that judge a reader; the rule is the
    same for everyone."""
    if poll.secret:
        return str(refusals.SECRET_BALLOT)
    if poll.effective_status() not in (PollStatus.CLOSED, PollStatus.CERTIFIED):
        return str(refusals.HIDDEN_UNTIL_CLOSE)
    return None


def event_payload_shown(event: AuditEvent, *, user: AnyUser, polls: dict[int, Poll] | None = None) -> dict[str, Any]:
    """An audit event's payload as `user` may read it: a ballot's choice is replaced by the
    reason it is hidden while its poll is open, and always on a secret poll (whose events hold
    only a commitment anyway)."""
    payload = dict(event.payload or {})
    match = BALLOT_STREAM.match(event.stream)
    if match is None or not any(key in payload for key in CHOICE_KEYS):
        return payload
    poll_id = int(match.group(1))
    poll = (polls or {}).get(poll_id) or Poll.objects.filter(pk=poll_id).first()
    # A ballot whose poll is gone: nothing says it closed, so its choice stays hidden.
    reason = ballot_choice_hidden(user=user, poll=poll) if poll is not None else str(refusals.HIDDEN_UNTIL_CLOSE)
    if reason is None:
        return payload
    return {key: (reason if key in CHOICE_KEYS else value) for key, value in payload.items()}
