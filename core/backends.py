"""Axes' lockout check, for the sign-ins that come over the network."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LockoutBackend(AxesStandaloneBackend):
    """Every login path (the form, the admin, the token endpoint) passes its request; a call
    without one comes from code (a management command, the test client's login) and has no
    client to lock out, so it is left to the next backend instead of failing."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
