"""Notifications of proposals: who is told of what, queued once per recipient in core's outbox
(core/notifications.py), which sends, retries and shows them; how a proposal's e-mail is
written (`notification_kinds_register`, from ProposalsConfig.ready); and the directors'
reminders before a review is due."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.models import Notification
from core.notifications import notification_kind_register, notification_queue, subject_id
from core.roles import SECRETARY_GROUP
from proposals import selectors
from proposals.models import Director, Proposal, ReviewVote
from proposals.workflow import Action, State

# Every kind a proposal's people are told of; each has its subject line in
# proposals/email/<kind>_subject.txt and shares the body (its lead sentence by kind).
KINDS = (
    "submitted",
    "review_requested",
    "review_reminder",
    "decided",
    "outcome",
    "review_tied",
    "consent_requested",
    "escalated",
)

REMINDER_WINDOW = datetime.timedelta(hours=48)


def secretaries() -> Any:
    return get_user_model().objects.filter(groups__name=SECRETARY_GROUP, is_active=True).order_by("pk")


def secretary_emails() -> list[str]:
    return [email for email in secretaries().values_list("email", flat=True) if email]


def director_emails(proposal: Proposal, *, disinterested_only: bool) -> list[str]:
    directors = (
        selectors.disinterested_directors(proposal)
        if disinterested_only
        else list(Director.objects.filter(in_office=True).select_related("user"))
    )
    return [director.user.email for director in directors if director.user.email]


def notify_transition(proposal: Proposal, action: str, target: str) -> None:
    proposer = [proposal.proposer.email] if proposal.proposer.email else []
    if action in (Action.SUBMIT, Action.RESUBMIT):
        notification_enqueue(kind="submitted", proposal=proposal, recipients=secretary_emails(), round_=action)
    elif action == Action.START_REVIEW:
        notification_enqueue(
            kind="review_requested", proposal=proposal, recipients=director_emails(proposal, disinterested_only=True)
        )
    elif action in (Action.DECIDE, Action.REFER, Action.RETURN):
        notification_enqueue(kind="decided", proposal=proposal, recipients=proposer, round_=target)
    elif action == Action.SETTLE:
        recipients = proposer + director_emails(proposal, disinterested_only=False)
        notification_enqueue(kind="outcome", proposal=proposal, recipients=recipients)


def notification_enqueue(*, kind: str, proposal: Proposal, recipients: Iterable[str], round_: str = "") -> int:
    """Queue one notification per recipient (idempotent by key), each sent after commit.
    Returns how many were new."""
    queued = 0
    for recipient in dict.fromkeys(recipients):
        notification = notification_queue(
            key=f"{kind}:{proposal.pk}:{round_}:{recipient}",
            kind=kind,
            recipient=recipient,
            context={"round": round_},
            subject=f"proposal:{proposal.pk}",
        )
        queued += notification is not None
    return queued


def _proposal_context(notification: Notification) -> Mapping[str, Any]:
    """What a proposal's e-mail reads: the proposal as it is now. One deleted since has no
    e-mail: the attempt fails and the secretary sees why in the outbox."""
    proposal_id = subject_id(notification, "proposal")
    if proposal_id is None:
        raise Proposal.DoesNotExist(f"not about a proposal: {notification.subject!r}")
    return {"proposal": Proposal.objects.get(pk=proposal_id), "round": notification.context.get("round", "")}


def notification_kinds_register() -> None:
    for name in KINDS:
        notification_kind_register(
            name,
            subject=f"proposals/email/{name}_subject.txt",
            text="proposals/email/notification.txt",
            html="proposals/email/notification.html",
            context=_proposal_context,
        )


def review_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Remind directors who have not voted when a review is due within 48 hours. The key
    carries the due date, so each review reminds each director once."""
    now = now or timezone.now()
    due = Proposal.objects.filter(
        status=State.IN_REVIEW, review_due_at__gt=now, review_due_at__lte=now + REMINDER_WINDOW
    )
    count = 0
    for proposal in due:
        voted = set(ReviewVote.objects.filter(proposal=proposal).values_list("director_id", flat=True))
        waiting = [
            d.user.email for d in selectors.disinterested_directors(proposal) if d.pk not in voted and d.user.email
        ]
        with transaction.atomic():
            count += notification_enqueue(
                kind="review_reminder",
                proposal=proposal,
                recipients=waiting,
                round_=f"{proposal.review_due_at:%Y%m%d%H%M}",
            )
    return count
