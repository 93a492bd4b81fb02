"""Refusals of the vote engine and the shareholder services (core.errors.DomainError)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.errors import DomainError

if TYPE_CHECKING:
    pass


class PollError(DomainError):
    """A refusal of the vote engine."""


class PollNotFound(PollError):
    status_code = 404
    default_message = _("No such poll.")


class InvalidOption(PollError):
    status_code = 400
    default_message = _("That option does not belong to this poll.")


class NotEligible(PollError):
    status_code = 403
    default_message = _("You are not eligible to vote in this poll.")


class NotSecretary(PollError):
    status_code = 403
    default_message = _("Only the company secretary may do this.")


class PollNotOpen(PollError):
    status_code = 409
    default_message = _("This poll is not open for voting.")


class ChangeNotAllowed(PollError):
    status_code = 409
    default_message = _("You have already voted and this poll does not allow changing a ballot.")


class IllegalTransition(PollError):
    status_code = 409
    default_message = _("The poll cannot make that change in its current state.")


class NoBallot(PollError):
    status_code = 404
    default_message = _("You have not voted in this poll.")


class RecountMismatch(PollError):
    status_code = 409
    default_message = _("The running totals do not match the recount.")


class InvalidPollData(PollError):
    status_code = 400
    default_message = _("The poll is not valid.")


class InvalidVote(PollError):
    status_code = 400
    default_message = _("The ballot is not valid.")


class RegisterInvalid(PollError):
    """A register file with bad lines: every problem is listed, and nothing was imported."""

    status_code = 400
    default_message = _("The register file has errors; nothing was imported.")

    def __init__(self, findings: list[Any], total: int | None = None) -> None:
        # meetings.register_errors.RegisterError each: codes and values, put into words where shown.
        self.findings = findings
        self.total = total if total is not None else len(findings)
        super().__init__(
            ngettext(
                "The register file has %(count)d error; nothing was imported.",
                "The register file has %(count)d errors; nothing was imported.",
                self.total,
            )
            % {"count": self.total}
        )

    @property
    def errors(self) -> list[str]:
        """Each bad line in the reader's language."""
        return [str(finding) for finding in self.findings]

    def extra(self) -> dict[str, object]:
        return {"errors": self.errors}
