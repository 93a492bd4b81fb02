"""The superuser and staff flags on the trail. A superuser is the secretary (core.roles) and a
staff account reaches the admin, so every grant and removal of either flag, however it is made
(the admin, `createsuperuser`, a save from the shell), appends `role_granted` or
`role_revoked` with the flag's name to the account's chain (`account:<id>`), as the secretary
group's membership does (core.role_trail). A flag set by SQL fires no signal, so the account
then differs from its trail: verify_audit names it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from core.audit import audit_append
from core.models import AuditEvent
from core.role_trail import GRANTED, REVOKED

FLAGS = ("is_superuser", "is_staff")
_WORDS = {"is_superuser": "superuser (and so the secretary)", "is_staff": "staff (admin access)"}


def record_flags(user_ids: Iterable[int], flag: str, action: str) -> None:
    with transaction.atomic():
        for user_id in sorted(user_ids):
            audit_append(stream=f"account:{user_id}", action=action, actor=None, payload={"flag": flag})


def _touched(update_fields: Iterable[str] | None) -> tuple[str, ...]:
    if update_fields is None:
        return FLAGS
    return tuple(flag for flag in FLAGS if flag in update_fields)


def on_user_pre_save(sender: Any, instance: User, raw: bool = False, **kwargs: Any) -> None:
    """The flags as stored before this save; a login's `last_login` save touches neither."""
    flags = _touched(kwargs.get("update_fields"))
    before: dict[str, bool] = {}
    if instance.pk is not None and flags and not raw:
        row = User.objects.filter(pk=instance.pk).values(*flags).first()
        before = row or {}
    instance._flag_trail_before = before  # type: ignore[attr-defined]


def on_user_post_save(sender: Any, instance: User, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    before: dict[str, bool] = getattr(instance, "_flag_trail_before", {})
    for flag in _touched(kwargs.get("update_fields")):
        now, was = bool(getattr(instance, flag)), bool(before.get(flag, False))
        if now != was:
            record_flags([instance.pk], flag, GRANTED if now else REVOKED)


def flag_problems() -> Iterator[tuple[str, str]]:
    """Every account whose superuser or staff flag differs from its chain, for verify_audit."""
    granted: dict[str, set[int]] = {flag: set() for flag in FLAGS}
    links = AuditEvent.objects.filter(stream__startswith="account:", action__in=[GRANTED, REVOKED])
    for stream, action, payload in links.order_by("stream", "seq").values_list("stream", "action", "payload"):
        flag = (payload or {}).get("flag")
        if flag not in granted:
            continue
        user_id = int(stream.partition(":")[2])
        if action == GRANTED:
            granted[flag].add(user_id)
        else:
            granted[flag].discard(user_id)
    for flag in FLAGS:
        holders = dict(User.objects.filter(**{flag: True}).values_list("pk", "username"))
        for user_id in sorted(holders.keys() - granted[flag]):
            yield (
                f"account {user_id} ({holders[user_id]})",
                f"is {_WORDS[flag]}, but no role_granted link on its trail made it so: set outside Quorum",
            )
        gone = dict(User.objects.filter(pk__in=granted[flag] - holders.keys()).values_list("pk", "username"))
        for user_id in sorted(granted[flag] - holders.keys()):
            yield (
                f"account {user_id} ({gone.get(user_id, '?')})",
                f"its trail made it {_WORDS[flag]}, but the flag is now off: removed outside Quorum",
            )
