"""Reads for proxies: the proxy's desk (every holder it votes at a meeting, their instructions,
the items they voted themselves, the board's recommendations), who cast a holder's ballots and
when, and the board's recommendation as the API shows it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone

from meetings import selectors
from meetings.ballot_selectors import BallotItem, ballot_items
from meetings.models import Holder, Meeting, ProxyAppointment
from meetings.proxy_instructions import instructions_by_appointment
from polls.models import Ballot, Poll, PollStatus


@dataclass(frozen=True)
class ProxiedHolder:
    appointment: ProxyAppointment
    instructions: dict[int, str]  # item id -> for, against, abstain, recommendation
    own_votes: frozenset[int]  # items the holder voted themselves: their ballot stands

    @property
    def holder(self) -> Holder:
        return self.appointment.holder


@dataclass(frozen=True)
class ProxyDesk:
    meeting: Meeting
    items: list[BallotItem]  # the open items, with their options, terms and recommendations
    holders: list[ProxiedHolder]
    cutoff: datetime.datetime
    before_cutoff: bool


def proxy_desk(*, meeting: Meeting, user: User | AnonymousUser, now: datetime.datetime | None = None) -> ProxyDesk:
    """Everything the proxy's page and the API's GET show, in a fixed number of queries."""
    now = now or timezone.now()
    items = [item for item in selectors.meeting_items(meeting) if item.effective_status(now) == PollStatus.OPEN]
    appointments = (
        list(
            ProxyAppointment.objects.filter(meeting=meeting, proxy_id=user.pk, revoked_at__isnull=True)
            .select_related("holder")
            .order_by("holder__account")
        )
        if user.is_authenticated
        else []
    )
    instructions = instructions_by_appointment(appointments)
    owners = {appointment.holder_id: appointment.holder.user_id for appointment in appointments}
    own: dict[int, set[int]] = {}
    for poll_id, holder_id, voter_id in Ballot.objects.filter(poll__in=items, holder_id__in=list(owners)).values_list(
        "poll_id", "holder_id", "voter_id"
    ):
        if voter_id == owners[holder_id]:
            own.setdefault(holder_id, set()).add(poll_id)
    holders = [
        ProxiedHolder(
            appointment=appointment,
            instructions=instructions.get(appointment.pk, {}),
            own_votes=frozenset(own.get(appointment.holder_id, set())),
        )
        for appointment in appointments
    ]
    cutoff = meeting.proxy_cutoff_at
    return ProxyDesk(
        meeting=meeting,
        items=ballot_items(items=items, holder_id=0) if items else [],
        holders=holders,
        cutoff=cutoff,
        before_cutoff=now < cutoff,
    )


def recommendation_json(data: BallotItem) -> dict[str, Any]:
    """The board's recommendation on an item as the API shows it: a proposal's for, against or
    none; an election's per nominee; a frequency or choice item's option (or null)."""
    form = data.item.ballot_form
    if form.decided_by_standard:
        return {"recommendation": data.terms.recommendation if data.terms is not None else "none"}
    if getattr(form, "has_nominees", False):
        return {
            "nominees": [
                {
                    "id": option.pk,
                    "name": option.label,
                    "recommendation": option.tally.recommendation if hasattr(option, "tally") else "none",
                }
                for option in data.options
            ]
        }
    return {"recommended_option": data.terms.recommended_option_id if data.terms is not None else None}


def desk_json(desk: ProxyDesk) -> dict[str, Any]:
    return {
        "proxy_cutoff": desk.cutoff.isoformat(),
        "before_cutoff": desk.before_cutoff,
        "items": [
            {"id": data.item.pk, "title": data.item.title, "form": data.item.ballot_form.form_name}
            | recommendation_json(data)
            for data in desk.items
        ],
        "holders": [
            {
                "holder": row.holder.pk,
                "name": row.holder.name,
                "shares": str(row.holder.shares),
                "discretionary": row.appointment.discretionary,
                "instructions": {str(item): value for item, value in sorted(row.instructions.items())},
                "voted_by_holder": sorted(row.own_votes),
            }
            for row in desk.holders
        ],
    }


@dataclass(frozen=True)
class Caster:
    """Who cast a holder's standing ballot on an item, and when (its last change)."""

    item: Poll
    name: str
    at: datetime.datetime
    by_holder: bool


def ballot_casters(*, items: list[Poll], holder: Holder) -> list[Caster]:
    """For each item the holder has a ballot on: the holder themselves, or the proxy that cast it."""
    ballots = {
        ballot.poll_id: ballot
        for ballot in Ballot.objects.filter(poll__in=items, holder_id=holder.pk).select_related("voter")
    }
    return [
        Caster(
            item=item,
            name=ballots[item.pk].voter.get_username(),
            at=ballots[item.pk].updated_at,
            by_holder=ballots[item.pk].voter_id == holder.user_id,
        )
        for item in items
        if item.pk in ballots
    ]
