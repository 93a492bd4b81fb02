"""Core's outbox (issue 15): a notification is queued once by its key, sent once after commit,
counted and failed after MAX_ATTEMPTS attempts, and sent again by the secretary on the trail;
each kind is written by the templates its app registered, in the recipient's language."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.utils.safestring import SafeData

from core import notifications
from core.audit import audit_trail
from core.models import Notification, NotificationStatus, Profile
from core.notifications import (
    notification_kind_register,
    notification_queue,
    notification_render,
    notification_resend,
    notification_send,
)
from core.tasks import send_notification
from tests.factories import make_secretary, make_user

pytestmark = pytest.mark.django_db

KIND = "core_test_note"


def _context(notification: Notification) -> Mapping[str, Any]:
    return {"receipts": []}


@pytest.fixture(autouse=True)
def test_kind() -> Iterator[None]:
    """A kind of the tests' own, written with the ballot confirmation's templates."""
    notification_kind_register(
        KIND,
        subject="polls/email/receipt_subject.txt",
        text="polls/email/receipt.txt",
        html="polls/email/receipt.html",
        context=_context,
    )
    yield
    notifications._KINDS.pop(KIND, None)


def queue(key: str = "note:1", recipient: str = "ann@example.com", **context: Any) -> Notification | None:
    return notification_queue(key=key, kind=KIND, recipient=recipient, context=context, subject="thing:1")


def test_queuing_is_idempotent_by_key_and_sends_once_after_commit(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = queue()
        again = queue()
    assert first is not None and again is None
    assert Notification.objects.count() == 1
    assert [message.to for message in mail.outbox] == [["ann@example.com"]]
    notification = Notification.objects.get()
    assert (notification.status, notification.attempts, notification.subject) == (NotificationStatus.SENT, 1, "thing:1")


def test_nothing_is_sent_before_the_change_commits() -> None:
    queue()
    assert mail.outbox == []
    assert Notification.objects.get().status == NotificationStatus.PENDING


def test_a_sent_notification_is_not_sent_again_by_a_redelivered_task(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notification = queue()
    assert notification is not None
    assert send_notification.delay(notification.pk).get() is False
    assert notification_send(notification_id=notification.pk) is False
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"].startswith(f"<notification.{notification.pk}@")


def test_the_subject_line_body_and_html_come_from_the_registered_templates() -> None:
    notification = queue()
    assert notification is not None
    rendered = notification_render(notification)
    assert rendered.subject == "[Quorum] Your ballot receipts"
    assert "Keep its receipt code" in rendered.text
    assert not isinstance(rendered.text, SafeData), "plain text, escaped wherever a page shows it"
    assert '<html lang="en">' in rendered.html
    assert rendered.language == "en"


def test_it_is_written_in_the_language_the_recipients_account_chose() -> None:
    reader = make_user(username="lettrice", email="lettrice@example.com")
    Profile.objects.create(user=reader, language="it")
    by_address = queue("note:it", recipient="LETTRICE@example.com")
    by_account = queue("note:it2", recipient="other@example.com", user_id=reader.pk)
    assert by_address is not None and by_account is not None
    assert notification_render(by_address).language == "it"
    assert notification_render(by_account).language == "it"
    assert notification_render(by_account).subject == "[Quorum] Le Sue ricevute di voto"


def test_a_failing_mail_server_is_counted_and_the_fifth_failure_marks_it_failed() -> None:
    notification = queue()
    assert notification is not None
    with mock.patch("core.notifications.EmailMultiAlternatives.send", side_effect=OSError("mail server down")):
        for attempt in range(1, Notification.MAX_ATTEMPTS + 1):
            assert send_notification.delay(notification.pk).get() is False
            notification.refresh_from_db()
            assert notification.attempts == attempt
        assert notification.status == NotificationStatus.FAILED
        assert "OSError: mail server down" in notification.last_error
        # A failed one is left for the secretary: neither a task nor the sweep tries it again.
        assert send_notification.delay(notification.pk).get() is False
    notification.refresh_from_db()
    assert notification.attempts == Notification.MAX_ATTEMPTS
    assert mail.outbox == []


def test_an_unknown_kind_fails_like_a_missing_template() -> None:
    notification = Notification.objects.create(key="x", kind="no_such_kind", recipient="ann@example.com")
    assert send_notification.delay(notification.pk).get() is False
    notification.refresh_from_db()
    assert notification.attempts == 1
    assert "TemplateDoesNotExist" in notification.last_error and "no_such_kind" in notification.last_error


def test_the_secretary_sends_a_failed_notification_again_on_the_trail(django_capture_on_commit_callbacks: Any) -> None:
    notification = queue()
    assert notification is not None
    Notification.objects.filter(pk=notification.pk).update(attempts=5, failed_at=notification.created_at)
    secretary = make_secretary()
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_resend(notification=notification, actor=secretary) is True
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (NotificationStatus.SENT, 1)
    assert [message.to for message in mail.outbox] == [["ann@example.com"]]
    (event,) = audit_trail(f"notification:{notification.pk}")
    assert (event.action, event.actor_id) == ("notification_resent", secretary.pk)
    assert event.payload == {"kind": KIND, "subject": "thing:1", "attempts": 5}
    assert "ann@example.com" not in str(event.payload)


def test_only_a_failed_notification_is_sent_again() -> None:
    notification = queue()
    assert notification is not None
    assert notification_resend(notification=notification, actor=make_secretary()) is False
    assert audit_trail(f"notification:{notification.pk}") == []
    assert Notification.objects.get(pk=notification.pk).status == NotificationStatus.PENDING


def test_a_kind_registered_twice_differently_is_refused_at_start_up() -> None:
    notification_kind_register(
        KIND,
        subject="polls/email/receipt_subject.txt",
        text="polls/email/receipt.txt",
        html="polls/email/receipt.html",
        context=_context,
    )  # the same again: harmless
    with pytest.raises(ImproperlyConfigured):
        notification_kind_register(KIND, subject="other.txt", text="polls/email/receipt.txt", html="x.html")


def test_every_app_registers_its_kinds() -> None:
    for kind in ("submitted", "outcome", "consent_requested", "meeting_notice", "meeting_reminder", "ballot_receipt"):
        assert notifications.notification_kind(kind).subject.endswith("_subject.txt")
