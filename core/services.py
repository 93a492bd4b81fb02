"""Writes for accounts: API tokens issued and revoked."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.models import ApiToken


@transaction.atomic
def api_token_issue(*, user: Any, otp_verified: bool = False) -> tuple[str, ApiToken]:
    """A new token for the user; the key is returned once and stored only as a digest. The
    user's dead tokens (expired, or of an earlier password) go at the same time."""
    now = timezone.now()
    ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
    dead = [
        token.pk for token in ApiToken.objects.filter(user=user) if token.password_stamp != token.seal(user.password)
    ]
    ApiToken.objects.filter(pk__in=dead).delete()
    key = secrets.token_hex(20)
    token = ApiToken.sealed(
        user=user, key=key, otp_verified=otp_verified, created_at=now, expires_at=now + settings.TOKEN_TTL
    )
    token.save()
    return key, token


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).delete()


@transaction.atomic
def api_tokens_revoke(*, user: Any) -> int:
    """Every token of the user, e.g. on "log out everywhere"."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted
