"""Whether an account must prove a second factor: the registered SQL rules (core.mfa), asked by
a page in one query of its own and by the API's token lookup as a column of its query."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework import exceptions

from core.mfa import mfa_required
from core.services import api_token_issue
from core.tokens import ExpiringTokenAuthentication
from proposals import people_services
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
def test_every_role_is_asked_for_a_second_factor_or_not_in_one_query(
    account: str, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.REQUIRE_2FA = True
    make, required = ACCOUNTS[account]
    user = User.objects.get(pk=make().pk)
    with django_assert_num_queries(1):
        assert mfa_required(user) is required
        assert mfa_required(user) is required  # remembered on the request's user object
    key, _ = api_token_issue(user=user)
    if required:
        with pytest.raises(exceptions.AuthenticationFailed):
            ExpiringTokenAuthentication().authenticate_credentials(key)
    else:
        assert ExpiringTokenAuthentication().authenticate_credentials(key)[0] == user


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
    assert ExpiringTokenAuthentication().authenticate_credentials(key)[0] == member
    people_services.director_save(director_user=member, title="Director", interests=[])
    with pytest.raises(exceptions.AuthenticationFailed):
        ExpiringTokenAuthentication().authenticate_credentials(key)
