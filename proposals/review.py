"""The board review decision rule.

A proposal is approved when more than half of the disinterested directors have voted (quorum) and
approvals are more than half of those voting. Integer arithmetic only, so boundaries are exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

APPROVED = "approved"
REJECTED = "rejected"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    ABSTAIN = "abstain"


@dataclass(frozen=True)
class Tally:
    disinterested: int  # directors in office who may vote: recused directors are not counted
    approve: int
    reject: int
    abstain: int

    def __post_init__(self) -> None:
        for name in ("disinterested", "approve", "reject", "abstain"):
            value = getattr(self, name)
            # bool is an int subclass; True would silently count as one vote.
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if self.voted > self.disinterested:
            raise ValueError(f"{self.voted} votes from {self.disinterested} disinterested directors")

    @classmethod
    def of(cls, disinterested: int, decisions: Iterable[Decision | str]) -> Tally:
        counts = dict.fromkeys(Decision, 0)
        for decision in decisions:
            counts[Decision(decision)] += 1
        return cls(disinterested, counts[Decision.APPROVE], counts[Decision.REJECT], counts[Decision.ABSTAIN])

    @property
    def voted(self) -> int:
        return self.approve + self.reject + self.abstain

    @property
    def remaining(self) -> int:
        return self.disinterested - self.voted


@dataclass(frozen=True)
class Verdict:
    final: bool  # no way the remaining directors vote (or don't) can change the outcome
    outcome: str | None
    quorum_met: bool
    reason: str


def quorum_met(tally: Tally) -> bool:
    return 2 * tally.voted > tally.disinterested


def approved(tally: Tally) -> bool:
    return quorum_met(tally) and 2 * tally.approve > tally.voted


def _approved_reason(tally: Tally) -> str:
    return f"{tally.approve} of {tally.disinterested} disinterested directors approved"


def automatic_verdict(tally: Tally) -> Verdict:
    quorum = quorum_met(tally)
    if tally.disinterested == 0:
        return Verdict(False, None, quorum, "all directors are recused: nobody can decide")
    # Even if every remaining director rejects, approvals stay above half of all who could vote.
    if 2 * tally.approve > tally.disinterested:
        return Verdict(True, APPROVED, quorum, _approved_reason(tally))
    # Even if every remaining director approves the rule fails. This also covers "everyone voted",
    # and, since a director not voting helps approval no more than approving does, the due date too.
    if 2 * (tally.approve + tally.remaining) <= tally.voted + tally.remaining:
        return Verdict(
            True,
            REJECTED,
            quorum,
            f"{_approved_reason(tally)}, {tally.reject} rejected and {tally.abstain} abstained:"
            " approval is no longer possible",
        )
    if not quorum:
        return Verdict(False, None, quorum, f"no quorum: {tally.voted} of {tally.disinterested} voted")
    return Verdict(
        False,
        None,
        quorum,
        f"undecided: {tally.approve} approved, {tally.reject} rejected, {tally.abstain} abstained,"
        f" {tally.remaining} still to vote",
    )


def forced_verdict(tally: Tally) -> Verdict:
    """The secretary's decision at the due date: whatever the rule says on the votes cast so far."""
    quorum = quorum_met(tally)
    if approved(tally):
        return Verdict(True, APPROVED, quorum, f"{tally.approve} of {tally.voted} voting directors approved")
    if not quorum:
        if tally.disinterested == 0:
            return Verdict(True, REJECTED, quorum, "no quorum: all directors are recused")
        return Verdict(True, REJECTED, quorum, f"no quorum: {tally.voted} of {tally.disinterested} voted")
    return Verdict(True, REJECTED, quorum, f"not approved: {tally.approve} of {tally.voted} voting directors approved")
