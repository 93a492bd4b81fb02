"""The ballot confirmation e-mail: the receipt codes of what was just cast, and where anyone
can check them. Never the choice: a receipt proves a ballot was recorded, not what it said.

Sent for ballots cast on the site's pages and for shareholder items (page or API); an API
ballot on a public poll is not e-mailed, its answer carries the receipt."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.mail import EmailMultiAlternatives
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import translation

from polls import receipts
from polls.selectors import language_for_email

logger = logging.getLogger("quorum.polls")


def ballot_receipts_mail(*, user: AbstractBaseUser | AnonymousUser, link_hashes: Sequence[str]) -> None:
    """Queue the confirmation once the ballots have committed (nothing is sent for a ballot
    that rolled back). No address, nothing to send."""
    from polls.tasks import send_ballot_receipts

    codes = [receipts.receipt_code(link) for link in link_hashes if link]
    email: object = None if isinstance(user, AnonymousUser) else getattr(user, "email", None)
    if codes and user.is_authenticated and email:
        send_ballot_receipts.delay_on_commit(user.pk, codes)


def _plain(template_name: str, context: dict[str, object]) -> str:
    template = get_template(template_name).template  # type: ignore[attr-defined]
    return str(template.render(Context(context, autoescape=False)))


def ballot_receipts_send(*, user_id: int, codes: Sequence[str]) -> bool:
    """Render in the recipient's language and send; True when a message went out."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    email = getattr(user, "email", "") if user is not None else ""
    if not email:
        return False
    found = [receipt for receipt in (receipts.receipt_find(code) for code in codes) if receipt is not None]
    if not found:
        return False
    with translation.override(language_for_email(email)):
        context = {"receipts": found, "site_url": settings.SITE_URL}
        message = EmailMultiAlternatives(
            # One plain line: a title with a line break cannot add a header.
            subject=" ".join(_plain("polls/email/receipt_subject.txt", context).split()),
            body=_plain("polls/email/receipt.txt", context),
            to=[email],
        )
        message.attach_alternative(render_to_string("polls/email/receipt.html", context), "text/html")
    message.send()
    return True
