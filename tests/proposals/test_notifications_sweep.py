"""Notifications one at a time: a notification that cannot be sent is counted, retried by the
sweep and failed after five attempts, and never holds up the others or the change that
caused it."""

from __future__ import annotations

import datetime
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core import notifications
from core.models import Notification, NotificationStatus
from proposals import notifications as proposals_mail
from proposals.models import Proposal
from proposals.tasks import proposals_sweep
from proposals.workflow import State
from tests.factories import make_proposal, make_secretary, make_user

pytestmark = pytest.mark.django_db


def pending(kind: str, recipient: str, proposal: Proposal) -> Notification:
    """A notification whose task was lost a while ago: the sweep's to send."""
    notification = Notification.objects.create(
        key=f"{kind}:{proposal.pk}::{recipient}", kind=kind, subject=f"proposal:{proposal.pk}", recipient=recipient
    )
    Notification.objects.filter(pk=notification.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    return notification


def test_one_poisoned_notification_does_not_stop_the_sweep_and_fails_after_five_attempts() -> None:
    proposal = make_proposal(title="Invest in xAI")
    poisoned = pending("no_such_kind", "first@example.com", proposal)  # no subject template: raises
    good = pending("submitted", "second@example.com", proposal)

    assert proposals_sweep.delay().get()["resent"] == 1
    assert [message.to for message in mail.outbox] == [["second@example.com"]]
    assert Notification.objects.get(pk=good.pk).status == NotificationStatus.SENT
    poisoned.refresh_from_db()
    assert (poisoned.attempts, poisoned.status) == (1, NotificationStatus.PENDING)
    assert "TemplateDoesNotExist" in poisoned.last_error

    for _ in range(4):
        proposals_sweep.delay().get()
    poisoned.refresh_from_db()
    assert (poisoned.attempts, poisoned.status) == (5, NotificationStatus.FAILED)
    assert poisoned.failed_at is not None

    proposals_sweep.delay().get()  # a failed notification is left for the secretary
    assert Notification.objects.get(pk=poisoned.pk).attempts == 5
    assert len(mail.outbox) == 1


def test_a_failing_part_of_the_sweep_does_not_stop_the_resending() -> None:
    proposal = make_proposal()
    pending("submitted", "secretary@example.com", proposal)
    with mock.patch.object(proposals_mail, "review_reminders_send", side_effect=RuntimeError("reminders broke")):
        result = proposals_sweep.delay().get()
    assert result["resent"] == 1
    assert [message.to for message in mail.outbox] == [["secretary@example.com"]]


def test_a_transition_whose_mail_fails_still_answers_200_and_the_failure_is_counted(
    api: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    make_secretary(email="secretary@example.com")
    proposal = make_proposal()
    api.force_authenticate(proposal.proposer)
    with (
        mock.patch("core.notifications.EmailMultiAlternatives.send", side_effect=ValueError("header broke")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api.post(f"/api/v1/proposals/{proposal.pk}/transitions/", {"action": "submit"}, format="json")
    assert response.status_code == 200, response.content
    assert Proposal.objects.get(pk=proposal.pk).status == State.SUBMITTED
    notification = Notification.objects.get(kind="submitted")
    assert (notification.attempts, notification.status) == (1, NotificationStatus.PENDING)
    assert "header broke" in notification.last_error


def test_subjects_are_one_line_of_plain_text() -> None:
    secretary = make_secretary(email="secretary@example.com")
    proposal = make_proposal(title='Invest "$5B" in xAI & Co')
    # Stored before titles were checked: a line break must not reach the mail headers.
    Proposal.objects.filter(pk=proposal.pk).update(title='Invest "$5B"\r\nBcc: everyone@example.com')
    notification = Notification.objects.create(
        key="k", kind="submitted", subject=f"proposal:{proposal.pk}", recipient=secretary.email
    )
    assert notifications.notification_send(notification_id=notification.pk) is True
    [message] = mail.outbox
    assert message.subject == '[Quorum] Proposal submitted: Invest "$5B" Bcc: everyone@example.com'
    assert "&quot;" not in message.body and "&amp;" not in message.body
    assert message.bcc == []


def test_the_secretary_sees_failed_notifications_in_the_admin(client: Client) -> None:
    proposal = make_proposal()
    failed = pending("submitted", "gone@example.com", proposal)
    Notification.objects.filter(pk=failed.pk).update(attempts=5, failed_at=timezone.now(), last_error="SMTP 550")
    pending("submitted", "waiting@example.com", proposal)
    # A superuser: on a fresh database the secretary group gets the proposals models' rights
    # only from the second migrate (polls/apps.py runs before they exist).
    client.force_login(make_secretary(is_superuser=True))
    page = client.get("/admin/core/notification/?status=failed").content.decode()
    assert "gone@example.com" in page and "waiting@example.com" not in page
    assert "1 notification could not be sent after 5 attempts" in page
    assert "SMTP 550" in page


def test_a_member_is_not_shown_the_outbox(client: Client) -> None:
    client.force_login(make_user(is_staff=True))
    assert client.get("/admin/core/notification/").status_code in (302, 403)


def test_the_secretary_sends_a_failed_notification_again_from_the_admin(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    proposal = make_proposal()
    failed = pending("submitted", "back@example.com", proposal)
    Notification.objects.filter(pk=failed.pk).update(attempts=5, failed_at=timezone.now(), last_error="SMTP 550")
    client.force_login(make_secretary(is_superuser=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/core/notification/", {"action": "send_again", "_selected_action": [failed.pk]}, follow=True
        )
    assert "1 notification queued again." in response.content.decode()
    assert Notification.objects.get(pk=failed.pk).status == NotificationStatus.SENT
    assert [message.to for message in mail.outbox] == [["back@example.com"]]
