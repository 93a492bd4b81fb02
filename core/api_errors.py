"""One error shape for the whole API: `{"detail": ...}`, plus field errors on 400."""

from __future__ import annotations

from typing import Any

from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError

DATABASE_DOWN = (OperationalError, InterfaceError)


class DomainAPIException(exceptions.APIException):
    def __init__(self, error: DomainError, extra: dict[str, Any] | None = None) -> None:
        self.status_code = error.status_code
        self.extra = extra or {}
        super().__init__(detail=error.message)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DataError):
        # The database refused a value it cannot hold or compare (a NUL character, a number
        # out of range) before anything was stored: the input is at fault.
        return Response(
            {"detail": _("Invalid input: a value cannot be stored as given.")}, status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, DATABASE_DOWN):
        # Nothing was committed for this request; the client may retry.
        return Response(
            {"detail": _("The database is unavailable; please try again in a moment.")},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, DomainError):
        exc = DomainAPIException(exc, extra=exc.extra())
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, DomainAPIException) and exc.extra:
        response.data = {"detail": exc.detail, **exc.extra}
    elif isinstance(exc, exceptions.ValidationError):
        errors = response.data
        if isinstance(errors, list):
            errors = {"non_field_errors": errors}
        response.data = {"detail": _("Invalid input."), **errors}
    elif isinstance(exc, Http404):
        response.data = {"detail": _("Not found.")}
    if response.status_code == status.HTTP_401_UNAUTHORIZED and "detail" not in response.data:
        response.data = {"detail": _("Authentication credentials were not provided.")}
    response.data = _encodable(response.data)
    return response


def _encodable(data: Any) -> Any:
    """JSON input may carry a lone surrogate (`"\\ud800"`) that no UTF-8 answer can hold; an
    error that echoes it (`"\\ud800" is not a valid choice`) would fail to render, a 500. Such
    characters are shown escaped instead."""
    if isinstance(data, str):
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            return data.encode("utf-8", "backslashreplace").decode("utf-8")
        return data
    if isinstance(data, dict):
        return {_encodable(key): _encodable(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_encodable(item) for item in data]
    return data
