"""The board against the directors' chains. Who is a director, whether in office, and what
interests (and so which parties) they declared decide who votes on a proposal, who is recused
and the board's quorum; every change is a link on `director:<user id>` carrying all of it
(people_services). A director row inserted by SQL votes as a board member, with every vote
signed on the trail as legitimate; an interest removed by SQL before a review starts leaves a
conflicted director unrecused. The rows must equal the latest link of each chain."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from core.models import AuditEvent
from proposals.models import Director


def _state(in_office: Any, interests: Any, parties: Any) -> tuple[bool, tuple[str, ...], tuple[int, ...]]:
    return bool(in_office), tuple(interests or ()), tuple(sorted(parties or ()))


def _recorded() -> dict[int, tuple[bool, tuple[str, ...], tuple[int, ...]]]:
    links = AuditEvent.objects.filter(stream__startswith="director:").order_by("stream", "seq")
    recorded: dict[int, tuple[bool, tuple[str, ...], tuple[int, ...]]] = {}
    for stream, payload in links.values_list("stream", "payload"):
        payload = payload or {}
        if "in_office" in payload and "interests" in payload:
            recorded[int(stream.partition(":")[2])] = _state(
                payload["in_office"], payload["interests"], payload.get("parties")
            )
    return recorded


def director_problems() -> Iterator[tuple[str, str]]:
    """Every director whose row differs from its chain's latest link, for verify_audit and
    before the board acts on a proposal."""
    recorded = _recorded()
    parties: dict[int, list[int]] = {}
    for director_id, party_id in Director.parties.through.objects.values_list("director_id", "party_id"):
        parties.setdefault(director_id, []).append(party_id)
    rows = Director.objects.order_by("user_id").values_list("pk", "user_id", "user__username", "in_office", "interests")
    for pk, user_id, username, in_office, interests in rows:
        live = _state(in_office, interests, parties.get(pk))
        subject = _("director %(name)s") % {"name": username}
        if user_id not in recorded:
            yield subject, _("is on the board, but no link on the trail put them there: added outside Quorum")
        elif live != recorded[user_id]:
            names = [
                name
                for name, index in ((_("in office"), 0), (_("interests"), 1), (_("parties"), 2))
                if live[index] != recorded[user_id][index]
            ]
            yield (
                subject,
                _("%(fields)s differ from the trail's latest link: changed outside Quorum")
                % {"fields": ", ".join(names)},
            )


def director_check_register() -> None:
    from polls.trail_records import subject_check_register

    subject_check_register(every=director_problems, of_poll=None)
