from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import make_user

pytestmark = pytest.mark.django_db

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "hardening"}}


@pytest.fixture
def counting_cache(settings: Any) -> None:
    settings.CACHES = LOCMEM
    cache.clear()


def test_the_token_endpoint_is_throttled_after_ten_attempts_a_minute(counting_cache: None, api: APIClient) -> None:
    make_user(username="alice")
    # Ten accounts, so the per-account lockout stays out of it: the address is what is counted.
    answers = [
        api.post("/api/v1/auth/token/", {"username": f"user{i}", "password": "wrong"}, format="json").status_code
        for i in range(11)
    ]
    assert answers[:10] == [400] * 10
    assert answers[10] == 429
    right = api.post("/api/v1/auth/token/", {"username": "alice", "password": "pw-for-tests-1"}, format="json")
    assert right.status_code == 429  # still within the minute, even with the right password


def test_the_login_form_locks_an_account_after_five_failures(counting_cache: None, client: Client) -> None:
    make_user(username="alice")
    for _ in range(4):
        page = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
        assert "Please enter a correct username and password" in page.content.decode()
    fifth = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert "Too many failed sign-in attempts for this account" in fifth.content.decode()
    locked = client.post("/accounts/login/", {"username": "alice", "password": "pw-for-tests-1"})
    assert "Too many failed sign-in attempts for this account" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_login_clears_the_failures(counting_cache: None, client: Client) -> None:
    make_user(username="alice")
    for _ in range(4):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert client.post("/accounts/login/", {"username": "alice", "password": "pw-for-tests-1"}).status_code == 302
    client.logout()
    for _ in range(4):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert client.post("/accounts/login/", {"username": "alice", "password": "pw-for-tests-1"}).status_code == 302


def test_the_admin_login_shares_the_lockout(counting_cache: None, client: Client) -> None:
    make_user(username="boss", is_staff=True)
    for _ in range(5):
        client.post("/admin/login/", {"username": "boss", "password": "wrong"})
    page = client.post("/admin/login/", {"username": "boss", "password": "pw-for-tests-1"})
    assert "Too many failed sign-in attempts for this account" in page.content.decode()


def test_production_responses_carry_security_headers(client: Client) -> None:
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
