from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

from tests.factories import make_secretary, make_user


@pytest.fixture(autouse=True)
def in_the_default_language() -> Iterator[None]:
    """Every test starts in the site's language: a request in Italian leaves Italian active in
    the thread (LocaleMiddleware never deactivates), and a later test that calls a service
    directly then read its refusals in Italian, or not, by the order the tests ran in."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def member() -> Any:
    return make_user()


@pytest.fixture
def secretary() -> Any:
    return make_secretary()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def api_as(api: APIClient) -> Any:
    """Authenticate the API client with the user's token, the way an integration would (issued
    as after a second factor, so a secretary's token holds when a test turns REQUIRE_2FA on)."""
    from core.services import api_token_issue

    def login(user: Any) -> APIClient:
        key, _ = api_token_issue(user=user, otp_verified=True)
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return api

    return login


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_report_header(config: pytest.Config) -> str:
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = settings.CELERY_BROKER_URL.split("://", 1)[0] or "none (eager)"
    return f"quorum: database={engine} broker={broker}"
