"""What a directed proxy may put on a ballot: pure rules, no Django.

A holder's appointment carries, per item, an instruction: "for", "against", "abstain", or
"recommendation" (the board's). A ballot is read as marks, each a choice and what the board
recommends on the thing it marks:

- a proposal: one mark per choice given shares, with the item's recommendation, and an
  "unvoted" mark, which follows no instruction, when a split leaves some of the shares out;
- an election: one mark per (nominee, choice) line, with that nominee's recommendation. "for",
  "against" and "abstain" apply to every nominee voted (against is withheld under plurality
  voting, which has no abstain: abstaining there is leaving the nominee blank); nominees may be
  left blank. Under cumulative voting every line is "for";
- a frequency or choice item: one mark for the option chosen, "abstain" for the frequency
  item's Abstain option and "for" for the others, recommended "for" when it is the board's
  option and "against" when the board recommends another. Only "abstain" and "recommendation"
  make sense there (meetings.proxy_instructions refuses the others).

Where the board recommends nothing ("none"), "recommendation" leaves the proxy its discretion,
as proxy cards say: "in their discretion on matters on which the board makes no recommendation".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

INSTRUCTIONS = ("for", "against", "abstain", "recommendation")
# Instructions that make sense on an item choosing among options (frequency, choice).
OPTION_INSTRUCTIONS = ("abstain", "recommendation")

# The choices that follow a wanted choice: against is withheld under plurality voting and
# withheld is against under majority voting, whichever the item allows.
FOLLOWS: dict[str, frozenset[str]] = {
    "for": frozenset({"for"}),
    "against": frozenset({"against", "withhold"}),
    "withhold": frozenset({"withhold", "against"}),
    "abstain": frozenset({"abstain"}),
}


# The mark of a proposal's shares a split leaves unvoted: it follows no instruction.
UNVOTED = "unvoted"


@dataclass(frozen=True)
class Mark:
    """One mark of a ballot: the choice made and the board's word on what it marks ("none",
    or "" when the board said nothing)."""

    choice: str
    recommended: str = ""


def wanted(instruction: str, recommended: str) -> str | None:
    """The choice an instruction asks for on a mark; None when it leaves the proxy free."""
    target = recommended if instruction == "recommendation" else instruction
    return target if target in FOLLOWS else None


def follows(instruction: str, marks: Iterable[Mark]) -> bool:
    """Whether every mark of a ballot follows the instruction."""
    for mark in marks:
        target = wanted(instruction, mark.recommended)
        if target is not None and mark.choice not in FOLLOWS[target]:
            return False
    return True


def choice_for(instruction: str, recommended: str, allowed: Iterable[str]) -> str | None:
    """The choice that follows the instruction among those the item allows (a directed proxy's
    ballot made for it); None when none does, or the instruction leaves the proxy free."""
    target = wanted(instruction, recommended)
    if target is None:
        return None
    return next((choice for choice in allowed if choice in FOLLOWS[target]), None)


def holder_overrides(*, holder_user_id: int | None, voter_id: int | None, actor_id: int) -> bool:
    """Whether the actor is the holder replacing a ballot someone else (their proxy) cast for
    them: the holder's own ballot always wins, even where an item allows no change."""
    return holder_user_id is not None and actor_id == holder_user_id and voter_id != actor_id
