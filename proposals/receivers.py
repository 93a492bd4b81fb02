"""How proposals react to what polls announce. Polls never import proposals."""

from __future__ import annotations

from typing import Any

from polls.models import Poll
from proposals.models import Proposal


def on_poll_closed(sender: Any, poll_id: int, **kwargs: Any) -> None:
    from proposals.tasks import proposals_escalate

    if Poll.objects.filter(pk=poll_id, escalation_option__isnull=False).exists():
        proposals_escalate.delay_on_commit(poll_id)


def on_poll_certified(sender: Any, poll_id: int, **kwargs: Any) -> None:
    from proposals.tasks import proposals_settle

    for proposal_id in Proposal.objects.filter(item_id=poll_id).values_list("pk", flat=True):
        proposals_settle.delay_on_commit(proposal_id)
