"""Roles: who is the company secretary. One place, asked by pages, the API, the admin and e-mails."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from rest_framework.request import Request
    from rest_framework.views import APIView

    AnyUser = User | AnonymousUser

SECRETARY_GROUP = "secretary"


def is_secretary(user: AnyUser) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    # Asked several times per request (queryset, permission, template): one query, then
    # remembered on the user object, which lives only as long as the request.
    cached: bool | None = getattr(user, "_is_secretary", None)
    if cached is None:
        # A superuser is the secretary only if its trail made it one (core.flag_trail): a flag
        # set by SQL gives no role, as well as being named by verify_audit.
        cached = (user.is_superuser and superuser_on_trail(user.pk)) or user.groups.filter(
            name=SECRETARY_GROUP
        ).exists()
        setattr(user, "_is_secretary", cached)  # noqa: B010 - a private memo, not a model field
    return cached


def superuser_on_trail(user_id: int) -> bool:
    """Whether the latest superuser link on the account's chain granted the flag (one indexed read)."""
    from core.models import AuditEvent

    action = (
        AuditEvent.objects.filter(stream=f"account:{user_id}", payload__flag="is_superuser")
        .order_by("-seq")
        .values_list("action", flat=True)
        .first()
    )
    return action == "role_granted"


class IsSecretaryOrReadOnly(BasePermission):
    message = _("Only the company secretary may do this.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return is_secretary(request.user)


class IsSecretary(BasePermission):
    message = _("Only the company secretary may do this.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_secretary(request.user)
