from __future__ import annotations

from celery import shared_task

from polls import services


@shared_task(name="polls.tasks.polls_sweep")
def polls_sweep() -> dict[str, int]:
    """Beat runs this every 30 s; running it twice, or twice at once, changes nothing more."""
    report = services.polls_sweep()
    return {"opened": report.opened, "closed": report.closed}


@shared_task(name="polls.tasks.polls_reconcile")
def polls_reconcile() -> list[int]:
    """Beat, every ten minutes: the ids of polls whose running totals differ from a recount."""
    return services.polls_reconcile()
