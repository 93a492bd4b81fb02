"""Proxy appointments against the trail. Every appointment (`proxy_appointed`: the holder, the
proxy, every instruction and whether the proxy may vote at its discretion) and every revocation
(`proxy_revoked`) is a link on the meeting's chain, written in the transaction that changes the
rows. Replaying those links gives, for each holder, the appointment in force: the live rows must
say the same. A row inserted, un-revoked or redirected by SQL would let an account vote a
holder's shares, and a changed instruction would let a directed proxy vote otherwise; the
ballots it casts then verify against their own chains, so only this check finds them. A ballot
cast for a holder by an account the trail never named as that holder's proxy is found too (the
forged row may have been removed since)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F
from django.utils.translation import gettext as _

from core.models import AuditEvent
from meetings.models import Meeting, ProxyAppointment, ProxyInstruction
from polls.models import Ballot, Poll


@dataclass(frozen=True)
class InForce:
    """An appointment as the trail or the rows say it stands."""

    proxy: int | None
    discretionary: bool
    instructions: tuple[tuple[int, str], ...]


def _recorded(meeting: Meeting) -> tuple[dict[int, InForce], set[tuple[int, int]]]:
    """The appointment in force per holder, replayed from the meeting's chain, and every
    (holder, proxy) pair the chain ever appointed."""
    in_force: dict[int, InForce] = {}
    ever: set[tuple[int, int]] = set()
    links = AuditEvent.objects.filter(
        stream=f"meeting:{meeting.pk}", action__in=["proxy_appointed", "proxy_revoked"]
    ).order_by("seq")
    for action, payload in links.values_list("action", "payload"):
        holder = payload.get("holder")
        if action == "proxy_revoked":
            in_force.pop(holder, None)
            continue
        instructions = tuple(sorted((int(item), str(value)) for item, value in payload.get("instructions", {}).items()))
        in_force[holder] = InForce(payload.get("proxy"), bool(payload.get("discretionary", True)), instructions)
        if payload.get("proxy") is not None:
            ever.add((holder, payload["proxy"]))
    return in_force, ever


def _live(meeting: Meeting) -> dict[int, InForce]:
    rows = ProxyAppointment.objects.filter(meeting=meeting, revoked_at__isnull=True)
    directed: dict[int, list[tuple[int, str]]] = {}
    instructions = ProxyInstruction.objects.filter(appointment__meeting=meeting, appointment__revoked_at__isnull=True)
    for appointment_id, item_id, value in instructions.values_list("appointment_id", "item_id", "instruction"):
        directed.setdefault(appointment_id, []).append((item_id, value))
    live: dict[int, InForce] = {}
    for pk, holder, proxy, discretionary in rows.values_list("pk", "holder_id", "proxy_id", "discretionary"):
        live[holder] = InForce(proxy, discretionary, tuple(sorted(directed.get(pk, []))))
    return live


def _differing(recorded: InForce | None, live: InForce | None) -> str:
    if recorded is None:
        return _("an appointment the trail does not record (or revoked there)")
    if live is None:
        return _("no appointment, but the trail says one is in force (it was removed)")
    names = [
        name
        for name, differs in (
            (_("proxy"), recorded.proxy != live.proxy),
            (_("discretion"), recorded.discretionary != live.discretionary),
            (_("instructions"), recorded.instructions != live.instructions),
        )
        if differs
    ]
    return _("its %(fields)s differ from the trail") % {"fields": ", ".join(names)}


def proxy_problem(meeting: Meeting) -> str | None:
    """The first appointment or proxy ballot of the meeting the trail does not account for, in
    words, for certification and verify_audit."""
    recorded, _ever = _recorded(meeting)
    live = _live(meeting)
    for holder in sorted(recorded.keys() | live.keys()):
        if recorded.get(holder) != live.get(holder):
            return _("meeting %(meeting)d proxy for holder %(holder)d: %(problem)s") % {
                "meeting": meeting.pk,
                "holder": holder,
                "problem": _differing(recorded.get(holder), live.get(holder)),
            }
    return None


def proxy_ballot_problem(poll: Poll) -> str | None:
    """The first ballot of the item cast for a holder by an account that is neither the
    holder's nor ever appointed its proxy on the trail (the forged appointment may be gone).
    A pass over the item's ballots, so verify_audit asks it and certification does not (its
    recount is its one pass; the appointments it checks are the ones in force)."""
    assert poll.meeting is not None  # noqa: S101 - items belong to meetings
    _in_force, ever = _recorded(poll.meeting)
    cast_by_others = (
        Ballot.objects.filter(poll_id=poll.pk, holder__isnull=False)
        .exclude(holder__user_id=F("voter_id"))
        .order_by("pk")
        .values_list("pk", "holder_id", "voter_id")
    )
    for pk, holder, voter in cast_by_others.iterator(chunk_size=2000):
        if (holder, voter) not in ever:
            words = _("ballot %(ballot)d for holder %(holder)d: cast by an account the trail never appointed its proxy")
            return words % {"ballot": pk, "holder": holder}
    return None
