"""Notifications of proposals: who is told of what, recorded once per recipient and sent after
commit by the `send_notification` task, retried by the sweep and by the secretary; and the
directors' reminders before a review is due."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation

from core.roles import SECRETARY_GROUP
from core.validators import shown
from polls import selectors as poll_selectors
from proposals import selectors
from proposals.models import Director, Notification, Proposal, ReviewVote
from proposals.workflow import Action, State

REMINDER_WINDOW = datetime.timedelta(hours=48)

logger = logging.getLogger("quorum.proposals")


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


def notification_enqueue(*, kind: str, proposal: Proposal, recipients: Iterable[str], round_: str = "") -> None:
    """Record one notification per recipient (idempotent by key) and send each after commit.
    Neither a lost broker nor a failed send turns the committed change into an error: the
    task records the failure and the sweep tries again."""
    from proposals.tasks import send_notification

    for recipient in dict.fromkeys(recipients):
        key = f"{kind}:{proposal.pk}:{round_}:{recipient}"[:200]
        notification, created = Notification.objects.get_or_create(
            key=key,
            defaults={"kind": kind, "proposal": proposal, "recipient": recipient, "context": {"round": round_}},
        )
        if created:
            send_notification.delay_on_commit(notification.pk)


def notification_message_id(notification: Notification) -> str:
    """The same Message-ID on every attempt. A worker that dies after the mail server accepted
    a message but before `sent_at` committed sends it again when the task is redelivered; with
    one Message-ID that second copy is recognisably the same message, which mail clients and
    providers fold into one, rather than a second notification."""
    host = urlsplit(settings.SITE_URL).hostname or "quorum.invalid"
    return f"<notification.{notification.pk}@{host}>"


def _render_text(template_name: str, context: dict[str, Any]) -> str:
    """A plain-text part of an e-mail: nothing is HTML-escaped (a title's `"` stays `"`)."""
    template = get_template(template_name).template  # type: ignore[attr-defined]
    return str(template.render(Context(context, autoescape=False)))


def notification_subject(kind: str, context: dict[str, Any]) -> str:
    """One line of plain text: whitespace (a line break in a stored title) is collapsed, so
    a subject can never add a header or break the message."""
    return " ".join(_render_text(f"proposals/email/{kind}_subject.txt", context).split())


@transaction.atomic
def notification_send(*, notification_id: int) -> bool:
    """Send once: the row lock and `sent_at` make a retried or duplicated task a no-op. A
    notification marked failed is not sent again by itself."""
    notification = (
        Notification.objects.select_for_update(of=("self",))
        .select_related("proposal")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None or notification.sent_at is not None or notification.failed_at is not None:
        return False
    context = {
        "notification": notification,
        "proposal": notification.proposal,
        "site_url": settings.SITE_URL,
        "round": notification.context.get("round", ""),
    }
    # The worker has no browser to ask: the recipient's own choice of language, else the site's.
    with translation.override(poll_selectors.language_for_email(notification.recipient)):
        message = EmailMultiAlternatives(
            subject=notification_subject(notification.kind, context),
            body=_render_text("proposals/email/notification.txt", context),
            to=[notification.recipient],
            headers={"Message-ID": notification_message_id(notification)},
        )
        message.attach_alternative(render_to_string("proposals/email/notification.html", context), "text/html")
    message.send()
    notification.sent_at = timezone.now()
    notification.attempts += 1
    notification.save(update_fields=["sent_at", "attempts"])
    return True


def notification_failure_record(*, notification_id: int, error: BaseException) -> bool:
    """Count a failed attempt, in its own transaction (the attempt's rolled back); the
    `MAX_ATTEMPTS`th marks the notification failed. True when it is now failed."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .filter(pk=notification_id, sent_at__isnull=True, failed_at__isnull=True)
            .first()
        )
        if notification is None:
            return False
        notification.attempts += 1
        notification.last_error = shown(f"{type(error).__name__}: {error}", 490)
        if notification.attempts >= Notification.MAX_ATTEMPTS:
            notification.failed_at = timezone.now()
        notification.save(update_fields=["attempts", "last_error", "failed_at"])
    logger.warning(
        "notification %s: attempt %s failed (%s)%s",
        notification_id,
        notification.attempts,
        notification.last_error,
        "; marked failed" if notification.failed_at else "",
    )
    return notification.failed_at is not None


@transaction.atomic
def notification_retry(*, notification_id: int) -> bool:
    """The secretary sends a failed notification again (the address was fixed, the mail
    server is back): it is pending with a fresh count of attempts, and queued after commit.
    False when it is not failed."""
    from proposals.tasks import send_notification

    reset = Notification.objects.filter(pk=notification_id, failed_at__isnull=False, sent_at__isnull=True).update(
        failed_at=None, attempts=0
    )
    if reset:
        send_notification.delay_on_commit(notification_id)
    return bool(reset)


def notification_attempt(*, notification_id: int) -> bool:
    """Try to send one notification; a failure is recorded, never raised, so one bad
    notification cannot stop the others. True when it was sent."""
    try:
        return notification_send(notification_id=notification_id)
    except Exception as error:  # any failure of one notification is recorded and logged
        logger.exception("notification %s could not be sent", notification_id)
        notification_failure_record(notification_id=notification_id, error=error)
        return False


def notifications_resend(*, stale_after: datetime.timedelta, now: datetime.datetime | None = None) -> int:
    """The sweep's part: every pending notification older than `stale_after` (its task was
    lost, or its attempts failed), each on its own. Returns how many were sent."""
    cutoff = (now or timezone.now()) - stale_after
    pending = Notification.objects.filter(sent_at__isnull=True, failed_at__isnull=True, created_at__lte=cutoff)
    return sum(notification_attempt(notification_id=pk) for pk in pending.order_by("pk").values_list("pk", flat=True))


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
            before = Notification.objects.filter(kind="review_reminder", proposal=proposal).count()
            notification_enqueue(
                kind="review_reminder",
                proposal=proposal,
                recipients=waiting,
                round_=f"{proposal.review_due_at:%Y%m%d%H%M}",
            )
            count += Notification.objects.filter(kind="review_reminder", proposal=proposal).count() - before
    return count
