"""`Authorization: Token <key>` with keys that expire, die with a password change, and for a
role that needs two-factor, were issued against a one-time code."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from core.mfa import mfa_required, mfa_required_known, requirement_sql
from core.models import ApiToken
from core.prepared import PreparedSelect

_ACCOUNT_JOIN = "FROM {apitoken} t JOIN {user} u ON u.id = t.user_id WHERE t.digest = %s"


def token_select(*, extra: str = "") -> PreparedSelect:
    """The token, its account and whether the account must prove a second factor, in one query
    built once (on first use, when every app has registered its requirement), with `extra`
    columns (core.prepared): a caller that needs one more value per request reads it in the same
    round trip."""
    return PreparedSelect(
        [(ApiToken, "t"), (get_user_model(), "u")],
        _ACCOUNT_JOIN,
        extra=lambda: ", ".join(filter(None, [requirement_sql(), extra])),
    )


# Every API request looks its token up.
_TOKEN_WITH_USER = token_select()


def credentials_with(key: str, select: PreparedSelect, extra_params: list[Any]) -> tuple[Any, ApiToken, list[Any]]:
    """The account of a live token, its token and the select's extra columns' values (a
    token_select's; their parameters first), or AuthenticationFailed."""
    found = select.rows([*extra_params, ApiToken.digest_of(key)], read_as=ApiToken)
    token = cast(ApiToken, found[0][0]) if found else None
    if token is not None:
        token.user = cast(Any, found[0][1])  # as select_related("user") would leave it
        mfa_required_known(token.user, required=bool(found[0][2]))
    live = _live(token)
    return live.user, live, found[0][3:]


def _live(token: ApiToken | None) -> ApiToken:
    # One answer for every dead token: which check failed is nobody's business.
    invalid = exceptions.AuthenticationFailed(_("Invalid or expired token."))
    if token is None or token.expires_at <= timezone.now():
        raise invalid
    user = token.user
    if not user.is_active or not constant_time_compare(token.password_stamp, token.seal(user.password)):
        raise invalid
    # A token issued against a code needs no role lookup; any other is re-checked, so an
    # account that became a director since its token was issued must come back with a code.
    if not token.otp_verified and mfa_required(user):
        raise invalid
    return token


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's header format and challenge (so the OpenAPI scheme stays `tokenAuth`), our keys."""

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        user, token, _extra = credentials_with(key, _TOKEN_WITH_USER, [])
        return user, token
