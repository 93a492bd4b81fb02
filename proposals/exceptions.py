from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class ProposalError(DomainError):
    default_message = _("The proposal cannot do that.")


class IllegalAction(ProposalError):
    """Refused by the workflow table; the answer lists what the caller may do instead."""

    status_code = 409

    def __init__(self, message: str, allowed_actions: list[str]) -> None:
        self.allowed_actions = allowed_actions
        super().__init__(message)

    def extra(self) -> dict[str, object]:
        return {"allowed_actions": self.allowed_actions}


class NotAllowed(ProposalError):
    status_code = 403
    default_message = _("You may not do this.")

    def __init__(self, message: str | None = None, allowed_actions: list[str] | None = None) -> None:
        self.allowed_actions = allowed_actions
        super().__init__(message)

    def extra(self) -> dict[str, object]:
        return {} if self.allowed_actions is None else {"allowed_actions": self.allowed_actions}


class InvalidProposal(ProposalError):
    status_code = 400
    default_message = _("The proposal is not valid.")


class FollowUpNotFound(ProposalError):
    status_code = 404
    default_message = _("No such follow-up.")
