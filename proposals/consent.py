"""Unanimous written consent (DGCL s.141(f)): the board acts without a meeting when every
director in office signs the same resolution. Reads and writes for it live here.

The signers are the directors in office when the secretary circulates it. A director recused
from the proposal cannot sign, so the consent could never be unanimous: it is refused up front
(409). Each director signs or refuses by re-entering their password (and a code from their
authenticator where they have one); a wrong one counts towards the account's lockout like a
failed sign-in. The last signature passes the resolution and decides the proposal through the
same transition the board rule uses; a refusal, the deadline, the proposal leaving review, or a
signer leaving office or becoming recused fails it. Every step is on the consent's trail and a
summary on the proposal's."""

from __future__ import annotations

import datetime
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate, user_logged_in, user_login_failed
from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import devices_for_user, match_token

from core.audit import audit_append
from core.lockout import lockout_message
from core.roles import is_secretary
from core.validators import bidi_override_fields, bidi_overrides_message
from proposals import visibility
from proposals.exceptions import IllegalAction, InvalidProposal, NotAllowed, ProposalError
from proposals.models import (
    ConsentOutcome,
    ConsentResponse,
    ConsentSignature,
    ConsentStatus,
    Director,
    Proposal,
    Recusal,
    WrittenConsent,
)
from proposals.notifications import notification_enqueue
from proposals.review import REFERRED
from proposals.services import proposal_transition
from proposals.workflow import Action, State

CONSENT_DAYS = 7
AnyUser = User | AnonymousUser


class NotReauthenticated(ProposalError):
    """The password or code did not match; says nothing of which."""

    status_code = 403


class LockedOut(ProposalError):
    status_code = 429


def _stream(consent: WrittenConsent) -> str:
    return f"consent:{consent.pk}"


# --- Reads -----------------------------------------------------------------------------------


def directors_in_office() -> list[Director]:
    return list(Director.objects.filter(in_office=True).select_related("user").order_by("user__username"))


def recused_directors(proposal: Proposal) -> list[tuple[Director, str]]:
    """The directors in office who stand aside from `proposal`, with their interest: any one of
    them makes a unanimous written consent impossible."""
    recused = []
    for director in directors_in_office():
        interest = director.recused_from(proposal)
        if interest is not None:
            recused.append((director, interest))
    return recused


def can_see_consent(user: AnyUser | None, consent: WrittenConsent) -> bool:
    """A resolution is board material: the directors in office and the secretary read it, but
    not a director recused from its proposal (who signs is the board's deliberation, which a
    recused director does not see; one recused after it was circulated made it fail)."""
    if user is None or not user.is_authenticated:
        return False
    if is_secretary(user):
        return True
    director = visibility.director_of(user)
    return director is not None and director.recused_from(consent.proposal) is None


def consents_visible_to(user: AnyUser | None) -> QuerySet[WrittenConsent]:
    consents = WrittenConsent.objects.select_related("proposal", "created_by")
    if user is None or not user.is_authenticated:
        return consents.none()
    if is_secretary(user):
        return consents
    director = visibility.director_of(user)
    if director is None:
        return consents.none()
    # A consent decides a proposal in review, whose recusals are recorded when the review starts
    # and whenever an interest is declared during it (proposals.board.recusals_record).
    recused = Recusal.objects.filter(director=director, lifted_at__isnull=True).values("proposal_id")
    return consents.exclude(proposal_id__in=recused)


def signature_of(user: AnyUser | None, consent: WrittenConsent) -> ConsentSignature | None:
    director = visibility.director_of(user)
    if director is None:
        return None
    return consent.signatures.filter(director=director).first()


def needs_code(user: User) -> bool:
    return any(True for _device in devices_for_user(user, confirmed=True))


# --- Writes ----------------------------------------------------------------------------------


def _clean_terms(text: str, outcome: str, deadline: datetime.datetime | None) -> tuple[str, datetime.datetime]:
    """The resolution's text and deadline as stored, or the refusal of the first that is wrong."""
    text = text.strip()
    if not text:
        raise InvalidProposal(_("Write the resolution the directors are asked to sign."))
    if bidi_override_fields(text=text):
        raise InvalidProposal(bidi_overrides_message(["text"]))
    if outcome not in ConsentOutcome.values:
        raise InvalidProposal(_("Choose what the resolution decides: approve, reject or refer."))
    now = timezone.now()
    deadline = deadline or now + datetime.timedelta(days=CONSENT_DAYS)
    if deadline <= now:
        raise InvalidProposal(_("Set a deadline in the future."))
    return text, deadline


def _signers(proposal: Proposal) -> list[Director]:
    """Every director in office, when a unanimous consent on `proposal` is possible at all."""
    if proposal.status != State.IN_REVIEW:
        raise IllegalAction(_("Only a proposal in board review can be decided by written consent."), [])
    directors = directors_in_office()
    if not directors:
        raise IllegalAction(_("No director is in office."), [])
    recused = recused_directors(proposal)
    if recused:
        names = ", ".join(director.user.get_username() for director, _interest in recused)
        raise IllegalAction(
            _(
                "A written consent must be unanimous and %(names)s is recused from this proposal, so it "
                "cannot be: decide it by the board's vote instead."
            )
            % {"names": names},
            [],
        )
    return directors


@transaction.atomic
def consent_create(
    *,
    proposal_id: int,
    text: str,
    outcome: str,
    actor: User,
    deadline: datetime.datetime | None = None,
) -> WrittenConsent:
    if not is_secretary(actor):
        raise NotAllowed(_("Only the company secretary circulates a written consent."))
    proposal = Proposal.objects.select_for_update().filter(pk=proposal_id).first()
    if proposal is None:
        raise InvalidProposal(_("No such proposal."))
    text, deadline = _clean_terms(text, outcome, deadline)
    directors = _signers(proposal)
    try:
        with transaction.atomic():
            consent = WrittenConsent.objects.create(
                proposal=proposal, text=text, outcome=outcome, deadline=deadline, created_by=actor
            )
    except IntegrityError:
        raise IllegalAction(_("A written consent on this proposal is already open for signature."), []) from None
    ConsentSignature.objects.bulk_create([ConsentSignature(consent=consent, director=d) for d in directors])
    signers = [director.user.get_username() for director in directors]
    audit_append(
        stream=_stream(consent),
        action="consent_circulated",
        actor=actor,
        payload={
            "proposal": proposal.pk,
            "text": text,
            "outcome": outcome,
            "deadline": deadline.isoformat(),
            "signers": signers,
        },
    )
    audit_append(
        stream=f"proposal:{proposal.pk}",
        action="consent_circulated",
        actor=actor,
        payload={"consent": consent.pk, "outcome": outcome, "deadline": deadline.isoformat()},
    )
    notification_enqueue(
        kind="consent_requested",
        proposal=proposal,
        recipients=[director.user.email for director in directors if director.user.email],
        round_=str(consent.pk),
    )
    return consent


def _close(consent: WrittenConsent, status: str, reason: str, actor: User | None) -> None:
    consent.status = status
    consent.failure = reason[:300]
    consent.closed_at = timezone.now()
    consent.save(update_fields=["status", "failure", "closed_at"])
    action = "consent_passed" if status == ConsentStatus.PASSED else "consent_failed"
    payload: dict[str, Any] = {"consent": consent.pk, "reason": reason}
    audit_append(stream=_stream(consent), action=action, actor=actor, payload=payload)
    audit_append(stream=f"proposal:{consent.proposal_id}", action=action, actor=actor, payload=payload)


def _why_it_fails(consent: WrittenConsent, now: datetime.datetime) -> str | None:
    if consent.proposal.status != State.IN_REVIEW:
        return "The proposal left board review before every director signed."
    if now >= consent.deadline:
        return "The deadline passed before every director signed."
    for signature in consent.signatures.select_related("director__user"):
        director = signature.director
        if not director.in_office or not director.user.is_active:
            return f"{director.user.get_username()} is no longer in office."
        if signature.response != ConsentResponse.SIGNED and director.recused_from(consent.proposal) is not None:
            return f"{director.user.get_username()} is recused from the proposal."
    return None


@transaction.atomic
def consent_settle(*, consent_id: int, now: datetime.datetime | None = None) -> WrittenConsent | None:
    """Fail an open consent that can no longer pass (the sweep, and every read and signature
    first). Safe to run twice: a closed consent is left alone."""
    consent = WrittenConsent.objects.select_for_update().select_related("proposal").filter(pk=consent_id).first()
    if consent is None or consent.status != ConsentStatus.OPEN:
        return consent
    reason = _why_it_fails(consent, now or timezone.now())
    if reason is not None:
        _close(consent, ConsentStatus.FAILED, reason, actor=None)
    return consent


def consents_settle(*, now: datetime.datetime | None = None) -> int:
    """The sweep's part: every open consent checked, each on its own."""
    failed = 0
    for pk in WrittenConsent.objects.filter(status=ConsentStatus.OPEN).values_list("pk", flat=True):
        consent = consent_settle(consent_id=pk, now=now)
        failed += int(consent is not None and consent.status == ConsentStatus.FAILED)
    return failed


def _reauthenticate(*, request: HttpRequest, user: User, password: str, otp: str) -> None:
    """The password through the sign-in backends (so axes counts a wrong one and refuses a
    locked account), then the one-time code where the director has a device. The refusal is the
    same whichever was wrong."""
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        raise LockedOut(lockout_message())
    refused = NotReauthenticated(_("The password or the code is not right."))
    checked = authenticate(request, username=user.get_username(), password=password)
    if checked is None or checked.pk != user.pk:
        if AxesProxyHandler.is_locked(request, credentials):
            raise LockedOut(lockout_message())
        raise refused
    if needs_code(user) and (not otp or match_token(user, otp.strip()) is None):
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        raise refused
    # A proof of identity that succeeded: axes clears the account's failures, as at sign-in.
    user_logged_in.send(sender=user.__class__, request=request, user=user)


def consent_sign(
    *,
    consent_id: int,
    actor: User,
    password: str,
    request: HttpRequest,
    otp: str = "",
    refuse: bool = False,
) -> WrittenConsent:
    """Sign or refuse, re-authenticated. The checks come first, then the re-authentication
    outside any transaction (a failure it counts must stay counted), then the signature under
    the consent's lock."""
    consent = consent_settle(consent_id=consent_id)
    if consent is None or not can_see_consent(actor, consent):
        raise InvalidProposal(_("No such written consent."))
    _refuse_unless_signable(consent, actor)
    _reauthenticate(request=request, user=actor, password=password, otp=otp)
    return _record(consent_id=consent_id, actor=actor, refuse=refuse)


def _refuse_unless_signable(consent: WrittenConsent, user: User) -> ConsentSignature:
    if consent.status != ConsentStatus.OPEN:
        raise IllegalAction(
            _("This written consent is closed: %(status)s.") % {"status": consent.get_status_display().lower()}, []
        )
    signature = signature_of(user, consent)
    if signature is None:
        raise NotAllowed(_("Only the directors it was sent to sign this written consent."))
    if signature.response:
        raise IllegalAction(_("You have already answered this written consent."), [])
    interest = signature.director.recused_from(consent.proposal)
    if interest is not None:
        raise IllegalAction(
            _("You are recused (an interest in %(interest)s): you cannot sign.") % {"interest": interest}, []
        )
    return signature


@transaction.atomic
def _record(*, consent_id: int, actor: User, refuse: bool) -> WrittenConsent:
    # The proposal first, as every write to its trail does, then the consent.
    proposal_id = WrittenConsent.objects.filter(pk=consent_id).values_list("proposal_id", flat=True).get()
    Proposal.objects.select_for_update().get(pk=proposal_id)
    consent = WrittenConsent.objects.select_for_update().select_related("proposal").get(pk=consent_id)
    signature = _refuse_unless_signable(consent, actor)
    signature.response = ConsentResponse.REFUSED if refuse else ConsentResponse.SIGNED
    signature.responded_at = timezone.now()
    signature.save(update_fields=["response", "responded_at"])
    payload = {"consent": consent.pk, "director": actor.get_username(), "at": signature.responded_at.isoformat()}
    action = "consent_refused" if refuse else "consent_signed"
    audit_append(stream=_stream(consent), action=action, actor=actor, payload=payload)
    audit_append(stream=f"proposal:{consent.proposal_id}", action=action, actor=actor, payload=payload)
    if refuse:
        _close(consent, ConsentStatus.FAILED, f"{actor.get_username()} refused to sign.", actor=None)
    elif not consent.signatures.exclude(response=ConsentResponse.SIGNED).exists():
        _close(consent, ConsentStatus.PASSED, "Every director in office signed.", actor=None)
        proposal_transition(
            proposal_id=consent.proposal_id,
            action=Action.REFER if consent.outcome == REFERRED else Action.DECIDE,
            actor=None,
            outcome=consent.outcome,
            comment=f"Decided by unanimous written consent no. {consent.pk}.",
        )
    return consent
