"""Vote standards for shareholder items: does an item pass, and would it under each other standard?

Plain Python, no Django. Every ratio is an exact `Fraction` of integer share counts: a float
cannot tell 1/2 from 1/2 plus one share out of 10**12, and that share decides a tie.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

__all__ = [
    "FRACTION_PATTERN",
    "MAJORITY",
    "THREE_QUARTERS",
    "TWO_THIRDS",
    "Comparator",
    "Decision",
    "Outcome",
    "Standard",
    "Threshold",
    "Totals",
    "decide",
    "disinterested_outcome",
    "evaluate",
    "percent_of",
    "quorum_met",
]


class Standard(StrEnum):
    """Which shares form the base. Declaration order is the order of the what-if table."""

    VOTES_CAST = "votes_cast"
    PRESENT_AND_ENTITLED = "present_and_entitled"
    OUTSTANDING = "outstanding"
    PLURALITY = "plurality"


class Comparator(StrEnum):
    GT = ">"
    GE = ">="


# ASCII digits only: `\d` alone would accept other scripts' digits, and a sign or a decimal
# point would let "0.5" or "-1/2" through as something other than what was written.
# At most nine digits a side, so any accepted fraction fits the 32-bit columns it is stored in.
FRACTION_PATTERN = r"^\s*[0-9]{1,9}\s*/\s*[0-9]{1,9}\s*$"
_FRACTION_TEXT = re.compile(r"\s*([0-9]{1,9})\s*/\s*([0-9]{1,9})\s*", re.ASCII)


@dataclass(frozen=True)
class Threshold:
    """An exact fraction and how a result must compare with it; 0 < fraction <= 1."""

    fraction: Fraction
    comparator: Comparator

    def __post_init__(self) -> None:
        # A float such as 0.1 has no exact binary value; refuse it rather than inherit its error.
        if not isinstance(self.fraction, Fraction):
            raise TypeError(f"threshold fraction must be a Fraction, not {type(self.fraction).__name__}")
        if not 0 < self.fraction <= 1:
            raise ValueError(f"threshold must be more than 0 and at most 1; got {self.fraction}")
        # Accept ">" as well as Comparator.GT so met_by can compare members by identity.
        object.__setattr__(self, "comparator", Comparator(self.comparator))

    @classmethod
    def parse(cls, text: str, comparator: str | Comparator = ">") -> "Threshold":
        """Read "p/q" (e.g. "1/2", "2/3"). Decimals, signs and bare integers are refused."""
        match = _FRACTION_TEXT.fullmatch(text)
        if match is None:
            raise ValueError(f"threshold must be written p/q, e.g. '1/2' or '2/3'; got {text!r}")
        numerator, denominator = (int(part) for part in match.groups())
        if denominator == 0:
            raise ValueError(f"threshold denominator must not be zero; got {text!r}")
        try:
            parsed_comparator = Comparator(comparator)
        except ValueError:
            raise ValueError(f"comparator must be '>' or '>='; got {comparator!r}") from None
        return cls(Fraction(numerator, denominator), parsed_comparator)

    def met_by(self, value: Fraction) -> bool:
        if self.comparator is Comparator.GT:
            return value > self.fraction
        return value >= self.fraction

    def __str__(self) -> str:
        # Always p/q, so "1/1" does not print as a bare "1" that parse() would refuse.
        return f"{self.comparator} {self.fraction.numerator}/{self.fraction.denominator}"


MAJORITY = Threshold(Fraction(1, 2), Comparator.GT)
TWO_THIRDS = Threshold(Fraction(2, 3), Comparator.GE)
THREE_QUARTERS = Threshold(Fraction(3, 4), Comparator.GE)


@dataclass(frozen=True)
class Totals:
    """Share totals for one item.

    Outstanding is not required to cover the shares present: imported tabulations are taken
    as given, and a ratio above 1 still compares correctly with any threshold.
    """

    for_: int
    against: int
    abstain: int
    outstanding: int
    broker_non_votes: int = 0
    # Shares present at the meeting (attendance: every holder who cast a ballot on any of its
    # items or checked in), when known. A present holder who skips this item still counts
    # toward quorum and, under present-and-entitled, against it.
    attending: int | None = None

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None and field.name == "attending":
                continue
            # bool is an int subclass; True shares is a bug upstream, not one share.
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{field.name} must be an int share count, not {type(value).__name__}")
            if value < 0:
                raise ValueError(f"{field.name} must not be negative; got {value}")

    @property
    def entitled(self) -> int:
        """Shares present and entitled to vote on the item: at least those that voted on it."""
        return max(self.for_ + self.against + self.abstain, self.attending or 0)

    @property
    def present(self) -> int:
        """Shares represented at the meeting, the quorum numerator; broker non-votes count here."""
        return self.entitled + self.broker_non_votes


def percent_of(fraction: Fraction) -> Decimal:
    """fraction * 100 to one decimal, halves rounded away from zero, in integers throughout.

    Decimal division would round to the context precision before quantize rounds again, so a
    value just under a half could be pushed onto it; integer floor division cannot.
    """
    if not isinstance(fraction, Fraction):
        raise TypeError(f"percent_of needs a Fraction, not {type(fraction).__name__}")
    scaled = abs(fraction.numerator) * 1000  # tenths of a percent
    denominator = fraction.denominator
    tenths = (2 * scaled + denominator) // (2 * denominator)
    sign = "-" if fraction < 0 and tenths else ""
    return Decimal(f"{sign}{tenths}e-1")  # built from text, so exact at any size


@dataclass(frozen=True)
class Outcome:
    """One standard's verdict. `fraction` is None when the base is zero, which always fails."""

    standard: Standard
    passed: bool
    fraction: Fraction | None
    numerator: int
    base: int
    tie: bool

    @property
    def percent(self) -> Decimal | None:
        return None if self.fraction is None else percent_of(self.fraction)


def evaluate(standard: Standard | str, threshold: Threshold, totals: Totals) -> Outcome:
    """Apply one standard. Plurality ignores the threshold: more for than against is enough."""
    standard = Standard(standard)
    cast = totals.for_ + totals.against
    base = {
        Standard.VOTES_CAST: cast,
        Standard.PRESENT_AND_ENTITLED: totals.entitled,
        Standard.OUTSTANDING: totals.outstanding,
        Standard.PLURALITY: cast,
    }[standard]
    if base == 0:
        return Outcome(standard, passed=False, fraction=None, numerator=totals.for_, base=0, tie=False)
    fraction = Fraction(totals.for_, base)
    if standard is Standard.PLURALITY:
        tie = totals.for_ == totals.against
        return Outcome(standard, totals.for_ > totals.against, fraction, totals.for_, base, tie)
    return Outcome(standard, threshold.met_by(fraction), fraction, totals.for_, base, tie=False)


def disinterested_outcome(
    standard: Standard | str, threshold: Threshold, totals: Totals, interested: Totals
) -> Outcome:
    """Approval by the disinterested shares (a majority of the minority): the item's totals less
    the interested holders' votes, over the shares outstanding less the interested holders'
    shares (`interested.outstanding`). Only votes_cast and outstanding make sense here."""
    rest = Totals(
        for_=max(totals.for_ - interested.for_, 0),
        against=max(totals.against - interested.against, 0),
        abstain=max(totals.abstain - interested.abstain, 0),
        outstanding=max(totals.outstanding - interested.outstanding, 0),
    )
    return evaluate(standard, threshold, rest)


def quorum_met(totals: Totals, quorum: Threshold = MAJORITY) -> bool:
    """Shares represented over shares outstanding; with nothing outstanding there is no quorum."""
    if totals.outstanding == 0:
        return False
    return quorum.met_by(Fraction(totals.present, totals.outstanding))


@dataclass(frozen=True)
class Decision:
    standard: Standard
    threshold: Threshold
    outcome: Outcome
    quorum_met: bool
    passed: bool
    reason: str
    what_if: tuple[Outcome, ...]


def _what_if(threshold: Threshold, totals: Totals) -> Iterator[Outcome]:
    for standard in Standard:
        yield evaluate(standard, threshold, totals)


def decide(standard: Standard | str, threshold: Threshold, totals: Totals, quorum: Threshold = MAJORITY) -> Decision:
    """The item's decision. The outcome is computed even without quorum so its count can be
    shown; the what-if rows are what each standard would decide, so without quorum every row
    fails, as the item does: no standard lets a meeting without quorum act."""
    standard = Standard(standard)
    counted = tuple(_what_if(threshold, totals))
    outcome = counted[list(Standard).index(standard)]
    has_quorum = quorum_met(totals, quorum)
    passed = outcome.passed and has_quorum
    # No quorum wins over the vote: the meeting could not act, whatever the count says.
    reason = "no quorum" if not has_quorum else ("passed" if passed else "failed")
    what_if = counted if has_quorum else tuple(replace(row, passed=False) for row in counted)
    return Decision(standard, threshold, outcome, has_quorum, passed, reason, what_if)
