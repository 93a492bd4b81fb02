"""Naming a proxy by username or e-mail address, without telling anyone which accounts exist.

The holder (or the secretary) gets the same answer, and then sees the same list, whether or
not an account matched: the name is recorded as the holder's proxy either way, and only an
account it matches can vote on it. An e-mail address with no account gets an invitation to
sign up, after which the holder names the new account.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from meetings.models import Holder, Meeting, ProxyAppointment
from meetings.services import proxy_appoint
from polls import refusals, selectors

logger = logging.getLogger("quorum.polls")


@dataclass(frozen=True)
class ProxyNamed:
    """What the caller may be told: the name as they typed it, never whether it matched."""

    holder: Holder
    proxy: str
    appointment: ProxyAppointment

    @property
    def message(self) -> str:
        return str(refusals.PROXY_APPOINTED) % {"who": self.proxy, "holder": self.holder.name}


def _is_email(text: str) -> bool:
    try:
        validate_email(text)
    except ValidationError:
        return False
    return True


def _account_named(text: str) -> User | None:
    """The active account with this username, or the one active account with this e-mail
    address. Several accounts sharing an address match none: guessing could hand a holder's
    shares to the wrong person."""
    accounts = get_user_model().objects.filter(is_active=True)
    by_username = accounts.filter(username=text).first()
    if by_username is not None or not _is_email(text):
        return by_username
    matches = list(accounts.filter(email__iexact=text).order_by("pk")[:2])
    return matches[0] if len(matches) == 1 else None


def _send_invitation(*, email: str, holder_name: str, meeting_title: str, meeting_id: int) -> None:
    with translation.override(selectors.language_for_email(email)):
        subject = _("You are invited to vote as a proxy at %(meeting)s") % {"meeting": meeting_title}
        body = _(
            "%(holder)s would like you to vote their shares as their proxy at %(meeting)s.\n\n"
            "Create an account on Quorum with this e-mail address, then ask them to name you again:\n"
            "%(url)s\n\n"
            "If you did not expect this message, you can ignore it."
        ) % {
            "holder": holder_name,
            "meeting": meeting_title,
            "url": settings.SITE_URL + reverse("meetings:meeting", kwargs={"meeting_id": meeting_id}),
        }
    try:
        send_mail(subject, body, None, [email])
    except Exception:  # the appointment stands; a lost invitation is logged, never a 500
        logger.exception("proxy invitation to %s could not be sent", email)


@transaction.atomic
def proxy_name(
    *,
    meeting: Meeting,
    holder: Holder,
    proxy: str,
    actor: User,
    instructions: Mapping[Any, Any] | None = None,
    discretionary: bool = True,
) -> ProxyNamed:
    """Appoint the account `proxy` names (username or e-mail address), or invite the address,
    with the holder's instructions item by item and, elsewhere, discretion or none."""
    who = proxy.strip()
    account = _account_named(who)
    appointment = proxy_appoint(
        meeting=meeting,
        holder=holder,
        proxy=account,
        actor=actor,
        named_as=who,
        instructions=instructions,
        discretionary=discretionary,
    )
    if account is None and _is_email(who):
        transaction.on_commit(
            lambda: _send_invitation(
                email=who, holder_name=holder.name, meeting_title=meeting.title, meeting_id=meeting.pk
            )
        )
    return ProxyNamed(holder=holder, proxy=who, appointment=appointment)
