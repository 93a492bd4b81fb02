"""Who must sign in with a second factor, and whether this request has.

The rule is a registry: core knows the secretary group and superusers; a higher app adds its
own roles at start-up (proposals registers directors), so core imports no app above it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection
from django.http import HttpRequest
from django_otp import user_has_device

SECRETARY_GROUP = "secretary"  # the same name as polls.permissions.SECRETARY_GROUP

# Each requirement is a boolean SQL expression on the account's row (aliased `u`, no
# parameters): the API's token lookup reads their disjunction as one more column of its own
# query (core.tokens), and a page asks it in one query of its own (mfa_required).
_requirements: list[str] = []


def register_requirement(*, sql: str) -> None:
    """Ask for a second factor from every account `sql` accepts."""
    if sql not in _requirements:
        _requirements.append(sql)


def requirement_sql() -> str:
    """Whether the account `u` must prove a second factor, as one SQL expression."""
    return "(" + " OR ".join(_requirements) + ")" if _requirements else "false"


def _secretary_or_superuser_sql() -> str:
    group, member = Group._meta.db_table, User.groups.through._meta.db_table
    return (
        f"(u.is_superuser OR EXISTS (SELECT 1 FROM {member} m JOIN {group} g ON g.id = m.group_id"  # noqa: S608
        f" WHERE m.user_id = u.id AND g.name = '{SECRETARY_GROUP}'))"
    )


register_requirement(sql=_secretary_or_superuser_sql())


def mfa_required(user: Any) -> bool:
    """Whether this account must prove a second factor (REQUIRE_2FA on, and a role that asks)."""
    if not settings.REQUIRE_2FA or not getattr(user, "is_authenticated", False):
        return False
    cached: bool | None = getattr(user, "_mfa_required", None)
    if cached is None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {requirement_sql()} FROM {User._meta.db_table} u WHERE u.id = %s", [user.pk])  # noqa: S608
            row = cursor.fetchone()
        cached = bool(row and row[0])
        mfa_required_known(user, required=cached)
    return cached


def mfa_required_known(user: Any, *, required: bool) -> None:
    """Remember for this request's user object what requirement_sql answered."""
    setattr(user, "_mfa_required", required)  # noqa: B010 - a memo for one request's user object


def mfa_enrolled(user: Any) -> bool:
    return bool(user_has_device(user, confirmed=True))


def mfa_pending(request: HttpRequest) -> bool:
    """A signed-in user who must, and has not yet, proved a second factor in this session."""
    user = request.user
    if not user.is_authenticated or user.is_verified():  # type: ignore[attr-defined]
        return False  # verified this session: no role lookup on every page
    return mfa_required(user)
