"""Reads for the meeting's ballot page: each open item's nominees or options with what the
board recommends and the terms that shape its form, and the ballot the holder has on it now."""

from __future__ import annotations

from dataclasses import dataclass, field

from meetings.ballot_models import BallotLine, ItemTerms
from polls.models import Ballot, Option, Poll


@dataclass(frozen=True)
class CurrentBallot:
    """What a holder's ballot on an item says now: a proposal's choice (its option's code, when
    the shares are not split), or the lines of an election, frequency or choice item as
    {nominee or option id: {choice: shares}}."""

    choice: str | None = None
    lines: dict[int, dict[str, int]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.choice or self.lines)


@dataclass(frozen=True)
class BallotItem:
    """An open item as its part of the ballot page needs it."""

    item: Poll
    options: list[Option]  # in their order; an election's carry their tally (`option.tally`)
    terms: ItemTerms | None  # None for a proposal
    current: CurrentBallot


def current_ballots(*, items: list[Poll], holder_id: int, cast_by: int | None = None) -> dict[int, CurrentBallot]:
    """The holder's standing ballot on each item it has voted, by item id (two queries); with
    `cast_by`, only the ballots that account cast (a proxy reads its own, never how the holder
    voted)."""
    ballots = Ballot.objects.filter(poll__in=items, holder_id=holder_id)
    lines_of = BallotLine.objects.filter(ballot__poll__in=items, ballot__holder_id=holder_id)
    if cast_by is not None:
        ballots, lines_of = ballots.filter(voter_id=cast_by), lines_of.filter(ballot__voter_id=cast_by)
    choices = dict(ballots.filter(option__isnull=False).values_list("poll_id", "option__code"))
    lines: dict[int, dict[int, dict[str, int]]] = {}
    for poll_id, option_id, choice, shares in lines_of.values_list("ballot__poll_id", "option_id", "choice", "shares"):
        lines.setdefault(poll_id, {}).setdefault(option_id, {})[choice] = shares
    return {
        pk: CurrentBallot(choice=choices.get(pk) or None, lines=lines.get(pk, {}))
        for pk in choices.keys() | lines.keys()
    }


def ballot_items(*, items: list[Poll], holder_id: int, cast_by: int | None = None) -> list[BallotItem]:
    """Each of `items` with its options (nominees with their tallies), its terms and the
    holder's current ballot (with `cast_by`, as current_ballots reads it), in a fixed number of
    queries however many items there are."""
    options: dict[int, list[Option]] = {}
    for option in Option.objects.filter(poll__in=items).select_related("tally").order_by("poll_id", "position", "id"):
        options.setdefault(option.poll_id, []).append(option)
    terms = {row.poll_id: row for row in ItemTerms.objects.filter(poll__in=items).select_related("recommended_option")}
    current = current_ballots(items=items, holder_id=holder_id, cast_by=cast_by)
    return [
        BallotItem(
            item=item,
            options=options.get(item.pk, []),
            terms=terms.get(item.pk),
            current=current.get(item.pk, CurrentBallot()),
        )
        for item in items
    ]


def ballot_lines_by_ballot(ballot_ids: list[int]) -> dict[int, list[tuple[str, str, int]]]:
    """Each ballot's lines as (nominee or option label, choice, shares), in the options' order,
    by ballot id: one query for any number of ballots."""
    found: dict[int, list[tuple[str, str, int]]] = {}
    for ballot_id, label, choice, shares in (
        BallotLine.objects.filter(ballot_id__in=ballot_ids)
        .order_by("ballot_id", "option__position", "option_id", "choice")
        .values_list("ballot_id", "option__label", "choice", "shares")
    ):
        found.setdefault(ballot_id, []).append((label, choice, shares))
    return found
