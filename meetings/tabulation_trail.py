"""The inspector's tabulation against the trail. Every entry of it (three numbers, or lines per
nominee or option, with the broker non-votes) appends a `tabulation_recorded` link with every
figure to the item's stream in the same transaction, and replaces the rows whole. The rows must
then equal the latest such link: a row that differs from it, that has no link, or whose link
has no row was written by SQL. Certification compares the rows only with the ballots, and a
forged figure (broker non-votes above all, which no ballot counts) would be frozen and published
as the certified result; this check stops it before and names it after."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from meetings.ballot_models import TabulationLine
from meetings.models import Tabulation
from polls.trail_records import Link

ACTION = "tabulation_recorded"
# The three numbers' names in the link, and the row's columns holding them.
NUMBERS = {"for": "shares_for", "against": "shares_against", "abstain": "shares_abstain", "bnv": "broker_non_votes"}
NUMBER_NAMES = {"for": "for", "against": "against", "abstain": "abstain", "bnv": "broker non-votes"}

Figures = dict[str, Any]


def _recorded(payload: dict[str, Any]) -> Figures:
    """A link's figures in the rows' shape. A lines entry leaves the three numbers at 0 and a
    three-number entry has no lines, as the services write the rows."""
    figures: Figures = {name: payload.get(name, 0) for name in NUMBERS}
    figures["lines"] = {(option, choice): shares for option, choice, shares in payload.get("lines", [])}
    return figures


def _live(poll_ids: Collection[int] | None) -> dict[int, Figures]:
    """Every tabulation's figures by poll id: one query for the rows, one for their lines."""
    rows = Tabulation.objects.order_by()
    lines = TabulationLine.objects.order_by()
    if poll_ids is not None:
        rows = rows.filter(poll_id__in=poll_ids)
        lines = lines.filter(tabulation__poll_id__in=poll_ids)
    live: dict[int, Figures] = {}
    for poll_id, *numbers in rows.values_list("poll_id", *NUMBERS.values()):
        live[poll_id] = {**dict(zip(NUMBERS, numbers, strict=True)), "lines": {}}
    for poll_id, option, choice, shares in lines.values_list("tabulation__poll_id", "option_id", "choice", "shares"):
        live[poll_id]["lines"][(option, choice)] = shares
    return live


def _difference(live: Figures | None, link: Link | None) -> str | None:
    if link is None:
        return "its tabulation has no tabulation_recorded link on the trail" if live is not None else None
    if live is None:
        return f"its tabulation, recorded by link #{link.seq}, is missing"
    recorded = _recorded(link.payload)
    differing = [NUMBER_NAMES[name] for name in NUMBERS if live[name] != recorded[name]]
    for option, choice in sorted(live["lines"].keys() | recorded["lines"].keys()):
        if live["lines"].get((option, choice)) != recorded["lines"].get((option, choice)):
            differing.append(f"option {option} {choice}")
    if not differing:
        return None
    return f"its tabulation's {', '.join(differing)} differ from its latest tabulation_recorded link #{link.seq}"


def tabulation_problems(latest: dict[int, Link], poll_ids: Collection[int] | None) -> Iterator[tuple[int, str]]:
    live = _live(poll_ids)
    for poll_id in sorted(live.keys() | latest.keys()):
        if poll_ids is not None and poll_id not in poll_ids:
            continue
        problem = _difference(live.get(poll_id), latest.get(poll_id))
        if problem is not None:
            yield poll_id, problem


def tabulation_check_register() -> None:
    from django.utils.translation import gettext_lazy

    from polls.trail_records import record_check_register

    refusal = gettext_lazy(
        "Certification stopped: the inspector's tabulation differs from what the audit trail recorded when it "
        "was entered, so it was changed outside Quorum. Enter it again, or run verify_audit to see what differs."
    )
    record_check_register(action=ACTION, refusal=refusal, check=tabulation_problems)
