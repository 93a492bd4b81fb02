"""A director's review vote, and the board's decision it may settle on the spot."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_append
from proposals import selectors
from proposals.board import tie_report
from proposals.exceptions import IllegalAction, InvalidProposal, NotAllowed
from proposals.models import Proposal, ReviewVote
from proposals.permissions import director_of
from proposals.proposal_trail import proposal_off_trail
from proposals.review import REFERRED, Decision, automatic_verdict
from proposals.services import _refuse_bidi_overrides, proposal_transition, state_word
from proposals.workflow import Action, State


@transaction.atomic
def review_vote_cast(*, proposal_id: int, actor: User, decision: str, comment: str = "") -> ReviewVote:
    """A director's approve, reject, refer or abstain. A conflicted director is refused, naming
    the interest; once the board rule can no longer change the proposal is decided on the spot
    (referred when the refer votes carry it), and a final tie is reported to the secretary."""
    try:
        proposal = Proposal.objects.select_for_update().get(pk=proposal_id)
    except Proposal.DoesNotExist:
        raise InvalidProposal(_("No such proposal.")) from None
    off_trail = proposal_off_trail(proposal)
    if off_trail is not None:
        raise IllegalAction(off_trail, [])
    if decision not in {choice.value for choice in Decision}:
        raise InvalidProposal(_("Decide approve, reject, refer or abstain."))
    _refuse_bidi_overrides(comment=comment)
    director = director_of(actor)
    if director is None:
        raise NotAllowed(_("Only directors in office review proposals."))
    if proposal.status != State.IN_REVIEW:
        raise IllegalAction(
            _("The proposal is %(status)s; the board reviews only in review.")
            % {"status": state_word(proposal.status)},
            [],
        )
    interest = director.recused_from(proposal)
    if interest is not None:
        raise NotAllowed(_("You are recused: you declared an interest in %(interest)s.") % {"interest": interest})
    vote, created = ReviewVote.objects.update_or_create(
        proposal=proposal, director=director, defaults={"decision": decision, "comment": comment}
    )
    audit_append(
        stream=f"proposal:{proposal.pk}",
        action="review_vote" if created else "review_vote_changed",
        actor=actor,
        payload={"director": actor.get_username(), "decision": decision, "comment": comment},
    )
    board_rule_apply(proposal=proposal)
    return vote


def board_rule_apply(*, proposal: Proposal) -> None:
    """After a director's vote, wherever it was cast: once the board rule can no longer change,
    the system decides (or refers, when the refer votes carry it); a final tie goes to the
    secretary."""
    verdict = automatic_verdict(selectors.review_tally(proposal))
    if verdict.final and verdict.outcome is not None:
        board_action = Action.REFER if verdict.outcome == REFERRED else Action.DECIDE
        proposal_transition(
            proposal_id=proposal.pk, action=board_action, actor=None, outcome=verdict.outcome, comment=verdict.reason
        )
    elif verdict.final and verdict.tied:
        tie_report(proposal=proposal, verdict=verdict)
