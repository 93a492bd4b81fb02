"""Writes for accounts: API tokens issued and revoked."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.models import ApiToken


@transaction.atomic
def api_token_issue(*, user: Any, otp_verified: bool = False) -> tuple[str, ApiToken]:
    """A new token for the user; the key is returned once and stored only as a digest. The
    user's dead tokens (expired, or of an earlier password) go at the same time."""
    now = timezone.now()
    stamp = ApiToken.stamp_of(user.password)
    ApiToken.objects.filter(user=user).filter(Q(expires_at__lte=now) | ~Q(password_stamp=stamp)).delete()
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(
        user=user,
        digest=ApiToken.digest_of(key),
        password_stamp=stamp,
        otp_verified=otp_verified,
        created_at=now,
        expires_at=now + settings.TOKEN_TTL,
    )
    return key, token


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).delete()


@transaction.atomic
def api_tokens_revoke(*, user: Any) -> int:
    """Every token of the user, e.g. on "log out everywhere"."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted
