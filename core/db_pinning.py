"""Where a request may read: the replica, or the primary it has written to (or wrote to lately).

Only a GET or HEAD request that carries no pin cookie may read the replica, and only until it
writes: config/routers.py asks `replica_allowed()` for every read and calls `wrote()` for every
write. A request with any other method reads the primary throughout, and its answer sets the
cookie, so the same browser's next requests for DATABASE_REPLICA_PIN_SECONDS read the primary
too (their own writes, not a replica a little behind). Outside a request (a Celery task, a
management command) nothing is allowed: everything reads the primary.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse

COOKIE = "quorum_primary"
SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass
class _Request:
    replica_ok: bool
    wrote: bool = False


_current: ContextVar[_Request | None] = ContextVar("quorum_db_pinning", default=None)


def replica_allowed() -> bool:
    state = _current.get()
    return state is not None and state.replica_ok


def wrote() -> None:
    """A write in this request: the rest of it, and the browser's next requests, read the primary."""
    state = _current.get()
    if state is not None:
        state.replica_ok = False
        state.wrote = True


class PrimaryPinMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        safe = request.method in SAFE_METHODS
        state = _Request(replica_ok=safe and COOKIE not in request.COOKIES)
        token = _current.set(state)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        if not safe or state.wrote:
            response.set_cookie(
                COOKIE,
                "1",
                max_age=settings.DATABASE_REPLICA_PIN_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
