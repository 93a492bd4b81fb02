"""Who must sign in with a second factor, and whether this request has.

The rule is a registry: core knows the secretary group and superusers; a higher app adds its
own roles at start-up (proposals registers directors), so core imports no app above it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django_otp import user_has_device

SECRETARY_GROUP = "secretary"  # the same name as polls.permissions.SECRETARY_GROUP

Predicate = Callable[[Any], bool]
_requirements: list[Predicate] = []


def register_requirement(predicate: Predicate) -> None:
    """Ask for a second factor from every user the predicate accepts (an active account)."""
    if predicate not in _requirements:
        _requirements.append(predicate)


def is_secretary_or_superuser(user: Any) -> bool:
    return bool(user.is_superuser or user.groups.filter(name=SECRETARY_GROUP).exists())


register_requirement(is_secretary_or_superuser)


def mfa_required(user: Any) -> bool:
    """Whether this account must prove a second factor (REQUIRE_2FA on, and a role that asks)."""
    if not settings.REQUIRE_2FA or not getattr(user, "is_authenticated", False):
        return False
    cached: bool | None = getattr(user, "_mfa_required", None)
    if cached is None:
        cached = any(predicate(user) for predicate in _requirements)
        setattr(user, "_mfa_required", cached)  # noqa: B010 - a memo for one request's user object
    return cached


def mfa_enrolled(user: Any) -> bool:
    return bool(user_has_device(user, confirmed=True))


def mfa_pending(request: HttpRequest) -> bool:
    """A signed-in user who must, and has not yet, proved a second factor in this session."""
    user = request.user
    if not user.is_authenticated or user.is_verified():  # type: ignore[attr-defined]
        return False  # verified this session: no role lookup on every page
    return mfa_required(user)
