"""Drafts in the secretary's hands: a draft poll or item is edited (its options too) and
deleted from the console, each change on the poll's trail. Once a poll is scheduled its
options are what voters were told; once it opens, what they voted on (polls/services.py)."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from polls import kinds
from polls.exceptions import IllegalTransition
from polls.models import Option, Poll, PollStatus
from polls.services import (
    _audit_poll,
    _clean_options,
    _locked_poll,
    poll_update,
)


def _locked_draft(poll: Poll, refusal: str) -> Poll:
    poll = _locked_poll(poll.pk)
    # The stored status, not the effective one: a draft never opens by the clock.
    if poll.status != PollStatus.DRAFT:
        raise IllegalTransition(refusal)
    return poll


@transaction.atomic
def poll_draft_update(*, poll: Poll, actor: User, options: Sequence[str] | None = None, **changes: object) -> Poll:
    """A draft's question, window and, for a public poll, its options. An item's options are
    for, against and abstain and are not edited here."""
    poll = _locked_draft(poll, _("Only a draft can be edited here; this poll is no longer a draft."))
    old_options = list(poll.options.values_list("label", flat=True))
    if options is not None and not kinds.form_of(poll).fixed_options:
        labels = _clean_options(options)
        if labels != old_options:
            # Drafts have no ballots, so their options can be replaced outright.
            Option.objects.filter(poll_id=poll.pk).delete()
            Option.objects.bulk_create(Option(poll=poll, label=label, position=i) for i, label in enumerate(labels))
            _audit_poll(poll, "poll_options_changed", actor, old=old_options, new=labels)
    changed = {field: value for field, value in changes.items() if getattr(poll, field) != value}
    if changed:
        poll = poll_update(poll=poll, actor=actor, **changed)
        _audit_poll(poll, "poll_updated", actor, fields=sorted(changed))
    return poll


@transaction.atomic
def poll_delete(*, poll: Poll, actor: User) -> None:
    """Delete a draft nobody has seen. What was deleted stays on the poll's trail."""
    poll = _locked_draft(poll, _("Only a draft can be deleted; once scheduled, a poll is closed, not deleted."))
    labels = list(poll.options.values_list("label", flat=True))
    _audit_poll(poll, "poll_deleted", actor, title=poll.title, options=labels, meeting=poll.meeting_id)
    try:
        with transaction.atomic():
            poll.delete()
    except ProtectedError:
        raise IllegalTransition(_("This draft is a proposal's shareholder vote; it cannot be deleted.")) from None
