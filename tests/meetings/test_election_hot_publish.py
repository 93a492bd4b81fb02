"""core.publish sends the confirmation's task as the same message delay() would (bar its ids),
on a broker: a worker reads it as it reads delay()'s; in eager mode (tests) it runs the task;
an unreachable broker is logged and the row stays in the outbox for the sweep."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from kombu.messaging import Producer

from core import publish
from core.models import Notification
from core.notifications import notification_queue
from core.tasks import send_notification

pytestmark = pytest.mark.django_db(transaction=True)
IDS = ("id", "root_id")


@pytest.fixture
def on_memory_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, dict[str, Any]]]]:
    """A broker in memory (and fresh pools for it); every publish recorded."""
    app = send_notification.app
    eager, broker = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager, app.conf.broker_url = False, "memory://"
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    monkeypatch.setattr(publish._template, "pid", 0)
    monkeypatch.setattr(publish._template, "producer", None)
    sent: list[tuple[Any, dict[str, Any]]] = []
    real = Producer.publish

    def record(self: Producer, body: Any, **kwargs: Any) -> Any:
        sent.append((body, kwargs))
        return real(self, body, **kwargs)

    monkeypatch.setattr(Producer, "publish", record)
    yield sent
    app.conf.task_always_eager, app.conf.broker_url = eager, broker


def without_ids(kwargs: dict[str, Any]) -> dict[str, Any]:
    headers = {k: v for k, v in kwargs["headers"].items() if k not in IDS}
    return {**{k: v for k, v in kwargs.items() if k != "correlation_id"}, "headers": headers}


def test_the_message_is_delays_but_for_its_ids(on_memory_broker: list[tuple[Any, dict[str, Any]]]) -> None:
    send_notification.delay(41)
    publish.send_notification_publish(41)
    publish.send_notification_publish(42)
    (delayed, ours, next_one) = on_memory_broker
    assert ours[0] == delayed[0] and next_one[0][0] == (42,)
    assert without_ids(ours[1]) == without_ids(delayed[1])
    assert without_ids(next_one[1])["headers"]["argsrepr"] == "(42,)"
    for _body, kwargs in (ours, next_one):
        task_id = kwargs["headers"]["id"]
        assert kwargs["headers"]["root_id"] == kwargs["correlation_id"] == task_id
    assert ours[1]["headers"]["id"] != next_one[1]["headers"]["id"]


def test_a_queued_notification_is_published_once_committed(on_memory_broker: list[tuple[Any, dict[str, Any]]]) -> None:
    with transaction.atomic():
        queued = notification_queue(key="k:1", kind="ballot_receipt", recipient="a@example.com", context={})
        assert queued is not None and on_memory_broker == []
    ((body, kwargs),) = on_memory_broker
    assert body[0] == (queued.pk,) and kwargs["headers"]["task"] == send_notification.name


def test_eager_mode_runs_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[int] = []

    def sent(*, notification_id: int) -> bool:
        ran.append(notification_id)
        return True

    monkeypatch.setattr("core.notifications.notification_send", sent)
    publish.send_notification_publish(7)
    assert ran == [7]


def test_an_unreachable_broker_is_logged_and_the_row_kept(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(notification_id: int) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(publish, "send_notification_publish", refuse)
    with caplog.at_level(logging.WARNING, logger="quorum.tasks"):
        queued = notification_queue(key="k:2", kind="ballot_receipt", recipient="a@example.com", context={})
    assert queued is not None and Notification.objects.filter(pk=queued.pk, sent_at__isnull=True).exists()
    assert "the sweep will pick it up" in caplog.text


def test_a_failed_publish_returns_its_producer_to_the_pool_and_the_next_takes_one_again(
    on_memory_broker: list[tuple[Any, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    publish.send_notification_publish(1)
    first = publish._template.producer
    real = send_notification.app.amqp.send_task_message

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("connection reset")

    monkeypatch.setattr(send_notification.app.amqp, "send_task_message", refuse)
    with pytest.raises(OSError, match="reset"):
        publish.send_notification_publish(2)
    assert publish._template.producer is None
    monkeypatch.setattr(send_notification.app.amqp, "send_task_message", real)
    publish.send_notification_publish(3)
    assert publish._template.producer is first  # back in the pool (a limit of 1 would show a leak), taken again
    assert [body[0] for body, _kwargs in on_memory_broker] == [(1,), (3,)]
