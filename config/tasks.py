"""The base of every Quorum task."""

from __future__ import annotations

from typing import Any

from celery.contrib.django.task import DjangoTask

from core.publish import publish_on_commit


class QuorumTask(DjangoTask):
    """`delay_on_commit` that survives a broker outage: the change that asked for the work is
    already committed, so a failed enqueue is logged, not turned into an error for the user.
    Every such task is re-found by a beat sweep that selects by state, which does the work once
    the broker is back."""

    def delay_on_commit(self, *args: Any, **kwargs: Any) -> None:
        publish_on_commit(lambda: self.delay(*args, **kwargs), self.name, args)
