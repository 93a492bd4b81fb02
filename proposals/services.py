"""Writes of a proposal's own life: creating and editing it, moving it through the workflow
table, its follow-ups, and the reactions to polls (escalation, settlement). Pages, API, admin,
tasks and commands call these. Its neighbours: `notifications` (who is told), `materials`
(comments and attachments), `review_votes` (the directors' votes), `board` (recusals, ties,
the due date) and `people_services` (directors and their interests)."""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.audit import audit_append
from core.roles import is_secretary
from core.validators import (
    bidi_override_fields,
    bidi_overrides_message,
    control_character_fields,
    control_characters_message,
)
from meetings import meeting_services
from meetings.models import Meeting
from meetings.recommendations import item_recommendation_set
from polls import selectors as poll_selectors
from polls.models import Poll, PollStatus, VoteStandard
from polls.outcomes import certified_outcome
from proposals import notifications, selectors
from proposals.board import decide_refusal, recusals_record
from proposals.exceptions import FollowUpNotFound, IllegalAction, InvalidProposal, NotAllowed
from proposals.models import (
    PROPOSAL_TEXT_FIELDS,
    STATE_CHOICES,
    FollowUp,
    Proposal,
)
from proposals.party_services import party_resolve
from proposals.permissions import can_edit_proposal, roles_of
from proposals.proposal_trail import proposal_off_trail
from proposals.review import forced_verdict, recommendation
from proposals.workflow import Action, Role, State, allowed_actions, resolve_target, transition_for

FOLLOW_UP_DAYS = 30
EDITABLE_FIELDS = set(PROPOSAL_TEXT_FIELDS)
# Who may act, in a refusal: "Only the secretary may ...". Italian carries the article here.
ROLE_WORDS = {
    Role.PROPOSER: pgettext_lazy("workflow role, in a sentence", "proposer"),
    Role.SECRETARY: pgettext_lazy("workflow role, in a sentence", "secretary"),
    Role.SYSTEM: pgettext_lazy("workflow role, in a sentence", "system"),
}


def state_word(state: str) -> str:
    """A proposal's state in a sentence, in the reader's language ("in review", "in revisione");
    the action names beside it stay the API's identifiers, which the answer lists."""
    return str(dict(STATE_CHOICES).get(state, state)).lower()


def _stream(proposal: Proposal) -> str:
    return f"proposal:{proposal.pk}"


# --- Creating and editing --------------------------------------------------------------------


SINGLE_LINE_FIELDS = {"title", "counterparty"}


def _refuse_control_characters(**values: str | Iterable[str]) -> None:
    """Single-line values, for the callers that bypass forms and serializers."""
    fields = control_character_fields(**values)
    if fields:
        raise InvalidProposal(control_characters_message(fields))


def _refuse_bidi_overrides(**values: str | None) -> None:
    """Free text (a summary, a body, a comment): right-to-left text is welcome, an override not."""
    fields = bidi_override_fields(**values)
    if fields:
        raise InvalidProposal(bidi_overrides_message(fields))


@transaction.atomic
def proposal_create(
    *,
    actor: User,
    title: str,
    summary: str,
    body: str = "",
    kind: str = "other",
    amount: Decimal | None = None,
    currency: str = "",
    counterparty: str = "",
    needs_shareholder_vote: bool = False,
    advisory: bool = False,
    polls: Iterable[Poll] = (),
    escalated_from: Poll | None = None,
) -> Proposal:
    """A draft proposal whose proposer is the actor (for a poll that escalated, the poll's author
    or a secretary)."""
    if amount is not None and amount < 0:
        raise InvalidProposal(_("The amount must not be negative."))
    _refuse_control_characters(title=title, counterparty=counterparty)
    _refuse_bidi_overrides(summary=summary, body=body)
    proposal = Proposal.objects.create(
        proposer=actor,
        title=title,
        summary=summary,
        body=body,
        kind=kind,
        amount=amount,
        currency=currency.upper(),
        counterparty=counterparty.strip(),
        party=party_resolve(text=counterparty, actor=actor),
        needs_shareholder_vote=needs_shareholder_vote,
        advisory=advisory,
        escalated_from=escalated_from,
    )
    proposal.polls.set(list(polls))
    audit_append(
        stream=_stream(proposal),
        action="created",
        actor=actor,
        payload={"to": State.DRAFT, "escalated_from": escalated_from.pk if escalated_from else None},
    )
    return proposal


@transaction.atomic
def proposal_update(
    *, proposal: Proposal, actor: User, polls: Iterable[Poll] | None = None, **changes: Any
) -> Proposal:
    """The proposer edits the text while it is a draft or was returned; never afterwards."""
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if not can_edit_proposal(actor, proposal):
        raise NotAllowed(
            _("Only the proposer may edit, and only in draft or returned; this one is %(status)s.")
            % {"status": state_word(proposal.status)}
        )
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidProposal(_("These fields cannot be edited: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    _refuse_control_characters(**{f: str(v) for f, v in changes.items() if f in SINGLE_LINE_FIELDS})
    _refuse_bidi_overrides(**{f: v for f, v in changes.items() if isinstance(v, str)})
    for field, value in changes.items():
        setattr(proposal, field, value)
    if "counterparty" in changes:
        proposal.party = party_resolve(text=proposal.counterparty, actor=actor)
    proposal.save()
    if polls is not None:
        proposal.polls.set(list(polls))
    audit_append(stream=_stream(proposal), action="edited", actor=actor, payload={"fields": sorted(changes)})
    return proposal


# --- The workflow ---------------------------------------------------------------------------


def _refuse(proposal: Proposal, actor: User | None, action: str) -> None:
    transition = transition_for(proposal.status, action)
    roles = roles_of(actor, proposal)
    allowed = allowed_actions(proposal.status, roles)
    if transition is None:
        raise IllegalAction(
            _("A proposal that is %(status)s cannot %(action)s.")
            % {"status": state_word(proposal.status), "action": action},
            allowed,
        )
    if action == Action.REFER and Role.SYSTEM not in roles:
        raise NotAllowed(
            _("Referral is the board's decision: it follows when the directors vote to refer; nobody refers alone."),
            allowed,
        )
    if not roles & set(transition.roles):
        needed = functools.reduce(
            lambda first, second: _("%(first)s or %(second)s") % {"first": first, "second": second},
            (str(ROLE_WORDS[role]) for role in sorted(transition.roles, key=lambda role: role.value)),
        )
        raise NotAllowed(
            _("Only the %(roles)s may %(action)s this proposal.") % {"roles": needed, "action": action}, allowed
        )


@dataclass
class _Step:
    """One transition in the making: the caller's arguments, and what the action's own steps
    add before the change is saved (the outcome, a default comment, the event's payload)."""

    proposal: Proposal
    actor: User | None
    comment: str
    outcome: str | None
    due_at: datetime.datetime | None
    meeting: Meeting | None
    standard: str
    threshold: str
    comparator: str
    closes_at: datetime.datetime | None
    payload: dict[str, Any] = dataclasses.field(default_factory=dict)


def _prepare_submission(step: _Step) -> None:
    # Stored before single-line fields were checked: refused before anything changes,
    # rather than breaking the notifications it would send.
    proposal = step.proposal
    _refuse_control_characters(title=proposal.title, counterparty=proposal.counterparty)
    if proposal.submitted_at is None:
        proposal.submitted_at = timezone.now()


def _prepare_review(step: _Step) -> None:
    if step.due_at is None or step.due_at <= timezone.now():
        raise InvalidProposal(_("Set a review due date in the future."))
    step.proposal.review_due_at = step.due_at
    step.payload["due_at"] = step.due_at.isoformat()


def _prepare_decision(step: _Step) -> None:
    """The system decides on the outcome it was given; the secretary on the rule's verdict on
    the votes cast so far, when the board has left the decision to them."""
    if step.actor is None:
        if step.outcome is None:
            raise InvalidProposal(_("The automatic decision needs an outcome."))
        return
    verdict = forced_verdict(selectors.review_tally(step.proposal))
    refusal = decide_refusal(step.proposal, verdict, step.actor)
    if refusal is not None:
        raise refusal
    step.outcome, step.comment = verdict.outcome, step.comment or verdict.reason


def _prepare_referral(step: _Step) -> None:
    step.comment = step.comment or "The board makes no recommendation and refers the proposal to shareholders."


def _prepare_vote(step: _Step) -> None:
    """The shareholder item that carries the proposal, on the chosen meeting's ballot."""
    if step.meeting is None:
        raise InvalidProposal(_("Choose the meeting whose ballot will carry the item."))
    proposal, now = step.proposal, timezone.now()
    proposal.item = meeting_services.item_create(
        meeting=step.meeting,
        title=proposal.title,
        description=proposal.summary,
        standard=step.standard,
        threshold=step.threshold,
        comparator=step.comparator,
        advisory=proposal.advisory,
        opens_at=now,
        closes_at=step.closes_at or now + datetime.timedelta(days=14),
        actor=step.actor,
    )
    if proposal.board_recommendation:
        # On the item too, where a directed proxy told to follow the board reads it.
        item_recommendation_set(poll=proposal.item, recommendation=proposal.board_recommendation, actor=step.actor)
    step.payload.update(
        item=proposal.item.pk, meeting=step.meeting.pk, standard=step.standard, threshold=step.threshold
    )
    step.payload["recommendation"] = proposal.board_recommendation


def _prepare_settlement(step: _Step) -> None:
    if step.outcome is None:
        raise InvalidProposal(_("Settlement needs the certified outcome."))


def _recommend(step: _Step, target: State) -> None:
    # What the shareholders' ballot will show next to the item when it is put to a vote.
    step.proposal.board_recommendation = recommendation(target)
    step.payload["recommendation"] = step.proposal.board_recommendation


def _follow_up_if_advisory(proposal: Proposal, target: State) -> None:
    if proposal.advisory:
        _open_follow_up(proposal, target)


def _nothing(*_args: object) -> None:
    return None


# What each action does beyond the table's move, in the order a transition runs: before the
# target is known (checks, the outcome, the payload), once it is known, and after the event.
_PREPARE: dict[str, Callable[[_Step], None]] = {
    Action.SUBMIT: _prepare_submission,
    Action.RESUBMIT: _prepare_submission,
    Action.START_REVIEW: _prepare_review,
    Action.DECIDE: _prepare_decision,
    Action.REFER: _prepare_referral,
    Action.PUT_TO_VOTE: _prepare_vote,
    Action.SETTLE: _prepare_settlement,
}
_ON_TARGET: dict[str, Callable[[_Step, State], None]] = {
    Action.DECIDE: _recommend,
    Action.REFER: _recommend,
}
_AFTER: dict[str, Callable[[Proposal, State], None]] = {
    Action.START_REVIEW: lambda proposal, _target: recusals_record(proposal=proposal),
    Action.SETTLE: _follow_up_if_advisory,
}


@transaction.atomic
def proposal_transition(
    *,
    proposal_id: int,
    action: str,
    actor: User | None,
    comment: str = "",
    due_at: datetime.datetime | None = None,
    meeting: Meeting | None = None,
    standard: str = VoteStandard.VOTES_CAST,
    threshold: str = "1/2",
    comparator: str = ">",
    closes_at: datetime.datetime | None = None,
    outcome: str | None = None,
) -> Proposal:
    """Apply one action of the workflow table under a row lock: check the table and the
    actor's role, make the change, write the event, and queue notifications for after commit.
    `actor=None` is the system (automatic decisions, settlement)."""
    _refuse_bidi_overrides(comment=comment)
    try:
        proposal = Proposal.objects.select_for_update().get(pk=proposal_id)
    except Proposal.DoesNotExist:
        raise InvalidProposal(_("No such proposal.")) from None
    off_trail = proposal_off_trail(proposal)
    if off_trail is not None:
        raise IllegalAction(off_trail, [])
    _refuse(proposal, actor, action)
    transition = transition_for(proposal.status, action)
    assert transition is not None  # noqa: S101 - _refuse raised otherwise
    step = _Step(
        proposal=proposal,
        actor=actor,
        comment=comment.strip(),
        outcome=outcome,
        due_at=due_at,
        meeting=meeting,
        standard=standard,
        threshold=threshold,
        comparator=comparator,
        closes_at=closes_at,
    )
    if transition.comment_required and not step.comment:
        raise InvalidProposal(_("Say why: %(action)s needs a comment for the proposer.") % {"action": action})
    source = proposal.status
    _PREPARE.get(action, _nothing)(step)
    target = resolve_target(transition, step.outcome)
    proposal.status = target
    _ON_TARGET.get(action, _nothing)(step, target)
    proposal.save()
    audit_append(
        stream=_stream(proposal),
        action=action,
        actor=actor,
        payload={"from": source, "to": target, "comment": step.comment, **step.payload},
    )
    _AFTER.get(action, _nothing)(proposal, target)
    notifications.notify_transition(proposal, action, target)
    return proposal


def _open_follow_up(proposal: Proposal, outcome: str) -> None:
    follow_up, created = FollowUp.objects.get_or_create(
        proposal=proposal,
        defaults={
            "due_at": timezone.now() + datetime.timedelta(days=FOLLOW_UP_DAYS),
            "note": f"The shareholder vote was advisory ({outcome}); the board decides what to do with it.",
        },
    )
    if created:
        audit_append(
            stream=_stream(proposal),
            action="follow_up_opened",
            actor=None,
            payload={"due_at": follow_up.due_at.isoformat(), "comment": follow_up.note},
        )


@transaction.atomic
def follow_up_complete(*, follow_up_id: int, actor: User, comment: str = "") -> FollowUp:
    """The board's next step is taken: the secretary records it once, on the proposal's trail."""
    if not is_secretary(actor):
        raise NotAllowed(_("Only the company secretary may close a follow-up."))
    _refuse_bidi_overrides(comment=comment)
    proposal_id = FollowUp.objects.filter(pk=follow_up_id).values_list("proposal_id", flat=True).first()
    if proposal_id is None:
        raise FollowUpNotFound()
    # The proposal first, as a transition does: its audit chain takes one writer at a time.
    Proposal.objects.select_for_update().get(pk=proposal_id)
    follow_up = FollowUp.objects.select_for_update().select_related("proposal").get(pk=follow_up_id)
    if follow_up.done_at is not None:
        raise IllegalAction(_("This follow-up is already done."), allowed_actions=[])
    follow_up.done_at = timezone.now()
    follow_up.save(update_fields=["done_at"])
    audit_append(
        stream=_stream(follow_up.proposal),
        action="follow_up_done",
        actor=actor,
        payload={"comment": comment.strip()},
    )
    return follow_up


# --- Reactions to polls ---------------------------------------------------------------------


def proposal_escalate(*, poll_id: int) -> Proposal | None:
    """Open the draft proposal a closed public poll asks for, once. Safe to run twice: the
    poll can anchor only one proposal (unique), and a second run finds it."""
    poll = Poll.objects.filter(pk=poll_id).select_related("created_by", "escalation_option").first()
    if poll is None or poll.effective_status() not in (PollStatus.CLOSED, PollStatus.CERTIFIED):
        return None
    option = poll_selectors.escalation_triggered(poll)
    if option is None:
        return None
    existing = Proposal.objects.filter(escalated_from=poll).first()
    if existing is not None:
        return existing
    proposer = poll.created_by or notifications.secretaries().first()
    if proposer is None:
        return None
    try:
        with transaction.atomic():
            proposal = proposal_create(
                actor=proposer,
                title=f"Follow up the poll: {poll.title}"[:300],
                summary=f"The poll closed with “{option.label}” at or above "
                f"{poll.escalation_numerator}/{poll.escalation_denominator} of the votes.",
                polls=[poll],
                escalated_from=poll,
            )
            notifications.notification_enqueue(
                kind="escalated", proposal=proposal, recipients=notifications.secretary_emails()
            )
    except IntegrityError:
        return Proposal.objects.filter(escalated_from=poll).first()
    return proposal


def proposal_settle(*, proposal_id: int) -> Proposal | None:
    """Adopted or defeated once the item is certified, on the outcome certification froze.
    Safe to run twice."""
    proposal = Proposal.objects.filter(pk=proposal_id).select_related("item").first()
    if proposal is None or proposal.status != State.SHAREHOLDER_VOTE or proposal.item is None:
        return proposal
    outcome = certified_outcome(poll=proposal.item)
    if outcome is None:
        return proposal
    try:
        return proposal_transition(
            proposal_id=proposal.pk,
            action=Action.SETTLE,
            actor=None,
            outcome=State.ADOPTED if outcome.passed else State.DEFEATED,
            comment=f"Shareholder vote certified: {outcome.reason}.",
        )
    except IllegalAction:
        return Proposal.objects.get(pk=proposal.pk)  # settled by a concurrent run
