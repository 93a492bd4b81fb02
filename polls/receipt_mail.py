"""The ballot confirmation e-mail: the receipt codes of what was just cast, and where anyone
can check them. Never the choice: a receipt proves a ballot was recorded, not what it said.

Sent for ballots cast on the site's pages and for shareholder items (page or API); an API
ballot on a public poll is not e-mailed, its answer carries the receipt. It goes through core's
outbox (core/notifications.py) like every e-mail to a person, so the secretary sees it there,
sent, pending or failed, and the sweep retries it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
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


def ballot_receipts_queue(*, user_id: int, email: str, codes: Sequence[str]) -> Notification | None:
    """One confirmation per set of receipts: a new ballot has a new code, so a new key."""
    digest = hashlib.sha256(",".join(codes).encode()).hexdigest()[:32]
    return notification_queue(
        key=f"{KIND}:{user_id}:{digest}",
        kind=KIND,
        recipient=email,
        context={"codes": list(codes), "user_id": user_id},
    )


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
