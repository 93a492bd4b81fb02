"""What a locked account hears, the same on every path: the form, the admin, the API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

# 429 Too Many Requests: the attempts, not the person, are refused; the same code on every path.
STATUS = 429
USERNAME_MAX_LENGTH = 150  # django.contrib.auth's User.username


def attempt_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """Axes' AXES_USERNAME_CALLABLE: the username an attempt is counted against, cut to what an
    account can hold. Django's login form does not enforce its username's max_length, and axes
    stores the name in a 255-character column: a longer one was a database error (a 500) on
    PostgreSQL. No account has a longer name, so cutting it merges nothing that exists."""
    field = getattr(settings, "AXES_USERNAME_FORM_FIELD", "username")  # axes sets its default
    username = credentials.get(field) if credentials else getattr(request, "data", request.POST).get(field)
    return username[:USERNAME_MAX_LENGTH] if isinstance(username, str) else username


def lockout_message() -> str:
    # Names no account and says nothing of whether the password was right.
    return _("Too many failed sign-in attempts for this account. Try again later, or reset your password by e-mail.")


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """Axes' AXES_LOCKOUT_CALLABLE: JSON for the API, a page in the site's layout otherwise."""
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            {"detail": lockout_message()}, status=STATUS, headers={"Retry-After": str(settings.LOGIN_LOCKOUT_SECONDS)}
        )
    return render(request, "registration/locked_out.html", {"message": lockout_message()}, status=STATUS)
