"""Two-factor before anything else: a secretary or director signed in with a password alone
reaches only the two-factor pages (and can log out) until a code is proved in this session."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from core.mfa import mfa_pending

# Paths a pending user still needs: the two-factor pages, a way out, the language, assets.
OPEN_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/admin/logout/", "/i18n/", "/healthz", "/api/v1/auth/")


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not mfa_pending(request) or self._open(request.path_info):
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            return JsonResponse(
                {"detail": _("Two-factor verification is required: sign in on the site with your code.")},
                status=403,
            )
        return HttpResponseRedirect(f"{reverse('mfa')}?{urlencode({'next': request.get_full_path()})}")

    @staticmethod
    def _open(path: str) -> bool:
        return path.startswith(OPEN_PREFIXES) or path.startswith("/" + settings.STATIC_URL.lstrip("/"))
