"""What users see when the broker or the database is away: the work is stored and the sweep
catches up; a lost database answers 503, not 500."""

from __future__ import annotations

import datetime
import logging
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.db import DataError, OperationalError
from django.test import Client
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable
from rest_framework.test import APIClient

from core.models import Notification
from core.tasks import send_notification
from proposals.models import Proposal
from proposals.tasks import proposals_sweep
from proposals.workflow import State
from tests.factories import make_poll, make_proposal, make_secretary

pytestmark = pytest.mark.django_db


def test_a_transition_succeeds_while_the_broker_is_down_and_the_sweep_sends_the_mail_later(
    api: APIClient, caplog: Any, django_capture_on_commit_callbacks: Any
) -> None:
    secretary = make_secretary(email="secretary@example.com")
    proposal = make_proposal()
    api.force_authenticate(proposal.proposer)
    with (
        mock.patch.object(send_notification, "delay", side_effect=BrokerUnavailable("connection refused")),
        caplog.at_level(logging.WARNING, logger="quorum.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api.post(f"/api/v1/proposals/{proposal.pk}/transitions/", {"action": "submit"}, format="json")
    assert response.status_code == 200
    assert Proposal.objects.get(pk=proposal.pk).status == State.SUBMITTED
    assert "could not enqueue core.tasks.send_notification" in caplog.text
    assert mail.outbox == []
    pending = Notification.objects.get(kind="submitted")
    assert pending.sent_at is None

    # The broker is back; beat's sweep finds the notification by its state and sends it once.
    Notification.objects.filter(pk=pending.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=5))
    assert proposals_sweep.delay().get()["resent"] == 1
    assert proposals_sweep.delay().get()["resent"] == 0
    assert [message.to for message in mail.outbox] == [[secretary.email]]


def test_the_api_answers_503_with_retry_after_when_the_database_is_lost(api: APIClient) -> None:
    poll = make_poll()
    with mock.patch("polls.api.views.selectors.poll_results", side_effect=OperationalError("server closed")):
        response = api.get(f"/api/v1/polls/{poll.pk}/results/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "database is unavailable" in response.json()["detail"]


def test_a_page_answers_503_when_the_database_is_lost(client: Client) -> None:
    with mock.patch("config.views.selectors.poll_listing", side_effect=OperationalError("server closed")):
        response = client.get("/")
    assert response.status_code == 503
    assert "Back in a moment" in response.content.decode()


def test_a_value_the_database_cannot_hold_is_a_400_not_a_500(api: APIClient) -> None:
    api.force_authenticate(make_secretary())
    with mock.patch("proposals.api.views.people_services.director_save", side_effect=DataError("NUL character")):
        response = api.post("/api/v1/directors/", {"user": make_secretary().username}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Invalid input")
