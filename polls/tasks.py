from __future__ import annotations

import logging

from celery import Task, shared_task

from polls import services

logger = logging.getLogger("quorum.polls")


@shared_task(name="polls.tasks.polls_sweep")
def polls_sweep() -> dict[str, int]:
    """Beat runs this every 30 s; running it twice, or twice at once, changes nothing more."""
    report = services.polls_sweep()
    return {"opened": report.opened, "closed": report.closed}


@shared_task(name="polls.tasks.polls_reconcile")
def polls_reconcile() -> list[int]:
    """Beat, every ten minutes: the ids of polls whose running totals differ from a recount."""
    return services.polls_reconcile()


@shared_task(bind=True, name="polls.tasks.send_ballot_receipts", max_retries=5)
def send_ballot_receipts(self: Task, user_id: int, codes: list[str]) -> bool:
    """The ballot confirmation (polls/receipt_mail.py). The ballots are committed whatever
    happens here: an unreachable mail server is retried on a worker, any other failure is
    logged, never raised into the request that voted."""
    from polls.receipt_mail import ballot_receipts_send

    try:
        return ballot_receipts_send(user_id=user_id, codes=codes)
    except OSError as error:
        if not self.request.is_eager and self.request.retries < (self.max_retries or 0):
            raise self.retry(exc=error, countdown=2 ** (self.request.retries + 1)) from error
        logger.exception("ballot receipt for user %s could not be sent", user_id)
        return False
    except Exception:
        logger.exception("ballot receipt for user %s could not be sent", user_id)
        return False
