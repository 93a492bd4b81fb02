"""The proposal lifecycle as data.

Kept free of Django so the table can be tested exhaustively without a database and shared by
models, services, views and templates as the one place that says who may do what, and when.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    REFERRED = "referred"
    SHAREHOLDER_VOTE = "shareholder_vote"
    ADOPTED = "adopted"
    DEFEATED = "defeated"
    IMPLEMENTED = "implemented"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    SUBMIT = "submit"
    RESUBMIT = "resubmit"
    START_REVIEW = "start_review"
    RETURN = "return"
    DECIDE = "decide"
    REFER = "refer"
    PUT_TO_VOTE = "put_to_vote"
    SETTLE = "settle"
    IMPLEMENT = "implement"
    WITHDRAW = "withdraw"


class Role(StrEnum):
    PROPOSER = "proposer"
    SECRETARY = "secretary"
    SYSTEM = "system"


@dataclass(frozen=True)
class Transition:
    source: State
    action: Action
    # More than one target only where the outcome is decided elsewhere: decide (the board rule)
    # and settle (the poll).
    targets: tuple[State, ...]
    roles: frozenset[Role]
    comment_required: bool = False


_PROPOSER = frozenset({Role.PROPOSER})
_SECRETARY = frozenset({Role.SECRETARY})
_SYSTEM = frozenset({Role.SYSTEM})
# The board rule decides automatically; the secretary closes the review at the due date.
_SYSTEM_OR_SECRETARY = frozenset({Role.SYSTEM, Role.SECRETARY})
# Referral with no recommendation is the board's decision, never the secretary's alone: the rule
# records it when the directors' refer votes carry it (or `decide` lands there at the due date).

TRANSITIONS: tuple[Transition, ...] = (
    Transition(State.DRAFT, Action.SUBMIT, (State.SUBMITTED,), _PROPOSER),
    Transition(State.RETURNED, Action.RESUBMIT, (State.SUBMITTED,), _PROPOSER),
    Transition(State.SUBMITTED, Action.START_REVIEW, (State.IN_REVIEW,), _SECRETARY),
    Transition(State.IN_REVIEW, Action.RETURN, (State.RETURNED,), _SECRETARY, comment_required=True),
    Transition(State.IN_REVIEW, Action.DECIDE, (State.APPROVED, State.REJECTED, State.REFERRED), _SYSTEM_OR_SECRETARY),
    Transition(State.IN_REVIEW, Action.REFER, (State.REFERRED,), _SYSTEM),
    Transition(State.APPROVED, Action.PUT_TO_VOTE, (State.SHAREHOLDER_VOTE,), _SECRETARY),
    Transition(State.REFERRED, Action.PUT_TO_VOTE, (State.SHAREHOLDER_VOTE,), _SECRETARY),
    Transition(State.SHAREHOLDER_VOTE, Action.SETTLE, (State.ADOPTED, State.DEFEATED), _SYSTEM),
    Transition(State.APPROVED, Action.IMPLEMENT, (State.IMPLEMENTED,), _SECRETARY),
    Transition(State.ADOPTED, Action.IMPLEMENT, (State.IMPLEMENTED,), _SECRETARY),
    Transition(State.DRAFT, Action.WITHDRAW, (State.WITHDRAWN,), _PROPOSER),
    Transition(State.SUBMITTED, Action.WITHDRAW, (State.WITHDRAWN,), _PROPOSER),
    Transition(State.RETURNED, Action.WITHDRAW, (State.WITHDRAWN,), _PROPOSER),
    Transition(State.IN_REVIEW, Action.WITHDRAW, (State.WITHDRAWN,), _PROPOSER),
)

TERMINAL_STATES: frozenset[State] = frozenset({State.REJECTED, State.DEFEATED, State.IMPLEMENTED, State.WITHDRAWN})
EDITABLE_STATES: frozenset[State] = frozenset({State.DRAFT, State.RETURNED})


def _index(transitions: Iterable[Transition]) -> dict[tuple[State, Action], Transition]:
    index: dict[tuple[State, Action], Transition] = {}
    for transition in transitions:
        key = (transition.source, transition.action)
        if key in index:
            # A duplicate would make the outcome depend on table order.
            raise ValueError(f"duplicate transition {transition.source} --{transition.action}->")
        index[key] = transition
    return index


_BY_KEY = _index(TRANSITIONS)


def _state(value: State | str) -> State | None:
    try:
        return State(value)
    except ValueError:
        return None


def _action(value: Action | str) -> Action | None:
    try:
        return Action(value)
    except ValueError:
        return None


def _roles(values: Iterable[Role | str]) -> frozenset[Role]:
    # Unknown role names grant nothing rather than failing: callers pass whatever a user has.
    roles = set()
    for value in values:
        try:
            roles.add(Role(value))
        except ValueError:
            continue
    return frozenset(roles)


def transition_for(source: State | str, action: Action | str) -> Transition | None:
    state, act = _state(source), _action(action)
    if state is None or act is None:
        return None
    return _BY_KEY.get((state, act))


def allowed_actions(source: State | str, roles: Iterable[Role | str]) -> list[str]:
    """Actions any of `roles` may take from `source`, in Action declaration order."""
    state = _state(source)
    if state is None:
        return []
    held = _roles(roles)
    return [
        action.value
        for action in Action
        if (transition := _BY_KEY.get((state, action))) is not None and transition.roles & held
    ]


def resolve_target(transition: Transition, outcome: State | str | None = None) -> State:
    """The state a transition lands in; two-target transitions need the outcome spelled out."""
    chosen = None if outcome is None else _state(outcome)
    if outcome is not None and chosen is None:
        raise ValueError(f"unknown state {outcome!r}")
    if len(transition.targets) == 1:
        (target,) = transition.targets
        if chosen is not None and chosen != target:
            raise ValueError(f"{transition.action} from {transition.source} leads to {target}, not {chosen}")
        return target
    if chosen is None or chosen not in transition.targets:
        options = " or ".join(transition.targets)
        raise ValueError(f"{transition.action} from {transition.source} needs an outcome: {options}")
    return chosen
