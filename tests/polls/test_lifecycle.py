"""The poll lifecycle table (polls/lifecycle.py): checked pair by pair against a copy written out
by hand, against the rules the services applied before the table existed, with hypothesis; and
the one effective status checked equal in Python, as a Django filter and as SQL."""

from __future__ import annotations

import datetime
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polls import lifecycle
from polls.lifecycle import (
    BOUNDS,
    TRANSITIONS,
    Event,
    Moment,
    Phase,
    Refusal,
    Refused,
    Status,
    WindowCondition,
    clock_move,
    effective_status,
    effective_status_conditions,
    move,
    phase_of,
    transition_for,
)

# Written by hand from DESIGN.md and the services, not derived from TRANSITIONS: any change to
# the table shows up here. (source, event) -> (target, phases in which the event may happen).
ANY, BEFORE_CLOSING, REACHED_OPENING, REACHED_CLOSING = (
    frozenset({"before", "during", "after"}),
    frozenset({"before", "during"}),
    frozenset({"during", "after"}),
    frozenset({"after"}),
)
EXPECTED: dict[tuple[str, str], tuple[str, frozenset[str]]] = {
    ("draft", "schedule"): ("scheduled", BEFORE_CLOSING),
    ("draft", "open"): ("open", BEFORE_CLOSING),
    ("scheduled", "open"): ("open", BEFORE_CLOSING),
    ("scheduled", "close"): ("closed", ANY),
    ("open", "close"): ("closed", ANY),
    ("closed", "certify"): ("certified", ANY),
    ("scheduled", "opens_at_reached"): ("open", REACHED_OPENING),
    ("scheduled", "closes_at_reached"): ("closed", REACHED_CLOSING),
    ("open", "closes_at_reached"): ("closed", REACHED_CLOSING),
}
ACTS = (Event.SCHEDULE, Event.OPEN, Event.CLOSE, Event.CERTIFY)
ORDER = list(Status)
T0 = datetime.datetime(2025, 11, 6, 9, 0, tzinfo=datetime.UTC)
MICROSECOND = datetime.timedelta(microseconds=1)


# --- The rules as the services wrote them before the table (models.py, services.py and
# certification.py at 1184277), transcribed: the table must give exactly these answers. -------


def old_effective_status(
    status: str, opens_at: datetime.datetime, closes_at: datetime.datetime, now: datetime.datetime
) -> str:
    if status == "scheduled" and opens_at <= now:
        return "open" if now < closes_at else "closed"
    if status == "open" and closes_at <= now:
        return "closed"
    return status


def old_act(
    status: str, event: str, opens_at: datetime.datetime, closes_at: datetime.datetime, now: datetime.datetime
) -> str | Refusal:
    """The target, or why the service refused."""
    if event == "schedule":
        if status != "draft":
            return Refusal.STATUS
        return Refusal.WINDOW if closes_at <= now else "scheduled"
    if event == "open":
        if status not in ("draft", "scheduled"):
            return Refusal.STATUS
        return Refusal.WINDOW if closes_at <= now else "open"
    if event == "close":
        return "closed" if status in ("open", "scheduled") else Refusal.STATUS
    assert event == "certify"
    return "certified" if old_effective_status(status, opens_at, closes_at, now) == "closed" else Refusal.STATUS


def old_sweep(
    status: str, opens_at: datetime.datetime, closes_at: datetime.datetime, now: datetime.datetime
) -> str | None:
    """The event the sweep recorded, if any."""
    if status == "scheduled" and opens_at <= now < closes_at:
        return "opens_at_reached"
    if status in ("open", "scheduled") and closes_at <= now:
        return "closes_at_reached"
    return None


def new_act(status: str, event: Event, phase: Phase) -> str | Refusal:
    try:
        return move(status, event, phase).target
    except Refused as refused:
        return refused.refusal


# Windows and moments around them: every boundary (now == opens_at, now == closes_at) and
# a microsecond either side.
def grid() -> list[tuple[datetime.datetime, datetime.datetime, datetime.datetime]]:
    cases = []
    for length in (MICROSECOND, 2 * MICROSECOND, datetime.timedelta(hours=1)):
        opens_at, closes_at = T0, T0 + length
        moments = {opens_at, closes_at, opens_at - MICROSECOND, closes_at + MICROSECOND, opens_at + MICROSECOND}
        moments |= {
            closes_at - MICROSECOND,
            opens_at - datetime.timedelta(days=1),
            closes_at + datetime.timedelta(days=1),
        }
        cases += [(opens_at, closes_at, now) for now in sorted(moments)]
    return cases


GRID = grid()
STEP = st.integers(min_value=-3, max_value=3).map(lambda n: n * MICROSECOND)


@st.composite
def windows(draw: st.DrawFn) -> tuple[datetime.datetime, datetime.datetime, datetime.datetime]:
    """A valid window (the database refuses closes_at <= opens_at) and a moment near it."""
    opens_at = T0 + draw(STEP)
    closes_at = opens_at + draw(st.integers(min_value=1, max_value=4)) * MICROSECOND
    now = draw(st.sampled_from([opens_at, closes_at])) + draw(STEP)
    return opens_at, closes_at, now


# --- The table ---------------------------------------------------------------------------------


def test_the_table_matches_the_written_out_copy_exactly() -> None:
    actual = {(str(t.source), str(t.event)): (str(t.target), frozenset(map(str, t.phases))) for t in TRANSITIONS}
    assert actual == EXPECTED


def test_the_table_has_one_entry_per_status_and_event() -> None:
    keys = [(t.source, t.event) for t in TRANSITIONS]
    assert len(keys) == len(set(keys)) == len(EXPECTED)


def test_a_duplicate_entry_is_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        lifecycle._index([TRANSITIONS[0], TRANSITIONS[0]])


@pytest.mark.parametrize(("status", "event"), list(itertools.product(Status, Event)))
def test_transition_for_reads_the_table(status: Status, event: Event) -> None:
    found = transition_for(str(status), str(event))
    expected = EXPECTED.get((str(status), str(event)))
    assert (None if found is None else str(found.target)) == (None if expected is None else expected[0])


def test_no_transition_leaves_certified_or_enters_draft() -> None:
    assert all(t.source != Status.CERTIFIED and t.target != Status.DRAFT for t in TRANSITIONS)


def test_every_transition_moves_forward() -> None:
    assert all(ORDER.index(t.target) > ORDER.index(t.source) for t in TRANSITIONS)


def test_only_certifying_is_judged_on_the_status_the_clock_brought_about() -> None:
    assert {Event.CERTIFY} == lifecycle.JUDGED_AFTER_CLOCK
    assert {Status.DRAFT, Status.SCHEDULED} == lifecycle.TERMS_EDITABLE


# --- The window --------------------------------------------------------------------------------


def test_the_phases_are_bounded_by_the_two_moments_in_time_order() -> None:
    assert BOUNDS == {
        Phase.BEFORE: (None, Moment.OPENS_AT),
        Phase.DURING: (Moment.OPENS_AT, Moment.CLOSES_AT),
        Phase.AFTER: (Moment.CLOSES_AT, None),
    }
    assert [lifecycle.moments_reached(phase) for phase in Phase] == [
        (),
        (Moment.OPENS_AT,),
        (Moment.OPENS_AT, Moment.CLOSES_AT),
    ]


T1 = T0 + datetime.timedelta(hours=1)


@pytest.mark.parametrize(
    ("now", "phase"),
    [(T0 - MICROSECOND, Phase.BEFORE), (T0, Phase.DURING), (T1 - MICROSECOND, Phase.DURING), (T1, Phase.AFTER)],
)
def test_the_window_is_open_at_its_opening_and_closed_at_its_closing(now: datetime.datetime, phase: Phase) -> None:
    assert phase_of(opens_at=T0, closes_at=T1, now=now) is phase


# --- Against the rules the services applied ---------------------------------------------------


@pytest.mark.parametrize(("opens_at", "closes_at", "now"), GRID)
@pytest.mark.parametrize("status", list(Status))
def test_the_effective_status_is_the_old_models_on_every_boundary(
    status: Status, opens_at: datetime.datetime, closes_at: datetime.datetime, now: datetime.datetime
) -> None:
    phase = phase_of(opens_at=opens_at, closes_at=closes_at, now=now)
    assert effective_status(status, phase) == old_effective_status(status, opens_at, closes_at, now)


@given(window=windows(), status=st.sampled_from(Status), event=st.sampled_from(ACTS))
def test_each_act_is_allowed_or_refused_as_the_services_did(
    window: tuple[datetime.datetime, datetime.datetime, datetime.datetime], status: Status, event: Event
) -> None:
    opens_at, closes_at, now = window
    phase = phase_of(opens_at=opens_at, closes_at=closes_at, now=now)
    assert new_act(status, event, phase) == old_act(status, event, opens_at, closes_at, now)
    assert effective_status(status, phase) == old_effective_status(status, opens_at, closes_at, now)


@given(window=windows(), status=st.sampled_from(Status))
def test_the_clock_makes_the_move_the_sweep_made(
    window: tuple[datetime.datetime, datetime.datetime, datetime.datetime], status: Status
) -> None:
    opens_at, closes_at, now = window
    transition = clock_move(status, phase_of(opens_at=opens_at, closes_at=closes_at, now=now))
    assert (None if transition is None else transition.event) == old_sweep(status, opens_at, closes_at, now)


@pytest.mark.parametrize(("status", "event", "phase"), list(itertools.product(Status, ACTS, Phase)))
def test_every_act_in_every_phase_is_the_old_rule(status: Status, event: Event, phase: Phase) -> None:
    opens_at, closes_at = T0, T0 + datetime.timedelta(hours=1)
    now = {Phase.BEFORE: opens_at - MICROSECOND, Phase.DURING: opens_at, Phase.AFTER: closes_at}[phase]
    assert new_act(status, event, phase) == old_act(status, event, opens_at, closes_at, now)


def test_a_refusal_names_the_status_it_judged() -> None:
    with pytest.raises(Refused) as refused:
        move(Status.OPEN, Event.CERTIFY, Phase.DURING)
    assert (refused.value.status, refused.value.refusal) == (Status.OPEN, Refusal.STATUS)
    with pytest.raises(Refused) as refused:
        move(Status.SCHEDULED, Event.CERTIFY, Phase.DURING)  # the clock opened it: still not closed
    assert refused.value.status == Status.OPEN
    assert move(Status.SCHEDULED, Event.CERTIFY, Phase.AFTER).source == Status.CLOSED


# --- The clock ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "phase"), list(itertools.product(Status, Phase)))
def test_the_clocks_one_move_is_its_moves_one_after_another(status: Status, phase: Phase) -> None:
    stepwise = status
    for moment in lifecycle.moments_reached(phase):
        transition = transition_for(stepwise, lifecycle.CLOCK_EVENTS[moment])
        stepwise = stepwise if transition is None else transition.target
    assert effective_status(status, phase) == stepwise


@pytest.mark.parametrize(("status", "phase"), list(itertools.product(Status, Phase)))
def test_once_the_clock_has_moved_it_has_nothing_more_to_do(status: Status, phase: Phase) -> None:
    assert clock_move(effective_status(status, phase), phase) is None


@pytest.mark.parametrize("status", list(Status))
def test_the_effective_status_never_goes_back_as_time_passes(status: Status) -> None:
    ranks = [ORDER.index(effective_status(status, phase)) for phase in Phase]
    assert ranks == sorted(ranks)


def test_a_draft_and_a_closed_poll_never_move_by_the_clock() -> None:
    for status, phase in itertools.product((Status.DRAFT, Status.CLOSED, Status.CERTIFIED), Phase):
        assert effective_status(status, phase) == status


# --- The conditions a database tests -----------------------------------------------------------


def holds(
    condition: WindowCondition,
    status: Status,
    opens_at: datetime.datetime,
    closes_at: datetime.datetime,
    now: datetime.datetime,
) -> bool:
    times = {Moment.OPENS_AT: opens_at, Moment.CLOSES_AT: closes_at}
    return (
        condition.status == status
        and (condition.since is None or times[condition.since] <= now)
        and (condition.until is None or now < times[condition.until])
    )


@pytest.mark.parametrize(("opens_at", "closes_at", "now"), GRID)
@pytest.mark.parametrize("stored", list(Status))
def test_the_conditions_of_each_status_hold_exactly_where_a_reader_sees_it(
    stored: Status, opens_at: datetime.datetime, closes_at: datetime.datetime, now: datetime.datetime
) -> None:
    seen = {
        status
        for status in Status
        if any(holds(c, stored, opens_at, closes_at, now) for c in effective_status_conditions(status))
    }
    assert seen == {old_effective_status(stored, opens_at, closes_at, now)}


def test_the_conditions_read_as_the_filters_did_before() -> None:
    def plain(status: Status) -> set[tuple[str, str | None, str | None]]:
        return {
            (str(c.status), c.since and str(c.since), c.until and str(c.until))
            for c in effective_status_conditions(status)
        }

    assert plain(Status.OPEN) == {("scheduled", "opens_at", "closes_at"), ("open", None, "closes_at")}
    assert plain(Status.SCHEDULED) == {("scheduled", None, "opens_at")}
    assert plain(Status.CLOSED) == {
        ("scheduled", "closes_at", None),
        ("open", "closes_at", None),
        ("closed", None, None),
    }
    assert plain(Status.DRAFT) == {("draft", None, None)}
    due_to_close = lifecycle.clock_due_conditions(Event.CLOSES_AT_REACHED)
    assert {(str(c.status), c.since, c.until) for c in due_to_close} == {
        ("scheduled", "closes_at", None),
        ("open", "closes_at", None),
    }


def test_a_rule_holding_in_separate_phases_gets_one_condition_per_run() -> None:
    conditions = lifecycle.window_conditions(lambda status, phase: status == Status.OPEN and phase != Phase.DURING)
    assert conditions == (
        WindowCondition(Status.OPEN, None, Moment.OPENS_AT),
        WindowCondition(Status.OPEN, Moment.CLOSES_AT, None),
    )
    assert lifecycle.window_conditions(lambda status, phase: False) == ()


# --- A poll's life, at random -----------------------------------------------------------------

STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("act"), st.sampled_from(ACTS)),
        st.tuples(st.just("wait"), st.integers(min_value=0, max_value=3).map(lambda n: n * MICROSECOND)),
        st.tuples(st.just("sweep"), st.just(None)),
    ),
    max_size=12,
)


@given(steps=STEPS, length=st.integers(min_value=1, max_value=3), start=st.integers(min_value=-2, max_value=4))
def test_a_poll_only_moves_forward_and_reads_as_the_old_rules_at_every_step(
    steps: list[tuple[str, object]], length: int, start: int
) -> None:
    """The services' effects on the window (an early opening or close moves it to now) keep the
    stored status and the window consistent: what a reader sees never goes back, and a certified
    poll never moves again."""
    status, opens_at, closes_at, now = Status.DRAFT, T0, T0 + length * MICROSECOND, T0 + start * MICROSECOND
    seen = [effective_status(status, phase_of(opens_at=opens_at, closes_at=closes_at, now=now))]
    for kind, value in steps:
        phase = phase_of(opens_at=opens_at, closes_at=closes_at, now=now)
        if kind == "wait":
            assert isinstance(value, datetime.timedelta)
            now += value
        elif kind == "sweep":
            transition = clock_move(status, phase)
            status = status if transition is None else transition.target
        else:
            assert isinstance(value, Event)
            try:
                transition = move(status, value, phase)
            except Refused:
                assert old_act(status, value, opens_at, closes_at, now) in tuple(Refusal)
                continue
            assert old_act(status, value, opens_at, closes_at, now) == transition.target
            was = status
            status = transition.target
            if value is Event.OPEN:
                opens_at = min(opens_at, now)
            elif value is Event.CLOSE:
                closes_at = min(closes_at, now)
                opens_at = min(opens_at, closes_at - MICROSECOND)
            assert was != Status.CERTIFIED
        assert opens_at < closes_at
        effective = effective_status(status, phase_of(opens_at=opens_at, closes_at=closes_at, now=now))
        assert effective == old_effective_status(status, opens_at, closes_at, now)
        seen.append(effective)
    ranks = [ORDER.index(status) for status in seen]
    assert ranks == sorted(ranks)


# --- Python, the Django filter and the SQL, on the database ------------------------------------


@pytest.mark.django_db
def test_python_the_filter_and_the_sql_agree_on_every_boundary() -> None:
    """Polls of every stored status over windows of 1 µs, 2 µs and an hour, read at each
    boundary and a microsecond either side: the filter (SQLite or PostgreSQL) and, on
    PostgreSQL, the SQL of the one-statement path find exactly the polls whose
    `effective_status` is the one asked for."""
    from django.db import connection

    from polls.fastpath import FIRST_BALLOT_SQL, OPEN_NOW_SQL, window_sql
    from polls.models import Poll
    from polls.selectors import effective_status_q

    polls = [
        Poll.objects.create(
            title=f"{status} until {closes_at}",
            status=status,
            opens_at=opens_at,
            closes_at=closes_at,
            certified_at=closes_at if status == Status.CERTIFIED else None,
        )
        for status, (opens_at, closes_at) in itertools.product(Status, {(o, c) for o, c, _ in GRID})
    ]
    for now in sorted({now for _, _, now in GRID}):
        for wanted in Status:
            expected = {poll.pk for poll in polls if poll.effective_status(now) == wanted}
            assert expected == {
                poll.pk
                for poll in polls
                if old_effective_status(poll.status, poll.opens_at, poll.closes_at, now) == wanted
            }
            found = set(Poll.objects.filter(effective_status_q(wanted, now)).values_list("pk", flat=True))
            assert found == expected, (now, wanted)
            if connection.vendor == "postgresql":
                sql = window_sql(effective_status_conditions(wanted))
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT id FROM polls_poll WHERE {sql}", {"now": now})  # noqa: S608
                    assert {row[0] for row in cursor.fetchall()} == expected, (now, wanted)
    assert window_sql(effective_status_conditions(Status.OPEN)) == OPEN_NOW_SQL
    assert f"AND {OPEN_NOW_SQL}\n" in FIRST_BALLOT_SQL
