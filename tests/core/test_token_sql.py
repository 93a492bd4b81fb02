"""An API token authenticates as its account, and what it does is signed on the trail as that
account's own act. A token row written by SQL (the digest of a key the writer chose, the stamp
of the password hash beside it, a second factor claimed) or a row taken over (its digest or
account replaced, its second factor flag raised, its expiry pushed) must not authenticate:
each row is sealed with a key outside the database."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import ApiToken
from core.services import api_token_issue
from tests.factories import make_secretary, make_user

pytestmark = pytest.mark.django_db


def _sql(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _me(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/polls/").status_code


def test_an_issued_token_authenticates() -> None:
    key, _token = api_token_issue(user=make_user())
    assert _me(key) == 200


def test_a_token_minted_by_sql_for_the_secretary_is_refused() -> None:
    secretary = make_secretary()
    key = "0" * 40
    now = timezone.now()
    _sql(
        "INSERT INTO core_apitoken (user_id, digest, password_stamp, otp_verified, created_at, expires_at)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        [
            secretary.pk,
            hashlib.sha256(key.encode()).hexdigest(),
            hashlib.sha256(secretary.password.encode()).hexdigest(),
            True,
            now,
            now + datetime.timedelta(days=1),
        ],
    )
    assert _me(key) == 401


def test_a_token_row_taken_over_or_stretched_by_sql_is_refused() -> None:
    member, insider = make_user(), make_user()
    key, token = api_token_issue(user=member)
    mine = "1" * 40
    ApiToken.objects.filter(pk=token.pk).update(digest=hashlib.sha256(mine.encode()).hexdigest())
    assert _me(mine) == 401
    ApiToken.objects.filter(pk=token.pk).update(digest=ApiToken.digest_of(key))
    assert _me(key) == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=token.expires_at + datetime.timedelta(days=365))
    assert _me(key) == 401
    ApiToken.objects.filter(pk=token.pk).update(expires_at=token.expires_at, user=insider)
    assert _me(key) == 401
