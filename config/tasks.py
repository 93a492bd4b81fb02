"""The base of every Quorum task."""

from __future__ import annotations

import logging
from typing import Any

from celery.contrib.django.task import DjangoTask
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

logger = logging.getLogger("quorum.tasks")


class QuorumTask(DjangoTask):
    """`delay_on_commit` that survives a broker outage: the change that asked for the work is
    already committed, so a failed enqueue is logged, not turned into an error for the user.
    Every such task is re-found by a beat sweep that selects by state, which does the work once
    the broker is back."""

    def delay_on_commit(self, *args: Any, **kwargs: Any) -> None:
        def enqueue() -> None:
            try:
                self.delay(*args, **kwargs)
            except (BrokerUnavailable, OSError) as error:
                logger.warning("could not enqueue %s%s (%s); the sweep will pick it up", self.name, args, error)

        transaction.on_commit(enqueue)
