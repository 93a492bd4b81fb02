"""What a meeting tells its holders, through core's outbox (core/notifications.py): the meeting
notice when its voting opens, and one reminder 24 hours before an item closes to those who have
not voted on it. Each goes to the account that claimed a holding (Holder.user), in the language
that account chose, and links to the meeting's page on the configured site (SITE_URL).

Both are idempotent by their notification's key: the notice by meeting and account, the reminder
by meeting, closing time and account, so the signal, the task, the beat sweep and a restarted
worker may all ask again and each holder is told once."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.models import Notification
from core.notifications import notification_kind_register, notification_queue, subject_id
from meetings.models import Holder, Meeting
from polls.models import Ballot, Poll, PollStatus
from polls.selectors import effective_status_q

NOTICE = "meeting_notice"
REMINDER = "meeting_reminder"
REMINDER_WINDOW = datetime.timedelta(hours=24)


def _claimed(meeting: Meeting) -> QuerySet[Holder]:
    """The meeting's holders whose account can be written to."""
    return Holder.objects.filter(register_id=meeting.register_id, user__isnull=False, user__is_active=True).exclude(
        user__email=""
    )


def _queue_missing(prefix: str, wanted: Mapping[int, tuple[str, dict[str, Any]]], kind: str, meeting: Meeting) -> int:
    """Queue a notification for each account in `wanted` (user id -> address, context) whose
    key (`prefix` + user id) is not in the outbox yet: one query for those already there,
    instead of one per account on every run."""
    done = set(Notification.objects.filter(key__startswith=prefix).values_list("key", flat=True))
    queued = 0
    for user_id, (email, extra) in sorted(wanted.items()):
        key = f"{prefix}{user_id}"
        if key in done:
            continue
        context = {**extra, "user_id": user_id}
        subject = f"meeting:{meeting.pk}"
        notification = notification_queue(key=key, kind=kind, recipient=email, context=context, subject=subject)
        queued += notification is not None
    return queued


def meeting_notices_queue(*, meeting_id: int) -> int:
    """The meeting notice to every account holding shares on the meeting's register, once per
    account and meeting. Returns how many were queued now."""
    meeting = Meeting.objects.filter(pk=meeting_id).first()
    if meeting is None:
        return 0
    accounts = _claimed(meeting).values_list("user_id", "user__email").distinct()
    wanted: dict[int, tuple[str, dict[str, Any]]] = {int(user_id): (str(email), {}) for user_id, email in accounts}
    return _queue_missing(f"{NOTICE}:{meeting.pk}:", wanted, NOTICE, meeting)


def _items_closing(now: datetime.datetime) -> dict[tuple[int, datetime.datetime], list[int]]:
    """The open items closing within the window, grouped by meeting and closing time: one
    reminder lists every item of a meeting that closes at that time."""
    closing = (
        Poll.objects.filter(effective_status_q(PollStatus.OPEN, now), meeting__isnull=False)
        .filter(closes_at__gt=now, closes_at__lte=now + REMINDER_WINDOW)
        .order_by("meeting_id", "closes_at", "pk")
        .values_list("meeting_id", "closes_at", "pk")
    )
    groups: dict[tuple[int, datetime.datetime], list[int]] = defaultdict(list)
    for meeting_id, closes_at, item_id in closing:
        groups[(meeting_id, closes_at)].append(item_id)
    return groups


def _non_voters(meeting: Meeting, item_ids: Iterable[int]) -> dict[int, tuple[str, dict[str, Any]]]:
    """Each account with a holding that has no ballot (its own or a proxy's) on an item, and
    those items."""
    waiting: dict[int, tuple[str, dict[str, Any]]] = {}
    for item_id in item_ids:
        voted = Ballot.objects.filter(poll_id=item_id, holder_id=OuterRef("pk"))
        for user_id, email in _claimed(meeting).filter(~Exists(voted)).values_list("user_id", "user__email"):
            entry = waiting.setdefault(int(user_id), (str(email), {"items": []}))
            if item_id not in entry[1]["items"]:
                entry[1]["items"].append(item_id)
    return waiting


def meeting_reminders_queue(*, now: datetime.datetime | None = None) -> int:
    """One reminder to each account that has not voted on an item closing within 24 hours. The
    key carries the closing time: a moved closing time reminds again, a second run does not."""
    now = now or timezone.now()
    queued = 0
    for (meeting_id, closes_at), item_ids in _items_closing(now).items():
        meeting = Meeting.objects.filter(pk=meeting_id).first()
        if meeting is None:
            continue
        prefix = f"{REMINDER}:{meeting.pk}:{closes_at:%Y%m%d%H%M%S}:"
        queued += _queue_missing(prefix, _non_voters(meeting, item_ids), REMINDER, meeting)
    return queued


def meetings_open_now(*, now: datetime.datetime | None = None) -> list[int]:
    """Meetings with an item open for ballots now, whether or not the sweep has recorded it."""
    open_items = Poll.objects.filter(effective_status_q(PollStatus.OPEN, now or timezone.now()), meeting__isnull=False)
    return sorted(set(open_items.values_list("meeting_id", flat=True)))


def on_poll_opened(sender: Any, poll_id: int, **kwargs: Any) -> None:
    """An item opened (polls.signals.poll_opened, inside its transaction): its meeting's notices
    are queued by a task once that commits. The first item's opening sends them; a later one
    finds them sent and only tells an account that claimed its holding since."""
    meeting_id = Poll.objects.filter(pk=poll_id).values_list("meeting_id", flat=True).first()
    if meeting_id is not None:
        from meetings.tasks import meeting_notices_send

        meeting_notices_send.delay_on_commit(meeting_id)


def _meeting_context(notification: Notification) -> Mapping[str, Any]:
    """What the notice and the reminder read, as the meeting is now: the reminder its unvoted
    items, the notice the items open or still to open."""
    meeting_id = subject_id(notification, "meeting")
    if meeting_id is None:
        raise Meeting.DoesNotExist(f"not about a meeting: {notification.subject!r}")
    meeting = Meeting.objects.get(pk=meeting_id)
    item_ids = notification.context.get("items")
    if isinstance(item_ids, list):
        items = Poll.objects.filter(pk__in=item_ids, meeting=meeting)
    else:
        now = timezone.now()
        coming = effective_status_q(PollStatus.OPEN, now) | effective_status_q(PollStatus.SCHEDULED, now)
        items = Poll.objects.filter(Q(meeting=meeting) & coming)
    return {"meeting": meeting, "items": list(items.order_by("closes_at", "opens_at", "pk"))}


def notice_kinds_register() -> None:
    """From MeetingsConfig.ready: how the notice and the reminder are written."""
    for kind, name in ((NOTICE, "notice"), (REMINDER, "reminder")):
        notification_kind_register(
            kind,
            subject=f"meetings/email/{name}_subject.txt",
            text=f"meetings/email/{name}.txt",
            html=f"meetings/email/{name}.html",
            context=_meeting_context,
        )
