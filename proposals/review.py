"""The board's decision rule.

Directors in office who are not recused vote approve, reject, refer (to the shareholders with no
recommendation) or abstain. Quorum is a majority of the directors in office (the default, as
DGCL s.141(b)) or of the disinterested ones (a special committee), as the board's setting says;
every vote cast, abstentions included, counts towards it, and recused directors never vote. Once
quorum is met the plurality of the decisive votes (approve, reject, refer) decides; a tie decides
nothing and goes back to the secretary, who returns the proposal or sets a new due date.

The board decides on its own as soon as quorum is met and no way the directors still to vote could
vote (or not) changes the plurality; the secretary closes the review at the due date on the votes
cast so far, when a review without quorum is rejected. Integer arithmetic only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

APPROVED = "approved"
REJECTED = "rejected"
REFERRED = "referred"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REFER = "refer"
    ABSTAIN = "abstain"


class QuorumBasis(StrEnum):
    ALL_IN_OFFICE = "all_in_office"
    DISINTERESTED = "disinterested"


# The decisive votes, each with the outcome its plurality gives, in the order ties are listed.
OUTCOME_OF = {Decision.APPROVE: APPROVED, Decision.REJECT: REJECTED, Decision.REFER: REFERRED}


@dataclass(frozen=True)
class Tally:
    disinterested: int  # directors in office who may vote: recused directors are not counted
    approve: int = 0
    reject: int = 0
    abstain: int = 0
    refer: int = 0
    in_office: int | None = None  # every director in office, recused or not; None: nobody is recused
    basis: QuorumBasis | str = QuorumBasis.ALL_IN_OFFICE

    def __post_init__(self) -> None:
        if self.in_office is None:
            object.__setattr__(self, "in_office", self.disinterested)
        for name in ("disinterested", "approve", "reject", "abstain", "refer", "in_office"):
            value = getattr(self, name)
            # bool is an int subclass; True would silently count as one vote.
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        object.__setattr__(self, "basis", QuorumBasis(self.basis))
        if self.voted > self.disinterested:
            raise ValueError(f"{self.voted} votes from {self.disinterested} disinterested directors")
        if self.disinterested > self.directors:
            raise ValueError(f"{self.disinterested} disinterested of {self.directors} directors in office")

    @classmethod
    def of(
        cls,
        disinterested: int,
        decisions: Iterable[Decision | str],
        *,
        in_office: int | None = None,
        basis: QuorumBasis | str = QuorumBasis.ALL_IN_OFFICE,
    ) -> Tally:
        counts = dict.fromkeys(Decision, 0)
        for decision in decisions:
            counts[Decision(decision)] += 1
        return cls(
            disinterested,
            approve=counts[Decision.APPROVE],
            reject=counts[Decision.REJECT],
            abstain=counts[Decision.ABSTAIN],
            refer=counts[Decision.REFER],
            in_office=in_office,
            basis=basis,
        )

    @property
    def directors(self) -> int:
        """Directors in office (the dataclass field is optional only for the constructor)."""
        return self.in_office if self.in_office is not None else self.disinterested

    @property
    def voted(self) -> int:
        return self.approve + self.reject + self.refer + self.abstain

    @property
    def remaining(self) -> int:
        return self.disinterested - self.voted

    @property
    def base(self) -> int:
        """The directors quorum is a majority of."""
        return self.directors if self.basis == QuorumBasis.ALL_IN_OFFICE else self.disinterested

    @property
    def quorum(self) -> int:
        """How many directors must vote for quorum."""
        return self.base // 2 + 1

    def count(self, decision: Decision) -> int:
        return int(getattr(self, decision.value))


@dataclass(frozen=True)
class Verdict:
    final: bool  # the outcome stands: no way the remaining directors vote (or don't) changes it
    outcome: str | None  # approved, rejected, referred; None while undecided or tied
    quorum_met: bool
    reason: str
    tied: tuple[str, ...] = ()  # the outcomes tied for the plurality, when that is what stops it


def quorum_met(tally: Tally) -> bool:
    return tally.voted >= tally.quorum


def quorum_possible(tally: Tally) -> bool:
    return tally.disinterested >= tally.quorum


def plurality(tally: Tally) -> tuple[str, ...]:
    """The outcomes with the most decisive votes: one is a decision, more are a tie."""
    top = max(tally.count(decision) for decision in OUTCOME_OF)
    return tuple(outcome for decision, outcome in OUTCOME_OF.items() if tally.count(decision) == top)


def approved(tally: Tally) -> bool:
    return quorum_met(tally) and plurality(tally) == (APPROVED,)


def _counts(tally: Tally) -> str:
    return (
        f"{tally.approve} approved, {tally.reject} rejected, {tally.refer} referred, {tally.abstain} abstained"
        f" ({tally.voted} of {tally.disinterested} who may vote)"
    )


def _quorum_words(tally: Tally) -> str:
    of_whom = "directors in office" if tally.basis == QuorumBasis.ALL_IN_OFFICE else "disinterested directors"
    return f"quorum {tally.quorum} of {tally.base} {of_whom}"


def automatic_verdict(tally: Tally) -> Verdict:
    quorum = quorum_met(tally)
    if not quorum:
        if not quorum_possible(tally):
            return Verdict(
                False,
                None,
                False,
                f"no quorum possible: {tally.disinterested} may vote, {_quorum_words(tally)}",
            )
        return Verdict(False, None, False, f"no quorum yet: {tally.voted} voted, {_quorum_words(tally)}")
    leaders = plurality(tally)
    if len(leaders) == 1:
        (outcome,) = leaders
        leader = next(decision for decision, result in OUTCOME_OF.items() if result == outcome)
        runner_up = max(tally.count(decision) for decision in OUTCOME_OF if decision != leader)
        # Even if every director still to vote joins the runner-up, the leader stays ahead.
        if tally.count(leader) > runner_up + tally.remaining:
            return Verdict(True, outcome, True, f"{outcome} by plurality: {_counts(tally)}")
    if tally.remaining == 0 and len(leaders) > 1:
        return Verdict(True, None, True, f"tied ({' / '.join(leaders)}): {_counts(tally)}", leaders)
    return Verdict(False, None, True, f"undecided: {_counts(tally)}, {tally.remaining} still to vote")


def forced_verdict(tally: Tally) -> Verdict:
    """The secretary's decision at the due date: whatever the rule says on the votes cast so far.
    A tie decides nothing (outcome None, not final): the secretary returns the proposal or sets
    a new due date."""
    if not quorum_met(tally):
        if tally.disinterested == 0:
            return Verdict(True, REJECTED, False, "no quorum: all directors are recused")
        return Verdict(True, REJECTED, False, f"no quorum: {tally.voted} voted, {_quorum_words(tally)}")
    leaders = plurality(tally)
    if len(leaders) > 1:
        return Verdict(False, None, True, f"tied ({' / '.join(leaders)}): {_counts(tally)}", leaders)
    (outcome,) = leaders
    return Verdict(True, outcome, True, f"{outcome} by plurality at the due date: {_counts(tally)}")


RECOMMENDATION_OF = {APPROVED: "for", REJECTED: "against", REFERRED: "none"}


def recommendation(outcome: str) -> str:
    """What the board recommends to the shareholders on its decision."""
    return RECOMMENDATION_OF[outcome]
