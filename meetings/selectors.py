"""Reads on the shareholder's side: whom a reader represents, meetings and their items, what
waits for the reader's vote."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count
from django.utils import timezone

from meetings.models import Holder, Meeting, ProxyAppointment
from polls import kinds
from polls.models import Ballot, Poll, PollStatus
from polls.selectors import effective_status_q


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
        Poll.objects.filter(open_now, kind__in=kinds.kinds_where(lambda form: form.listed))
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
