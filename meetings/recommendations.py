"""The board's recommendation on each item, as the proxy statement gives it: for, against or
none on a proposal (ItemTerms.recommendation), per nominee on an election (NomineeTally), an
option on a frequency or choice item (ItemTerms.recommended_option).

A directed proxy told to vote "with the board's recommendation" votes what is stored here, so it
is fixed before the item opens. A proposal put to the vote from the proposals app carries the
board's decision there too (proposals.Proposal.board_recommendation): the ballot's partial shows
this one when it is set and that one otherwise, with the link to the proposal and its proxy
material (meetings/templates/meetings/_recommendation.html)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.audit import audit_append
from meetings.ballot_models import ItemTerms
from polls.exceptions import IllegalTransition, InvalidPollData
from polls.models import Poll
from polls.services import EDITABLE_STATUSES, _locked_poll

RECOMMENDATIONS = ("for", "against", "none")
# The board's word in the reader's language ("none" is shown as nothing: no recommendation).
LABELS = {
    "for": pgettext_lazy("board recommendation", "For"),
    "against": pgettext_lazy("board recommendation", "Against"),
}


@transaction.atomic
def item_recommendation_set(*, poll: Poll, recommendation: str, actor: User | None) -> ItemTerms:
    """Record the board's recommendation on a proposal, before the item opens (on its trail)."""
    poll = _locked_poll(poll.pk)
    if not poll.ballot_form.decided_by_standard:
        raise InvalidPollData(
            _("Only a proposal takes a recommendation; an election's is given per nominee, a choice's as an option.")
        )
    if recommendation not in RECOMMENDATIONS:
        raise InvalidPollData(_("The board's recommendation is for, against or none."))
    if poll.effective_status() not in EDITABLE_STATUSES:
        # Directed proxies told to follow it are voting by it now.
        raise IllegalTransition(_("Voting on this item has begun; the board's recommendation can no longer change."))
    terms, _created = ItemTerms.objects.get_or_create(poll=poll)
    terms.recommendation = recommendation
    terms.save(update_fields=["recommendation"])
    audit_append(
        stream=f"poll:{poll.pk}", action="recommendation_set", actor=actor, payload={"recommendation": recommendation}
    )
    return terms


def recommendations_of(items: Iterable[Poll]) -> dict[int, str]:
    """Each proposal's stored recommendation by item id ("none" when none was given)."""
    ids = [item.pk for item in items]
    stored = dict(ItemTerms.objects.filter(poll_id__in=ids).values_list("poll_id", "recommendation"))
    return {pk: stored.get(pk, "none") for pk in ids}
