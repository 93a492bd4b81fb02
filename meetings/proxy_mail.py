"""The e-mail a holder gets when a proxy votes for them: who voted, on which item and when,
and that their own ballot still wins until the item closes. Through core's outbox like every
e-mail to a person, queued in the ballot's own transaction (nothing goes out for a ballot that
rolled back), once per ballot version (the key carries the ballot's audit link)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User

from core.models import Notification
from core.notifications import notification_kind_register, notification_queue
from meetings.models import Holder
from polls.models import Ballot

KIND = "proxy_vote"


def _recipient(holder: Holder) -> str:
    """The account that claimed the holding, else the register's address of record."""
    user = holder.user
    if user is not None and user.is_active and user.email:
        return str(user.email)
    return str(holder.email or "")


def proxy_vote_queue(*, ballot: Ballot, holder: Holder, actor: User, link_hash: str) -> Notification | None:
    """Tell the holder a proxy cast (or changed) `ballot` for them. Nothing when the holder
    voted themselves, or has no address."""
    recipient = _recipient(holder)
    if holder.user_id == actor.pk or not recipient:
        return None
    poll = ballot.poll
    context: dict[str, Any] = {
        "holder": holder.name,
        "proxy": actor.get_username(),
        "item": poll.title,
        "meeting_id": poll.meeting_id,
        "cast_at": ballot.updated_at.isoformat(),
    }
    if holder.user_id is not None:
        context["user_id"] = holder.user_id  # the holder's language
    return notification_queue(
        key=f"{KIND}:{ballot.pk}:{link_hash[:16]}",
        kind=KIND,
        recipient=recipient,
        context=context,
        subject=f"meeting:{poll.meeting_id}",
    )


def _context(notification: Notification) -> Mapping[str, Any]:
    cast_at = notification.context.get("cast_at")
    return {"cast_at": datetime.datetime.fromisoformat(cast_at) if isinstance(cast_at, str) else None}


def proxy_vote_kind_register() -> None:
    """How the e-mail is written; from MeetingsConfig.ready (and on import, below)."""
    notification_kind_register(
        KIND,
        subject="meetings/email/proxy_vote_subject.txt",
        text="meetings/email/proxy_vote.txt",
        html="meetings/email/proxy_vote.html",
        context=_context,
    )


# Registered when the services that queue it are imported, so a process that queues it can
# write it; a worker that only sends needs MeetingsConfig.ready to call the function too.
proxy_vote_kind_register()
