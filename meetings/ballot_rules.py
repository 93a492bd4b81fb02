"""The annual meeting's ballot forms as rules: what a ballot may say, how it moves the running
totals, and who is elected or which option wins. Plain Python with no Django: the forms
(meetings/ballot_forms.py) read and write rows and ask these functions.

A ballot on an election, frequency or choice item is a set of lines, each "these shares (or,
cumulatively, these votes) go to this choice on this nominee or option". Totals are kept per
(nominee or option, choice) as (ballots, shares): a ballot counts once on each line it has."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from polls.standards import Threshold, percent_of

__all__ = [
    "ElectionStandard",
    "LineChoice",
    "LineProblem",
    "NomineeFigures",
    "NomineeResult",
    "OptionWin",
    "ballot_lines",
    "election_results",
    "for_limit",
    "line_deltas",
    "plurality_of_options",
    "split_shares",
]


class ElectionStandard(StrEnum):
    # Each nominee is elected when for > against; abstentions and broker non-votes do not count.
    MAJORITY = "majority"
    # The `seats` nominees with most votes for are elected; withheld votes only show dissent.
    PLURALITY = "plurality"


class LineChoice(StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"
    WITHHOLD = "withhold"


def allowed_choices(standard: ElectionStandard | None) -> tuple[LineChoice, ...]:
    """The choices a nominee may be given: for/against/abstain under majority voting, for/withhold
    under plurality. An option of a frequency or choice item takes only `for` (it is chosen)."""
    if standard == ElectionStandard.MAJORITY:
        return (LineChoice.FOR, LineChoice.AGAINST, LineChoice.ABSTAIN)
    if standard == ElectionStandard.PLURALITY:
        return (LineChoice.FOR, LineChoice.WITHHOLD)
    return (LineChoice.FOR,)


Line = tuple[int, str]  # (nominee or option id, choice)

# Lines and running totals are kept in 64-bit columns: a register of up to 10**18 - 1 shares
# with up to 50 seats could otherwise give a cumulative ballot more votes than a line holds.
COLUMN_MAX = 2**63 - 1


@dataclass(frozen=True)
class LineProblem(Exception):
    """What is wrong with a ballot: the field it is in and the rule, with the values that
    put the rule in numbers. The form turns it into words in the reader's language."""

    field: str
    code: str
    values: Mapping[str, object]


def _whole(value: object, field: str) -> int:
    # bool is an int in Python; "true" shares are not shares.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise LineProblem(field, "not_whole", {})
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        raise LineProblem(field, "not_whole", {})
    return int(text)


def split_shares(split: object) -> dict[str, int] | None:
    """A proposal's split, {choice: shares}, as whole numbers: integers, or digit strings as the
    API sends share counts; None when it is not one (a list, a boolean, a fraction, a sign)."""
    if not isinstance(split, Mapping):
        return None
    try:
        return {str(choice): _whole(value, "split") for choice, value in split.items()}
    except LineProblem:
        return None


def for_limit(*, standard: ElectionStandard | str | None, cumulative: bool, seats: int) -> int | None:
    """How many nominees one ballot may vote for: `seats` under plurality voting, where a vote for
    more (with more nominees than seats, a contested election) is an overvote that would count
    for every one of them; any number (None) under majority voting, a for-or-against on each
    nominee, and under cumulative voting, whose limit is on votes, not nominees."""
    return seats if standard == ElectionStandard.PLURALITY and not cumulative else None


def _known(key: object, ids: frozenset[int], field: str) -> int:
    # An id only as the API writes it: "05" or " 5" would name nominee 5 a second time in one
    # ballot (for AND against with every share), so only the canonical spelling is an id.
    text = str(key) if isinstance(key, int | str) and not isinstance(key, bool) else ""
    if not text.isascii() or not text.isdigit() or len(text) > 19 or text != str(int(text)) or int(text) not in ids:
        raise LineProblem(field, "unknown_id", {"id": str(key)[:40]})
    return int(text)


def ballot_lines(
    *,
    payload: Mapping[str, object],
    ids: frozenset[int],
    shares: int,
    standard: ElectionStandard | None,
    seats: int = 1,
    cumulative: bool = False,
) -> dict[Line, int]:
    """The lines of a ballot, from its payload; a LineProblem for anything a ballot may not say.

    Elections: `votes` ({nominee: choice}, every listed nominee gets all the shares), `splits`
    ({nominee: {choice: n}}, a nominee holder's split: at most the shares on each nominee), or,
    cumulatively, `cumulative` ({nominee: n}, at most shares x seats in all). Frequency and
    choice items: `option` (all the shares) or `splits` ({option: n}, at most the shares in
    all). A nominee left out is unvoted."""
    given = [key for key in ("votes", "splits", "cumulative", "option") if key in payload]
    expected = _ballot_keys(standard, cumulative)
    if len(given) != 1 or given[0] not in expected:
        raise LineProblem("ballot", "one_of", {"keys": ", ".join(expected)})
    key = given[0]
    if key == "option":
        return {(_known(payload["option"], ids, "option"), LineChoice.FOR): shares}
    value = payload[key]
    if not isinstance(value, Mapping) or not value:
        raise LineProblem(key, "empty", {})
    if key == "votes":
        return _votes(value, ids, shares, standard, seats)
    if key == "splits" and standard is not None:
        return _splits(value, ids, shares, standard, seats)
    return _amounts(key, value, ids, min(shares * seats if key == "cumulative" else shares, COLUMN_MAX))


def _amounts(key: str, value: Mapping[object, object], ids: frozenset[int], limit: int) -> dict[Line, int]:
    """Whole numbers of shares (or cumulative votes) per nominee or option, at most `limit` in all."""
    lines = {(_known(k, ids, key), LineChoice.FOR): _whole(v, f"{key}.{k}") for k, v in value.items()}
    if sum(lines.values()) > limit:
        raise LineProblem(key, "over_limit", {"given": sum(lines.values()), "limit": limit})
    return {line: n for line, n in lines.items() if n}


def _ballot_keys(standard: ElectionStandard | None, cumulative: bool) -> tuple[str, ...]:
    if standard is None:
        return ("option", "splits")
    return ("cumulative",) if cumulative else ("votes", "splits")


def _choice(value: object, allowed: tuple[LineChoice, ...], field: str) -> LineChoice:
    if isinstance(value, str) and value in allowed:
        return LineChoice(value)
    raise LineProblem(field, "choice", {"allowed": ", ".join(allowed)})


def _votes(
    value: Mapping[object, object], ids: frozenset[int], shares: int, standard: ElectionStandard | None, seats: int
) -> dict[Line, int]:
    allowed = allowed_choices(standard)
    lines: dict[Line, int] = {
        (_known(k, ids, "votes"), _choice(v, allowed, f"votes.{k}")): shares for k, v in value.items()
    }
    chosen = sum(1 for _nominee, choice in lines if choice == LineChoice.FOR)
    limit = for_limit(standard=standard, cumulative=False, seats=seats)
    if limit is not None and chosen > limit:
        raise LineProblem("votes", "over_seats", {"given": chosen, "limit": limit})
    return lines


def _splits(
    value: Mapping[object, object], ids: frozenset[int], shares: int, standard: ElectionStandard | None, seats: int
) -> dict[Line, int]:
    allowed = allowed_choices(standard)
    lines: dict[Line, int] = {}
    for key, split in value.items():
        nominee = _known(key, ids, "splits")
        if not isinstance(split, Mapping) or not split:
            raise LineProblem(f"splits.{key}", "empty", {})
        amounts = {_choice(c, allowed, f"splits.{key}"): _whole(n, f"splits.{key}.{c}") for c, n in split.items()}
        if sum(amounts.values()) > shares:
            raise LineProblem(f"splits.{key}", "over_limit", {"given": sum(amounts.values()), "limit": shares})
        lines.update({(nominee, choice): n for choice, n in amounts.items() if n})
    # Each beneficial owner behind the split may vote for as many nominees as one ballot may.
    given = sum(n for (_nominee, choice), n in lines.items() if choice == LineChoice.FOR)
    nominees = for_limit(standard=standard, cumulative=False, seats=seats)
    limit = min(shares * nominees, COLUMN_MAX) if nominees is not None else None
    if limit is not None and given > limit:
        raise LineProblem("splits", "over_limit", {"given": given, "limit": limit})
    return lines


def line_deltas(old: Mapping[Line, int], new: Mapping[Line, int]) -> dict[Line, tuple[int, int]]:
    """How a ballot's change moves each line's (ballots, shares) total; lines left alone are absent."""
    deltas = {}
    for line in old.keys() | new.keys():
        before, after = old.get(line, 0), new.get(line, 0)
        if before != after:
            deltas[line] = (int(after > 0) - int(before > 0), after - before)
    return deltas


def ballot_weight(
    lines: Mapping[Line, int], *, standard: ElectionStandard | None, cumulative: bool, shares: int
) -> int:
    """The shares a ballot speaks for (its weight: what counts toward quorum). An option item's
    lines are disjoint parts of the holding and add up; an election's lines on one nominee do,
    and every nominee is voted with the same shares, so the largest nominee's sum is the
    weight; a cumulative ballot speaks for the whole holding."""
    if not lines:
        return 0
    if cumulative:
        return shares
    if standard is None:
        return sum(lines.values())
    per_target: dict[int, int] = {}
    for (target, _line_choice), n in lines.items():
        per_target[target] = per_target.get(target, 0) + n
    return max(per_target.values())


@dataclass(frozen=True)
class NomineeFigures:
    id: int
    for_: int
    against: int  # withheld, under plurality voting
    abstain: int


@dataclass(frozen=True)
class NomineeResult:
    id: int
    percent: Decimal | None  # for as a share of for + against (or withheld)
    elected: bool
    # "elected", "not_elected", "tied" (plurality: tied for the last seat),
    # "resignation_tendered" (majority: failed, the board decides on the resignation) or
    # "no_quorum" (the meeting could not act: nobody is elected, nobody has to resign).
    status: str


def election_results(
    nominees: list[NomineeFigures], *, standard: ElectionStandard, seats: int, quorum_met: bool = True
) -> list[NomineeResult]:
    """Who is elected, in the nominees' order. Under majority voting a nominee needs more votes
    for than against, and if more pass than there are seats, the seats go to those with most
    votes for (as under plurality, ties at the last seat reported). Without quorum the votes
    are still reported, but they elect nobody, as a proposal without quorum fails."""
    if not quorum_met:
        statuses = dict.fromkeys((n.id for n in nominees), "no_quorum")
    elif standard == ElectionStandard.MAJORITY:
        passing = {n.id: n.for_ for n in nominees if n.for_ > n.against}
        statuses = _seat_statuses(passing, seats)
    else:
        statuses = _seat_statuses({n.id: n.for_ for n in nominees}, seats)
    return [
        NomineeResult(
            id=n.id,
            percent=_percent(n.for_, n.for_ + n.against),
            elected=statuses.get(n.id) == "elected",
            status=statuses.get(n.id, "resignation_tendered"),
        )
        for n in nominees
    ]


def _seat_statuses(votes: Mapping[int, int], seats: int) -> dict[int, str]:
    """The `seats` candidates with most votes for are elected; a tie at the last seat is
    reported as one when not everyone in it fits; no votes elect nobody."""
    ranked = sorted(votes.values(), reverse=True)
    # The votes the last seat needs: above it is elected; at it, only if all at it fit.
    cut = ranked[seats - 1] if 0 < seats <= len(ranked) else 0
    fits = sum(1 for v in ranked if v >= cut) <= seats
    statuses = {}
    for candidate, n in votes.items():
        if n > cut or (n == cut and fits and cut > 0):
            statuses[candidate] = "elected"
        else:
            statuses[candidate] = "tied" if n == cut and cut > 0 else "not_elected"
    return statuses


def _percent(part: int, whole: int) -> Decimal | None:
    return percent_of(Fraction(part, whole)) if whole else None


@dataclass(frozen=True)
class OptionWin:
    winner: int | None  # None on a tie, with no votes, below the threshold or without quorum
    tied: tuple[int, ...]
    percent: Decimal | None  # the leader's share of the votes cast
    threshold_met: bool | None  # None when the item has no threshold
    quorum_met: bool = True


def plurality_of_options(
    votes: Mapping[int, int],
    *,
    abstain: int | None = None,
    threshold: Threshold | None = None,
    quorum_met: bool = True,
) -> OptionWin:
    """The option with most votes cast wins (frequency, choice). Abstentions are not votes cast;
    a threshold, when set, is of the votes cast. Without quorum the meeting could not choose:
    no option wins and none ties, though the leader's share is still reported."""
    counted = {option: n for option, n in votes.items() if option != abstain}
    cast = sum(counted.values())
    top = max(counted.values(), default=0)
    leaders = tuple(option for option, n in counted.items() if n == top) if top else ()
    percent = _percent(top, cast)
    met = None if threshold is None or not cast else threshold.met_by(Fraction(top, cast))
    if not quorum_met:
        return OptionWin(winner=None, tied=(), percent=percent, threshold_met=met, quorum_met=False)
    winner = leaders[0] if len(leaders) == 1 and met is not False else None
    return OptionWin(winner=winner, tied=leaders if len(leaders) > 1 else (), percent=percent, threshold_met=met)
