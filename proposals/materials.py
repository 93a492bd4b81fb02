"""Writes about who may read a proposal's files (services.py is over its size budget)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_append
from proposals.exceptions import InvalidProposal, NotAllowed
from proposals.models import Attachment, AttachmentVisibility, Proposal
from proposals.visibility import can_set_attachment_visibility


@transaction.atomic
def attachment_visibility_set(*, attachment: Attachment, visibility: str, actor: User) -> Attachment:
    """The secretary marks a file as proxy material (public once the proposal is put to a
    vote) or takes it back to the board; each change is on the proposal's trail."""
    if not can_set_attachment_visibility(actor):
        raise NotAllowed(_("Only the company secretary may say who reads an attachment."))
    if visibility not in AttachmentVisibility.values:
        raise InvalidProposal(
            _("Choose who reads the file: %(choices)s.") % {"choices": ", ".join(AttachmentVisibility.values)}
        )
    # The proposal first, as every write to its trail does: one writer at a time.
    proposal = Proposal.objects.select_for_update().get(pk=attachment.proposal_id)
    attachment = Attachment.objects.select_for_update().get(pk=attachment.pk)
    if attachment.visibility == visibility:
        return attachment
    attachment.visibility = visibility
    attachment.save(update_fields=["visibility"])
    audit_append(
        stream=f"proposal:{proposal.pk}",
        action="attachment_visibility_set",
        actor=actor,
        payload={"attachment": attachment.pk, "name": attachment.name, "visibility": visibility},
    )
    return attachment
