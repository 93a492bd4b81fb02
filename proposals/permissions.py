"""Who may see and act on proposals: used by pages, API and admin alike."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

from core.roles import is_secretary
from proposals.models import Proposal
from proposals.visibility import PRIVATE, can_see_proposal, director_of, is_private
from proposals.workflow import Role, State

__all__ = ["PRIVATE", "can_edit_proposal", "can_view_proposal", "director_of", "is_private", "roles_of"]

AnyUser = User | AnonymousUser


def roles_of(user: AnyUser | None, proposal: Proposal) -> set[Role]:
    """The workflow roles `user` holds for this proposal; `None` is the system itself."""
    if user is None:
        return {Role.SYSTEM}
    roles: set[Role] = set()
    if user.is_authenticated and proposal.proposer_id == user.pk:
        roles.add(Role.PROPOSER)
    if is_secretary(user):
        roles.add(Role.SECRETARY)
    return roles


def can_view_proposal(user: AnyUser, proposal: Proposal) -> bool:
    """Whether the reader sees the proposal at all; what of it they see is in `visibility`."""
    return can_see_proposal(user, proposal)


def can_edit_proposal(user: AnyUser, proposal: Proposal) -> bool:
    return (
        user.is_authenticated
        and proposal.proposer_id == user.pk
        and proposal.status
        in (
            State.DRAFT,
            State.RETURNED,
        )
    )
