"""What the site's layout needs to know about the reader on every page."""

from __future__ import annotations

from django.http import HttpRequest

from core.roles import is_secretary


def roles(request: HttpRequest) -> dict[str, bool]:
    return {"is_secretary": is_secretary(request.user)}
