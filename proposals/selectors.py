from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.utils import timezone

from core.audit import audit_trail
from core.models import AuditEvent
from proposals import visibility
from proposals.models import BoardSettings, Director, FollowUp, Proposal, Recusal, ReviewVote
from proposals.permissions import roles_of
from proposals.review import QuorumBasis, Tally
from proposals.workflow import Action, State, allowed_actions


def proposals_visible_to(user: User | AnonymousUser) -> QuerySet[Proposal]:
    """What this reader may list and search: the rule lives in `proposals.visibility`."""
    return visibility.proposals_visible_to(user)


def actions_for(user: User | AnonymousUser, proposal: Proposal) -> list[str]:
    """What this user may do now. The automatic steps (settle, the board's own decision) are
    the system's; `decide` is offered to the secretary, who decides at the due date."""
    return allowed_actions(proposal.status, roles_of(user, proposal))


def disinterested_directors(proposal: Proposal) -> list[Director]:
    return [
        director
        for director in Director.objects.filter(in_office=True).select_related("user")
        if director.recused_from(proposal) is None
    ]


def quorum_basis() -> QuorumBasis:
    """The board's setting; a board that never changed it counts all directors in office."""
    value = BoardSettings.objects.filter(pk=1).values_list("quorum_basis", flat=True).first()
    return QuorumBasis(value) if value else QuorumBasis.ALL_IN_OFFICE


def review_tally(proposal: Proposal) -> Tally:
    in_office = list(Director.objects.filter(in_office=True).select_related("user"))
    eligible = {director.pk for director in in_office if director.recused_from(proposal) is None}
    decisions = [vote.decision for vote in ReviewVote.objects.filter(proposal=proposal) if vote.director_id in eligible]
    return Tally.of(len(eligible), decisions, in_office=len(in_office), basis=quorum_basis())


def tie_reported(proposal: Proposal) -> str | None:
    """The round (due date) of the last tie reported to the secretary, if any."""
    payload = (
        AuditEvent.objects.filter(stream=f"proposal:{proposal.pk}", action="review_tied")
        .order_by("-seq")
        .values_list("payload", flat=True)
        .first()
    )
    return str(payload.get("round")) if isinstance(payload, dict) else None


@dataclass(frozen=True)
class ReviewRow:
    director: Director
    recused_for: str | None
    decision: str | None
    comment: str
    recusal_id: int | None = None  # the binding recusal row, which the secretary may lift


def review_board(proposal: Proposal) -> list[ReviewRow]:
    votes = {vote.director_id: vote for vote in ReviewVote.objects.filter(proposal=proposal)}
    binding = dict(Recusal.objects.filter(proposal=proposal, lifted_at__isnull=True).values_list("director_id", "pk"))
    rows = []
    for director in Director.objects.filter(in_office=True).select_related("user"):
        vote = votes.get(director.pk)
        rows.append(
            ReviewRow(
                director=director,
                recused_for=director.recused_from(proposal),
                decision=vote.decision if vote else None,
                comment=vote.comment if vote else "",
                recusal_id=binding.get(director.pk),
            )
        )
    return rows


def proposal_timeline(proposal: Proposal) -> list[AuditEvent]:
    """The whole trail, for the secretary's tools; readers get `visibility.events_visible_to`."""
    return audit_trail(f"proposal:{proposal.pk}")


@dataclass(frozen=True)
class BoardDecision:
    outcome: str  # approved, rejected or referred
    reason: str


def board_decision(proposal: Proposal) -> BoardDecision | None:
    """The board's last decision on the proposal and its reason, as the trail records it."""
    payload = (
        AuditEvent.objects.filter(stream=f"proposal:{proposal.pk}", action__in=[Action.DECIDE, Action.REFER])
        .order_by("-seq")
        .values_list("payload", flat=True)
        .first()
    )
    if not isinstance(payload, dict):
        return None
    return BoardDecision(outcome=str(payload.get("to", "")), reason=str(payload.get("comment", "")))


def review_queue(user: User | AnonymousUser) -> list[Proposal]:
    """Proposals in review that wait for this director's vote, soonest due first."""
    director = Director.objects.filter(user_id=user.pk, in_office=True).first() if user.is_authenticated else None
    if director is None:
        return []
    voted = ReviewVote.objects.filter(director=director).values("proposal_id")
    waiting = (
        visibility.proposals_visible_to(user)
        .filter(status=State.IN_REVIEW)
        .exclude(pk__in=voted)
        .order_by("review_due_at")
    )
    return [proposal for proposal in waiting if director.recused_from(proposal) is None]


def secretary_queue() -> dict[str, list[Proposal]]:
    proposals = Proposal.objects.select_related("proposer").order_by("review_due_at", "updated_at")
    return {
        "to_start": list(proposals.filter(status=State.SUBMITTED)),
        "in_review": list(proposals.filter(status=State.IN_REVIEW)),
        "to_put_to_vote": list(proposals.filter(status__in=[State.APPROVED, State.REFERRED])),
        "in_vote": list(proposals.filter(status=State.SHAREHOLDER_VOTE)),
    }


@dataclass(frozen=True)
class RecusalRow:
    proposal: Proposal
    interest: str


def recusals_of(user: User | AnonymousUser) -> list[RecusalRow]:
    """Proposals in review this director stands aside from, with the declared interest why:
    the recorded recusal, or a conflict found before review started."""
    director = Director.objects.filter(user_id=user.pk, in_office=True).first() if user.is_authenticated else None
    if director is None:
        return []
    rows = []
    waiting = visibility.proposals_visible_to(user).filter(status__in=[State.SUBMITTED, State.IN_REVIEW])
    for proposal in waiting.order_by("review_due_at"):
        interest = director.recused_from(proposal)
        if interest:
            rows.append(RecusalRow(proposal=proposal, interest=interest))
    return rows


def proposals_of(user: User | AnonymousUser) -> list[Proposal]:
    """What the reader submitted, most recently changed first."""
    if not user.is_authenticated:
        return []
    return list(visibility.proposals_visible_to(user).filter(proposer_id=user.pk).order_by("-updated_at")[:50])


def follow_ups_due(*, within: datetime.timedelta = datetime.timedelta(days=30)) -> list[FollowUp]:
    """Open follow-ups falling due soon (or overdue), for the secretary's console."""
    horizon = timezone.now() + within
    return list(FollowUp.objects.filter(done_at__isnull=True, due_at__lte=horizon).select_related("proposal"))


def follow_up_open(follow_up_id: int) -> FollowUp | None:
    """A follow-up not yet done, for the confirmation before marking it done."""
    return FollowUp.objects.filter(pk=follow_up_id, done_at__isnull=True).select_related("proposal").first()
