"""The board's side of a review beyond the workflow table: its quorum setting, recusals, the
secretary's decision at the due date (and why it is refused before it), ties reported back to
the secretary and a new due date for a review the board left tied."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.audit import audit_append
from core.roles import is_secretary
from core.validators import bidi_override_fields, bidi_overrides_message
from proposals import selectors
from proposals.exceptions import IllegalAction, InvalidProposal, NotAllowed
from proposals.models import BoardSettings, Director, Proposal, Recusal
from proposals.notifications import director_emails, notification_enqueue, secretary_emails
from proposals.permissions import roles_of
from proposals.review import QuorumBasis, Verdict
from proposals.workflow import Action, State, allowed_actions

BOARD_STREAM = "board"
# Not a workflow transition (the state stays in review), but offered beside them on a tie.
RESCHEDULE = "reschedule"


def moment(value: datetime.datetime) -> str:
    """A date and time as the reader reads them: their language's format, in the site's time
    zone with its name, never a raw UTC timestamp."""
    local = timezone.localtime(value)
    return f"{date_format(local, 'DATETIME_FORMAT')} ({local.tzname()})"


@transaction.atomic
def board_settings_update(*, quorum_basis: str, actor: User) -> BoardSettings:
    """The secretary sets the board's quorum basis; the change is on the board's trail."""
    if not is_secretary(actor):
        raise NotAllowed(_("Only the company secretary may change the board's settings."))
    try:
        basis = QuorumBasis(quorum_basis)
    except ValueError:
        raise InvalidProposal(_("Choose a quorum basis: all directors in office or the disinterested ones.")) from None
    row, _created = BoardSettings.objects.select_for_update().get_or_create(pk=1)
    before = row.quorum_basis
    row.quorum_basis = basis.value
    row.updated_by = actor
    row.save()
    if before != basis.value or _created:
        audit_append(
            stream=BOARD_STREAM,
            action="board_settings_changed",
            actor=actor,
            payload={"quorum_basis": {"from": before, "to": basis.value}},
        )
    return row


def recusals_record(*, proposal: Proposal) -> None:
    """Recuse every director in office whose interests conflict with the proposal's counterparty,
    once each, with the event on the proposal's trail: when the review starts and whenever an
    interest is declared or recorded during it."""
    for director in Director.objects.filter(in_office=True).select_related("user"):
        interest = director.conflict_with(proposal.counterparty)
        if interest is None:
            continue
        _recusal, created = Recusal.objects.get_or_create(
            proposal=proposal, director=director, defaults={"interest": interest}
        )
        if created:
            audit_append(
                stream=f"proposal:{proposal.pk}",
                action="director_recused",
                actor=None,
                payload={"director": director.user.get_username(), "interest": interest},
            )


def decide_possible_at(proposal: Proposal) -> datetime.datetime | None:
    """When the secretary's decide becomes possible: the due date, or None when it already is."""
    due = proposal.review_due_at
    return due if due is not None and timezone.now() < due else None


def decide_refusal(proposal: Proposal, verdict: Verdict, actor: User | AnonymousUser) -> IllegalAction | None:
    """Why the secretary cannot decide now, or None: the board reviews until the due date, and
    a tie decides nothing (return the proposal or set a new due date)."""
    others = [a for a in allowed_actions(proposal.status, roles_of(actor, proposal)) if a != Action.DECIDE]
    until = decide_possible_at(proposal)
    if until is not None:
        return IllegalAction(
            _("The board reviews until %(due)s; the secretary decides only at the due date (or returns it before).")
            % {"due": moment(until)},
            others,
        )
    if verdict.outcome is None and verdict.tied:
        return IllegalAction(
            _("The board is tied (%(tied)s): return the proposal or set a new due date.")
            % {"tied": " / ".join(verdict.tied)},
            [*others, RESCHEDULE],
        )
    return None


def tie_report(*, proposal: Proposal, verdict: Verdict) -> None:
    """Every director who may vote has voted and the plurality is tied: the secretary hears of
    it once per due date, and the tie is on the trail."""
    round_ = f"{proposal.review_due_at:%Y%m%d%H%M}" if proposal.review_due_at else "tie"
    already = selectors.tie_reported(proposal)
    if already == round_:
        return
    audit_append(
        stream=f"proposal:{proposal.pk}",
        action="review_tied",
        actor=None,
        payload={"comment": verdict.reason, "tied": list(verdict.tied), "round": round_},
    )
    notification_enqueue(kind="review_tied", proposal=proposal, recipients=secretary_emails(), round_=round_)


@transaction.atomic
def review_reschedule(
    *, proposal_id: int, actor: User, due_at: datetime.datetime | None, comment: str = ""
) -> Proposal:
    """The secretary gives the board a new due date (after a tie, or to wait for a director);
    the review stays open and the directors are told."""
    proposal = Proposal.objects.select_for_update().filter(pk=proposal_id).first()
    if proposal is None:
        raise InvalidProposal(_("No such proposal."))
    if not is_secretary(actor):
        raise NotAllowed(
            _("Only the secretary may set a new due date."),
            allowed_actions(proposal.status, roles_of(actor, proposal)),
        )
    if proposal.status != State.IN_REVIEW:
        raise IllegalAction(
            _("Only a proposal in review gets a new due date."),
            allowed_actions(proposal.status, roles_of(actor, proposal)),
        )
    if due_at is None or due_at <= timezone.now():
        raise InvalidProposal(_("Set a review due date in the future."))
    if bidi_override_fields(comment=comment):
        raise InvalidProposal(bidi_overrides_message(["comment"]))
    before = proposal.review_due_at
    proposal.review_due_at = due_at
    proposal.save(update_fields=["review_due_at", "updated_at"])
    audit_append(
        stream=f"proposal:{proposal.pk}",
        action="review_rescheduled",
        actor=actor,
        payload={
            "from_due_at": before.isoformat() if before else None,
            "due_at": due_at.isoformat(),
            "comment": comment.strip(),
        },
    )
    notification_enqueue(
        kind="review_requested",
        proposal=proposal,
        recipients=director_emails(proposal, disinterested_only=True),
        round_=f"{due_at:%Y%m%d%H%M}",
    )
    return proposal
