"""The project's contract with a newcomer and an operator: deploy checks, schema, demo data,
health check, scheduled work."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import Client

from polls import tasks
from polls.models import Ballot, Poll, PollStatus
from tests.factories import make_poll

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # A production process: none of the switches the test session itself runs with (the browser
    # tests allow blocking ORM calls beside Playwright's event loop, which `check` reports).
    test_only = {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {key: value for key, value in os.environ.items() if key not in test_only}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, check=False
    )


PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "AUDIT_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "quorum.example.com",
    # Only named: `check` connects to nothing.
    "CACHE_URL": "redis://127.0.0.1:6379/1",
}


def test_check_deploy_is_clean_with_production_variables() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_the_cache_is_local_to_one_process() -> None:
    """Throttle counts in a per-process cache give a client the limit once per worker."""
    production = {key: value for key, value in PRODUCTION.items() if key != "CACHE_URL"}
    result = run_manage("check", "--deploy", **production, CACHE_URL="locmemcache://")
    assert result.returncode != 0
    assert "core.E001" in result.stderr
    assert "CACHE_URL" in result.stderr


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = run_manage("check", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_openapi_schema_validates_and_lists_every_poll_endpoint(tmp_path: Path) -> None:
    schema = tmp_path / "schema.yml"
    result = run_manage(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(schema), SECRET_KEY="schema-check-only", DEBUG="1"
    )
    assert result.returncode == 0, result.stderr
    text = schema.read_text()
    for path in [
        "/api/v1/auth/token/:",
        "/api/v1/auth/logout/:",
        "/api/v1/polls/:",
        "/api/v1/polls/{id}/:",
        "/api/v1/polls/{id}/open/:",
        "/api/v1/polls/{id}/close/:",
        "/api/v1/polls/{id}/certify/:",
        "/api/v1/polls/{id}/ballot/:",
        "/api/v1/polls/{id}/results/:",
        # DESIGN, "API additions": the ones built so far.
        "/api/v1/receipts/{code}/:",
        "/api/v1/board/:",
        "/api/v1/consents/:",
        "/api/v1/consents/{id}/sign/:",
        "/api/v1/board-meetings/:",
    ]:
        assert path in text


@pytest.mark.django_db
def test_the_api_docs_load_their_assets_from_the_app(client: Client) -> None:
    page = client.get("/api/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "//" not in page.split("swagger-ui-bundle.js")[0].rsplit('src="', 1)[1]


@pytest.mark.django_db
def test_seed_demo_creates_the_xai_poll_with_ballots_and_is_safe_to_run_twice() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=StringIO())
    xai = Poll.objects.get(title__startswith="Should Tesla invest $5B into xAI")
    assert xai.effective_status() == PollStatus.OPEN
    assert Ballot.objects.filter(poll=xai).count() == 28
    assert dict(xai.options.values_list("label", "votes")) == {"Yes": 19, "No": 9}
    assert Poll.objects.filter(kind="public").count() == 4
    # Proposals: last year's three (the auditor, say-on-pay, xAI) and next week's two; last year's
    # election and say-on-pay frequency are items of their own forms.
    assert Poll.objects.filter(kind="shareholder").count() == 5
    assert Poll.objects.filter(kind__in=["election", "frequency"]).count() == 2
    assert "secretary / quorum-demo" in out.getvalue()
    assert "alice / quorum-demo" in out.getvalue()


@pytest.mark.django_db
def test_a_demo_member_can_log_in_with_the_printed_password(client: Client) -> None:
    call_command("seed_demo", stdout=StringIO())
    assert client.login(username="alice", password="quorum-demo")
    assert client.get("/admin/").status_code == 302  # members are not staff
    assert client.login(username="secretary", password="quorum-demo")
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_healthz_reports_the_database_and_an_eager_broker(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_unreachable(client: Client) -> None:
    from django.db import OperationalError

    with mock.patch("config.views.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error: OperationalError"


@pytest.mark.django_db
def test_healthz_answers_503_when_the_broker_is_unreachable(client: Client, settings: Any) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")


@pytest.mark.django_db
def test_the_sweep_task_closes_polls_whose_time_has_come() -> None:
    import datetime

    from django.utils import timezone

    poll = make_poll()
    Poll.objects.filter(pk=poll.pk).update(closes_at=timezone.now() - datetime.timedelta(seconds=1))
    assert tasks.polls_sweep.delay().get() == {"opened": 0, "closed": 1}
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.CLOSED


def test_beat_runs_the_sweep_every_thirty_seconds(settings: Any) -> None:
    assert settings.CELERY_BEAT_SCHEDULE["polls-sweep"] == {"task": "polls.tasks.polls_sweep", "schedule": 30.0}


def test_the_embedded_broker_of_make_run_configures_cleanly(tmp_path: Path) -> None:
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_in'])",
        DEBUG="1",
        CELERY_BROKER_URL="filesystem://",
        CELERY_FILESYSTEM_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(f"{tmp_path}/queue")
    assert (tmp_path / "queue").is_dir()  # kombu needs it before the first enqueue


@pytest.mark.django_db
def test_an_unknown_api_address_answers_json_and_a_page_answers_in_the_layout(client: Client) -> None:
    api = client.get("/api/v1/registers/99999999999999999999999/")
    assert api.status_code == 404
    assert api.json() == {"detail": "Not found."}
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert "There is nothing at this address" in page.content.decode()


def test_the_models_and_the_migrations_agree() -> None:
    result = run_manage("makemigrations", "--check", "--dry-run", DEBUG="1", SECRET_KEY="migrations-check-only")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_the_secretary_role_holds_the_proposals_permissions_after_one_migrate() -> None:
    from django.contrib.auth.models import Group

    # The test database was made by a single migrate, as a fresh deployment's is.
    permissions = Group.objects.get(name="secretary").permissions.values_list("content_type__app_label", flat=True)
    assert {"polls", "proposals"} <= set(permissions)
