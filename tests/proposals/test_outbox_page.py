"""The secretary's outbox in the console (issue 15): every notification with its status and the
e-mail as sent (escaped), a failed one sent again on the trail; the secretary's only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from core.audit import audit_trail
from core.models import Notification, NotificationStatus
from proposals.models import Proposal
from tests.factories import make_proposal, make_secretary, make_user

pytestmark = pytest.mark.django_db

URL = "/console/outbox/"


def notification(proposal: Proposal, recipient: str, status: str = NotificationStatus.PENDING) -> Notification:
    made = Notification.objects.create(
        key=f"submitted:{proposal.pk}::{recipient}",
        kind="submitted",
        subject=f"proposal:{proposal.pk}",
        recipient=recipient,
    )
    now = timezone.now()
    if status == NotificationStatus.SENT:
        Notification.objects.filter(pk=made.pk).update(sent_at=now, attempts=1)
    elif status == NotificationStatus.FAILED:
        Notification.objects.filter(pk=made.pk).update(failed_at=now, attempts=5, last_error="SMTP 550 <no such user>")
    return Notification.objects.get(pk=made.pk)


@pytest.fixture
def outbox() -> dict[str, Notification]:
    proposal = make_proposal(title="Invest <script>alert(1)</script> & more")
    return {
        status: notification(proposal, f"{status}@example.com", status)
        for status in (NotificationStatus.SENT, NotificationStatus.PENDING, NotificationStatus.FAILED)
    }


def secretary_client(**headers: str) -> Client:
    client = Client(headers=headers)
    client.force_login(make_secretary())
    return client


def cards(page: str) -> list[str]:
    return re.findall(r'<li class="card".*?</li>\s*(?=<li class="card"|</ul>)', page, flags=re.S)


def test_the_secretary_sees_every_status_and_each_emails_preview_escaped(outbox: dict[str, Notification]) -> None:
    response = secretary_client().get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    for status in ("sent", "pending", "failed"):
        assert f"{status}@example.com" in page
        assert f'class="badge status-{status}"' in page
    assert "All (3)" in page and "Failed (1)" in page
    # The e-mail as sent: the subject line and the plain-text body, escaped like any text.
    assert "[Quorum] Proposal submitted: Invest &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert '<pre class="mail-preview">' in page and "A proposal was submitted" in page
    assert "<script>alert(1)</script>" not in page
    assert "SMTP 550 &lt;no such user&gt;" in page
    # Only the failed one can be sent again.
    assert page.count("/resend/") == 1
    assert f"/console/outbox/{outbox['failed'].pk}/resend/" in page


def test_the_filter_shows_one_status_and_an_unknown_one_is_a_400(outbox: dict[str, Notification]) -> None:
    client = secretary_client()
    page = client.get(URL, {"status": "failed"}).content.decode()
    assert "failed@example.com" in page and "sent@example.com" not in page and "pending@example.com" not in page
    bad = client.get(URL, {"status": "lost"})
    assert bad.status_code == 400
    assert "Unknown status" in bad.content.decode()


def test_a_notification_that_cannot_be_written_shows_why_instead_of_a_500() -> None:
    Notification.objects.create(key="odd", kind="no_such_kind", recipient="odd@example.com")
    page = secretary_client().get(URL).content.decode()
    assert "This e-mail cannot be written:" in page and "no_such_kind" in page


def test_a_member_is_refused_and_a_visitor_is_sent_to_sign_in(outbox: dict[str, Notification]) -> None:
    member = Client()
    member.force_login(make_user(is_staff=True))
    assert member.get(URL).status_code == 403
    assert member.post(f"/console/outbox/{outbox['failed'].pk}/resend/").status_code == 403
    assert Notification.objects.get(pk=outbox["failed"].pk).status == NotificationStatus.FAILED
    visitor = Client().get(URL)
    assert visitor.status_code == 302 and "/accounts/login/" in visitor["Location"]


def test_the_secretary_sends_a_failed_one_again(
    outbox: dict[str, Notification], django_capture_on_commit_callbacks: Any
) -> None:
    client = secretary_client()
    failed = outbox["failed"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/console/outbox/{failed.pk}/resend/", {"status": "failed"}, follow=True)
    assert response.redirect_chain[-1][0] == "/console/outbox/?status=failed"
    assert "The notification to failed@example.com is queued again." in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (NotificationStatus.SENT, 1)
    assert [message.to for message in mail.outbox] == [["failed@example.com"]]
    assert [event.action for event in audit_trail(f"notification:{failed.pk}")] == ["notification_resent"]

    again = client.post(f"/console/outbox/{failed.pk}/resend/", follow=True)
    assert "Only a failed notification can be sent again; this one is sent." in again.content.decode()
    assert len(mail.outbox) == 1 and len(audit_trail(f"notification:{failed.pk}")) == 1
    assert client.post("/console/outbox/999999/resend/").status_code == 404
    assert client.get(f"/console/outbox/{failed.pk}/resend/").status_code == 405


def test_the_outbox_speaks_italian(outbox: dict[str, Notification]) -> None:
    page = secretary_client(accept_language="it").get(URL).content.decode()
    assert "Posta in uscita" in page and "Invia di nuovo" in page and "Tentativi" in page
    assert "Tutte (3)" in page and "Non riuscita (1)" in page and "Inviata (1)" in page


def test_the_console_links_to_the_outbox() -> None:
    assert 'href="/console/outbox/"' in secretary_client().get("/console/").content.decode()
