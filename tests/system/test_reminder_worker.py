"""The reminder sweep on real Celery workers (issue 15, "Beat"): two runs of the sweep with a
worker killed and another started between them, and every send delivered a second time as a
broker redelivers after a crash, still send each non-voter one reminder. The workers write their
mail to files, which the test reads: what was sent, not what was queued."""

from __future__ import annotations

import datetime
import signal
import subprocess
import uuid
from collections.abc import Callable
from email import message_from_string
from pathlib import Path

import pytest
from django.utils import timezone

from config.celery import app
from core.models import Notification
from core.tasks import send_notification
from meetings import notices
from meetings.services import item_ballot_cast
from meetings.tasks import meeting_reminders_sweep
from polls import tasks as poll_tasks
from polls.models import Poll, PollStatus
from tests.factories import make_item, make_meeting, make_poll, make_register, make_user
from tests.system.live import celery_worker, wait_for, worker_broker

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def reminders_sent(mail_dir: Path) -> list[str]:
    """The recipient of every reminder the workers' mail backend wrote, one per message."""
    sent = []
    for path in sorted(mail_dir.iterdir()):
        for chunk in path.read_text().split("-" * 79):
            message = message_from_string(chunk.strip())
            if "Reminder" in (message["Subject"] or ""):
                sent.append(str(message["To"]))
    return sorted(sent)


def drained(queue: str) -> Callable[[], bool]:
    """Enqueue a marker behind everything on `queue` (the solo pool runs tasks in order): a poll
    past its closing time that the polls sweep closes. True once the marker has run."""
    marker = make_poll()
    Poll.objects.filter(pk=marker.pk).update(closes_at=timezone.now() - datetime.timedelta(seconds=1))
    poll_tasks.polls_sweep.apply_async(queue=queue)
    return lambda: Poll.objects.get(pk=marker.pk).status == PollStatus.CLOSED


def test_the_sweep_reminds_each_non_voter_once_across_two_runs_and_a_worker_restart(tmp_path: Path) -> None:
    broker = worker_broker()
    for name in ("ann", "bruno", "carla"):
        make_user(username=name, email=f"{name}@example.com")
    register = make_register(
        [(f"H-{name}", name.title(), f"{name}@example.com", 100) for name in ("ann", "bruno", "carla")],
        outstanding=300,
    )
    meeting = make_meeting(register, title="Annual Meeting", date=timezone.localdate() + datetime.timedelta(days=7))
    closing = make_item(meeting, title="Approve the merger", closes_at=timezone.now() + datetime.timedelta(hours=20))
    item_ballot_cast(poll_id=closing.pk, actor=make_user(username="ann"), choice="for")

    queue = f"quorum-test-{uuid.uuid4().hex[:12]}"
    # The sweep's own sends go to the worker's queue, not the shared default one.
    worker_env = {"QUORUM_TEST_MAIL_DIR": str(tmp_path), "CELERY_TASK_DEFAULT_QUEUE": queue}
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    first = celery_worker(queue, broker, **worker_env)
    second: subprocess.Popen[str] | None = None
    try:
        meeting_reminders_sweep.apply_async(queue=queue)
        assert wait_for(lambda: Notification.objects.filter(kind=notices.REMINDER, sent_at__isnull=False).count() == 2)
        assert wait_for(lambda: reminders_sent(tmp_path) == ["bruno@example.com", "carla@example.com"])

        # A crash, not a shutdown: whatever the first worker held is lost with it.
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        second = celery_worker(queue, broker, **worker_env)
        meeting_reminders_sweep.apply_async(queue=queue)
        for reminder in Notification.objects.filter(kind=notices.REMINDER):
            send_notification.apply_async(args=[reminder.pk], queue=queue)
        assert wait_for(drained(queue))
    finally:
        app.conf.task_always_eager = eager
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                print(worker.communicate(timeout=30)[0])  # shown by pytest when the test fails

    assert reminders_sent(tmp_path) == ["bruno@example.com", "carla@example.com"]
    reminders = Notification.objects.filter(kind=notices.REMINDER)
    assert sorted(reminders.values_list("recipient", "attempts")) == [
        ("bruno@example.com", 1),
        ("carla@example.com", 1),
    ]
