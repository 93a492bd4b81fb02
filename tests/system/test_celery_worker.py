"""A real Celery worker process, on the real broker, doing the scheduled work against the same
PostgreSQL database the test writes to."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from config.celery import app
from polls import tasks
from polls.models import Poll, PollStatus
from tests.factories import make_poll
from tests.system.live import celery_worker, wait_for, worker_broker

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_queue() -> Iterator[str]:
    """Start a worker that consumes a queue of its own, and stop it afterwards."""
    broker = worker_broker()
    queue = f"quorum-test-{uuid.uuid4().hex[:12]}"
    worker = celery_worker(queue, broker)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        app.conf.task_always_eager = eager
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
        print(output)  # shown by pytest when the test fails


def test_a_real_worker_runs_the_sweep_and_closes_a_poll_whose_time_has_come(worker_queue: str) -> None:
    poll = make_poll()
    Poll.objects.filter(pk=poll.pk).update(closes_at=timezone.now() - datetime.timedelta(seconds=1))

    tasks.polls_sweep.apply_async(queue=worker_queue)

    assert wait_for(lambda: Poll.objects.get(pk=poll.pk).status == PollStatus.CLOSED)
    # The stored status changed in the database, which only the worker process could have done.
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.CLOSED
