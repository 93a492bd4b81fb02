"""core.http.acting_user: the request's signed-in, active user, or a 403, on pages and in the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.utils.functional import SimpleLazyObject
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate

from core.http import acting_user
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def page_request(user: Any) -> HttpRequest:
    request = RequestFactory().post("/")
    # As AuthenticationMiddleware leaves it: the user is looked up when first asked for.
    request.user = cast(Any, SimpleLazyObject(lambda: user))
    return request


def test_a_page_request_acts_as_its_signed_in_user() -> None:
    user = make_user()
    assert acting_user(page_request(user)) == user


@pytest.mark.parametrize("who", ["anonymous", "deactivated"])
def test_a_page_request_without_an_active_signed_in_user_is_refused(who: str) -> None:
    user = AnonymousUser() if who == "anonymous" else make_user(is_active=False)
    with pytest.raises(PermissionDenied):
        acting_user(page_request(user))


@api_view(["POST"])
@permission_classes([AllowAny])
def acting(request: Request) -> Response:
    return Response({"actor": acting_user(request).username})


def test_an_api_request_acts_as_its_authenticated_user() -> None:
    user = make_user()
    request = APIRequestFactory().post("/")
    force_authenticate(request, user=user)
    response = acting(request)
    assert (response.status_code, response.data) == (200, {"actor": user.username})


@pytest.mark.parametrize("who", ["anonymous", "deactivated"])
def test_an_api_request_without_an_active_user_is_a_403_in_the_api_shape(who: str) -> None:
    request = APIRequestFactory().post("/")
    if who == "deactivated":
        force_authenticate(request, user=make_user(is_active=False))
    response = acting(request)
    assert response.status_code == 403
    assert response.data == {"detail": "You do not have permission to perform this action."}


def test_a_refusal_on_a_page_is_a_403_page() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(acting_user(request).username)

    request = page_request(AnonymousUser())
    with pytest.raises(PermissionDenied) as refused:
        view(request)
    assert response_for_exception(request, refused.value).status_code == 403


def test_no_view_passes_request_user_to_a_service_with_an_ignore() -> None:
    """The services take a `User`; views ask acting_user for one instead of silencing the type check."""
    root = Path(__file__).resolve().parents[2]
    found = [
        f"{path.relative_to(root)}:{number}"
        for app in ("config", "core", "polls", "meetings", "proposals")
        for path in (root / app).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "request.user" in line and "type: ignore[arg-type]" in line
    ]
    assert found == []
