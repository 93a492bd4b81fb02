"""The records kept beside a poll's stream, checked against the links that wrote them: the
certified record against the `poll_certified` link that signed it, and the records a higher app
keeps (the inspector's tabulation) against the latest link of the action that writes them.

Each of these records is written in the same transaction as its link, and the link is signed,
so a record that differs from its link was written by SQL. The pages, the API and the exports
serve the records, not the links: without this check such a record would be published, or
frozen by certification, while the trail verifies. The links are taken during `verify_audit`'s
one pass over the trail, so checking them costs one query per kind of record, not per poll.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise

from core.models import AuditEvent
from polls.models import Poll, PollStatus

CERTIFIED_ACTION = "poll_certified"


@dataclass(frozen=True)
class Link:
    """The latest link of an action in a poll's stream: its position and what it signed."""

    seq: int
    payload: dict[str, Any]


# (latest link per poll id, poll ids or None for all) -> (poll id, problem) per differing record.
RecordCheck = Callable[[dict[int, Link], Collection[int] | None], Iterator[tuple[int, str]]]


@dataclass(frozen=True)
class _Registered:
    refusal: Promise | str
    check: RecordCheck


_checks: dict[str, _Registered] = {}


@dataclass(frozen=True)
class _Subject:
    every: Callable[[], Iterator[tuple[str, str]]]
    of_poll: Callable[[Poll], str | None] | None


_subjects: list[_Subject] = []


def subject_check_register(
    *, every: Callable[[], Iterator[tuple[str, str]]], of_poll: Callable[[Poll], str | None] | None
) -> None:
    """Rows a higher app keeps outside any poll's stream that decide an item (the register its
    weights come from, a proposal's state): `every` yields (subject, problem) for verify_audit,
    `of_poll` (when the rows decide an item) the words that stop a poll's certification, or None."""
    _subjects.append(_Subject(every=every, of_poll=of_poll))


def subject_problems() -> Iterator[tuple[str, str]]:
    for subject in _subjects:
        yield from subject.every()


def subject_refusal(poll: Poll) -> str | None:
    for subject in _subjects:
        refusal = subject.of_poll(poll) if subject.of_poll is not None else None
        if refusal is not None:
            return refusal
    return None


def record_check_register(*, action: str, refusal: Promise | str, check: RecordCheck) -> None:
    """A record that each `action` link on a poll's stream writes whole, compared by the app
    that keeps it (polls cannot read a higher app's rows); `refusal` tells a secretary whose
    certification it stops what differs and what to do."""
    _checks[action] = _Registered(refusal=refusal, check=check)


def _poll_id(stream: str) -> int | None:
    subject, _sep, pk = stream.partition(":")
    return int(pk) if subject == "poll" and pk.isdigit() else None


class PollLinks:
    """The latest link of each watched action per poll, taken from the chains as they pass."""

    def __init__(self) -> None:
        self.latest: dict[str, dict[int, Link]] = {action: {} for action in (CERTIFIED_ACTION, *_checks)}

    def take(self, stream: str, events: list[dict[str, Any]]) -> None:
        poll_id = _poll_id(stream)
        if poll_id is None:
            return
        for event in events:
            latest = self.latest.get(event["action"])
            if latest is not None:
                latest[poll_id] = Link(seq=event["seq"], payload=event["payload"] or {})


def kept_record_problems(links: PollLinks, poll_ids: Collection[int] | None) -> Iterator[tuple[int, str]]:
    """Every registered record that differs from its poll's latest link, by poll id."""
    for action, registered in _checks.items():
        yield from registered.check(links.latest[action], poll_ids)


def certified_record_problems(links: PollLinks) -> Iterator[tuple[int, str]]:
    """Every certified poll's record and root against its latest `poll_certified` link, and
    every poll whose trail says it was certified against its status."""
    signed = links.latest[CERTIFIED_ACTION]
    polls = (
        Poll.objects.filter(status=PollStatus.CERTIFIED)
        .order_by("pk")
        .values_list("pk", "certified_result", "certified_audit_root")
    )
    certified = set()
    for poll_id, result, root in polls.iterator(chunk_size=500):
        certified.add(poll_id)
        link = signed.get(poll_id)
        if link is None:
            yield poll_id, "is certified, but no poll_certified link on its trail signed it"
        elif link.payload.get("result") != result or link.payload.get("audit_root") != root:
            yield poll_id, f"its certified record differs from the poll_certified link #{link.seq} that signed it"
    for poll_id in sorted(signed.keys() - certified):
        yield poll_id, f"its poll_certified link #{signed[poll_id].seq} certified it, but it is no longer certified"


def certification_refusal(poll: Poll) -> Promise | str | None:
    """Why certification stops, when a record differs from its latest link on the poll's
    stream: certification would freeze it."""
    if not _checks:
        return None
    events = AuditEvent.objects.filter(stream=f"poll:{poll.pk}", action__in=list(_checks)).order_by("seq")
    links = PollLinks()
    links.take(f"poll:{poll.pk}", [dict(event) for event in events.values("action", "seq", "payload")])
    for action, registered in _checks.items():
        if next(registered.check(links.latest[action], [poll.pk]), None) is not None:
            return registered.refusal
    return None
