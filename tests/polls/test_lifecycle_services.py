"""The services move a poll as the lifecycle table says (polls/lifecycle.py), for every stored
status, every act and every part of the window; the sweep records the clock's one move; and
every close (the secretary's, the sweep's, certification's of a poll past its closing time)
leaves the same record through the one close path."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from core.models import AuditEvent
from polls import certification, lifecycle, services
from polls.exceptions import IllegalTransition
from polls.lifecycle import Event, Phase, Status
from polls.models import Option, Poll
from polls.signals import poll_closed

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)
ACTS = (Event.SCHEDULE, Event.OPEN, Event.CLOSE, Event.CERTIFY)


def poll_in(status: Status, phase: Phase, now: datetime.datetime) -> Poll:
    """A public poll stored as `status` whose window lies so that `now` is in `phase`, with
    hours to spare: the services that read the clock themselves see the same phase."""
    opens_at = {Phase.BEFORE: now + HOUR, Phase.DURING: now - HOUR, Phase.AFTER: now - 3 * HOUR}[phase]
    poll = Poll.objects.create(
        title=f"A poll {status}, {phase} its window",
        status=status,
        opens_at=opens_at,
        closes_at=opens_at + 2 * HOUR,
        certified_at=now if status == Status.CERTIFIED else None,
        secret=False,
    )
    Option.objects.bulk_create(Option(poll=poll, label=label, position=i) for i, label in enumerate(("Yes", "No")))
    assert poll.phase(now) is phase
    return poll


def act(event: Event, poll: Poll, now: datetime.datetime, secretary: User) -> None:
    if event is Event.SCHEDULE:
        services.poll_schedule(poll=poll, actor=secretary)
    elif event is Event.OPEN:
        services.poll_open(poll=poll, now=now, actor=secretary)
    elif event is Event.CLOSE:
        services.poll_close(poll=poll, now=now, actor=secretary)
    else:
        certification.poll_certify(poll=poll, actor=secretary, now=now)


def trail(poll: Poll) -> list[str]:
    return list(AuditEvent.objects.filter(stream=f"poll:{poll.pk}").order_by("seq").values_list("action", flat=True))


@pytest.mark.parametrize(("status", "event", "phase"), list(itertools.product(Status, ACTS, Phase)))
def test_each_act_moves_the_poll_as_the_table_says(status: Status, event: Event, phase: Phase, secretary: User) -> None:
    now = timezone.now()
    poll = poll_in(status, phase, now)
    try:
        transition = lifecycle.move(status, event, phase)
    except lifecycle.Refused:
        with pytest.raises(IllegalTransition):
            act(event, poll, now, secretary)
        assert Poll.objects.get(pk=poll.pk).status == status
        assert trail(poll) == []
        return
    act(event, poll, now, secretary)
    stored = Poll.objects.get(pk=poll.pk)
    # Scheduling a poll whose opening time has come records that opening too (poll_open_if_due).
    expected = lifecycle.effective_status(transition.target, phase) if event is Event.SCHEDULE else transition.target
    assert stored.status == expected
    # The act leaves the window agreeing with the stored status: a reader sees what was done.
    assert stored.effective_status(now) == stored.status
    if event is Event.CERTIFY and status != Status.CLOSED:
        assert trail(poll) == ["poll_closed", "poll_certified"]  # the clock's close, recorded first


@pytest.mark.parametrize(("status", "phase"), list(itertools.product(Status, Phase)))
def test_the_sweep_records_the_clocks_one_move_and_leaves_the_window(status: Status, phase: Phase) -> None:
    now = timezone.now()
    poll = poll_in(status, phase, now)
    transition = lifecycle.clock_move(status, phase)
    event = None if transition is None else transition.event
    report = services.polls_sweep(now=now)
    stored = Poll.objects.get(pk=poll.pk)
    assert stored.status == lifecycle.effective_status(status, phase)
    assert (stored.opens_at, stored.closes_at) == (poll.opens_at, poll.closes_at)
    assert (
        trail(poll)
        == {
            None: [],
            Event.OPENS_AT_REACHED: ["poll_opened"],
            Event.CLOSES_AT_REACHED: ["poll_closed"],
        }[event]
    )
    assert report == services.SweepReport(
        opened=int(event is Event.OPENS_AT_REACHED), closed=int(event is Event.CLOSES_AT_REACHED)
    )
    assert services.polls_sweep(now=now) == services.SweepReport(opened=0, closed=0)


@pytest.mark.parametrize(("status", "phase"), list(itertools.product(Status, Phase)))
def test_terms_may_be_edited_only_where_the_table_says(status: Status, phase: Phase) -> None:
    poll = poll_in(status, phase, timezone.now())
    if lifecycle.terms_editable(status, phase):
        services.poll_update(poll=poll, title="Reworded")
        assert Poll.objects.get(pk=poll.pk).title == "Reworded"
    else:
        with pytest.raises(IllegalTransition, match="only before it opens"):
            services.poll_update(poll=poll, title="Reworded")


CLOSERS: dict[str, Callable[[Poll, datetime.datetime, User], Any]] = {
    "the secretary": lambda poll, now, secretary: services.poll_close(poll=poll, now=now, actor=secretary),
    "the sweep": lambda poll, now, secretary: services.polls_sweep(now=now),
    "certification": lambda poll, now, secretary: certification.poll_certify(poll=poll, actor=secretary, now=now),
}


@pytest.mark.parametrize("closer", list(CLOSERS))
@pytest.mark.parametrize("status", [Status.OPEN, Status.SCHEDULED])
def test_every_close_of_a_poll_past_its_closing_time_leaves_the_same_record(
    closer: str, status: Status, secretary: User
) -> None:
    now = timezone.now()
    poll = poll_in(status, Phase.AFTER, now)
    closed: list[int] = []

    def receiver(sender: Any, poll_id: int, **kwargs: Any) -> None:
        closed.append(poll_id)

    poll_closed.connect(receiver, dispatch_uid="test-one-close-path")
    try:
        CLOSERS[closer](poll, now, secretary)
    finally:
        poll_closed.disconnect(dispatch_uid="test-one-close-path")
    assert closed == [poll.pk]
    event = AuditEvent.objects.get(stream=f"poll:{poll.pk}", action="poll_closed")
    assert event.payload == {"status": "closed"}
    assert event.actor_id == (secretary.pk if closer == "the secretary" else None)
    # A close recorded after the closing time leaves the window as it was, and is dated when
    # it was recorded; certification dates it at the closing time, before its own event.
    stored = Poll.objects.get(pk=poll.pk)
    assert (stored.opens_at, stored.closes_at) == (poll.opens_at, poll.closes_at)
    assert event.at == (poll.closes_at if closer == "certification" else now)


def test_an_early_close_moves_the_window_to_end_now(secretary: User) -> None:
    now = timezone.now()
    poll = poll_in(Status.SCHEDULED, Phase.BEFORE, now)
    services.poll_close(poll=poll, now=now, actor=secretary)
    stored = Poll.objects.get(pk=poll.pk)
    assert stored.closes_at == now
    assert stored.opens_at == now - datetime.timedelta(microseconds=1)
    assert stored.effective_status(now) == Status.CLOSED
