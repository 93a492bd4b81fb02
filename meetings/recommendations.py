"""The board's recommendation on each item, as the proxy statement gives it: for, against or
none on a proposal (ItemTerms.recommendation), per nominee on an election (NomineeTally), an
option on a frequency or choice item (ItemTerms.recommended_option).

A directed proxy told to vote "with the board's recommendation" votes what is stored here, so it
is fixed before the item opens. A proposal put to the vote from the proposals app carries the
board's decision there too (proposals.Proposal.board_recommendation): the ballot's partial shows
this one when it is set and that one otherwise, with the link to the proposal and its proxy
material (meetings/templates/meetings/_recommendation.html)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.audit import audit_append
from meetings import ballot_rules
from meetings.ballot_models import ItemTerms, NomineeTally
from polls import kinds
from polls.exceptions import IllegalTransition, InvalidPollData
from polls.models import Option, Poll
from polls.services import EDITABLE_STATUSES, _locked_poll

RECOMMENDATIONS = ("for", "against", "none")
# The board's word in the reader's language ("none" is shown as nothing: no recommendation).
LABELS = {
    "for": pgettext_lazy("board recommendation", "For"),
    "against": pgettext_lazy("board recommendation", "Against"),
}


def _editable_item(poll: Poll) -> Poll:
    """The item, locked, while its recommendation may still change: until it opens, since
    directed proxies told to follow the board vote by it from then on."""
    poll = _locked_poll(poll.pk)
    if poll.effective_status() not in EDITABLE_STATUSES:
        raise IllegalTransition(_("Voting on this item has begun; the board's recommendation can no longer change."))
    return poll


@transaction.atomic
def item_recommendation_set(*, poll: Poll, recommendation: str, actor: User | None) -> ItemTerms:
    """Record the board's recommendation on a proposal, before the item opens (on its trail)."""
    if not kinds.form_of(poll).decided_by_standard:
        raise InvalidPollData(
            _("Only a proposal takes a recommendation; an election's is given per nominee, a choice's as an option.")
        )
    if recommendation not in RECOMMENDATIONS:
        raise InvalidPollData(_("The board's recommendation is for, against or none."))
    poll = _editable_item(poll)
    terms, _created = ItemTerms.objects.get_or_create(poll=poll)
    terms.recommendation = recommendation
    terms.save(update_fields=["recommendation"])
    audit_append(
        stream=f"poll:{poll.pk}", action="recommendation_set", actor=actor, payload={"recommendation": recommendation}
    )
    return terms


def nominee_choices(terms: ItemTerms | None) -> tuple[str, ...]:
    """What the board may recommend on a nominee: a choice the election allows, or none."""
    standard = ballot_rules.ElectionStandard(terms.election_standard) if terms and terms.election_standard else None
    return (*ballot_rules.allowed_choices(standard), "none")


def _overvote_check(poll: Poll, recommended: Mapping[int, str]) -> None:
    """Under plurality voting a ballot for more nominees than seats is an overvote: a board
    recommending one would have every proxy told to follow it cast a ballot that is refused."""
    terms = ItemTerms.objects.filter(poll=poll).first()
    limit = terms.for_limit if terms is not None else None
    if limit is not None and sum(1 for said in recommended.values() if said == ballot_rules.LineChoice.FOR) > limit:
        raise InvalidPollData(
            _("Under plurality voting the board may recommend for at most %(seats)s nominees, one for each seat.")
            % {"seats": limit}
        )


@transaction.atomic
def nominee_recommendations_set(*, poll: Poll, recommendations: Mapping[int, str], actor: User | None) -> None:
    """The board's recommendation on some or all of an election's nominees, before it opens."""
    if not getattr(kinds.form_of(poll), "has_nominees", False):
        raise InvalidPollData(_("Only an election has nominees to recommend."))
    poll = _editable_item(poll)
    allowed = nominee_choices(ItemTerms.objects.filter(poll=poll).first())
    tallies = {tally.option_id: tally for tally in NomineeTally.objects.filter(option__poll=poll)}
    unknown = sorted(set(recommendations) - set(tallies))
    if unknown:
        raise InvalidPollData(
            _("No such nominee on this item: %(ids)s.") % {"ids": ", ".join(str(pk) for pk in unknown)}
        )
    wrong = sorted(pk for pk, said in recommendations.items() if said not in allowed)
    if wrong:
        raise InvalidPollData(
            _("A recommendation on a nominee of this election is one of: %(allowed)s.")
            % {"allowed": ", ".join(allowed)}
        )
    _overvote_check(poll, {pk: recommendations.get(pk, tally.recommendation) for pk, tally in tallies.items()})
    changed = {pk: said for pk, said in recommendations.items() if tallies[pk].recommendation != said}
    for pk, said in changed.items():
        NomineeTally.objects.filter(option_id=pk).update(recommendation=said)
    if changed:
        audit_append(
            stream=f"poll:{poll.pk}",
            action="recommendation_set",
            actor=actor,
            payload={"nominees": {str(pk): said for pk, said in sorted(changed.items())}},
        )


@transaction.atomic
def option_recommendation_set(*, poll: Poll, option_id: int | None, actor: User | None) -> ItemTerms:
    """The option a frequency or choice item's board recommends (None: no recommendation)."""
    form = kinds.form_of(poll)
    if form.decided_by_standard or getattr(form, "has_nominees", False):
        raise InvalidPollData(_("Only a frequency or choice item takes a recommended option."))
    poll = _editable_item(poll)
    option = None
    if option_id is not None:
        option = Option.objects.filter(poll=poll, pk=option_id).first()
        if option is None:
            raise InvalidPollData(_("No such option on this item: %(id)s.") % {"id": option_id})
    terms, _created = ItemTerms.objects.get_or_create(poll=poll)
    terms.recommended_option = option
    terms.save(update_fields=["recommended_option"])
    audit_append(stream=f"poll:{poll.pk}", action="recommendation_set", actor=actor, payload={"option": option_id})
    return terms


def recommendations_of(items: Iterable[Poll]) -> dict[int, str]:
    """Each proposal's stored recommendation by item id ("none" when none was given)."""
    ids = [item.pk for item in items]
    stored = dict(ItemTerms.objects.filter(poll_id__in=ids).values_list("poll_id", "recommendation"))
    return {pk: stored.get(pk, "none") for pk in ids}


def recommendations_read(*, items: Iterable[Poll]) -> list[dict[str, object]]:
    """Each item's recommendation as the API gives it: a proposal's word, an election's per
    nominee, a frequency or choice item's option."""
    items = list(items)
    ids = [item.pk for item in items]
    terms = {row.poll_id: row for row in ItemTerms.objects.filter(poll_id__in=ids)}
    nominees: dict[int, dict[str, str]] = {}
    for option_id, poll_id, said in NomineeTally.objects.filter(option__poll_id__in=ids).values_list(
        "option_id", "option__poll_id", "recommendation"
    ):
        nominees.setdefault(poll_id, {})[str(option_id)] = said
    rows: list[dict[str, object]] = []
    for item in items:
        form = kinds.form_of(item)
        row: dict[str, object] = {"item": item.pk, "form": form.form_name}
        stored = terms.get(item.pk)
        if form.decided_by_standard:
            row["recommendation"] = stored.recommendation if stored is not None else "none"
        elif getattr(form, "has_nominees", False):
            row["nominees"] = nominees.get(item.pk, {})
        else:
            row["option"] = stored.recommended_option_id if stored is not None else None
        rows.append(row)
    return rows


def recommendation_apply(*, poll: Poll, actor: User | None, given: Mapping[str, Any]) -> None:
    """One item's recommendation in the shape its form takes: `recommendation`, `nominees` (by
    id) or `option` (None: no recommendation). The API's and the console's entry point."""
    if "recommendation" in given:
        item_recommendation_set(poll=poll, recommendation=given["recommendation"], actor=actor)
    elif "nominees" in given:
        nominee_recommendations_set(poll=poll, recommendations=given["nominees"], actor=actor)
    else:
        option_recommendation_set(poll=poll, option_id=given.get("option"), actor=actor)


def recommendation_problems(poll: Poll) -> list[str]:
    """Once the item has opened, the stored recommendation against its trail (the
    `recommendation_set` events, in order, over the defaults): directed proxies told to follow
    the board vote what is stored, so a change made around the services must show."""
    if poll.effective_status() in EDITABLE_STATUSES:
        return []
    from core.models import AuditEvent

    expected: dict[str, Any] = {"recommendation": "none", "option": None, "nominees": {}}
    events = AuditEvent.objects.filter(stream=f"poll:{poll.pk}", action="recommendation_set").order_by("seq")
    for payload in events.values_list("payload", flat=True):
        for key in ("recommendation", "option"):
            if key in payload:
                expected[key] = payload[key]
        expected["nominees"].update(payload.get("nominees", {}))
    (stored,) = recommendations_read(items=[poll])
    problems = []
    if "recommendation" in stored and stored["recommendation"] != expected["recommendation"]:
        problems.append(
            f"item {poll.pk} recommendation: stored {stored['recommendation']}, trail {expected['recommendation']}"
        )
    if "option" in stored and stored["option"] != expected["option"]:
        problems.append(f"item {poll.pk} recommended option: stored {stored['option']}, trail {expected['option']}")
    for nominee, said in dict(stored.get("nominees", {})).items():  # type: ignore[call-overload]
        trail = expected["nominees"].get(nominee, "for")  # NomineeTally's default
        if said != trail:
            problems.append(f"item {poll.pk} nominee {nominee} recommendation: stored {said}, trail {trail}")
    return problems
