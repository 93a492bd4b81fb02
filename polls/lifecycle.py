"""The poll lifecycle as data: draft -> scheduled -> open -> closed -> certified.

Kept free of Django, like proposals/workflow.py, so the table can be tested exhaustively. A poll
moves by the secretary's acts (schedule, open, close, certify) and by the clock (its opening and
its closing time are reached). What the clock has done is what a reader sees at once
(`effective_status`), before the sweep records it. The database's twin of that rule (the filter
in polls.selectors.effective_status_q, the SQL of polls.fastpath) is generated from
`window_conditions`, which reads the same table through the same description of the window
(`BOUNDS`), so the three cannot disagree.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """A poll's stored status, in lifecycle order (polls.models.PollStatus takes its values)."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    CERTIFIED = "certified"


class Event(StrEnum):
    SCHEDULE = "schedule"
    OPEN = "open"
    CLOSE = "close"
    CERTIFY = "certify"
    # Time passes: the clock's events.
    OPENS_AT_REACHED = "opens_at_reached"
    CLOSES_AT_REACHED = "closes_at_reached"


class Moment(StrEnum):
    """A poll's two times, named as its fields and columns."""

    OPENS_AT = "opens_at"
    CLOSES_AT = "closes_at"


class Phase(StrEnum):
    """Where `now` lies in a poll's window, in time order. The database keeps opens_at before
    closes_at (polls_poll_window_positive), so exactly one phase holds for every stored poll."""

    BEFORE = "before"  # now < opens_at
    DURING = "during"  # opens_at <= now < closes_at
    AFTER = "after"  # closes_at <= now


# The one description of the window: the moment each phase starts at and the one it ends at
# (None: no bound), `now` being in a phase when start <= now < end. The Python comparison
# (`phase_of`), the Django filter and the SQL are all read from it.
BOUNDS: dict[Phase, tuple[Moment | None, Moment | None]] = {
    Phase.BEFORE: (None, Moment.OPENS_AT),
    Phase.DURING: (Moment.OPENS_AT, Moment.CLOSES_AT),
    Phase.AFTER: (Moment.CLOSES_AT, None),
}

CLOCK_EVENTS: dict[Moment, Event] = {
    Moment.OPENS_AT: Event.OPENS_AT_REACHED,
    Moment.CLOSES_AT: Event.CLOSES_AT_REACHED,
}


def moments_reached(phase: Phase) -> tuple[Moment, ...]:
    """The moments already past in `phase`, in time order: those that start it or an earlier phase."""
    phases = list(Phase)
    starts = (BOUNDS[earlier][0] for earlier in phases[: phases.index(phase) + 1])
    return tuple(moment for moment in starts if moment is not None)


def phases_when(moment: Moment) -> frozenset[Phase]:
    """The phases in which `moment` has been reached."""
    return frozenset(phase for phase in Phase if moment in moments_reached(phase))


ANY_TIME: frozenset[Phase] = frozenset(Phase)
BEFORE_CLOSING: frozenset[Phase] = ANY_TIME - phases_when(Moment.CLOSES_AT)


@dataclass(frozen=True)
class Transition:
    source: Status
    event: Event
    target: Status
    # Where in the window the event may happen; elsewhere it is refused (Refusal.WINDOW). A
    # clock event happens once its moment is reached.
    phases: frozenset[Phase] = ANY_TIME


TRANSITIONS: tuple[Transition, ...] = (
    # Scheduling or opening a poll whose closing time has passed would open nothing.
    Transition(Status.DRAFT, Event.SCHEDULE, Status.SCHEDULED, BEFORE_CLOSING),
    Transition(Status.DRAFT, Event.OPEN, Status.OPEN, BEFORE_CLOSING),
    # Opening a scheduled poll early (or recording its due opening) is the secretary's to do.
    Transition(Status.SCHEDULED, Event.OPEN, Status.OPEN, BEFORE_CLOSING),
    # A scheduled poll may be closed before it ever opened; an open one past its closing time
    # may be closed by hand before the sweep gets to it.
    Transition(Status.SCHEDULED, Event.CLOSE, Status.CLOSED),
    Transition(Status.OPEN, Event.CLOSE, Status.CLOSED),
    Transition(Status.CLOSED, Event.CERTIFY, Status.CERTIFIED),
    # The clock. A scheduled poll whose whole window passed unswept closes without opening.
    Transition(Status.SCHEDULED, Event.OPENS_AT_REACHED, Status.OPEN, phases_when(Moment.OPENS_AT)),
    Transition(Status.SCHEDULED, Event.CLOSES_AT_REACHED, Status.CLOSED, phases_when(Moment.CLOSES_AT)),
    Transition(Status.OPEN, Event.CLOSES_AT_REACHED, Status.CLOSED, phases_when(Moment.CLOSES_AT)),
)

# Events judged on the status the clock has brought about rather than the stored one: a poll is
# certified once closed, by the secretary or by its closing time (whose close the service records
# first). The secretary's other acts read the stored status: a scheduled poll past its opening time
# may still be opened, and an open one past its closing time closed.
JUDGED_AFTER_CLOCK: frozenset[Event] = frozenset({Event.CERTIFY})

# A poll's terms (question, window, options) may change only before it opens, judged on the
# effective status: once ballots can exist, the terms they were cast under stay fixed.
TERMS_EDITABLE: frozenset[Status] = frozenset({Status.DRAFT, Status.SCHEDULED})


def _index(transitions: Iterable[Transition]) -> dict[tuple[Status, Event], Transition]:
    index: dict[tuple[Status, Event], Transition] = {}
    for transition in transitions:
        key = (transition.source, transition.event)
        if key in index:
            # A duplicate would make the outcome depend on table order.
            raise ValueError(f"duplicate transition {transition.source} --{transition.event}->")
        index[key] = transition
    return index


_BY_KEY = _index(TRANSITIONS)


def transition_for(status: Status | str, event: Event | str) -> Transition | None:
    return _BY_KEY.get((Status(status), Event(event)))


def phase_of(*, opens_at: datetime.datetime, closes_at: datetime.datetime, now: datetime.datetime) -> Phase:
    """The phase `now` lies in, read from BOUNDS (the first that holds, for a window the database
    would refuse)."""
    times = {Moment.OPENS_AT: opens_at, Moment.CLOSES_AT: closes_at}
    for phase, (start, end) in BOUNDS.items():
        if (start is None or times[start] <= now) and (end is None or now < times[end]):
            return phase
    raise ValueError(f"no phase holds at {now} for the window {opens_at} .. {closes_at}")


def _clock_move(status: Status, phase: Phase) -> Transition | None:
    for moment in reversed(moments_reached(phase)):
        transition = _BY_KEY.get((status, CLOCK_EVENTS[moment]))
        if transition is not None:
            return transition
    return None


# Read on every ballot and page, so worked out once.
_CLOCK_MOVES = {(status, phase): _clock_move(status, phase) for status in Status for phase in Phase}


def clock_move(status: Status | str, phase: Phase) -> Transition | None:
    """The clock's move from `status` by `phase`: the move of the latest moment reached that has
    one. One move, so the sweep records one event (a scheduled poll found past its closing time
    is closed, not opened and closed)."""
    return _CLOCK_MOVES[Status(status), phase]


def effective_status(status: Status | str, phase: Phase) -> Status:
    """The status a reader sees in `phase`, even if the sweep has not run yet."""
    move = clock_move(status, phase)
    return Status(status) if move is None else move.target


class Refusal(StrEnum):
    STATUS = "status"  # the event does not apply to the poll's status
    WINDOW = "window"  # it does, but not at this point of the window


class Refused(Exception):
    def __init__(self, *, event: Event, status: Status, refusal: Refusal) -> None:
        # `status` is the one the event was judged on: the effective one for JUDGED_AFTER_CLOCK.
        self.event, self.status, self.refusal = event, status, refusal
        super().__init__(f"{event} refused: the poll is {status} ({refusal})")


def move(status: Status | str, event: Event | str, phase: Phase) -> Transition:
    """The transition `event` makes from a poll stored as `status`, now in `phase`; Refused if
    none. For events judged after the clock, the transition starts from the effective status,
    and the caller records `clock_move(status, phase)` first."""
    event = Event(event)
    judged = effective_status(status, phase) if event in JUDGED_AFTER_CLOCK else Status(status)
    transition = _BY_KEY.get((judged, event))
    if transition is None:
        raise Refused(event=event, status=judged, refusal=Refusal.STATUS)
    if phase not in transition.phases:
        raise Refused(event=event, status=judged, refusal=Refusal.WINDOW)
    return transition


def terms_editable(status: Status | str, phase: Phase) -> bool:
    return effective_status(status, phase) in TERMS_EDITABLE


@dataclass(frozen=True)
class WindowCondition:
    """`status = <status> AND <since> <= now AND now < <until>`; a missing bound is no condition.
    The form a database filter takes of a rule over (stored status, phase)."""

    status: Status
    since: Moment | None
    until: Moment | None


def window_conditions(holds: Callable[[Status, Phase], bool]) -> tuple[WindowCondition, ...]:
    """Where `holds` is true, as conditions on the stored status and the window: one per stored
    status and run of consecutive phases, so the run's bounds are its first phase's start and its
    last phase's end."""
    conditions: list[WindowCondition] = []
    for status in Status:
        run: list[Phase] = []
        for phase in (*Phase, None):
            if phase is not None and holds(status, phase):
                run.append(phase)
            elif run:
                conditions.append(WindowCondition(status, BOUNDS[run[0]][0], BOUNDS[run[-1]][1]))
                run = []
    return tuple(conditions)


def effective_status_conditions(status: Status | str) -> tuple[WindowCondition, ...]:
    """Where a reader sees `status` now: the database's twin of `effective_status`."""
    wanted = Status(status)
    return window_conditions(lambda stored, phase: effective_status(stored, phase) == wanted)


def clock_due_conditions(event: Event | str) -> tuple[WindowCondition, ...]:
    """Polls on which the clock has made a move by `event` that the sweep has not yet recorded."""
    wanted = Event(event)

    def due(stored: Status, phase: Phase) -> bool:
        transition = clock_move(stored, phase)
        return transition is not None and transition.event == wanted

    return window_conditions(due)
