"""Who may do what with polls: one place, used by the pages, the API and the admin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.roles import is_secretary
from polls.exceptions import NotSecretary
from polls.models import Ballot, Poll, PollStatus, ResultsVisibility

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser


def can_manage_polls(user: AnyUser) -> bool:
    return is_secretary(user)


def poll_manager_required(actor: AnyUser | None) -> None:
    """A write only the secretary makes (open, close, schedule, edit, import a register), asked
    by the service itself, so no path (the admin's model permissions included) goes round it.
    No actor is the system's own work: the sweep, a command, the demo."""
    if actor is not None and not can_manage_polls(actor):
        raise NotSecretary()


def can_view_poll(user: AnyUser, poll: Poll) -> bool:
    """Drafts are the secretary's working copies; everything else is public."""
    return poll.status != PollStatus.DRAFT or can_manage_polls(user)


def can_see_results(*, user: AnyUser, poll: Poll, now: Any = None) -> bool:
    """Results visibility is a promise to voters: nobody, secretary included, sees early."""
    status = poll.effective_status(now)
    if status in (PollStatus.CLOSED, PollStatus.CERTIFIED):
        return True
    if status != PollStatus.OPEN:
        return False
    if poll.results_visibility == ResultsVisibility.LIVE:
        return True
    if poll.results_visibility == ResultsVisibility.AFTER_VOTE:
        return user.is_authenticated and _has_voted(user, poll)
    return False


def _has_voted(user: AnyUser, poll: Poll) -> bool:
    """The user cast a ballot, or a ballot was cast for a holding of theirs (by their proxy):
    a holder whose proxy voted has voted."""
    if user.pk is None:
        return False
    ballots = Ballot.objects.filter(poll_id=poll.pk)
    if ballots.filter(voter_id=user.pk).exists():
        return True
    # Two probes of the (poll, voter) and (poll, holder) keys rather than one OR, which would
    # read every ballot of the poll.
    return poll.meeting_id is not None and ballots.filter(holder__user_id=user.pk).exists()
