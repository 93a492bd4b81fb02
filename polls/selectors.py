"""Reads for polls. Results live in polls.results (re-exported here for the callers)."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format

from polls.models import (
    Ballot,
    Holder,
    Meeting,
    Option,
    Poll,
    PollKind,
    PollStatus,
    Profile,
    ProxyAppointment,
    RecordedPoll,
)
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
from polls.validators import stored_percent


def polls_visible_to(user: User | AnonymousUser) -> QuerySet[Poll]:
    polls = Poll.objects.all()
    if not can_manage_polls(user):
        polls = polls.exclude(status=PollStatus.DRAFT)
    return polls


def effective_status_q(status: str, now: datetime.datetime) -> Q:
    """The database condition for "a reader sees this status now": the twin of
    `Poll.effective_status`, for filtering without waiting for the sweep."""
    running = Q(status__in=[PollStatus.OPEN, PollStatus.SCHEDULED])
    if status == PollStatus.OPEN:
        return running & Q(opens_at__lte=now, closes_at__gt=now)
    if status == PollStatus.SCHEDULED:
        return Q(status=PollStatus.SCHEDULED, opens_at__gt=now)
    if status == PollStatus.CLOSED:
        return Q(status=PollStatus.CLOSED) | (running & Q(closes_at__lte=now))
    return Q(status=status)


@dataclass(frozen=True)
class PollListing:
    open: list[Poll]
    upcoming: list[Poll]
    closed: list[Poll]


def poll_listing(*, user: User | AnonymousUser, now: datetime.datetime | None = None) -> PollListing:
    """Polls grouped by what a reader sees now, whatever the sweep has or has not done."""
    now = now or timezone.now()
    # Shareholder items are listed on their meeting's page, not among the public polls.
    visible = polls_visible_to(user).filter(kind=PollKind.PUBLIC)
    finished = effective_status_q(PollStatus.CLOSED, now) | Q(status=PollStatus.CERTIFIED)
    return PollListing(
        open=list(visible.filter(effective_status_q(PollStatus.OPEN, now)).order_by("closes_at")),
        upcoming=list(visible.filter(effective_status_q(PollStatus.SCHEDULED, now)).order_by("opens_at")),
        closed=list(visible.filter(finished).order_by("-closes_at")[:50]),
    )


def holders_represented(*, user: User | AnonymousUser, meeting: Meeting) -> list[Holder]:
    """The holders `user` may vote for at `meeting`: their own holdings, then those whose
    proxy they hold."""
    if not user.is_authenticated:
        return []
    own = list(Holder.objects.filter(register_id=meeting.register_id, user_id=user.pk).order_by("account"))
    proxied = list(
        Holder.objects.filter(
            proxies__meeting=meeting, proxies__proxy_id=user.pk, proxies__revoked_at__isnull=True
        ).order_by("account")
    )
    return own + [holder for holder in proxied if holder not in own]


def ballot_of(*, poll: Poll, user: User | AnonymousUser, holder_id: int | None = None) -> Ballot | None:
    """The caller's ballot; on a shareholder item, the ballot of the holder they represent
    (the one named by `holder_id`, or the only one)."""
    if not user.is_authenticated:
        return None
    ballots = Ballot.objects.filter(poll_id=poll.pk).select_related("option")
    if poll.meeting is None:
        return ballots.filter(voter_id=user.pk, holder__isnull=True).first()
    holders = [h.pk for h in holders_represented(user=user, meeting=poll.meeting)]
    if holder_id is not None:
        holders = [pk for pk in holders if pk == holder_id]
    if len(holders) != 1:
        return None
    return ballots.filter(holder_id=holders[0]).first()


def meetings_recent(limit: int = 20) -> list[Meeting]:
    return list(Meeting.objects.select_related("register").order_by("-date", "-id")[:limit])


def meeting_items(meeting: Meeting) -> list[Poll]:
    return list(meeting.items.exclude(status=PollStatus.DRAFT).order_by("id"))


def meeting_8k_rows(meeting: Meeting) -> list[dict[str, str]]:
    """Certified items in the shape of a Form 8-K Item 5.07 table: the figures certification
    froze, never recomputed."""
    rows = []
    for item in meeting.items.filter(status=PollStatus.CERTIFIED).order_by("id"):
        record = item.certified_result or {}
        totals = record.get("totals", {})
        outcome = record.get("outcome", {})
        rows.append(
            {
                # The title as certified (older records did not keep it).
                "Proposal": record.get("certification", {}).get("title", item.title),
                "For": totals.get("for", ""),
                "Against": totals.get("against", ""),
                "Abstain": totals.get("abstain", ""),
                "Broker Non-Votes": totals.get("broker_non_votes", ""),
                "Standard": outcome.get("standard", ""),
                "Result": outcome.get("reason", ""),
                "Advisory": "yes" if outcome.get("advisory") else "no",
            }
        )
    return rows


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
class MeetingPending:
    meeting: Meeting
    holders: list[Holder]
    unvoted: int  # (item, holder) pairs still without a ballot


@dataclass(frozen=True)
class PendingBallots:
    polls: list[Poll]
    meetings: list[MeetingPending]

    def __bool__(self) -> bool:
        return bool(self.polls or self.meetings)


def pending_ballots(*, user: User | AnonymousUser, now: datetime.datetime | None = None) -> PendingBallots:
    """What waits for this reader's vote: open public polls they have not voted in, and
    meetings with open items still unvoted for a holder they represent."""
    if not user.is_authenticated:
        return PendingBallots(polls=[], meetings=[])
    now = now or timezone.now()
    open_now = effective_status_q(PollStatus.OPEN, now)
    polls = list(
        Poll.objects.filter(open_now, kind=PollKind.PUBLIC)
        .exclude(pk__in=Ballot.objects.filter(voter_id=user.pk, holder__isnull=True).values("poll_id"))
        .order_by("closes_at")
    )
    # A fixed number of queries however many meetings are open: the reader's holdings and
    # proxies for all of them at once, then the ballots already cast, grouped.
    open_items = Poll.objects.filter(open_now, meeting__isnull=False)
    open_meetings = list(Meeting.objects.filter(pk__in=open_items.values("meeting_id")).order_by("date", "id"))
    if not open_meetings:
        return PendingBallots(polls=polls, meetings=[])
    own = list(
        Holder.objects.filter(user_id=user.pk, register_id__in={m.register_id for m in open_meetings}).order_by(
            "account"
        )
    )
    proxied = list(
        ProxyAppointment.objects.filter(proxy_id=user.pk, revoked_at__isnull=True, meeting__in=open_meetings)
        .select_related("holder")
        .order_by("holder__account")
    )
    items_per_meeting = Counter(open_items.values_list("meeting_id", flat=True))
    voted = {
        (row["poll__meeting_id"], row["holder_id"]): row["n"]
        for row in Ballot.objects.filter(poll__in=open_items, holder__in=[*own, *(p.holder for p in proxied)])
        .values("poll__meeting_id", "holder_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    meetings: list[MeetingPending] = []
    for meeting in open_meetings:
        holders = [h for h in own if h.register_id == meeting.register_id]
        holders += [p.holder for p in proxied if p.meeting_id == meeting.pk and p.holder not in holders]
        unvoted = sum(items_per_meeting[meeting.pk] - voted.get((meeting.pk, h.pk), 0) for h in holders)
        if unvoted > 0:
            meetings.append(MeetingPending(meeting=meeting, holders=holders, unvoted=unvoted))
    return PendingBallots(polls=polls, meetings=meetings)


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
