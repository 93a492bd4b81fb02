from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class ApiToken(models.Model):
    """An API key, stored only as its digest: a database dump yields no usable token. It expires,
    and it carries a stamp of the password it was issued under, so a password change kills it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    password_stamp = models.CharField(max_length=64)
    # Issued after a second factor was proved: a role that needs one accepts no other token.
    otp_verified = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=F("created_at")), name="api_token_expires_after_created"),
        ]

    def __str__(self) -> str:
        return f"API token of user {self.user_id}, until {self.expires_at:%Y-%m-%d %H:%M}"

    @staticmethod
    def digest_of(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def stamp_of(password_hash: str) -> str:
        # The password hash carries a fresh salt each time it is set, so its digest changes with
        # every password change (and with an unusable password), reset or not.
        return hashlib.sha256(password_hash.encode()).hexdigest()
