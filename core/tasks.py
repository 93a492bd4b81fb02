"""Core's tasks: sending one notification of the outbox (core/notifications.py)."""

from __future__ import annotations

from celery import Task, shared_task

from core import notifications


@shared_task(
    bind=True, name="core.tasks.send_notification", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def send_notification(self: Task, notification_id: int) -> bool:
    """A failure is counted on the notification and never raised into the request that
    caused it; on a worker an OSError (the mail server unreachable) is raised again for
    Celery's retry, until the notification is marked failed."""
    try:
        return notifications.notification_send(notification_id=notification_id)
    except Exception as error:
        failed = notifications.notification_failure_record(notification_id=notification_id, error=error)
        if isinstance(error, OSError) and not failed and not self.request.is_eager:
            raise
        notifications.logger.exception("notification %s could not be sent", notification_id)
        return False
