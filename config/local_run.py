"""What `make run` (DEBUG on) needs to read like the real site: the site's own 404 page instead
of Django's technical one, and refusals logged without a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Django's technical 404 page (django/views/templates/technical_404.html) has this title.
TECHNICAL_404 = b"<title>Page not found at"


class SiteNotFoundPage:
    """With DEBUG on, Django answers an unknown address with its technical page (the URL
    patterns, the settings' name); a newcomer trying the demo should see the site's 404, as in
    production. A 404 a view rendered itself is left alone. Placed inside the CSP middleware so
    the replacement carries the same policy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.DEBUG and response.status_code == 404 and TECHNICAL_404 in getattr(response, "content", b""):
            from config.views import not_found

            return not_found(request)
        return response


class RefusalsWithoutTraceback(logging.Filter):
    """A 403 is a refusal the page explains to its reader, not a fault: Django logs it with the
    PermissionDenied traceback; keep the one line (method, path, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
