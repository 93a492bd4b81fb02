"""Reads for polls. Results live in polls.results (re-exported here for the callers)."""

from __future__ import annotations

import datetime
import functools
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format

from core.models import Profile
from core.validators import stored_percent
from polls import kinds, lifecycle
from polls.models import Ballot, Option, Poll, PollStatus, RecordedPoll
from polls.permissions import can_manage_polls

# Results are read through selectors by the pages, the API and the console.
from polls.results import (  # noqa: F401
    ItemOutcome,
    OptionResult,
    PollResults,
    QuorumResult,
    ShareTotals,
    Turnout,
    WhatIf,
    iso_datetime,
    poll_results,
    results_json,
)
from polls.standards import Comparator as StandardComparator
from polls.standards import Threshold


def polls_visible_to(user: User | AnonymousUser) -> QuerySet[Poll]:
    polls = Poll.objects.all()
    if not can_manage_polls(user):
        polls = polls.exclude(status=PollStatus.DRAFT)
    return polls


def window_q(conditions: Iterable[lifecycle.WindowCondition], now: datetime.datetime) -> Q:
    """Conditions on the stored status and the window (polls.lifecycle) as one filter."""
    parts = []
    for condition in conditions:
        bounds: dict[str, object] = {"status": condition.status.value}
        if condition.since is not None:
            bounds[f"{condition.since.value}__lte"] = now
        if condition.until is not None:
            bounds[f"{condition.until.value}__gt"] = now
        parts.append(Q(**bounds))
    return functools.reduce(operator.or_, parts) if parts else Q(pk__in=[])


def effective_status_q(status: str, now: datetime.datetime) -> Q:
    """The database condition for "a reader sees this status now": made from the same table as
    `Poll.effective_status` (polls.lifecycle), for filtering without waiting for the sweep."""
    return window_q(lifecycle.effective_status_conditions(status), now)


@dataclass(frozen=True)
class PollListing:
    open: list[Poll]
    upcoming: list[Poll]
    closed: list[Poll]


def poll_listing(*, user: User | AnonymousUser, now: datetime.datetime | None = None) -> PollListing:
    """Polls grouped by what a reader sees now, whatever the sweep has or has not done."""
    now = now or timezone.now()
    # Only the forms listed among the public polls (an item is listed on its meeting's page).
    visible = polls_visible_to(user).filter(kind__in=kinds.kinds_where(lambda form: form.listed))
    finished = effective_status_q(PollStatus.CLOSED, now) | Q(status=PollStatus.CERTIFIED)
    return PollListing(
        open=list(visible.filter(effective_status_q(PollStatus.OPEN, now)).order_by("closes_at")),
        upcoming=list(visible.filter(effective_status_q(PollStatus.SCHEDULED, now)).order_by("opens_at")),
        closed=list(visible.filter(finished).order_by("-closes_at")[:50]),
    )


def ballot_of(*, poll: Poll, user: User | AnonymousUser, holder_id: int | None = None) -> Ballot | None:
    """The caller's ballot; on a shareholder item, the ballot of the holder they represent
    (the one named by `holder_id`, or the only one)."""
    if not user.is_authenticated:
        return None
    return kinds.form_of(poll).ballot_of(poll=poll, user=user, holder_id=holder_id)


@dataclass(frozen=True)
class ChartLine:
    label: str
    points: str  # SVG polyline points, "x,y x,y"


@dataclass(frozen=True)
class HistoryChart:
    width: int
    height: int
    lines: list[ChartLine]
    x_labels: list[tuple[int, str]]
    y_ticks: list[tuple[int, int]]


def recorded_history_chart(recorded: RecordedPoll, *, width: int = 640, height: int = 240) -> HistoryChart:
    """Each option's percentage over time, drawn on 0-100 % against the snapshot times.
    Coordinates are whole pixels computed with integers."""
    snapshots = list(recorded.snapshots.order_by("taken_at"))
    pad = 40
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    if not snapshots:
        return HistoryChart(width, height, [], [], [])
    start = snapshots[0].taken_at
    span = max(int((snapshots[-1].taken_at - start).total_seconds()), 1)

    def x_of(moment: datetime.datetime) -> int:
        return pad + int((moment - start).total_seconds()) * inner_w // span

    def y_of(percent: Decimal) -> int:
        return pad + inner_h - int(percent * inner_h / 100)

    lines = []
    for label in recorded.options:
        points = [
            f"{x_of(s.taken_at)},{y_of(percent)}"
            for s in snapshots
            if (percent := stored_percent(s.percentages, label)) is not None
        ]
        lines.append(ChartLine(label=label, points=" ".join(points)))
    # Snapshots close in time would print over each other: keep a label only where there is room.
    x_labels: list[tuple[int, str]] = []
    for snapshot in snapshots:
        x = x_of(snapshot.taken_at)
        if not x_labels or x - x_labels[-1][0] >= 90:
            # The reader's own day-and-month style ("25 Jul", "25 luglio"): drawn per request.
            local = timezone.localtime(snapshot.taken_at)
            x_labels.append((x, f"{date_format(local, 'MONTH_DAY_FORMAT')} {local:%H:%M}"))
    y_ticks = [(y_of(Decimal(value)), value) for value in (0, 25, 50, 75, 100)]
    return HistoryChart(width, height, lines, x_labels, y_ticks)


def escalation_triggered(poll: Poll) -> Option | None:
    """The poll's escalation option, if the closed poll gave it at least its threshold share
    of the votes (exact fractions)."""
    if poll.escalation_option_id is None:
        return None
    options = list(Option.objects.filter(poll_id=poll.pk))
    total = sum(option.votes for option in options)
    chosen = next((option for option in options if option.pk == poll.escalation_option_id), None)
    if chosen is None or total == 0:
        return None
    threshold = Threshold(
        Fraction(poll.escalation_numerator, poll.escalation_denominator),
        StandardComparator(poll.escalation_comparator),
    )
    return chosen if threshold.met_by(Fraction(chosen.votes, total)) else None


@dataclass(frozen=True)
class PollQueue:
    to_open: list[Poll]
    open: list[Poll]
    to_certify: list[Poll]


def secretary_poll_queue(*, now: datetime.datetime | None = None) -> PollQueue:
    """The secretary's poll work: drafts and scheduled polls to open, open polls that may be
    closed early, and closed polls whose result still needs certifying."""
    now = now or timezone.now()
    polls = Poll.objects.select_related("meeting")
    # A draft past its closing time cannot be opened (its window must move first, in the admin).
    to_open = Q(status=PollStatus.DRAFT, closes_at__gt=now) | effective_status_q(PollStatus.SCHEDULED, now)
    return PollQueue(
        to_open=list(polls.filter(to_open).order_by("opens_at", "id")),
        open=list(polls.filter(effective_status_q(PollStatus.OPEN, now)).order_by("closes_at", "id")),
        to_certify=list(polls.filter(effective_status_q(PollStatus.CLOSED, now)).order_by("closes_at", "id")),
    )


def language_for_email(email: str) -> str:
    """The language chosen by the account with this address, else the site's default."""
    chosen = (
        Profile.objects.filter(user__email__iexact=email, user__is_active=True)
        .order_by("user_id")
        .values_list("language", flat=True)
        .first()
    )
    return chosen or settings.LANGUAGE_CODE
