"""A meeting's notices (issue 15): the notice when its first item opens, once per holder with a
claimed account and in that account's language; one reminder to those who have not voted on an
item closing within 24 hours, however often the sweep runs; links on the configured site."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from core.models import Notification, NotificationStatus, Profile
from core.tasks import send_notification
from meetings import notices, tasks
from meetings.models import Meeting
from meetings.services import item_ballot_cast
from polls import services as poll_services
from polls.models import Poll
from tests.factories import make_item, make_meeting, make_register, make_user

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def meeting() -> Meeting:
    """Ann (English) and Bruno (Italian) claimed their holdings; Carla's has no account."""
    make_user(username="ann", email="ann@example.com")
    bruno = make_user(username="bruno", email="bruno@example.com")
    Profile.objects.create(user=bruno, language="it")
    register = make_register(
        [
            ("H-1", "Ann Holder", "ann@example.com", 600),
            ("H-2", "Bruno Socio", "bruno@example.com", 300),
            ("H-3", "Carla Unclaimed", "carla@example.com", 100),
        ],
        outstanding=1_000,
    )
    # Ahead, so that a proxy's cut-off (the day before) has not passed.
    return make_meeting(register, title="2026 Annual Meeting", date=timezone.localdate() + datetime.timedelta(days=7))


def draft_item(meeting: Meeting, title: str, closes_in: datetime.timedelta = datetime.timedelta(days=3)) -> Poll:
    now = timezone.now()
    return make_item(
        meeting, status="draft", title=title, opens_at=now + datetime.timedelta(hours=1), closes_at=now + closes_in
    )


def test_the_first_item_opening_sends_one_notice_per_claimed_holder(
    meeting: Meeting, django_capture_on_commit_callbacks: Any
) -> None:
    first, second = draft_item(meeting, "Elect the board"), draft_item(meeting, "Ratify the auditor")
    draft_item(meeting, "A draft not on the ballot yet")
    poll_services.poll_schedule(poll=second)
    with django_capture_on_commit_callbacks(execute=True):
        poll_services.poll_open(poll=first)
    assert sorted(message.to[0] for message in mail.outbox) == ["ann@example.com", "bruno@example.com"]
    with django_capture_on_commit_callbacks(execute=True):
        poll_services.poll_open(poll=second)
        tasks.meeting_notices_send.delay(meeting.pk).get()  # a redelivered task
    assert len(mail.outbox) == 2, "the second item's opening sends no second notice"
    notification = Notification.objects.get(kind=notices.NOTICE, recipient="ann@example.com")
    assert (notification.subject, notification.status) == (f"meeting:{meeting.pk}", NotificationStatus.SENT)

    (ann,) = [message for message in mail.outbox if message.to == ["ann@example.com"]]
    assert ann.subject == "[Quorum] Meeting notice: 2026 Annual Meeting"
    assert "Elect the board" in ann.body and "Ratify the auditor" in ann.body  # open, and scheduled
    assert "A draft" not in ann.body
    assert f"{settings.SITE_URL}/meetings/{meeting.pk}/" in ann.body
    assert f'href="{settings.SITE_URL}/meetings/{meeting.pk}/"' in str(ann.alternatives[0][0])  # type: ignore[attr-defined]


def test_an_italian_holder_gets_the_notice_in_italian(
    meeting: Meeting, django_capture_on_commit_callbacks: Any
) -> None:
    item = draft_item(meeting, "Elect the board")
    with django_capture_on_commit_callbacks(execute=True):
        poll_services.poll_open(poll=item)
    (bruno,) = [message for message in mail.outbox if message.to == ["bruno@example.com"]]
    assert bruno.subject == "[Quorum] Avviso di convocazione: 2026 Annual Meeting"
    assert "Le votazioni per 2026 Annual Meeting" in bruno.body
    assert "il voto si chiude il" in bruno.body
    assert '<html lang="it">' in str(bruno.alternatives[0][0])  # type: ignore[attr-defined]
    (ann,) = [message for message in mail.outbox if message.to == ["ann@example.com"]]
    assert "Voting for 2026 Annual Meeting" in ann.body


def test_a_lost_notice_task_is_caught_up_by_the_sweep(
    meeting: Meeting, django_capture_on_commit_callbacks: Any
) -> None:
    item = draft_item(meeting, "Elect the board")
    with (
        mock.patch.object(tasks.meeting_notices_send, "delay", side_effect=BrokerUnavailable("refused")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        poll_services.poll_open(poll=item)
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.meeting_reminders_sweep.delay().get()["notices"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.meeting_reminders_sweep.delay().get()["notices"] == 0
    assert len(mail.outbox) == 2


def test_the_reminder_sweep_twice_reminds_each_non_voter_once_and_no_voter(
    meeting: Meeting, django_capture_on_commit_callbacks: Any
) -> None:
    now = timezone.now()
    closing = make_item(meeting, title="Approve the merger", closes_at=now + datetime.timedelta(hours=20))
    later = make_item(meeting, title="Later item", closes_at=now + datetime.timedelta(days=5))
    ann = make_user(username="ann")
    item_ballot_cast(poll_id=closing.pk, actor=ann, choice="for")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        first = tasks.meeting_reminders_sweep.delay().get()
    with django_capture_on_commit_callbacks(execute=True):
        second = tasks.meeting_reminders_sweep.delay().get()
    assert (first["reminders"], second["reminders"]) == (1, 0)
    reminders = [message for message in mail.outbox if "Promemoria" in message.subject or "Reminder" in message.subject]
    assert [message.to for message in reminders] == [["bruno@example.com"]]
    (bruno,) = reminders
    assert bruno.subject == "[Quorum] Promemoria: il voto per 2026 Annual Meeting si chiude a breve"
    assert "Approve the merger" in bruno.body and later.title not in bruno.body
    assert f"{settings.SITE_URL}/meetings/{meeting.pk}/" in bruno.body

    # A worker restarted mid-way delivers the send task again: the reminder is not sent twice.
    reminder = Notification.objects.get(kind=notices.REMINDER)
    assert send_notification.delay(reminder.pk).get() is False
    assert len([m for m in mail.outbox if m.to == ["bruno@example.com"] and "Promemoria" in m.subject]) == 1
    assert reminder.context == {"items": [closing.pk], "user_id": reminder.context["user_id"]}


def test_a_proxys_ballot_counts_as_voted_and_an_item_far_from_closing_reminds_nobody(
    meeting: Meeting, django_capture_on_commit_callbacks: Any
) -> None:
    from meetings.services import proxy_appoint

    now = timezone.now()
    far = make_item(meeting, title="Far item", closes_at=now + datetime.timedelta(hours=30))
    closing = make_item(meeting, title="Closing item", closes_at=now + datetime.timedelta(hours=2))
    bruno, ann = make_user(username="bruno"), make_user(username="ann")
    holder = meeting.register.holders.get(account="H-2")
    proxy_appoint(meeting=meeting, holder=holder, proxy=ann, actor=bruno)
    item_ballot_cast(poll_id=closing.pk, actor=ann, choice="against", holder_id=holder.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert notices.meeting_reminders_queue() == 1
    (reminder,) = Notification.objects.filter(kind=notices.REMINDER)
    assert reminder.recipient == "ann@example.com" and reminder.context["items"] == [closing.pk]
    assert far.pk not in reminder.context["items"]


def test_the_sweep_is_on_beats_schedule() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["meeting-reminders-sweep"]
    assert entry["task"] == "meetings.tasks.meeting_reminders_sweep"


def _site_url(**environ: str) -> str:
    env = {key: value for key, value in os.environ.items() if key not in ("SITE_URL", "PORT")}
    env |= {"DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings", **environ}
    code = "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.strip().splitlines()[-1]


def test_links_follow_the_port_the_app_is_served_on_unless_site_url_is_set() -> None:
    assert _site_url() == "http://127.0.0.1:8000"
    assert _site_url(PORT="8123") == "http://127.0.0.1:8123"
    assert _site_url(PORT="8123", SITE_URL="https://vote.example.com/") == "https://vote.example.com"
    assert 'export PORT="$port"' in (ROOT / "scripts" / "run.sh").read_text()
