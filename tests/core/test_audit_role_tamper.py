"""Membership of the secretary group is the right to certify results and move proposals. Every
grant and removal goes on the account's trail, whichever way it is made (the admin's user form,
the group's side, a clear); an account added to the group by SQL, or removed, is named by
verify_audit."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection

from core.models import AuditEvent
from core.roles import SECRETARY_GROUP
from tests.factories import make_secretary, make_user

pytestmark = pytest.mark.django_db


def _sql(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _group() -> Group:
    return Group.objects.get_or_create(name=SECRETARY_GROUP)[0]


def test_grants_and_removals_from_either_side_are_on_the_trail_and_verify() -> None:
    alice, bob = make_user(username="alice"), make_user(username="bob")
    alice.groups.add(_group())
    _group().user_set.add(bob)
    _group().user_set.remove(alice)
    bob.groups.clear()
    actions = list(
        AuditEvent.objects.filter(stream__in=[f"account:{alice.pk}", f"account:{bob.pk}"])
        .order_by("pk")
        .values_list("stream", "action")
    )
    assert actions == [
        (f"account:{alice.pk}", "role_granted"),
        (f"account:{bob.pk}", "role_granted"),
        (f"account:{alice.pk}", "role_revoked"),
        (f"account:{bob.pk}", "role_revoked"),
    ]
    call_command("verify_audit")


def test_an_account_added_to_the_secretary_group_by_sql_is_named() -> None:
    make_secretary()
    insider = make_user(username="insider")
    call_command("verify_audit")
    _sql("INSERT INTO auth_user_groups (user_id, group_id) VALUES (%s, %s)", [insider.pk, _group().pk])
    with pytest.raises(CommandError, match=rf"account {insider.pk} \(insider\): is in the secretary group, but no"):
        call_command("verify_audit")


def test_a_secretary_removed_by_sql_is_named() -> None:
    secretary = make_secretary(username="carol")
    _sql("DELETE FROM auth_user_groups WHERE user_id = %s", [secretary.pk])
    with pytest.raises(CommandError, match=r"\(carol\): its trail granted it the secretary role, but it is no longer"):
        call_command("verify_audit")
