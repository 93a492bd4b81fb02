"""Thin Celery tasks: each takes ids, calls a service that re-reads and locks, and is safe to
run twice."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from core.notifications import notifications_resend
from polls.models import Poll, PollStatus
from proposals import consent, notifications, people_services, services
from proposals.models import Proposal
from proposals.workflow import State

logger = logging.getLogger("quorum.proposals")


@shared_task(name="proposals.tasks.proposals_escalate")
def proposals_escalate(poll_id: int) -> int | None:
    proposal = services.proposal_escalate(poll_id=poll_id)
    return proposal.pk if proposal else None


@shared_task(name="proposals.tasks.proposals_settle")
def proposals_settle(proposal_id: int) -> str | None:
    proposal = services.proposal_settle(proposal_id=proposal_id)
    return proposal.status if proposal else None


def _each(what: str, ids: Iterable[int], act: Callable[[int], object]) -> int:
    """Run `act` on each id on its own: one that raises is logged and the rest still run."""
    done = 0
    for pk in ids:
        try:
            done += int(bool(act(pk)))
        except Exception:
            logger.exception("sweep: %s %s failed; the next sweep tries again", what, pk)
    return done


def _settle(proposal_id: int) -> bool:
    services.proposal_settle(proposal_id=proposal_id)
    return True


@shared_task(name="proposals.tasks.proposals_sweep")
def proposals_sweep() -> dict[str, int]:
    """Beat: settle proposals whose item is certified, open the proposals closed polls asked
    for, send reminders and any notification whose task was lost (a broker outage, a killed
    worker). Selecting by state makes a second run find nothing to do; each proposal, poll and
    notification is handled on its own, so one that fails never holds up the others."""
    to_settle = Proposal.objects.filter(status=State.SHAREHOLDER_VOTE, item__status=PollStatus.CERTIFIED)
    settled = _each("settling proposal", list(to_settle.values_list("pk", flat=True)), _settle)
    to_escalate = Poll.objects.filter(
        status__in=[PollStatus.CLOSED, PollStatus.CERTIFIED],
        escalation_option__isnull=False,
        escalated_proposal__isnull=True,
    )
    escalated = _each(
        "escalating poll",
        list(to_escalate.values_list("pk", flat=True)),
        lambda pk: services.proposal_escalate(poll_id=pk) is not None,
    )
    try:
        reminders = notifications.review_reminders_send()
    except Exception:
        logger.exception("sweep: review reminders failed; the next sweep tries again")
        reminders = 0
    resent = notifications_resend(stale_after=timedelta(seconds=settings.NOTIFICATION_RESEND_AFTER_SECONDS))
    try:
        terms = people_services.directors_term_sync()
    except Exception:
        logger.exception("sweep: directors' terms failed; the next sweep tries again")
        terms = 0
    try:
        consents_failed = consent.consents_settle()
    except Exception:
        logger.exception("sweep: written consents failed; the next sweep tries again")
        consents_failed = 0
    return {
        "settled": settled,
        "escalated": escalated,
        "reminders": reminders,
        "resent": resent,
        "terms": terms,
        "consents_failed": consents_failed,
    }
