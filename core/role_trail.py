"""The secretary role on the trail. Membership of the `secretary` group is the right to run
polls, certify results and move proposals, and it is granted by a superuser in the admin (or
by any code calling `groups.add`): every grant and removal, whichever side of the relation
made it, appends `role_granted` or `role_revoked` to the account's chain (`account:<id>`).
A row added to the membership table by SQL fires no signal, so the group then has a member
the trail never granted: verify_audit names it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import transaction

from core.audit import audit_append
from core.models import AuditEvent
from core.roles import SECRETARY_GROUP

GRANTED, REVOKED = "role_granted", "role_revoked"


def _secretary_group_id() -> int | None:
    return Group.objects.filter(name=SECRETARY_GROUP).values_list("pk", flat=True).first()


def _record(user_ids: Iterable[int], action: str) -> None:
    with transaction.atomic():
        for user_id in sorted(user_ids):
            audit_append(stream=f"account:{user_id}", action=action, actor=None, payload={"group": SECRETARY_GROUP})


def _changed_users(instance: Any, reverse: bool, pk_set: set[int] | None, group_id: int) -> set[int]:
    """The accounts whose secretary membership this add or remove touched."""
    if reverse:  # group.user_set.add(...): the instance is the group, pk_set its users
        return set(pk_set or ()) if instance.pk == group_id else set()
    return {instance.pk} if group_id in (pk_set or ()) else set()


def on_groups_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    group_id = _secretary_group_id()
    if group_id is None:
        return
    if action == "pre_clear":
        members = User.objects.filter(groups__pk=group_id)
        if reverse:
            cleared = set(members.values_list("pk", flat=True)) if instance.pk == group_id else set()
        else:
            cleared = {instance.pk} if members.filter(pk=instance.pk).exists() else set()
        instance._role_trail_cleared = cleared
    elif action == "post_clear":
        _record(getattr(instance, "_role_trail_cleared", set()), REVOKED)
    elif action in ("post_add", "post_remove"):
        users = _changed_users(instance, reverse, pk_set, group_id)
        if users:
            _record(users, GRANTED if action == "post_add" else REVOKED)


def role_problems() -> Iterator[tuple[str, str]]:
    """Every account whose secretary membership differs from its chain, for verify_audit."""
    granted: set[int] = set()
    links = AuditEvent.objects.filter(stream__startswith="account:", action__in=[GRANTED, REVOKED])
    for stream, action, payload in links.order_by("stream", "seq").values_list("stream", "action", "payload"):
        if (payload or {}).get("group") != SECRETARY_GROUP:
            continue
        user_id = int(stream.partition(":")[2])
        if action == GRANTED:
            granted.add(user_id)
        else:
            granted.discard(user_id)
    members = dict(User.objects.filter(groups__name=SECRETARY_GROUP).values_list("pk", "username"))
    for user_id in sorted(members.keys() - granted):
        yield (
            f"account {user_id} ({members[user_id]})",
            "is in the secretary group, but no role_granted link on its trail put it there: added outside Quorum",
        )
    gone = dict(User.objects.filter(pk__in=granted - members.keys()).values_list("pk", "username"))
    for user_id in sorted(granted - members.keys()):
        yield (
            f"account {user_id} ({gone.get(user_id, '?')})",
            "its trail granted it the secretary role, but it is no longer in the group: removed outside Quorum",
        )
