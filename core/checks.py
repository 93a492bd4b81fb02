"""Deploy checks: settings that pass locally but break the promises of a production site."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register

PROCESS_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.caches, Tags.security, deploy=True)
def cache_is_shared(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Throttle counts live in the cache: a cache of one process lets every worker count afresh,
    so a client gets the limit once per worker and node."""
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.DEBUG or backend not in PROCESS_LOCAL_CACHES:
        return []
    return [
        Error(
            f"The default cache ({backend.rsplit('.', 1)[-1]}) is local to one process.",
            hint="Set CACHE_URL to a cache every worker shares, e.g. redis://127.0.0.1:6379/1.",
            id="core.E001",
        )
    ]
