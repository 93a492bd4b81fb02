"""Thin Celery tasks: each takes ids, calls a service that re-reads and locks, and is safe to
run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from polls.models import Poll
from proposals import services
from proposals.models import Notification, Proposal
from proposals.workflow import State


@shared_task(name="proposals.tasks.send_notification", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification(notification_id: int) -> bool:
    return services.notification_send(notification_id=notification_id)


@shared_task(name="proposals.tasks.proposals_escalate")
def proposals_escalate(poll_id: int) -> int | None:
    proposal = services.proposal_escalate(poll_id=poll_id)
    return proposal.pk if proposal else None


@shared_task(name="proposals.tasks.proposals_settle")
def proposals_settle(proposal_id: int) -> str | None:
    proposal = services.proposal_settle(proposal_id=proposal_id)
    return proposal.status if proposal else None


@shared_task(name="proposals.tasks.proposals_sweep")
def proposals_sweep() -> dict[str, int]:
    """Beat: settle proposals whose item is certified, open the proposals closed polls asked
    for, send reminders and any notification whose task was lost (a broker outage, a killed
    worker). Selecting by state makes a second run find nothing to do."""
    from datetime import timedelta

    from django.utils import timezone

    settled = 0
    for proposal_id in Proposal.objects.filter(status=State.SHAREHOLDER_VOTE, item__status="certified").values_list(
        "pk", flat=True
    ):
        services.proposal_settle(proposal_id=proposal_id)
        settled += 1
    escalated = 0
    for poll_id in Poll.objects.filter(
        status__in=["closed", "certified"], escalation_option__isnull=False, escalated_proposal__isnull=True
    ).values_list("pk", flat=True):
        escalated += int(services.proposal_escalate(poll_id=poll_id) is not None)
    reminders = services.review_reminders_send()
    stale = timezone.now() - timedelta(seconds=settings.NOTIFICATION_RESEND_AFTER_SECONDS)
    resent = 0
    for notification_id in Notification.objects.filter(sent_at__isnull=True, created_at__lte=stale).values_list(
        "pk", flat=True
    ):
        resent += int(services.notification_send(notification_id=notification_id))
    return {"settled": settled, "escalated": escalated, "reminders": reminders, "resent": resent}
