from __future__ import annotations

import logging

from celery import shared_task

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


@shared_task(name="polls.tasks.send_ballot_receipts")
def send_ballot_receipts(user_id: int, codes: list[str]) -> bool:
    """Kept for a confirmation queued before the outbox (a message still in the broker at the
    upgrade): it joins core's outbox, which sends it. New ballots queue there directly
    (polls/receipt_mail.py)."""
    from polls.receipt_mail import ballot_receipts_send

    return ballot_receipts_send(user_id=user_id, codes=codes)
