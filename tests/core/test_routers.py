"""The primary/replica router (config/routers.py) and the pin (core/db_pinning.py): where each
read goes, inside and outside a request; and, with two real SQLite files, that a GET reads the
replica and a write pins the request and the browser's next ones to the primary."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from config.routers import PrimaryReplicaRouter
from core import db_pinning
from core.models import ApiToken
from meetings.ballot_models import BallotLine
from polls.models import Ballot, Option, Poll

ROOT = Path(__file__).resolve().parents[2]
router = PrimaryReplicaRouter()


def through_middleware(
    method: str, view: Callable[[HttpRequest], HttpResponse], cookies: dict[str, str] | None = None
) -> HttpResponse:
    request = RequestFactory().generic(method, "/somewhere/")
    request.COOKIES.update(cookies or {})
    return db_pinning.PrimaryPinMiddleware(view)(request)


def reads(*models: type) -> Callable[[HttpRequest], HttpResponse]:
    """A view that answers where each model would be read from, in order."""

    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(",".join(router.db_for_read(model) for model in models))

    return view


def test_outside_a_request_everything_reads_the_primary() -> None:
    assert router.db_for_read(Poll) == "default"
    assert router.db_for_read(Option) == "default"


def test_a_get_reads_results_from_the_replica_and_a_voters_own_state_from_the_primary() -> None:
    response = through_middleware("GET", reads(Poll, Option, Ballot, BallotLine, User, ApiToken))
    assert response.content.decode().split(",") == ["replica", "replica", "default", "default", "default", "default"]
    assert db_pinning.COOKIE not in response.cookies


def test_a_post_reads_the_primary_and_pins_the_browser() -> None:
    response = through_middleware("POST", reads(Poll))
    assert response.content == b"default"
    cookie = response.cookies[db_pinning.COOKIE]
    assert cookie["max-age"] == 5
    assert cookie["httponly"]


def test_a_get_right_after_a_write_reads_the_primary() -> None:
    response = through_middleware("GET", reads(Poll), cookies={db_pinning.COOKIE: "1"})
    assert response.content == b"default"


def test_a_get_that_writes_reads_the_primary_from_then_on() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        before = router.db_for_read(Poll)
        assert router.db_for_write(Poll) == "default"
        return HttpResponse(f"{before},{router.db_for_read(Poll)}")

    response = through_middleware("GET", view)
    assert response.content == b"replica,default"
    assert db_pinning.COOKIE in response.cookies


def test_the_pin_ends_with_its_request() -> None:
    through_middleware("GET", reads(Poll))
    assert not db_pinning.replica_allowed()


@pytest.mark.django_db
def test_inside_a_transaction_reads_go_to_the_primary() -> None:
    """Certification and every service run in transaction.atomic: they read what they lock."""

    def view(request: HttpRequest) -> HttpResponse:
        with transaction.atomic():
            inside = router.db_for_read(Poll)
        return HttpResponse(inside)

    # pytest-django wraps the test in a transaction of its own; outside one, see the GET test.
    assert through_middleware("GET", view).content == b"default"


def test_only_the_primary_is_migrated() -> None:
    assert router.allow_migrate("default", "polls")
    assert not router.allow_migrate("replica", "polls")
    assert router.allow_relation(Poll(), Option())


TWO_FILES = textwrap.dedent(
    """
    import shutil, sys
    import django
    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.conf import settings
    from django.http import HttpResponse
    from django.test import RequestFactory
    from core.db_pinning import COOKIE, PrimaryPinMiddleware
    from polls.models import Poll
    from polls import services
    from django.utils import timezone
    from datetime import timedelta

    def poll(title):
        now = timezone.now()
        later = now + timedelta(days=1)
        return services.poll_create(title=title, options=["Yes", "No"], actor=None, opens_at=now, closes_at=later)

    assert settings.MIDDLEWARE[0] == "core.db_pinning.PrimaryPinMiddleware"
    call_command("migrate", verbosity=0)
    connections["default"].close()
    shutil.copyfile(sys.argv[1], sys.argv[2])  # the replica: a copy taken before the write below
    primary_only = poll("Only on the primary")

    def count(request):
        return HttpResponse(str(Poll.objects.count()))

    def make_and_count(request):
        before = Poll.objects.count()
        poll("Another")
        return HttpResponse(f"{before},{Poll.objects.count()}")

    def call(method, view, cookies=None):
        request = RequestFactory().generic(method, "/")
        request.COOKIES.update(cookies or {})
        response = PrimaryPinMiddleware(view)(request)
        return response.content.decode(), COOKIE in response.cookies

    def fast_results_read(request):
        from polls.api.hot import _poll_with_options

        return HttpResponse(str(_poll_with_options(primary_only.pk) is not None))

    print(call("GET", count), call("POST", count), call("GET", count, {COOKIE: "1"}), call("GET", make_and_count))
    print(call("GET", fast_results_read), call("POST", fast_results_read))
    """
)


def test_two_sqlite_files_as_primary_and_replica(tmp_path: Path) -> None:
    primary, replica = tmp_path / "primary.sqlite3", tmp_path / "replica.sqlite3"
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings_test",
        DATABASE_URL=f"sqlite:///{primary}",
        DATABASE_REPLICA_URL=f"sqlite:///{replica}",
    )
    result = subprocess.run(
        [sys.executable, "-c", TWO_FILES, str(primary), str(replica)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    # A GET reads the replica (no poll yet), a POST the primary and pins; a pinned GET reads the
    # primary; a GET that writes reads the replica until its write, then the primary, and pins.
    assert result.stdout.strip().splitlines()[-2] == "('0', False) ('1', True) ('1', False) ('0,2', True)"
    # The fast results path reads where the router says: the replica lacks the poll, the primary has it.
    assert result.stdout.strip().splitlines()[-1] == "('False', False) ('True', True)"


def settings_of(**env: str) -> str:
    environment = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DEBUG"}}
    environment |= {"DJANGO_SETTINGS_MODULE": "config.settings_test", **env}
    code = (
        "from django.conf import settings as s; "
        "print(sorted(s.DATABASES), s.DATABASE_ROUTERS, s.MIDDLEWARE[0], sorted(s.CELERY_TASK_ROUTES.items()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_without_a_replica_or_queues_nothing_changes() -> None:
    out = settings_of()
    assert out == "['default'] [] django.middleware.security.SecurityMiddleware []"


def test_settings_name_the_replica_and_the_queues() -> None:
    out = settings_of(
        DATABASE_URL="postgres://u@127.0.0.1:6432/quorum",
        DATABASE_REPLICA_URL="postgres://u@127.0.0.1:5433/quorum",
        CELERY_MAIL_QUEUE="mail",
        CELERY_WORK_QUEUE="work",
    )
    assert out.startswith(
        "['default', 'replica'] ['config.routers.PrimaryReplicaRouter'] core.db_pinning.PrimaryPinMiddleware"
    )
    assert "('core.tasks.send_notification', {'queue': 'mail'})" in out
    assert "('meetings.tasks.register_import_run', {'queue': 'work'})" in out
    assert "('proposals.tasks.proposals_settle', {'queue': 'work'})" in out


def test_check_deploy_is_clean_with_the_clusters_settings() -> None:
    """The settings README, Deploying, lists pass `check --deploy` as the cluster sets them."""
    environment = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY="cluster-check-" + "k" * 50,
        AUDIT_KEY="cluster-audit-" + "a" * 50,
        ALLOWED_HOSTS="quorum.example.com",
        CACHE_URL="redis://127.0.0.1:6379/8",
        DATABASE_URL="postgres://postgres@127.0.0.1:6435/quorum",
        CONN_MAX_AGE="0",
        DISABLE_SERVER_SIDE_CURSORS="1",
        DATABASE_REPLICA_URL="postgres://postgres@127.0.0.1:6435/quorum_replica",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/9",
        CELERY_MAIL_QUEUE="mail",
        CELERY_WORK_QUEUE="work",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
