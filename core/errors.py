"""The base of every domain error. Each carries the HTTP status the API answers with, so views,
the API and the admin turn the same refusal into the same message, in the reader's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class DomainError(Exception):
    status_code = 400
    default_message: StrOrPromise = _("The request cannot be carried out.")

    def __init__(self, message: StrOrPromise | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def extra(self) -> dict[str, object]:
        """Fields the API returns beside `detail`."""
        return {}
