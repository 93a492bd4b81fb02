"""Who may do what with polls: one place, used by the pages, the API and the admin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from polls.models import Ballot, Poll, PollStatus, ResultsVisibility

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from rest_framework.request import Request
    from rest_framework.views import APIView

    AnyUser = User | AnonymousUser

SECRETARY_GROUP = "secretary"


def is_secretary(user: AnyUser) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    # Asked several times per request (queryset, permission, template): one query, then
    # remembered on the user object, which lives only as long as the request.
    cached: bool | None = getattr(user, "_is_secretary", None)
    if cached is None:
        cached = user.groups.filter(name=SECRETARY_GROUP).exists()
        setattr(user, "_is_secretary", cached)  # noqa: B010 - a private memo, not a model field
    return cached


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


class IsSecretaryOrReadOnly(BasePermission):
    message = _("Only the company secretary may do this.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return can_manage_polls(request.user)


class IsSecretary(BasePermission):
    message = _("Only the company secretary may do this.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        return can_manage_polls(request.user)
