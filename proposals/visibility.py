"""Who sees what of a proposal: DESIGN.md, "Who sees what", written once.

Pages, API, the dashboard, search, e-mails and the admin ask these functions; none of them
decides on its own. The readers:

- **secretary** (the `secretary` group, and superusers): everything.
- **director** (a director in office): every proposal once it was submitted (never another
  member's draft), its status and transitions, and the board's *deliberation*.
- **recused director**: a director with a `Recusal` row for the proposal, or whose declared
  interests conflict with its counterparty. Sees the proposal, its transitions, the board's
  decision and their own recusal; never the deliberation, and may not add to it.
- **proposer**: their own proposal in every state, its transitions and, once decided, the
  board's decision; never the deliberation.
- **everyone else** (members and visitors): a proposal only once it is put to a shareholder
  vote (at the vote, adopted, defeated, or implemented after a vote), with the board's decision
  and recommendation and the attachments marked as proxy material; never individual votes.

The *deliberation* is the individual review votes (with their comments), the board's comments,
board-only attachments, other directors' recusals and the running tally.

Comments carry no audience of their own; it follows from when they were written:

- before the proposal is put to a shareholder vote a comment is a **board comment**: the
  directors who are not recused and the secretary read it. The proposer may write one too
  (to answer the board, say) and reads their own, never the board's; a recused director may
  not comment then, since that would be taking part in the deliberation;
- from the shareholder vote on a comment is **public**: everyone who sees the proposal reads
  it, and anyone signed in who sees it may add one.

Attachments carry a `visibility`: `board` (the default) is read by the board, the secretary
and whoever uploaded it; `proxy_material` is, in addition, public once the proposal is put to
a vote. The proposer, directors who are not recused and the secretary attach files; only the
secretary marks proxy material.

The audit trail: a reader of the deliberation sees every event. Everyone else sees only the
kinds of event listed in `PUBLIC_EVENTS` (transitions, edits, follow-ups), the comment and
attachment events of the comments and files they may see, and a recused director their own
recusal. An event of any other kind is the board's until it is listed here.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet

from core.audit import audit_trail
from core.models import AuditEvent
from core.roles import is_secretary
from proposals.models import Attachment, AttachmentVisibility, Comment, Director, Proposal
from proposals.workflow import Action, State

AnyUser = User | AnonymousUser

# Drafts, and proposals withdrawn before they were ever submitted, are their proposer's own.
PRIVATE = Q(status=State.DRAFT) | Q(status=State.WITHDRAWN, submitted_at__isnull=True)
# Put to a shareholder vote: public from then on. `item` is set by put_to_vote, so a proposal
# implemented straight after the board approved it (no vote) stays with the board.
PUT_TO_VOTE = Q(status__in=[State.SHAREHOLDER_VOTE, State.ADOPTED, State.DEFEATED]) | Q(
    status=State.IMPLEMENTED, item__isnull=False
)
DECIDED = {
    State.APPROVED,
    State.REJECTED,
    State.REFERRED,
    State.SHAREHOLDER_VOTE,
    State.ADOPTED,
    State.DEFEATED,
    State.IMPLEMENTED,
}
# Audit events anyone who sees the proposal may read, payload and all.
PUBLIC_EVENTS = {"created", "edited", "follow_up_opened", "follow_up_done", *(action.value for action in Action)}
# Events whose payload names a comment or an attachment: shown with the thing they are about.
COMMENT_EVENTS = {"commented"}
ATTACHMENT_EVENTS = {"attached", "attachment_visibility_set"}
RECUSAL_EVENTS = {"director_recused"}
# The board's decision is public once put to a vote, but the comment the board rule writes on it
# is the final tally and how many directors could vote ("2 approved, 1 rejected ... (3 of 4 who
# may vote)"): the split and the recusals are the deliberation's.
DECISION_EVENTS = {Action.DECIDE.value, Action.REFER.value}


def is_private(proposal: Proposal) -> bool:
    return proposal.status == State.DRAFT or (proposal.status == State.WITHDRAWN and proposal.submitted_at is None)


def is_put_to_vote(proposal: Proposal) -> bool:
    if proposal.status in (State.SHAREHOLDER_VOTE, State.ADOPTED, State.DEFEATED):
        return True
    return proposal.status == State.IMPLEMENTED and proposal.item_id is not None


def director_of(user: AnyUser | None) -> Director | None:
    """The reader's seat on the board, if they hold one now."""
    if user is None or not user.is_authenticated:
        return None
    return Director.objects.filter(user_id=user.pk, in_office=True).select_related("user").first()


def _is_proposer(user: AnyUser | None, proposal: Proposal) -> bool:
    return user is not None and user.is_authenticated and proposal.proposer_id == user.pk


def _is_secretary(user: AnyUser | None) -> bool:
    return user is not None and is_secretary(user)


def recusal_of(director: Director, proposal: Proposal) -> str | None:
    """Why this director stands aside from this proposal: the recorded recusal (which binds for
    the review until the secretary lifts it) or, before one is recorded, a conflict with the
    counterparty. The matching itself is the Director model's."""
    return director.recused_from(proposal)


def reader_recusal(user: AnyUser | None, proposal: Proposal) -> str | None:
    """The reader's own recusal from this proposal, if they are a recused director."""
    director = director_of(user)
    return recusal_of(director, proposal) if director is not None else None


# --- Proposals -------------------------------------------------------------------------------


def proposals_visible_to(user: AnyUser | None) -> QuerySet[Proposal]:
    proposals = Proposal.objects.select_related("proposer")
    if _is_secretary(user):
        return proposals
    if director_of(user) is not None:
        assert user is not None  # noqa: S101 - a director is a signed-in user
        return proposals.filter(~PRIVATE | Q(proposer_id=user.pk))
    if user is not None and user.is_authenticated:
        return proposals.filter(PUT_TO_VOTE | Q(proposer_id=user.pk))
    return proposals.filter(PUT_TO_VOTE)


def can_see_proposal(user: AnyUser | None, proposal: Proposal) -> bool:
    if is_put_to_vote(proposal) or _is_proposer(user, proposal) or _is_secretary(user):
        return True
    return not is_private(proposal) and director_of(user) is not None


def can_see_deliberation(user: AnyUser | None, proposal: Proposal) -> bool:
    """Individual review votes, board comments, board-only attachments, the running tally."""
    if _is_secretary(user):
        return True
    director = director_of(user)
    if director is None or is_private(proposal):
        return False
    return recusal_of(director, proposal) is None


def can_see_board_decision(user: AnyUser | None, proposal: Proposal) -> bool:
    """Approved, rejected or referred with no recommendation: the board (recused directors too)
    and the secretary at once, the proposer once decided, everyone once put to a vote."""
    if not can_see_proposal(user, proposal) or proposal.status not in DECIDED:
        return False
    return (
        is_put_to_vote(proposal)
        or _is_secretary(user)
        or director_of(user) is not None
        or (_is_proposer(user, proposal))
    )


# --- Comments --------------------------------------------------------------------------------


def public_since(proposal: Proposal) -> Any:
    """When the proposal went to a shareholder vote (its item was created with it), or None."""
    if not is_put_to_vote(proposal) or proposal.item_id is None:
        return None
    return proposal.item.created_at if proposal.item else None


def comments_visible_to(user: AnyUser | None, proposal: Proposal) -> QuerySet[Comment]:
    comments = Comment.objects.filter(proposal=proposal).select_related("author").order_by("created_at", "pk")
    if not can_see_proposal(user, proposal):
        return comments.none()
    if can_see_deliberation(user, proposal):
        return comments
    visible = Q(pk__in=[])
    since = public_since(proposal)
    if since is not None:
        visible |= Q(created_at__gte=since)
    if user is not None and user.is_authenticated:
        visible |= Q(author_id=user.pk)
    return comments.filter(visible)


def can_comment(user: AnyUser | None, proposal: Proposal) -> bool:
    if user is None or not user.is_authenticated or not can_see_proposal(user, proposal):
        return False
    if public_since(proposal) is not None:
        return True
    return can_see_deliberation(user, proposal) or (
        _is_proposer(user, proposal) and reader_recusal(user, proposal) is None
    )


# --- Attachments -----------------------------------------------------------------------------


def attachments_visible_to(user: AnyUser | None, proposal: Proposal) -> QuerySet[Attachment]:
    attachments = Attachment.objects.filter(proposal=proposal).order_by("created_at", "pk")
    if not can_see_proposal(user, proposal):
        return attachments.none()
    if can_see_deliberation(user, proposal):
        return attachments
    visible = Q(pk__in=[])
    if is_put_to_vote(proposal):
        visible |= Q(visibility=AttachmentVisibility.PROXY_MATERIAL)
    if user is not None and user.is_authenticated:
        visible |= Q(uploaded_by_id=user.pk)
    return attachments.filter(visible)


def can_see_attachment(user: AnyUser | None, attachment: Attachment) -> bool:
    return attachments_visible_to(user, attachment.proposal).filter(pk=attachment.pk).exists()


def can_attach(user: AnyUser | None, proposal: Proposal) -> bool:
    if user is None or not user.is_authenticated or not can_see_proposal(user, proposal):
        return False
    return can_see_deliberation(user, proposal) or (
        _is_proposer(user, proposal) and reader_recusal(user, proposal) is None
    )


def can_set_attachment_visibility(user: AnyUser | None) -> bool:
    return _is_secretary(user)


# --- The audit trail -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reader:
    """What a reader outside the deliberation may see of the trail beyond its public events."""

    comments: set[int]
    attachments: set[int]
    own_recusal: bool
    username: str | None


def _shown(action: str, payload: dict[str, Any], reader: _Reader) -> bool:
    # The kinds of event are disjoint sets: each kind is shown by its own rule.
    if action in PUBLIC_EVENTS:
        return True
    if action in COMMENT_EVENTS:
        return payload.get("comment_id") in reader.comments
    if action in ATTACHMENT_EVENTS:
        return payload.get("attachment") in reader.attachments
    if action in RECUSAL_EVENTS:
        return reader.own_recusal and payload.get("director") == reader.username
    return False


def _as_shown(event: AuditEvent, payload: dict[str, Any]) -> AuditEvent:
    if event.action in DECISION_EVENTS and payload.get("comment"):
        event = copy.copy(event)  # shown without its comment; the stored row is untouched
        event.payload = {key: value for key, value in payload.items() if key != "comment"}
    return event


def events_visible_to(user: AnyUser | None, proposal: Proposal) -> list[AuditEvent]:
    """The proposal's trail as this reader may read it, oldest first (see the module's notes)."""
    if not can_see_proposal(user, proposal):
        return []
    events = audit_trail(f"proposal:{proposal.pk}")
    if can_see_deliberation(user, proposal):
        return events
    reader = _Reader(
        comments=set(comments_visible_to(user, proposal).values_list("pk", flat=True)),
        attachments=set(attachments_visible_to(user, proposal).values_list("pk", flat=True)),
        own_recusal=reader_recusal(user, proposal) is not None,
        username=user.get_username() if user is not None and user.is_authenticated else None,
    )
    visible = []
    for event in events:
        payload = event.payload if isinstance(event.payload, dict) else {}
        if _shown(event.action, payload, reader):
            visible.append(_as_shown(event, payload))
    return visible
