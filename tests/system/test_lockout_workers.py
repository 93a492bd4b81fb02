"""The lockout holds across processes: three gunicorn workers on PostgreSQL with a shared cache,
twelve wrong passwords from twelve forged X-Forwarded-For addresses, then the right one."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from core.models import ApiToken
from tests.factories import make_user
from tests.system.live import gunicorn, server_env

PORT = int(os.environ.get("QUORUM_LOCKOUT_TEST_PORT", "8095"))
PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory's
LOCKED = "Too many failed sign-in attempts for this account"
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: three server processes share the database")
    env = server_env(
        "tests.system.workers_settings",
        AUDIT_KEY=secrets.token_urlsafe(50),
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        # A cache every worker shares (Redis in CI when CACHE_URL is set, else files on this node).
        CACHE_URL=os.environ.get("CACHE_URL") or f"filecache://{tmp_path / 'cache'}",
        # The throttle would refuse the twelfth attempt on its own: this test is about the lockout.
        LOGIN_THROTTLE_RATE="1000/min",
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    with gunicorn(env, port=PORT, workers=3, tries=150) as base:
        yield base


def form_login(base: str, username: str, password: str, forwarded_for: str) -> tuple[int, str, list[str]]:
    """A fresh browser each time (its own connection, so any worker may answer): fetch the form
    for its CSRF token, post it. Returns the status, the page and the cookies it holds after."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    with opener.open(f"{base}/accounts/login/", timeout=30) as page:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())
    assert token
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), "username": username, "password": password})
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=body.encode(), headers={"X-Forwarded-For": forwarded_for}, method="POST"
    )
    try:
        with opener.open(request, timeout=30) as response:
            status, text = int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = int(error.code), error.read().decode()
    return status, text, [cookie.name for cookie in jar]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def token_request(base: str, username: str, password: str, forwarded_for: str) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(
        f"{base}/api/v1/auth/token/",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), json.loads(error.read())


def test_twelve_form_failures_across_three_workers_lock_the_account(server: str) -> None:
    make_user(username="alice")
    answers = [form_login(server, "alice", f"guess-{i}", f"198.51.100.{i}")[0] for i in range(12)]
    assert set(answers) <= {200, 429}
    status, page, cookies = form_login(server, "alice", PASSWORD, "198.51.100.99")
    assert status == 429
    assert LOCKED in page
    assert "sessionid" not in cookies


def test_twelve_token_failures_across_three_workers_lock_the_account(server: str) -> None:
    make_user(username="bob")
    answers = [token_request(server, "bob", f"guess-{i}", f"203.0.113.{i}")[0] for i in range(12)]
    assert answers[:4] == [400] * 4
    assert set(answers[4:]) == {429}
    status, body = token_request(server, "bob", PASSWORD, "203.0.113.99")
    assert status == 429
    assert LOCKED in body["detail"]
    assert not ApiToken.objects.exists()


def test_a_right_password_before_the_limit_signs_in_on_any_worker(server: str) -> None:
    make_user(username="carol")
    for i in range(3):
        form_login(server, "carol", f"guess-{i}", f"192.0.2.{i}")
    status, page, cookies = form_login(server, "carol", PASSWORD, "192.0.2.99")
    assert status == 302, re.findall(r'<div class="errors".*?</div>', page, re.S)
    assert "sessionid" in cookies
