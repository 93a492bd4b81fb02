"""Who may do what with polls: one place, used by the pages, the API and the admin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.roles import is_secretary
from polls.models import Ballot, Poll, PollStatus, ResultsVisibility

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser


def can_manage_polls(user: AnyUser) -> bool:
    return is_secretary(user)


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
        return user.is_authenticated and Ballot.objects.filter(poll_id=poll.pk, voter_id=user.pk).exists()
    return False
