"""The ballot confirmation e-mail: the receipt codes of what was just cast, and where anyone
can check them. Never the choice: a receipt proves a ballot was recorded, not what it said.

Sent for ballots cast on the site's pages and for shareholder items (page or API); an API
ballot on a public poll is not e-mailed, its answer carries the receipt. It goes through core's
outbox (core/notifications.py) like every e-mail to a person, so the secretary sees it there,
sent, pending or failed, and the sweep retries it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from core.models import Notification
from core.notifications import notification_kind_register, notification_queue
from polls import receipts

KIND = "ballot_receipt"


def ballot_receipts_mail(*, user: AbstractBaseUser | AnonymousUser, link_hashes: Sequence[str]) -> None:
    """Queue the confirmation in the ballots' own transaction: it is sent once they commit,
    and never for ballots that rolled back. No address, nothing to send."""
    codes = [receipts.receipt_code(link) for link in link_hashes if link]
    email: object = None if isinstance(user, AnonymousUser) else getattr(user, "email", None)
    if codes and user.is_authenticated and isinstance(email, str) and email:
        ballot_receipts_queue(user_id=int(user.pk), email=email, codes=codes)


def ballot_receipts_fields(*, user_id: int, email: str, codes: Sequence[str]) -> dict[str, Any]:
    """The outbox row of a confirmation: one per set of receipts (a new ballot has a new code,
    so a new key)."""
    digest = hashlib.sha256(",".join(codes).encode()).hexdigest()[:32]
    return {
        "key": f"{KIND}:{user_id}:{digest}",
        "kind": KIND,
        "recipient": email,
        "context": {"codes": list(codes), "user_id": user_id},
    }


def ballot_receipts_queue(*, user_id: int, email: str, codes: Sequence[str]) -> Notification | None:
    return notification_queue(**ballot_receipts_fields(user_id=user_id, email=email, codes=codes))


@dataclass
class WithBallot:
    """A confirmation asked to go with the ballot itself: whoever queues it sets `queued`."""

    user: AbstractBaseUser
    queued: bool = False


_with_ballot: ContextVar[WithBallot | None] = ContextVar("receipt_with_ballot", default=None)


@contextmanager
def confirmation_with_ballot(user: AbstractBaseUser) -> Iterator[WithBallot]:
    """Around one cast by `user` outside any transaction of the caller's (the API's thin vote
    view): a ballot service that writes the ballot and queues this confirmation in one
    transaction of its own (meetings.ballot_services.item_lines_cast) takes it
    (confirmation_asked) and sets `queued`; otherwise the caller queues it after the cast."""
    asked = WithBallot(user)
    token = _with_ballot.set(asked)
    try:
        yield asked
    finally:
        _with_ballot.reset(token)


def confirmation_asked() -> WithBallot | None:
    """The confirmation the caller asked to go with this cast's ballot, once: a cast inside
    this one (none today) does not take it too."""
    asked = _with_ballot.get()
    _with_ballot.set(None)
    return asked


def _receipts_context(notification: Notification) -> Mapping[str, Any]:
    codes = notification.context.get("codes", [])
    found = [receipt for receipt in (receipts.receipt_find(str(code)) for code in codes) if receipt is not None]
    return {"receipts": found}


def ballot_receipts_kind_register() -> None:
    """From PollsConfig.ready: how the confirmation is written."""
    notification_kind_register(
        KIND,
        subject="polls/email/receipt_subject.txt",
        text="polls/email/receipt.txt",
        html="polls/email/receipt.html",
        context=_receipts_context,
    )


def ballot_receipts_send(*, user_id: int, codes: Sequence[str]) -> bool:
    """A confirmation queued as a task before the outbox existed (polls.tasks.send_ballot_receipts
    still in the broker at the upgrade): it joins the outbox. True when it was queued."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    email = getattr(user, "email", "") if user is not None else ""
    if not email or not codes:
        return False
    return ballot_receipts_queue(user_id=user_id, email=email, codes=codes) is not None
