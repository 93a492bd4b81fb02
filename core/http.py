"""The signed-in user a request acts as: the `actor=` every write service takes."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request


def acting_user(request: HttpRequest | Request) -> User:
    """`request.user` as a signed-in, active `User`. Views call it where the request is already
    known to be signed in (login_required, the secretary's guard, IsAuthenticated, the admin),
    so there it only gives the type; anyone else (signed out, or an account deactivated since)
    is refused with Django's PermissionDenied: a 403 page, and a 403 in the API as well."""
    user = request.user
    if isinstance(user, User) and user.is_authenticated and user.is_active:
        return user
    raise PermissionDenied
