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
    if user.is_superuser:
        return True
    # Asked several times per request (queryset, permission, template): one query, then
    # remembered on the user object, which lives only as long as the request.
    cached: bool | None = getattr(user, "_is_secretary", None)
    if cached is None:
        cached = user.groups.filter(name=SECRETARY_GROUP).exists()
        setattr(user, "_is_secretary", cached)  # noqa: B010 - a private memo, not a model field
    return cached


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
