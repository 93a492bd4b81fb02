"""The transition table, checked pair by pair against an independent copy written out below."""

from __future__ import annotations

import itertools

import pytest

from proposals.workflow import (
    EDITABLE_STATES,
    TERMINAL_STATES,
    TRANSITIONS,
    Action,
    Role,
    State,
    Transition,
    allowed_actions,
    resolve_target,
    transition_for,
)

# Written by hand from the specification, not derived from TRANSITIONS, so any change to the table shows up here.
EXPECTED: dict[tuple[str, str], tuple[tuple[str, ...], frozenset[str]]] = {
    ("draft", "submit"): (("submitted",), frozenset({"proposer"})),
    ("returned", "resubmit"): (("submitted",), frozenset({"proposer"})),
    ("submitted", "start_review"): (("in_review",), frozenset({"secretary"})),
    ("in_review", "return"): (("returned",), frozenset({"secretary"})),
    ("in_review", "decide"): (("approved", "rejected", "referred"), frozenset({"system", "secretary"})),
    # Referral is the board's decision: the rule records it, never the secretary alone.
    ("in_review", "refer"): (("referred",), frozenset({"system"})),
    ("approved", "put_to_vote"): (("shareholder_vote",), frozenset({"secretary"})),
    ("referred", "put_to_vote"): (("shareholder_vote",), frozenset({"secretary"})),
    ("shareholder_vote", "settle"): (("adopted", "defeated"), frozenset({"system"})),
    ("approved", "implement"): (("implemented",), frozenset({"secretary"})),
    ("adopted", "implement"): (("implemented",), frozenset({"secretary"})),
    ("draft", "withdraw"): (("withdrawn",), frozenset({"proposer"})),
    ("submitted", "withdraw"): (("withdrawn",), frozenset({"proposer"})),
    ("returned", "withdraw"): (("withdrawn",), frozenset({"proposer"})),
    ("in_review", "withdraw"): (("withdrawn",), frozenset({"proposer"})),
}
EXPECTED_COMMENT_REQUIRED = {("in_review", "return")}
ACTION_ORDER = [
    "submit",
    "resubmit",
    "start_review",
    "return",
    "decide",
    "refer",
    "put_to_vote",
    "settle",
    "implement",
    "withdraw",
]
ROLE_SETS = {
    "proposer only": frozenset({"proposer"}),
    "secretary only": frozenset({"secretary"}),
    "system": frozenset({"system"}),
}

ALL_PAIRS = list(itertools.product(State, Action))


def expected_actions(state: str, roles: frozenset[str]) -> list[str]:
    return [action for action in ACTION_ORDER if (state, action) in EXPECTED and EXPECTED[state, action][1] & roles]


def as_plain(transition: Transition) -> tuple[tuple[str, ...], frozenset[str]]:
    return tuple(str(t) for t in transition.targets), frozenset(str(r) for r in transition.roles)


def test_the_table_matches_the_written_out_copy_exactly() -> None:
    actual = {(str(t.source), str(t.action)): as_plain(t) for t in TRANSITIONS}
    assert actual == EXPECTED


def test_the_table_has_one_entry_per_source_and_action() -> None:
    keys = [(t.source, t.action) for t in TRANSITIONS]
    assert len(keys) == len(set(keys)) == len(EXPECTED)


def test_the_enums_spell_the_states_actions_and_roles_of_the_specification() -> None:
    assert [s.value for s in State] == [
        "draft",
        "submitted",
        "returned",
        "in_review",
        "approved",
        "rejected",
        "referred",
        "shareholder_vote",
        "adopted",
        "defeated",
        "implemented",
        "withdrawn",
    ]
    assert [a.value for a in Action] == ACTION_ORDER
    assert [r.value for r in Role] == ["proposer", "secretary", "system"]


@pytest.mark.parametrize(("state", "action"), ALL_PAIRS, ids=[f"{s}-{a}" for s, a in ALL_PAIRS])
def test_transition_for_finds_a_transition_exactly_when_the_table_lists_the_pair(state: State, action: Action) -> None:
    transition = transition_for(state, action)
    if (state.value, action.value) in EXPECTED:
        assert transition is not None
        assert (transition.source, transition.action) == (state, action)
        assert as_plain(transition) == EXPECTED[state.value, action.value]
        assert transition.comment_required == ((state.value, action.value) in EXPECTED_COMMENT_REQUIRED)
        assert transition_for(state.value, action.value) is transition
    else:
        assert transition is None


@pytest.mark.parametrize(("state", "action"), [("draft", "launch"), ("limbo", "submit"), ("", "")])
def test_unknown_states_or_actions_have_no_transition(state: str, action: str) -> None:
    assert transition_for(state, action) is None


@pytest.mark.parametrize("role_set", list(ROLE_SETS), ids=list(ROLE_SETS))
@pytest.mark.parametrize("state", list(State), ids=[s.value for s in State])
def test_allowed_actions_lists_what_the_roles_may_do_in_declaration_order(state: State, role_set: str) -> None:
    roles = ROLE_SETS[role_set]
    assert allowed_actions(state, roles) == expected_actions(state.value, roles)
    assert allowed_actions(state.value, [Role(r) for r in roles]) == expected_actions(state.value, roles)


def test_allowed_actions_spot_checks_read_as_the_table_does() -> None:
    assert allowed_actions("draft", [Role.PROPOSER]) == ["submit", "withdraw"]
    assert allowed_actions("in_review", [Role.SECRETARY]) == ["return", "decide"]
    assert allowed_actions("in_review", [Role.PROPOSER]) == ["withdraw"]
    assert allowed_actions("in_review", [Role.SYSTEM]) == ["decide", "refer"]
    assert allowed_actions("shareholder_vote", [Role.SECRETARY]) == []
    assert allowed_actions("shareholder_vote", [Role.SYSTEM]) == ["settle"]
    assert allowed_actions("approved", [Role.SECRETARY]) == ["put_to_vote", "implement"]


def test_several_roles_together_may_take_any_action_one_of_them_may() -> None:
    assert allowed_actions("in_review", ["proposer", "secretary"]) == ["return", "decide", "withdraw"]


def test_actions_come_back_as_plain_strings() -> None:
    assert all(type(action) is str for action in allowed_actions("in_review", list(Role)))


def test_unknown_states_allow_nothing_and_unknown_roles_grant_nothing() -> None:
    assert allowed_actions("limbo", list(Role)) == []
    assert allowed_actions("draft", ["chairman"]) == []
    assert allowed_actions("draft", []) == []


def test_a_proposer_cannot_start_review() -> None:
    assert "start_review" not in allowed_actions("submitted", [Role.PROPOSER])


def test_a_secretary_cannot_submit() -> None:
    assert "submit" not in allowed_actions("draft", [Role.SECRETARY])


def test_only_the_system_settles_a_shareholder_vote() -> None:
    transition = transition_for(State.SHAREHOLDER_VOTE, Action.SETTLE)
    assert transition is not None
    assert transition.roles == {Role.SYSTEM}
    assert "settle" not in allowed_actions("shareholder_vote", [Role.SECRETARY, Role.PROPOSER])


def test_the_board_decision_may_come_from_the_system_or_the_secretary() -> None:
    transition = transition_for(State.IN_REVIEW, Action.DECIDE)
    assert transition is not None
    assert transition.roles == {Role.SYSTEM, Role.SECRETARY}


def test_returning_a_proposal_requires_a_comment_and_nothing_else_does() -> None:
    assert [(t.source, t.action) for t in TRANSITIONS if t.comment_required] == [(State.IN_REVIEW, Action.RETURN)]


@pytest.mark.parametrize("state", sorted(TERMINAL_STATES), ids=str)
def test_terminal_states_have_no_way_out(state: State) -> None:
    assert all(transition_for(state, action) is None for action in Action)
    assert allowed_actions(state, list(Role)) == []


def test_the_terminal_and_editable_states_are_the_specified_ones() -> None:
    assert {"rejected", "defeated", "implemented", "withdrawn"} == TERMINAL_STATES
    assert {"draft", "returned"} == EDITABLE_STATES


def test_every_non_terminal_state_has_a_way_out_and_every_state_is_reachable() -> None:
    sources = {t.source for t in TRANSITIONS}
    targets = {target for t in TRANSITIONS for target in t.targets}
    assert sources == set(State) - TERMINAL_STATES
    assert targets | {State.DRAFT} == set(State)


@pytest.mark.parametrize(
    "transition", [t for t in TRANSITIONS if len(t.targets) == 1], ids=lambda t: f"{t.source}-{t.action}"
)
def test_a_single_target_transition_resolves_to_its_target(transition: Transition) -> None:
    (target,) = transition.targets
    assert resolve_target(transition) is target
    assert resolve_target(transition, target) is target
    assert resolve_target(transition, target.value) is target


def test_a_single_target_transition_refuses_a_different_outcome() -> None:
    transition = transition_for("draft", "submit")
    assert transition is not None
    with pytest.raises(ValueError, match="submitted"):
        resolve_target(transition, State.APPROVED)


@pytest.mark.parametrize(
    ("source", "action", "outcome"),
    [
        ("in_review", "decide", "approved"),
        ("in_review", "decide", "rejected"),
        ("in_review", "decide", "referred"),
        ("shareholder_vote", "settle", "adopted"),
        ("shareholder_vote", "settle", "defeated"),
    ],
)
def test_a_two_target_transition_resolves_to_the_given_outcome(source: str, action: str, outcome: str) -> None:
    transition = transition_for(source, action)
    assert transition is not None
    assert resolve_target(transition, outcome) == State(outcome)
    assert resolve_target(transition, State(outcome)) is State(outcome)


@pytest.mark.parametrize(
    ("source", "action", "outcome"),
    [
        ("in_review", "decide", None),
        ("in_review", "decide", "adopted"),
        ("in_review", "decide", "submitted"),
        ("shareholder_vote", "settle", None),
        ("shareholder_vote", "settle", "approved"),
        ("shareholder_vote", "settle", "nonsense"),
    ],
)
def test_a_two_target_transition_refuses_a_missing_or_foreign_outcome(
    source: str, action: str, outcome: str | None
) -> None:
    transition = transition_for(source, action)
    assert transition is not None
    with pytest.raises(ValueError, match=r"\S"):
        resolve_target(transition, outcome)


def test_transitions_are_immutable() -> None:
    transition = TRANSITIONS[0]
    with pytest.raises(AttributeError):
        transition.source = State.WITHDRAWN  # type: ignore[misc]
