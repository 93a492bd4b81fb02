"""What a locked account hears, the same on every path: the form, the admin, the API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

# 429 Too Many Requests: the attempts, not the person, are refused; the same code on every path.
STATUS = 429


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
