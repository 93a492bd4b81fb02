"""Writes for parties and recusals: resolving free text to a party, confirming parties and
their aliases, and the secretary lifting a recusal on the trail."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_append
from core.roles import is_secretary
from proposals.exceptions import IllegalAction, InvalidProposal, NotAllowed
from proposals.models import Party, PartyAlias, Proposal, Recusal
from proposals.parties import party_key

PARTY_STREAM = "parties"


@transaction.atomic
def party_resolve(*, text: str, actor: User | None = None) -> Party | None:
    """The party `text` names, matched by its normalised key; an unknown name becomes a new,
    unconfirmed party for the secretary to confirm or merge. None when the text names nothing."""
    key = party_key(text)
    if not key:
        return None
    alias = PartyAlias.objects.select_related("party").filter(key=key).first()
    if alias is not None:
        return alias.party
    name = " ".join(text.split())[:200]
    try:
        # A savepoint: two requests naming the same new party at once meet on the unique key.
        with transaction.atomic():
            party, _created = Party.objects.get_or_create(name=name)
            PartyAlias.objects.create(party=party, text=name, key=key)
    except IntegrityError:
        return PartyAlias.objects.select_related("party").get(key=key).party
    audit_append(stream=PARTY_STREAM, action="party_created", actor=actor, payload={"party": party.pk, "name": name})
    return party


@transaction.atomic
def party_alias_add(*, party: Party, text: str, actor: User) -> PartyAlias:
    """Another spelling of `party` (a former name, a ticker, a subsidiary the board treats as
    one): from now on it recuses as the party does."""
    if not is_secretary(actor):
        raise NotAllowed(_("Only the company secretary may do this."))
    key = party_key(text)
    if not key:
        raise InvalidProposal(_("The alias names nothing."))
    existing = PartyAlias.objects.select_related("party").filter(key=key).first()
    if existing is not None and existing.party_id != party.pk:
        raise InvalidProposal(
            _("%(text)s already names the party %(party)s.") % {"text": text.strip()[:80], "party": existing.party.name}
        )
    alias = existing or PartyAlias.objects.create(party=party, text=" ".join(text.split())[:200], key=key)
    audit_append(
        stream=PARTY_STREAM, action="party_alias_added", actor=actor, payload={"party": party.pk, "alias": alias.text}
    )
    return alias


@transaction.atomic
def party_confirm(*, party: Party, actor: User) -> Party:
    if not is_secretary(actor):
        raise NotAllowed(_("Only the company secretary may do this."))
    Party.objects.filter(pk=party.pk).update(confirmed=True)
    audit_append(stream=PARTY_STREAM, action="party_confirmed", actor=actor, payload={"party": party.pk})
    party.refresh_from_db()
    return party


def parties_for(texts: Iterable[str], *, actor: User | None = None) -> list[Party]:
    return [party for text in texts if (party := party_resolve(text=text, actor=actor)) is not None]


@transaction.atomic
def recusal_lift(*, recusal_id: int, reason: str, actor: User) -> Recusal:
    """The secretary frees a recused director for one review, with the reason on the
    proposal's trail. The recusal row stays: the trail and the page read true afterwards."""
    if not is_secretary(actor):
        raise NotAllowed(_("Only the company secretary may lift a recusal."))
    reason = reason.strip()
    if not reason:
        raise InvalidProposal(_("Give the reason for lifting the recusal."))
    proposal_id = Recusal.objects.filter(pk=recusal_id).values_list("proposal_id", flat=True).first()
    if proposal_id is None:
        raise InvalidProposal(_("No such recusal."))
    # The proposal first, as every write to its trail does.
    Proposal.objects.select_for_update().get(pk=proposal_id)
    recusal = Recusal.objects.select_for_update().select_related("director__user").get(pk=recusal_id)
    if recusal.lifted_at is not None:
        raise IllegalAction(_("This recusal is already lifted."), allowed_actions=[])
    recusal.lifted_at = timezone.now()
    recusal.lifted_by = actor
    recusal.lift_reason = reason
    recusal.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    audit_append(
        stream=f"proposal:{proposal_id}",
        action="recusal_lifted",
        actor=actor,
        payload={"director": recusal.director.user.get_username(), "interest": recusal.interest, "reason": reason},
    )
    return recusal
