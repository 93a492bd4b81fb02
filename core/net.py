"""The client's address as the trusted proxies saw it, one rule for throttles and lockout logs."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or with NUM_PROXIES trusted proxies in front, the address the outermost of
    them appended to X-Forwarded-For. Anything further left was written by the client. The same
    rule as DRF's throttles (`NUM_PROXIES` in REST_FRAMEWORK)."""
    remote_addr = request.META.get("REMOTE_ADDR")
    proxies = int(settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote_addr
    addresses = [address.strip() for address in forwarded.split(",")]
    return addresses[-min(proxies, len(addresses))] or remote_addr
