"""Approval by the disinterested shares (a majority of the minority, as Delaware's MFW practice
and Tesla's 2024 ratification counted "excluding shares owned by Musk and his brother").

The secretary marks holders interested in an item, with a reason, before it opens; the item
then needs its own standard and, beside it, the disinterested shares' approval. Reads are O(the
interested holders): their ballots are summed by (item, holder) key, never the item's ballots."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from core.audit import audit_append
from meetings.ballot_models import DisinterestedStandard, ItemInterest, ItemTerms
from meetings.models import Holder
from polls import refusals, results
from polls.exceptions import IllegalTransition, InvalidPollData, NotEligible
from polls.models import Ballot, Poll
from polls.services import EDITABLE_STATUSES, _locked_poll, _parse_fraction, _refuse_control_characters
from polls.standards import Comparator, Threshold, Totals, disinterested_outcome


def _before_opening(poll: Poll, what: str) -> None:
    if poll.effective_status() not in EDITABLE_STATUSES:
        raise IllegalTransition(_("Voting on this item has begun; %(what)s can no longer change.") % {"what": what})


@transaction.atomic
def item_disinterest_set(
    *, poll: Poll, standard: str, threshold: str = "1/2", comparator: str = ">", actor: User | None
) -> ItemTerms:
    """Require (or, with standard "", stop requiring) approval by the disinterested shares."""
    poll = _locked_poll(poll.pk)
    if not poll.ballot_form.decided_by_standard:
        raise InvalidPollData(_("Only a proposal takes a disinterested approval condition."))
    if standard not in ["", *DisinterestedStandard.values]:
        raise InvalidPollData(_("The disinterested standard is votes_cast or outstanding."))
    _before_opening(poll, _("the disinterested approval condition"))
    fraction = _parse_fraction(threshold, comparator, what=_("disinterested threshold"))
    terms, _created = ItemTerms.objects.get_or_create(poll=poll)
    terms.disinterested_standard = standard
    terms.disinterested_numerator = fraction.fraction.numerator
    terms.disinterested_denominator = fraction.fraction.denominator
    terms.disinterested_comparator = str(fraction.comparator)
    terms.save()
    audit_append(
        stream=f"poll:{poll.pk}",
        action="disinterest_set",
        actor=actor,
        payload={"standard": standard, "threshold": f"{fraction.fraction}", "comparator": str(fraction.comparator)},
    )
    return terms


@transaction.atomic
def interested_mark(*, poll: Poll, holder_id: int, reason: str, actor: User) -> ItemInterest:
    """Mark a holder interested in an item, before it opens, with the reason (on its trail)."""
    poll = _locked_poll(poll.pk)
    reason = reason.strip()
    _refuse_control_characters(reason=reason)
    if not reason:
        raise InvalidPollData(_("Say why the holder is interested."))
    holder = Holder.objects.filter(pk=holder_id, register__meetings=poll.meeting_id).first()
    if poll.meeting_id is None or holder is None:
        raise NotEligible(refusals.HOLDER_REFUSED)
    _before_opening(poll, _("the interested holders"))
    interest, created = ItemInterest.objects.get_or_create(
        poll=poll, holder=holder, defaults={"reason": reason[:300], "marked_by": actor}
    )
    if created:
        audit_append(
            stream=f"poll:{poll.pk}",
            action="holder_marked_interested",
            actor=actor,
            payload={"holder": holder.pk, "shares": holder.shares, "reason": interest.reason},
        )
    return interest


def interested_of(poll: Poll) -> list[ItemInterest]:
    return list(ItemInterest.objects.filter(poll=poll).select_related("holder").order_by("holder__account"))


@dataclass(frozen=True)
class DisinterestedTally:
    standard: str
    threshold: str
    for_: int
    against: int
    abstain: int
    outstanding: int
    percent: Any
    passed: bool


def disinterested_tally(*, poll: Poll, totals: results.ShareTotals) -> DisinterestedTally | None:
    """The item's tally without its interested holders, or None when it needs no such approval."""
    terms = ItemTerms.objects.filter(poll_id=poll.pk).exclude(disinterested_standard="").first()
    if terms is None:
        return None
    interested = list(ItemInterest.objects.filter(poll=poll).values_list("holder_id", flat=True))
    voted = Ballot.objects.filter(poll_id=poll.pk, holder_id__in=interested).aggregate(
        f=Sum("shares_for"), a=Sum("shares_against"), x=Sum("shares_abstain")
    )
    held = Holder.objects.filter(pk__in=interested).aggregate(s=Sum("shares"))["s"] or 0
    threshold = Threshold(
        Fraction(terms.disinterested_numerator, terms.disinterested_denominator),
        Comparator(terms.disinterested_comparator),
    )
    item = Totals(for_=totals.for_, against=totals.against, abstain=totals.abstain, outstanding=totals.outstanding)
    theirs = Totals(for_=voted["f"] or 0, against=voted["a"] or 0, abstain=voted["x"] or 0, outstanding=held)
    outcome = disinterested_outcome(terms.disinterested_standard, threshold, item, theirs)
    return DisinterestedTally(
        standard=terms.disinterested_standard,
        threshold=str(threshold),
        for_=max(item.for_ - theirs.for_, 0),
        against=max(item.against - theirs.against, 0),
        abstain=max(item.abstain - theirs.abstain, 0),
        outstanding=max(item.outstanding - held, 0),
        percent=outcome.percent,
        passed=outcome.passed,
    )


def tally_json(tally: DisinterestedTally, *, overall_passed: bool) -> dict[str, Any]:
    return {
        "standard": tally.standard,
        "threshold": tally.threshold,
        "for": str(tally.for_),
        "against": str(tally.against),
        "abstain": str(tally.abstain),
        "outstanding": str(tally.outstanding),
        "percent": None if tally.percent is None else str(tally.percent),
        "passed": tally.passed,
        # The what-if: the item's outcome without the condition.
        "passed_without_condition": overall_passed,
    }
