"""`Authorization: Token <key>` with keys that expire, die with a password change, and for a
role that needs two-factor, were issued against a one-time code."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from core.mfa import mfa_required
from core.models import ApiToken


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's header format and challenge (so the OpenAPI scheme stays `tokenAuth`), our keys."""

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        token = ApiToken.objects.select_related("user").filter(digest=ApiToken.digest_of(key)).first()
        # One answer for every dead token: which check failed is nobody's business.
        invalid = exceptions.AuthenticationFailed(_("Invalid or expired token."))
        if token is None or token.expires_at <= timezone.now():
            raise invalid
        user = token.user
        if not user.is_active or not constant_time_compare(token.password_stamp, ApiToken.stamp_of(user.password)):
            raise invalid
        # A token issued against a code needs no role lookup; any other is re-checked, so an
        # account that became a director since its token was issued must come back with a code.
        if not token.otp_verified and mfa_required(user):
            raise invalid
        return user, token
