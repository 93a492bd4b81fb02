"""Who must sign in with a second factor, and whether this request has.

The rule is a registry: core knows the secretary group and superusers; a higher app adds its
own roles at start-up (proposals registers directors), so core imports no app above it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.http import HttpRequest
from django_otp import user_has_device

SECRETARY_GROUP = "secretary"  # the same name as polls.permissions.SECRETARY_GROUP

Predicate = Callable[[Any], bool]
# Each requirement twice: as a predicate on an account, for the pages; and as a boolean SQL
# expression on the account's row (aliased `u`, no parameters), which the API's token lookup
# reads in its own query (core.tokens), so a token not issued against a code costs no query of
# its own per request to learn whether its account needs one. A test holds the two equal.
_requirements: list[tuple[Predicate, str]] = []


def register_requirement(predicate: Predicate, *, sql: str) -> None:
    """Ask for a second factor from every user the predicate (and `sql`) accepts."""
    if (predicate, sql) not in _requirements:
        _requirements.append((predicate, sql))


def requirement_sql() -> str:
    """Whether the account `u` must prove a second factor, as one SQL expression."""
    return "(" + " OR ".join(sql for _predicate, sql in _requirements) + ")" if _requirements else "false"


def is_secretary_or_superuser(user: Any) -> bool:
    return bool(user.is_superuser or user.groups.filter(name=SECRETARY_GROUP).exists())


def _secretary_or_superuser_sql() -> str:
    group, member = Group._meta.db_table, User.groups.through._meta.db_table
    return (
        f"(u.is_superuser OR EXISTS (SELECT 1 FROM {member} m JOIN {group} g ON g.id = m.group_id"  # noqa: S608
        f" WHERE m.user_id = u.id AND g.name = '{SECRETARY_GROUP}'))"
    )


register_requirement(is_secretary_or_superuser, sql=_secretary_or_superuser_sql())


def mfa_required(user: Any) -> bool:
    """Whether this account must prove a second factor (REQUIRE_2FA on, and a role that asks)."""
    if not settings.REQUIRE_2FA or not getattr(user, "is_authenticated", False):
        return False
    cached: bool | None = getattr(user, "_mfa_required", None)
    if cached is None:
        cached = any(predicate(user) for predicate, _sql in _requirements)
        mfa_required_known(user, required=cached)
    return cached


def mfa_required_known(user: Any, *, required: bool) -> None:
    """Remember for this request's user object what requirement_sql answered (or the predicates)."""
    setattr(user, "_mfa_required", required)  # noqa: B010 - a memo for one request's user object


def mfa_enrolled(user: Any) -> bool:
    return bool(user_has_device(user, confirmed=True))


def mfa_pending(request: HttpRequest) -> bool:
    """A signed-in user who must, and has not yet, proved a second factor in this session."""
    user = request.user
    if not user.is_authenticated or user.is_verified():  # type: ignore[attr-defined]
        return False  # verified this session: no role lookup on every page
    return mfa_required(user)
