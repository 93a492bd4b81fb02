"""Writes for the people the secretary manages from the console: directors (their term, title
and interests), invitations to new accounts, and deactivation. Every change is on the trail,
in the person's own stream (`director:{user id}`, `account:{user id}`), with who made it."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from core.audit import audit_append
from core.models import Profile
from core.roles import is_secretary
from core.services import api_tokens_revoke
from core.validators import control_character_fields, control_characters_message
from polls.exceptions import ChangeNotAllowed
from proposals.board import recusals_record
from proposals.exceptions import InvalidProposal, NotAllowed
from proposals.models import Director, Party, Proposal
from proposals.parties import party_key
from proposals.party_services import parties_for, party_resolve
from proposals.workflow import State


def _require_secretary(actor: User) -> None:
    if not is_secretary(actor):
        raise NotAllowed(_("Only the company secretary may manage people."))


def _refuse_control_characters(**values: str | Iterable[str]) -> None:
    bad = control_character_fields(**values)
    if bad:
        raise InvalidProposal(control_characters_message(bad))


def in_office_on(office_from: datetime.date | None, office_to: datetime.date | None, day: datetime.date) -> bool:
    """A term includes its first day and ends the evening before `office_to`."""
    return (office_from is None or office_from <= day) and (office_to is None or day < office_to)


def _director_payload(director: Director) -> dict[str, object]:
    return {
        "title": director.title,
        "office_from": director.office_from.isoformat() if director.office_from else None,
        "office_to": director.office_to.isoformat() if director.office_to else None,
        "in_office": director.in_office,
        "interests": list(director.interests),
        "parties": sorted(director.parties.values_list("pk", flat=True)),
    }


def _recuse_where_interested() -> None:
    # An interest recorded mid-review recuses at once, with the event on the proposal's trail,
    # exactly as when a director declares it (director_save).
    for proposal in Proposal.objects.select_for_update().filter(status=State.IN_REVIEW):
        recusals_record(proposal=proposal)


@transaction.atomic
def director_save(
    *,
    director_user: User,
    title: str = "",
    interests: Iterable[str] = (),
    in_office: bool = True,
    actor: User | None = None,
) -> Director:
    """A director's title and declared interests, saved for the account `director_user`; the
    declaration is on the director's own trail in the name of whoever recorded it (`actor`, the
    secretary through the API), or the director's own when nobody else did."""
    actor = actor or director_user
    interests = list(interests)
    _refuse_control_characters(title=title, interests=interests)
    cleaned = sorted({interest.strip() for interest in interests if interest.strip()}, key=str.casefold)
    nameless = [interest for interest in cleaned if not party_key(interest)]
    if nameless:
        # "..." or a zero-width space would be stored as an interest that recuses from nothing.
        raise InvalidProposal(_("An interest must name a party: %(text)s.") % {"text": nameless[0][:80]})
    director, _created = Director.objects.update_or_create(
        user=director_user, defaults={"title": title, "interests": cleaned, "in_office": in_office}
    )
    parties = parties_for(cleaned, actor=actor)
    director.parties.set(parties)
    audit_append(
        stream=f"director:{director_user.pk}",
        action="interests_declared",
        actor=actor,
        payload={
            "title": title,
            "interests": cleaned,
            "parties": sorted(party.pk for party in parties),
            "in_office": in_office,
        },
    )
    # An interest declared mid-review recuses at once, with the event on the proposal's trail.
    _recuse_where_interested()
    return director


@transaction.atomic
def director_record(
    *,
    user: User,
    title: str,
    office_from: datetime.date,
    office_to: datetime.date | None = None,
    parties: Iterable[Party] = (),
    new_party: str = "",
    actor: User,
) -> Director:
    """Appoint a director, or change one's title, term or interests. The interests are parties
    picked from the list plus, optionally, one new party named in free text (resolved by alias,
    so "xAI Corp." is xAI)."""
    _require_secretary(actor)
    _refuse_control_characters(title=title, new_party=new_party)
    if not user.is_active:
        raise InvalidProposal(_("This account is deactivated; reactivate it before appointing it."))
    if office_to is not None and office_to < office_from:
        raise InvalidProposal(_("The term cannot end before it starts."))
    chosen = {party.pk: party for party in parties}
    if new_party.strip():
        party = party_resolve(text=new_party, actor=actor)
        if party is None:
            raise InvalidProposal(_("The new party's name names nothing."))
        chosen[party.pk] = party
    interests = sorted((party.name for party in chosen.values()), key=str.casefold)
    director, created = Director.objects.select_for_update().get_or_create(
        user=user, defaults={"title": title, "office_from": office_from}
    )
    director.title = title
    director.office_from = office_from
    director.office_to = office_to
    director.in_office = in_office_on(office_from, office_to, timezone.localdate())
    director.interests = interests
    director.save()
    director.parties.set(list(chosen.values()))
    audit_append(
        stream=f"director:{user.pk}",
        action="director_appointed" if created else "director_updated",
        actor=actor,
        payload=_director_payload(director),
    )
    _recuse_where_interested()
    return director


@transaction.atomic
def director_remove(*, director: Director, actor: User, office_to: datetime.date | None = None) -> Director:
    """End a director's term (today unless a date is given): they leave the board that day. The
    row stays, so past votes, recusals and signatures still name them."""
    _require_secretary(actor)
    director = Director.objects.select_for_update().select_related("user").get(pk=director.pk)
    office_to = office_to or timezone.localdate()
    if director.office_from is not None and office_to < director.office_from:
        raise InvalidProposal(_("The term cannot end before it starts."))
    director.office_to = office_to
    director.in_office = in_office_on(director.office_from, office_to, timezone.localdate())
    director.save(update_fields=["office_to", "in_office"])
    audit_append(
        stream=f"director:{director.user_id}",
        action="director_removed",
        actor=actor,
        payload=_director_payload(director),
    )
    return director


def directors_term_sync(*, today: datetime.date | None = None) -> int:
    """The sweep's part: directors whose recorded term started or ended since are put in or out
    of office, each on their own trail (by the system). Selecting by state makes a second run
    find nothing."""
    today = today or timezone.localdate()
    starts = Q(in_office=False, office_from__lte=today) & (Q(office_to__isnull=True) | Q(office_to__gt=today))
    ends = Q(in_office=True) & (Q(office_to__lte=today) | Q(office_from__gt=today))
    changed = 0
    for pk in Director.objects.filter(starts | ends).values_list("pk", flat=True):
        with transaction.atomic():
            director = Director.objects.select_for_update().get(pk=pk)
            now_in = in_office_on(director.office_from, director.office_to, today)
            if now_in == director.in_office:
                continue
            director.in_office = now_in
            director.save(update_fields=["in_office"])
            audit_append(
                stream=f"director:{director.user_id}",
                action="term_started" if now_in else "term_ended",
                actor=None,
                payload=_director_payload(director),
            )
            changed += 1
    return changed


# --- Accounts --------------------------------------------------------------------------------


def invitation_link(user: User) -> str:
    """Django's password-reset link: one use, dead once a password is set or after
    PASSWORD_RESET_TIMEOUT. It starts with SITE_URL like every link in the site's e-mails."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL.rstrip("/") + reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})


def _send_invitation(user_id: int, language: str, invited_by: str) -> None:
    user = get_user_model().objects.get(pk=user_id)
    context = {"user": user, "link": invitation_link(user), "site_url": settings.SITE_URL, "invited_by": invited_by}
    with translation.override(language):
        subject = " ".join(render_to_string("console/people_invite_subject.txt", context).split())
        body = render_to_string("console/people_invite_email.txt", context)
    send_mail(subject, body, None, [user.email])


@transaction.atomic
def account_invite(*, email: str, first_name: str = "", last_name: str = "", language: str, actor: User) -> User:
    """A new account with no usable password, and an e-mail in the invitee's language with a
    link to set one. An address already in use is refused (the secretary may know it)."""
    _require_secretary(actor)
    email = email.strip()
    _refuse_control_characters(email=email, first_name=first_name, last_name=last_name)
    if language not in dict(settings.LANGUAGES):
        raise InvalidProposal(_("Choose one of the site's languages."))
    users = get_user_model().objects
    if users.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
        raise ChangeNotAllowed(_("An account with this e-mail address already exists."))
    user = users.create_user(username=email[:150], email=email, first_name=first_name[:150], last_name=last_name[:150])
    user.set_unusable_password()
    user.save(update_fields=["password"])
    Profile.objects.update_or_create(user=user, defaults={"language": language})
    audit_append(
        stream=f"account:{user.pk}",
        action="account_invited",
        actor=actor,
        payload={"email": email, "language": language},
    )
    invited_by = actor.get_full_name() or actor.get_username()
    transaction.on_commit(lambda: _send_invitation(user.pk, language, invited_by))
    return user


@transaction.atomic
def account_deactivate(*, user: User, actor: User) -> User:
    """The account can no longer sign in, its sessions stop being accepted and its API tokens
    are revoked at once. Superusers and the secretary's own account are left to a superuser."""
    _require_secretary(actor)
    if user.pk == actor.pk:
        raise ChangeNotAllowed(_("You cannot deactivate your own account."))
    if user.is_superuser:
        raise NotAllowed(_("Administrators' accounts are managed by a superuser in the admin."))
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        raise ChangeNotAllowed(_("This account is already deactivated."))
    user.is_active = False
    user.save(update_fields=["is_active"])
    revoked = api_tokens_revoke(user=user)
    audit_append(stream=f"account:{user.pk}", action="account_deactivated", actor=actor, payload={"tokens": revoked})
    return user


@transaction.atomic
def account_reactivate(*, user: User, actor: User) -> User:
    _require_secretary(actor)
    if user.is_superuser:
        raise NotAllowed(_("Administrators' accounts are managed by a superuser in the admin."))
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        raise ChangeNotAllowed(_("This account is already active."))
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_append(stream=f"account:{user.pk}", action="account_reactivated", actor=actor, payload={})
    return user
