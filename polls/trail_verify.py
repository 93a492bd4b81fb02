"""What `verify_audit` proves, in one pass over the trail in stream order: every link's MAC,
order and predecessor; every chain against its head; every root shard against the links folded
into it; every ballot against the latest link of its chain; every running total against the
ballots; the inspector's tabulation and every certified record against their latest links
(polls/trail_records.py). Problems are yielded in that order, so the first one is named.

The pass runs in one REPEATABLE READ snapshot on PostgreSQL, so appends made meanwhile are
neither half seen nor reported.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain, groupby
from typing import Any

from django.db import connection, transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Collate, Concat

from core import audit
from core.flag_trail import flag_problems
from core.models import AuditEvent, AuditHead, AuditRoot
from core.role_trail import role_problems
from polls import kinds, trail_records
from polls.models import Ballot, Poll, PollStatus
from polls.trail_records import PollLinks, certified_record_problems, kept_record_problems

BALLOT_FIELDS = {
    "option": "option_id",
    "weight": "weight",
    "holder": "holder_id",
    "shares_for": "shares_for",
    "shares_against": "shares_against",
    "shares_abstain": "shares_abstain",
}
EVENT_COLUMNS = ("id", "root_shard", "root_n", "hash", *audit.hashed_fields())


@dataclass(frozen=True)
class BrokenLink:
    event_id: int
    stream: str
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"event {self.event_id} ({self.stream} #{self.seq}): {self.problem}"


@dataclass(frozen=True)
class Disagreement:
    """A problem that is not one event's: a head, a root shard, a ballot, a total."""

    subject: str
    problem: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.problem}"


Problem = BrokenLink | Disagreement


def _by_stream(field: str) -> Any:
    # Python compares streams by code point: PostgreSQL must sort them the same way ("C").
    return Collate(F(field), "C") if connection.vendor == "postgresql" else F(field)


def _ballots_in_stream_order() -> Iterator[tuple[str, dict[str, Any]]]:
    """Each ballot with the name of its chain, in the chains' order (two sorted queries merged)."""

    def sorted_by_stream(kind: str, field: str, holder_missing: bool) -> Iterator[tuple[str, dict[str, Any]]]:
        stream = Concat(Value("ballot:"), Cast("poll_id", CharField()), Value(f":{kind}:"), Cast(field, CharField()))
        rows = (
            Ballot.objects.filter(holder__isnull=holder_missing)
            .annotate(stream=stream)
            .order_by(_by_stream("stream"))
            .values("stream", "id", "poll_id", "voter_id", "salt", *BALLOT_FIELDS.values())
        )
        for row in rows.iterator(chunk_size=5000):
            yield str(row["stream"]), row

    return heapq.merge(
        sorted_by_stream("holder", "holder_id", False),
        sorted_by_stream("voter", "voter_id", True),
        key=lambda pair: pair[0],
    )


def _chains() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    events = AuditEvent.objects.order_by(_by_stream("stream"), "seq").values(*EVENT_COLUMNS)
    yield from groupby(events.iterator(chunk_size=5000), key=lambda event: str(event["stream"]))


def _chain_problems(stream: str, events: list[dict[str, Any]], keys: dict[str, str]) -> Iterator[Problem]:
    prev_hash = ""
    for expected, event in enumerate(events, start=1):
        seq = event["seq"]
        if seq != expected:
            yield BrokenLink(event["id"], stream, seq, f"expected link #{expected} here; a row is missing or moved")
        elif event["prev_hash"] != prev_hash:
            yield BrokenLink(event["id"], stream, seq, "does not follow the link before it")
        elif event["key_id"] not in keys:
            yield BrokenLink(event["id"], stream, seq, f"signed by an unknown key {event['key_id']!r}")
        elif event["hash"] != audit.content_mac(keys[event["key_id"]], event):
            yield BrokenLink(event["id"], stream, seq, "its content was changed after it was written")
        prev_hash = event["hash"]


def _head_problems(stream: str, events: list[dict[str, Any]], head: tuple[int, str] | None) -> Iterator[Problem]:
    last = events[-1]
    if head is None:
        yield Disagreement(f"chain {stream}", "has no head: its links were written outside the trail")
    elif head != (last["seq"], last["hash"]):
        yield Disagreement(
            f"chain {stream}", f"ends at link #{last['seq']} but its head says #{head[0]}: links were removed"
        )


def _ballot_problems(stream: str, events: list[dict[str, Any]], ballot: dict[str, Any] | None) -> Iterator[Problem]:
    last = events[-1]
    withdrawn = last["action"] == "ballot_withdrawn"
    if ballot is None:
        if not withdrawn:
            yield Disagreement(f"chain {stream}", f"its latest link #{last['seq']} records a ballot that is missing")
        return
    subject = f"ballot {ballot['id']} ({stream})"
    if withdrawn:
        yield Disagreement(subject, "exists, but its chain says it was withdrawn")
        return
    payload = last["payload"]
    differing = sorted(key for key, field in BALLOT_FIELDS.items() if key in payload and payload[key] != ballot[field])
    if "commitment" in payload:
        from polls.secrecy import ballot_commitment

        commitment = ballot_commitment(salt=ballot["salt"], poll_id=ballot["poll_id"], option_id=ballot["option_id"])
        if commitment != payload["commitment"]:
            differing.append("option (commitment)")
    if payload.get("poll", ballot["poll_id"]) != ballot["poll_id"]:
        differing.append("poll")
    if last["actor_id"] != ballot["voter_id"]:
        differing.append("voter")
    if differing:
        yield Disagreement(
            subject, f"{', '.join(differing)} differ from its chain's latest link #{last['seq']} ({last['action']})"
        )


def _root_problems(folded: dict[int, tuple[int, ...]], counted: dict[int, int]) -> Iterator[Problem]:
    shards = {row[0]: row for row in AuditRoot.objects.values_list("shard", "n", "a0", "a1", "a2", "a3")}
    if (shards or folded) and len(shards) != audit.ROOT_SHARDS:
        yield Disagreement("audit root", f"has {len(shards)} shards, not {audit.ROOT_SHARDS}: a shard was removed")
    for shard in sorted(set(shards) | set(folded)):
        row = shards.get(shard)
        stored_count, stored = (row[1], tuple(row[2:])) if row else (0, (0,) * audit.ROOT_WORDS)
        if counted.get(shard, 0) != stored_count:
            yield Disagreement(
                f"audit root shard {shard}",
                f"folded {stored_count} links but {counted.get(shard, 0)} events claim it: "
                "events were removed or added outside the trail",
            )
        elif folded.get(shard, (0,) * audit.ROOT_WORDS) != stored:
            yield Disagreement(
                f"audit root shard {shard}",
                "does not match its links: a whole chain was removed, or links were replaced",
            )
    # Each shard's positions run 1..n once each: the root as of any moment is then exact.
    expected_shard, expected_n = None, 1
    placements = AuditEvent.objects.order_by("root_shard", "root_n").values_list("root_shard", "root_n", "id")
    for shard, position, event_id in placements.iterator(chunk_size=10000):
        if shard != expected_shard:
            expected_shard, expected_n = shard, 1
        if position != expected_n:
            yield Disagreement(
                f"event {event_id}", f"sits at root position {shard}/{position}, expected {shard}/{expected_n}"
            )
            return
        expected_n += 1


def _total_problems(poll_ids: list[int] | None = None) -> Iterator[Problem]:
    from polls.certification import poll_recount  # it imports services, which imports audit

    polls = Poll.objects.exclude(status=PollStatus.DRAFT).order_by("pk")
    if poll_ids is not None:
        polls = polls.filter(pk__in=poll_ids)
    for poll in polls:
        for line in poll_recount(poll=poll):
            if not line.matches:
                yield Disagreement(
                    f"poll {poll.pk} option {line.option_id} ({line.label})",
                    f"running total {line.running_votes} votes / {line.running_weight} weight, "
                    f"its ballots {line.counted_votes} / {line.counted_weight}",
                )
        ballot_count = kinds.form_of(poll).ballot_count_check(poll)
        if ballot_count is not None:
            running, counted = ballot_count
            yield Disagreement(f"poll {poll.pk}", f"running ballot count {running}, ballots {counted}")
        for problem in kinds.form_of(poll).tally_problems(poll):
            yield Disagreement(f"poll {poll.pk}", problem)
        for problem in kinds.form_of(poll).trail_problems(poll):
            yield Disagreement(f"poll {poll.pk}", problem)


def _tabulation_changed(poll: Poll, tabulated: dict[str, Any]) -> bool:
    row = kinds.form_of(poll).official_totals(poll)
    live = {"broker_non_votes": str(row.broker_non_votes)} if row else {}
    if row is not None:
        live |= {line["choice"]: str(row.by_code.get(line["choice"], "")) for line in tabulated.get("lines", [])}
    certified = {"broker_non_votes": tabulated.get("broker_non_votes")}
    certified |= {line["choice"]: line["tabulated"] for line in tabulated.get("lines", [])}
    return live != certified


def _frozen_problems(poll_ids: list[int] | None = None) -> Iterator[Problem]:
    """A certified item's rules, register and tabulation are frozen by the services, and every
    change of them is on the trail: a live row that differs from the record was changed by SQL
    (the pages serve the record, but the row is the evidence the record is checked against)."""
    from polls.certification import certified_rules  # it imports services, which imports audit

    polls = Poll.objects.filter(status=PollStatus.CERTIFIED).select_related("meeting__register").order_by("pk")
    if poll_ids is not None:
        polls = polls.filter(pk__in=poll_ids)
    for poll in polls:
        record = (poll.certified_result or {}).get("certification")
        if not record:
            continue  # certified before records named their rules
        rules = {name: value for name, value in certified_rules(poll).items() if name != "title"}
        changed = sorted(name for name, value in rules.items() if record.get(name, value) != value)
        tabulated = record.get("tabulation")
        if tabulated is not None and _tabulation_changed(poll, tabulated):
            changed.append("tabulation")
        if changed:
            yield Disagreement(f"certified poll {poll.pk}", f"{', '.join(changed)} changed since certification")


def _certified_problems(poll: Poll, as_of: tuple[int, ...], as_of_count: int) -> Iterator[Problem]:
    record = poll.certified_audit_root
    subject = f"certified poll {poll.pk}"
    if poll.status != PollStatus.CERTIFIED or not record:
        yield Disagreement(subject, "has no certified audit root")
        return
    if as_of_count != sum(record["counts"]) or audit.root_hex(as_of) != record["root"]:
        yield Disagreement(subject, "the trail as of certification no longer gives the certified root")
        return
    signed = (
        AuditEvent.objects.filter(stream=f"poll:{poll.pk}", action="poll_certified").order_by("-seq").first()
    )  # fmt: skip
    if (
        signed is None
        or signed.payload.get("audit_root") != record
        or signed.payload.get("result") != (poll.certified_result)
    ):
        yield Disagreement(subject, "its certified record differs from the poll_certified link that signed it")


def audit_problems(*, certified: int | None = None) -> Iterator[Problem]:
    """Every problem in the trail, the first first. With `certified`, also prove that poll's
    certification: the links then present still give its root, and its record is as signed."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield from _audit_problems(certified)


class _Merge:
    """Rows sorted by stream (heads, ballots), walked beside the chains in the same order: the
    row of each chain is taken, and a row whose stream has no chain is an orphan."""

    def __init__(self, pairs: Iterator[tuple[str, Any]], orphan: Callable[[str, Any], Problem]) -> None:
        self._pairs = pairs
        self._orphan = orphan
        self._next = next(pairs, None)

    def orphans_before(self, stream: str | None) -> Iterator[Problem]:
        """The rows before `stream` (all that are left with None), each a problem."""
        while self._next is not None and (stream is None or self._next[0] < stream):
            yield self._orphan(*self._next)
            self._next = next(self._pairs, None)

    def take(self, stream: str) -> Any:
        """The row of `stream`, or None when it has none."""
        if self._next is None or self._next[0] != stream:
            return None
        row, self._next = self._next[1], next(self._pairs, None)
        return row


def _headless_chain(stream: str, head: tuple[int, str]) -> Problem:
    return Disagreement(f"chain {stream}", f"its head says #{head[0]} but it has no links: removed")


def _chainless_ballot(stream: str, ballot: dict[str, Any]) -> Problem:
    return Disagreement(f"ballot {ballot['id']} ({stream})", "has no chain on the trail")


def _heads() -> Iterator[tuple[str, tuple[int, str]]]:
    rows = AuditHead.objects.order_by(_by_stream("stream")).values_list("stream", "seq", "hash")
    for stream, seq, link_hash in rows.iterator(10000):
        yield stream, (seq, link_hash)


class _RootFold:
    """The root shards recomputed from the links, and the root as of a certification (the links
    within the certified counts of each shard)."""

    def __init__(self, certified_counts: list[int]) -> None:
        self.certified_counts = certified_counts
        self.folded: dict[int, list[int]] = {}
        self.counted: dict[int, int] = {}
        self.as_of, self.as_of_count = [0] * audit.ROOT_WORDS, 0

    def fold(self, stream: str, events: list[dict[str, Any]], keys: dict[str, str]) -> None:
        for event in events:
            key = keys.get(event["key_id"])
            if key is None:
                continue
            share = audit.link_share(key, stream=stream, seq=event["seq"], link_hash=event["hash"])
            shard = event["root_shard"]
            acc = self.folded.setdefault(shard, [0] * audit.ROOT_WORDS)
            for i in range(audit.ROOT_WORDS):
                acc[i] ^= share[i]
            self.counted[shard] = self.counted.get(shard, 0) + 1
            if shard < len(self.certified_counts) and event["root_n"] <= self.certified_counts[shard]:
                self.as_of = [a ^ b for a, b in zip(self.as_of, share, strict=True)]
                self.as_of_count += 1

    def problems(self) -> Iterator[Problem]:
        yield from _root_problems({shard: tuple(acc) for shard, acc in self.folded.items()}, self.counted)


def _subject_problems() -> Iterator[Problem]:
    """Rows beside the items that decide them or act on them (registers, proposals, the
    secretary role), after the items: a certified item's register changed since is named as such."""
    for subject, problem in chain(trail_records.subject_problems(), role_problems(), flag_problems()):
        yield Disagreement(subject, problem)


def _audit_problems(certified: int | None) -> Iterator[Problem]:
    poll = Poll.objects.filter(pk=certified).first() if certified is not None else None
    if certified is not None and poll is None:
        yield Disagreement(f"poll {certified}", "does not exist")
        return
    root = _RootFold(poll.certified_audit_root["counts"] if poll and poll.certified_audit_root else [])
    keys = audit.known_keys()
    links = PollLinks()
    heads = _Merge(_heads(), _headless_chain)
    ballots = _Merge(_ballots_in_stream_order(), _chainless_ballot)
    for stream, grouped in _chains():
        events = list(grouped)
        yield from heads.orphans_before(stream)
        head = heads.take(stream)
        yield from ballots.orphans_before(stream)
        ballot = ballots.take(stream)
        yield from _chain_problems(stream, events, keys)
        yield from _head_problems(stream, events, head)
        if stream.startswith("ballot:"):
            yield from _ballot_problems(stream, events, ballot)
        root.fold(stream, events, keys)
        links.take(stream, events)
    yield from heads.orphans_before(None)
    yield from ballots.orphans_before(None)
    yield from root.problems()
    yield from _total_problems([poll.pk] if poll else None)
    yield from _frozen_problems([poll.pk] if poll else None)
    # After the frozen check, which names a change since certification as such; a record forged
    # before certification was frozen as forged, and only its link still says what was entered.
    for poll_id, problem in kept_record_problems(links, [poll.pk] if poll else None):
        yield Disagreement(f"poll {poll_id}", problem)
    yield from _subject_problems()
    if poll is not None:
        yield from _certified_problems(poll, tuple(root.as_of), root.as_of_count)
    else:
        # The records are what every page and export serves; --certified checks its poll's
        # record in _certified_problems, after its root.
        for poll_id, problem in certified_record_problems(links):
            yield Disagreement(f"poll {poll_id}", problem)


def audit_verify(*, certified: int | None = None) -> Iterator[Any]:
    """Every problem in the trail, the first first."""
    return audit_problems(certified=certified)
