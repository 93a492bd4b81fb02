"""Who may see and act on proposals: used by pages, API and admin alike."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q

from polls.permissions import is_secretary
from proposals.models import Director, Proposal
from proposals.workflow import Role, State

AnyUser = User | AnonymousUser

# Drafts, and proposals withdrawn before they were ever submitted, are their proposer's own.
PRIVATE = Q(status=State.DRAFT) | Q(status=State.WITHDRAWN, submitted_at__isnull=True)


def is_private(proposal: Proposal) -> bool:
    return proposal.status == State.DRAFT or (proposal.status == State.WITHDRAWN and proposal.submitted_at is None)


def director_of(user: AnyUser) -> Director | None:
    if not user.is_authenticated:
        return None
    return Director.objects.filter(user_id=user.pk, in_office=True).first()


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
    if not is_private(proposal):
        return True
    return user.is_authenticated and (proposal.proposer_id == user.pk or is_secretary(user))


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
