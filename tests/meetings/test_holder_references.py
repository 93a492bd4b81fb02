"""A holder's register and account are checked by the database on both engines: foreign keys on
SQLite, statement-level triggers on PostgreSQL (meetings migration 0008). Each refusal leaves
the rows as they were."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction

from meetings.models import Holder, RegisterSnapshot
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

MISSING = 2_000_000_000


def a_register() -> RegisterSnapshot:
    return RegisterSnapshot.objects.create(record_date=datetime.date(2026, 3, 1), shares_outstanding=1_000)


def a_holder(register: RegisterSnapshot, account: str = "A1", **fields: object) -> Holder:
    return Holder.objects.create(
        register=register, account=account, name="Ada", email="ada@example.com", shares=10, **fields
    )


def sql(statement: str, params: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def refused(write: Callable[[], object]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


def test_a_holder_naming_a_register_that_does_not_exist_is_refused() -> None:
    refused(
        lambda: sql(
            "INSERT INTO meetings_holder (account, name, email, shares, register_id) VALUES ('X', 'X', 'x@x.x', 1, %s)",
            [MISSING],
        )
    )
    assert not Holder.objects.exists()


def test_a_holder_naming_an_account_that_does_not_exist_is_refused_on_insert_and_on_update() -> None:
    register = a_register()
    refused(lambda: a_holder(register, user_id=MISSING))
    holder = a_holder(register)
    refused(lambda: sql("UPDATE meetings_holder SET user_id = %s WHERE id = %s", [MISSING, holder.pk]))
    holder.refresh_from_db()
    assert Holder.objects.count() == 1
    assert holder.user_id is None


def test_a_holder_moved_to_a_register_that_does_not_exist_is_refused() -> None:
    holder = a_holder(a_register())
    refused(lambda: sql("UPDATE meetings_holder SET register_id = %s WHERE id = %s", [MISSING, holder.pk]))
    assert Holder.objects.get().register_id == holder.register_id


def test_a_register_that_holders_name_cannot_be_deleted_or_renumbered_by_sql() -> None:
    register = a_register()
    a_holder(register)
    refused(lambda: sql("DELETE FROM meetings_registersnapshot WHERE id = %s", [register.pk]))
    refused(lambda: sql("UPDATE meetings_registersnapshot SET id = %s WHERE id = %s", [MISSING, register.pk]))
    assert RegisterSnapshot.objects.filter(pk=register.pk).exists()


def test_an_account_that_holders_name_cannot_be_deleted_by_sql_but_the_orm_unlinks_it_first() -> None:
    account = make_user()
    holder = a_holder(a_register(), user=account)
    refused(lambda: sql("DELETE FROM auth_user WHERE id = %s", [account.pk]))
    assert Holder.objects.get().user_id == account.pk
    account.delete()
    holder.refresh_from_db()
    assert holder.user_id is None


def test_an_update_that_keeps_every_id_passes_and_a_register_deleted_through_the_orm_takes_its_holders() -> None:
    account = make_user()
    register = a_register()
    a_holder(register, user=account)
    a_holder(register, account="A2")
    RegisterSnapshot.objects.filter(pk=register.pk).update(source_name="agent.csv")
    type(account).objects.filter(pk=account.pk).update(first_name="Ada")
    Holder.objects.filter(register=register).update(shares=11)
    register.delete()
    assert not Holder.objects.exists()
    assert not RegisterSnapshot.objects.exists()


def test_a_register_stays_locked_against_deletion_while_a_transaction_adds_its_holders() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer")
    register = a_register()
    outcome: list[str] = []
    inserted, tried = threading.Event(), threading.Event()

    def delete_meanwhile() -> None:
        inserted.wait(10)
        try:  # this thread's own connection
            sql("SET lock_timeout = '300ms'", [])
            sql("DELETE FROM meetings_registersnapshot WHERE id = %s", [register.pk])
            outcome.append("deleted")
        except OperationalError:
            outcome.append("waited on the holders' transaction")
        finally:
            connection.close()
            tried.set()

    deleter = threading.Thread(target=delete_meanwhile)
    deleter.start()
    with transaction.atomic():
        a_holder(register)
        inserted.set()
        tried.wait(10)
    deleter.join(10)
    assert outcome == ["waited on the holders' transaction"]
    refused(lambda: sql("DELETE FROM meetings_registersnapshot WHERE id = %s", [register.pk]))
