"""Publishing `core.tasks.send_notification` for one outbox row, cheaply: what every election
ballot's confirmation asks for after its statement commits.

`delay()` builds the same message from scratch on every call (the task's options and route, the
message's headers, a producer from the pool, a result handle nobody reads): about two thirds of
its cost (bench.election_profile). Here Celery builds the message once per process and thread,
and each call changes only what differs between two such messages: the task id (and root id,
correlation id) and the notification's id in the arguments. It is still published by Celery's
own `send_task_message` (its signals, the route's exchange and routing key, the publish retry
policy), on a producer kept for the thread. A test holds the message to `delay()`'s.

Anything unusual takes `delay()`: eager mode (tests, no broker), a result backend (the message
would need its result's bookkeeping), a publish that failed (its producer is dropped, the error
raised for QuorumTask's caller to log; the outbox sweep sends the row later), a thread that
found the producer pool at its limit."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from django.db import transaction
from kombu.exceptions import LimitExceeded
from kombu.exceptions import OperationalError as BrokerUnavailable
from kombu.utils.uuid import uuid

logger = logging.getLogger("quorum.tasks")


class _Template(threading.local):
    pid = 0
    headers: dict[str, Any]
    properties: dict[str, Any]
    embed: dict[str, Any]
    options: dict[str, Any]
    producer: Any = None


_template = _Template()


def _build(task: Any) -> None:
    """The message delay() would send for notification 0, and the options send_task would
    publish it with (the task's own options, then the route)."""
    app = task.app
    options = {k: v for k, v in task._get_exec_options().items() if v is not None}
    for name in ("time_limit", "soft_time_limit", "expires", "ignore_result"):
        options.pop(name, None)
    options = app.amqp.router.route(options, task.name, (0,), {}, task)
    headers, properties, body, _sent = app.amqp.as_task_v2(
        "0", task.name, args=(0,), kwargs={}, reply_to=app.thread_oid, ignore_result=True, **options
    )
    _template.headers, _template.properties, _template.embed = headers, properties, body[2]
    _template.options = options
    if _template.producer is not None:
        _template.producer.release()
    try:
        # Kept, not returned after each call: without blocking, so that threads beyond the pool's
        # limit take delay() (which borrows one per call) rather than wait for one forever.
        _template.producer = app.producer_pool.acquire(block=False)
    except LimitExceeded:
        _template.producer = None
    _template.pid = os.getpid()


def send_notification_publish(notification_id: int) -> None:
    """Queue send_notification(notification_id) now (call it once the row is committed)."""
    from core.tasks import send_notification

    app = send_notification.app
    conf = app.conf
    if (
        conf.task_always_eager
        or conf.task_send_sent_event
        or not send_notification.ignore_result
        or app.current_worker_task
    ):
        send_notification.delay(notification_id)
        return
    if _template.pid != os.getpid():  # a forked worker: the parent's producer is not ours
        _template.producer = None
        _build(send_notification)
    if _template.producer is None:
        send_notification.delay(notification_id)
        return
    task_id = uuid()
    headers = {**_template.headers, "id": task_id, "root_id": task_id, "argsrepr": f"({notification_id},)"}
    properties = {**_template.properties, "correlation_id": task_id}
    body: tuple[Any, ...] = ((notification_id,), {}, _template.embed)
    try:
        app.amqp.send_task_message(
            _template.producer,
            send_notification.name,
            (headers, properties, body, None),
            **_template.options,
        )
    except Exception:
        # Back to the pool (as send_task's own `with` would), and a new one next time.
        _template.producer.release()
        _template.producer, _template.pid = None, 0
        raise


def publish_on_commit(publish: Callable[[], object], name: str, args: tuple[Any, ...]) -> None:
    """Run `publish` (the enqueue of task `name` with `args`) once the transaction commits, at
    once outside one; a broker that cannot be reached is logged, not raised into the committed
    change."""

    def enqueue() -> None:
        try:
            publish()
        except (BrokerUnavailable, OSError) as error:
            logger.warning("could not enqueue %s%s (%s); the sweep will pick it up", name, args, error)

    transaction.on_commit(enqueue)


def send_notification_on_commit(notification_id: int) -> None:
    """send_notification.delay_on_commit (config.tasks.QuorumTask), published as above: once the
    transaction commits, a broker that cannot be reached logged, and the sweep sends the row."""
    publish_on_commit(
        lambda: send_notification_publish(notification_id), "core.tasks.send_notification", (notification_id,)
    )
