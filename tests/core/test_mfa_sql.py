"""Whether an account must prove a second factor, asked two ways: the pages ask the registered
predicates, the API's token lookup reads the same rule as SQL in its own query (core.mfa)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework import exceptions

from core.mfa import _requirements, requirement_sql
from core.services import api_token_issue
from core.tokens import ExpiringTokenAuthentication
from proposals.models import Director
from tests.factories import make_director, make_secretary, make_user

pytestmark = pytest.mark.django_db


def _director_out_of_office() -> User:
    director = make_director("former")
    Director.objects.filter(pk=director.pk).update(in_office=False)
    return director.user


ACCOUNTS: dict[str, tuple[Callable[[], User], bool]] = {
    "member": (make_user, False),
    "superuser": (lambda: make_user(is_superuser=True), True),
    "secretary": (make_secretary, True),
    "director in office": (lambda: make_director("sitting").user, True),
    "director out of office": (_director_out_of_office, False),
}


@pytest.mark.parametrize("account", ACCOUNTS)
def test_the_sql_rule_and_the_predicates_agree_on_every_role(account: str) -> None:
    make, required = ACCOUNTS[account]
    user = User.objects.get(pk=make().pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {requirement_sql()} FROM auth_user u WHERE u.id = %s", [user.pk])  # noqa: S608
        (by_sql,) = cursor.fetchone()
    assert bool(by_sql) is required
    assert any(predicate(user) for predicate, _sql in _requirements) is required


def test_a_member_s_token_issued_without_a_code_authenticates_in_one_query(
    settings: Any, django_assert_num_queries: Any
) -> None:
    settings.REQUIRE_2FA = True
    key, _ = api_token_issue(user=make_user())
    with django_assert_num_queries(1):
        user, _token = ExpiringTokenAuthentication().authenticate_credentials(key)
    assert user.is_authenticated


def test_a_member_made_director_after_their_token_was_issued_without_a_code_is_refused(settings: Any) -> None:
    settings.REQUIRE_2FA = True
    member = make_user(username="newly-appointed", email="newly-appointed@example.com")
    key, _ = api_token_issue(user=member)
    ExpiringTokenAuthentication().authenticate_credentials(key)
    from proposals import people_services

    people_services.director_save(director_user=member, title="Director", interests=[])
    with pytest.raises(exceptions.AuthenticationFailed):
        ExpiringTokenAuthentication().authenticate_credentials(key)
