"""The board's recommendation next to a shareholder item, for the polls' templates."""

from __future__ import annotations

from typing import Any

from django import template

from polls.models import Poll
from proposals.models import Proposal

register = template.Library()


@register.inclusion_tag("proposals/_recommendation.html")
def board_recommendation(item: Poll) -> dict[str, Any]:
    """Nothing for an item no proposal was put to a vote on; a proposal's item is public from
    then on, and so is the board's decision on it (DESIGN, "Who sees what")."""
    proposal = (
        Proposal.objects.filter(item_id=getattr(item, "pk", None)).exclude(board_recommendation="").first()
        if item is not None
        else None
    )
    if proposal is None:
        return {"recommendation": ""}
    return {"recommendation": proposal.board_recommendation, "recommendation_proposal": proposal}
