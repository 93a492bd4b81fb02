"""Deploy checks for the audit trail's key."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register

MIN_KEY_LENGTH = 32
MIN_UNIQUE_CHARACTERS = 8
DEV_KEY_MARKER = "insecure"


def _weakness(key: str) -> str | None:
    if not key:
        return "is not set"
    if DEV_KEY_MARKER in key:
        return "is the development default"
    if len(key) < MIN_KEY_LENGTH or len(set(key)) < MIN_UNIQUE_CHARACTERS:
        return f"is weak (fewer than {MIN_KEY_LENGTH} characters or {MIN_UNIQUE_CHARACTERS} distinct ones)"
    if key == settings.SECRET_KEY:
        return "is the same as SECRET_KEY"
    return None


@register(Tags.security, deploy=True)
def audit_key_is_strong(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Whoever knows AUDIT_KEY can re-sign a rewritten trail: production needs its own long,
    random key (and so does every retired key still listed to verify old links)."""
    errors = []
    problem = _weakness(getattr(settings, "AUDIT_KEY", ""))
    if problem:
        errors.append(
            Error(
                f"AUDIT_KEY {problem}.",
                hint="Set AUDIT_KEY to a long random value, e.g. python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))', kept outside the database and its backups.",
                id="polls.E001",
            )
        )
    for position, old in enumerate(getattr(settings, "AUDIT_OLD_KEYS", []), start=1):
        problem = _weakness(old)
        if problem:
            errors.append(
                Error(
                    f"AUDIT_OLD_KEYS entry {position} {problem}.",
                    hint="List only the real retired keys, comma-separated.",
                    id="polls.E002",
                )
            )
    return errors
