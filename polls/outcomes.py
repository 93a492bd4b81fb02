"""A certified item's outcome, typed: what another app reads of a certified vote (settlement of
a proposal, say) instead of the keys of the frozen JSON record, whose shape stays this app's
business (`results.results_json` writes it).

Only from polls, core and Django: the vote engine never imports an app above it.
"""

from __future__ import annotations

from dataclasses import dataclass

from polls.models import Poll, PollStatus


@dataclass(frozen=True)
class CertifiedOutcome:
    """The decision certification froze: whether the item passed under its standard and
    threshold (and quorum), and the reason as the record states it ("passed", "no quorum")."""

    passed: bool
    reason: str
    standard: str
    advisory: bool


def certified_outcome(*, poll: Poll) -> CertifiedOutcome | None:
    """The frozen outcome of a certified item, read from its certified record alone (never
    recomputed). None unless the poll is certified, and for a poll whose record decides
    nothing (a public poll has a winner, not an outcome)."""
    if poll.status != PollStatus.CERTIFIED or not poll.certified_result:
        return None
    outcome = poll.certified_result.get("outcome")
    if not outcome:
        return None
    return CertifiedOutcome(
        passed=bool(outcome.get("passed")),
        reason=str(outcome.get("reason", "")),
        standard=str(outcome.get("standard", "")),
        advisory=bool(outcome.get("advisory")),
    )
