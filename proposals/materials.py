"""Writes of a proposal's materials: comments, attachments, and who may read its files."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.audit import audit_append
from core.validators import bidi_overrides_message, has_bidi_overrides
from polls import services as poll_services
from proposals.exceptions import InvalidProposal, NotAllowed
from proposals.models import COMMENT_MAX_CHARS, Attachment, AttachmentVisibility, Comment, Proposal
from proposals.visibility import can_attach, can_comment, can_set_attachment_visibility

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


@transaction.atomic
def comment_add(*, proposal: Proposal, actor: User, body: str) -> Comment:
    # The lock orders this event after any other on the proposal's chain.
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if not can_comment(actor, proposal):
        raise NotAllowed(_("You may not comment on this proposal."))
    if not body.strip():
        raise InvalidProposal(_("Write something to comment."))
    if has_bidi_overrides(body):
        raise InvalidProposal(bidi_overrides_message(["body"]))
    if len(body) > COMMENT_MAX_CHARS:
        raise InvalidProposal(
            _("A comment is at most %(count)s characters; attach a longer text as a file.")
            % {"count": f"{COMMENT_MAX_CHARS:,}"}
        )
    comment = Comment.objects.create(proposal=proposal, author=actor, body=body.strip())
    audit_append(stream=f"proposal:{proposal.pk}", action="commented", actor=actor, payload={"comment_id": comment.pk})
    return comment


SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
]
EXTENSIONS = {
    "application/pdf": {".pdf"},
    "image/png": {".png"},
    "image/jpeg": {".jpg", ".jpeg"},
    "text/plain": {".txt"},
}


def sniff_content_type(head: bytes) -> str | None:
    """The type the bytes say they are (not the name): PDF, PNG, JPEG or UTF-8 text."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        if error.start < len(head) - 3:
            return None
    return "text/plain"


@transaction.atomic
def attachment_add(*, proposal: Proposal, actor: User, upload: UploadedFile) -> Attachment:
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if not can_attach(actor, proposal):
        raise NotAllowed(_("You may not attach files to this proposal."))
    size = upload.size or 0
    if size > MAX_ATTACHMENT_BYTES:
        raise InvalidProposal(
            _("The file is %(size)s bytes; attachments are limited to 10 MB.")
            % {"size": poll_services.grouped_number(size)}
        )
    if size == 0:
        raise InvalidProposal(_("The file is empty."))
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    content_type = sniff_content_type(head)
    if content_type is None:
        raise InvalidProposal(_("Attach a PDF, PNG, JPEG or plain-text file."))
    name = (upload.name or "attachment").rsplit("/", 1)[-1]
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in EXTENSIONS[content_type]:
        raise InvalidProposal(
            _("The file's name says %(suffix)s, but its content is %(content_type)s.")
            % {"suffix": suffix or pgettext("no file name extension", "nothing"), "content_type": content_type}
        )
    attachment = Attachment.objects.create(
        proposal=proposal, file=upload, name=name, content_type=content_type, size=size, uploaded_by=actor
    )
    audit_append(
        stream=f"proposal:{proposal.pk}",
        action="attached",
        actor=actor,
        payload={"attachment": attachment.pk, "name": name, "content_type": content_type, "size": size},
    )
    return attachment


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
