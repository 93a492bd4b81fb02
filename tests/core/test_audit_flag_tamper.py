"""A superuser is the secretary and a staff account reaches the admin. Every grant and removal
of either flag goes on the account's trail, whichever way it is made (createsuperuser, a save
from the shell or the admin); a flag set or cleared by SQL is named by verify_audit."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection

from core.models import AuditEvent
from core.roles import is_secretary
from tests.factories import make_secretary, make_user

pytestmark = pytest.mark.django_db


def _sql(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _links(user: User) -> list[tuple[str, Any]]:
    events = AuditEvent.objects.filter(stream=f"account:{user.pk}", payload__has_key="flag").order_by("seq")
    return [(action, payload["flag"]) for action, payload in events.values_list("action", "payload")]


def test_flags_granted_and_removed_by_saves_are_on_the_trail_and_verify() -> None:
    boss = User.objects.create_superuser("boss", "boss@example.com", "pw-123456789")
    clerk = make_user(username="clerk")
    clerk.is_staff = True
    clerk.save()
    boss.is_superuser = False
    boss.save()
    boss.refresh_from_db()
    boss.save(update_fields=["last_login"])
    assert _links(boss) == [
        ("role_granted", "is_superuser"),
        ("role_granted", "is_staff"),
        ("role_revoked", "is_superuser"),
    ]
    assert ("role_granted", "is_staff") in _links(clerk)
    call_command("verify_audit")


def test_createsuperuser_puts_the_new_superuser_on_the_trail() -> None:
    call_command("createsuperuser", "--noinput", username="root", email="root@example.com")
    assert ("role_granted", "is_superuser") in _links(User.objects.get(username="root"))
    call_command("verify_audit")


def test_an_account_made_superuser_by_sql_is_named() -> None:
    make_secretary()
    insider = make_user(username="insider")
    call_command("verify_audit")
    _sql("UPDATE auth_user SET is_superuser = %s WHERE id = %s", [True, insider.pk])
    with pytest.raises(CommandError, match=rf"account {insider.pk} \(insider\): is superuser \(and so the secretary\)"):
        call_command("verify_audit")


def test_an_account_made_staff_by_sql_is_named() -> None:
    insider = make_user(username="insider", is_staff=False)
    _sql("UPDATE auth_user SET is_staff = %s WHERE id = %s", [True, insider.pk])
    with pytest.raises(CommandError, match=r"\(insider\): is staff \(admin access\), but no role_granted link"):
        call_command("verify_audit")


def test_a_superuser_whose_flag_is_cleared_by_sql_is_named() -> None:
    boss = User.objects.create_superuser("boss", "boss@example.com", "pw-123456789")
    _sql("UPDATE auth_user SET is_superuser = %s WHERE id = %s", [False, boss.pk])
    with pytest.raises(
        CommandError, match=r"\(boss\): its trail made it superuser \(and so the secretary\), but the flag"
    ):
        call_command("verify_audit")


def test_an_account_made_superuser_by_sql_is_not_the_secretary() -> None:
    insider = make_user(username="insider")
    _sql("UPDATE auth_user SET is_superuser = %s WHERE id = %s", [True, insider.pk])
    assert not is_secretary(User.objects.get(pk=insider.pk))


def test_a_superuser_made_through_quorum_is_the_secretary() -> None:
    boss = User.objects.create_superuser("boss", "boss@example.com", "pw-123456789")
    assert is_secretary(User.objects.get(pk=boss.pk))
