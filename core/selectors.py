"""Reads of what core keeps for every app: the outbox's notifications by status."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from core.models import Notification, NotificationStatus

STATUS_CONDITIONS: dict[str, Q] = {
    NotificationStatus.SENT.value: Q(sent_at__isnull=False),
    NotificationStatus.FAILED.value: Q(failed_at__isnull=False),
    NotificationStatus.PENDING.value: Q(sent_at__isnull=True, failed_at__isnull=True),
}


def notifications_by_status(status: str = "") -> QuerySet[Notification]:
    """The outbox, newest first; only those of `status` when one is given (a status from
    NotificationStatus: the caller checks it)."""
    notifications = Notification.objects.order_by("-created_at", "-pk")
    condition = STATUS_CONDITIONS.get(status)
    return notifications.filter(condition) if condition is not None else notifications


def notification_counts() -> dict[str, int]:
    """How many notifications there are of each status, and in all, in one query."""
    counts = Notification.objects.aggregate(
        all=Count("pk"), **{status: Count("pk", filter=condition) for status, condition in STATUS_CONDITIONS.items()}
    )
    return {name: int(value or 0) for name, value in counts.items()}
