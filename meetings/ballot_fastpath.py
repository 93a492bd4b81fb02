"""A holder's first ballot on an election, frequency or choice item in two SQL statements, one
transaction (PostgreSQL). It must do exactly what the general path (meetings/ballot_services.py,
_item_lines_cast_general) does for the same case; tests/meetings/test_ballot_fastpath.py runs
both on the same cases. Anything unusual returns None and the general path takes the ballot.

Before the statement, in Python: the item's terms and nominee or option ids (cached per process
once the item is open: they are frozen from then on), one read of the holder (their id and
shares go into the audit link, whose hash is computed here, as polls/fastpath.py does for a
brand-new chain), and the ballot's lines and weight by the same rules as the general path
(meetings.ballot_rules). Then, in one transaction: a statement in which the item is read under
the ballots' key-share lock while it is open (the lifecycle's own condition, polls.fastpath's
OPEN_NOW_SQL) and still has every option the lines name, the holder must still be the actor's
with the same shares, the unique index decides whether this is a first ballot, and only if the
ballot was inserted are its lines, the audit link, head and root share and the attendance row
written; then, only if it was, a second statement moves the rows every voter of the item shares:
the meeting's shares present (when the attendance is new) and the running totals (as
meetings.ballot_counters moves them).

Why two: a row another ballot updated after a statement began is re-checked by EvalPlanQual,
which sets up every subplan of the statement again, all its WITH clauses; with the totals in
the ballot's long statement, that was about a third of PostgreSQL's CPU per ballot under wrk
(perf), 4.2 ms per ballot against 2.7-2.9 ms split, and 200 -> 230-250 ballots/s. Both still go
in one round trip (a pipeline, one implicit transaction), the second told by the first, in
settings local to the transaction, whether it inserted the ballot. A holder whose chain already
has links, a proxy, a refusal of any kind: the general path, which explains."""

from __future__ import annotations

import datetime
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection
from django.utils import timezone

from core.audit import ROOT_WORDS, current_key, link_prepare
from core.models import AuditEvent, AuditHead, AuditRoot, Notification
from core.prepared import array_literal, first_row_of_two, prepared_cursor
from core.publish import send_notification_on_commit
from meetings import ballot_rules
from meetings.attendance_models import Attendance, AttendanceSource
from meetings.ballot_counters import _split
from meetings.ballot_forms import LineItem
from meetings.ballot_models import BallotLine, ItemTerms, NomineeTally
from meetings.ballot_rules import ElectionStandard, Line, LineProblem, line_deltas
from meetings.ballot_services import lines_json, lines_payload
from meetings.models import Holder, Meeting, ProxyAppointment
from polls import kinds, receipts
from polls.ballots import CastResult
from polls.fastpath import OPEN_NOW_SQL
from polls.models import Ballot, Option, Poll, PollStatus
from polls.receipt_mail import WithBallot, ballot_receipts_fields


@dataclass(frozen=True)
class OpenItem:
    """What a ballot on an open item is checked against; none of it changes once it opens."""

    meeting_id: int
    register_id: int
    ids: frozenset[int]
    standard: ElectionStandard | None
    seats: int
    cumulative: bool


# Bounded: a process sees few open items at a time; the oldest entry goes first.
ITEM_CACHE_SIZE = 256
_items: OrderedDict[int, OpenItem] = OrderedDict()


def items_cache_clear() -> None:
    _items.clear()


def _line_kinds() -> list[str]:
    return [str(name) for name in kinds.kinds_where(lambda form: isinstance(form, LineItem))]


def open_item(poll_id: int, now: datetime.datetime) -> OpenItem | None:
    """The item's terms and ids if it is an open line item (cached), else None. Whether it is
    still open when the ballot lands is the statement's to check."""
    cached = _items.get(poll_id)
    if cached is not None:
        return cached
    poll = (
        Poll.objects.filter(pk=poll_id, kind__in=_line_kinds(), meeting__isnull=False)
        .select_related("meeting")
        .only("status", "opens_at", "closes_at", "meeting__register_id")
        .first()
    )
    if poll is None or poll.meeting is None or poll.effective_status(now) != PollStatus.OPEN:
        return None  # not cached: a scheduled item's terms may still change
    terms = ItemTerms.objects.filter(poll_id=poll_id).first()
    if terms is None:
        return None
    item = OpenItem(
        meeting_id=poll.meeting.pk,
        register_id=poll.meeting.register_id,
        ids=frozenset(Option.objects.filter(poll_id=poll_id).values_list("pk", flat=True)),
        standard=ElectionStandard(terms.election_standard) if terms.election_standard else None,
        seats=terms.seats,
        cumulative=terms.cumulative,
    )
    _items[poll_id] = item
    while len(_items) > ITEM_CACHE_SIZE:
        _items.popitem(last=False)
    return item


# The actor's own holder on the item's register, and whether the actor also represents someone
# else at the meeting (then, without `holder`, the general path asks which one). Prepared once
# per connection (core.prepared), its values cast so their types never change.
HOLDER_SQL = f"""
SELECT h.id, h.shares, EXISTS (
    SELECT 1 FROM {ProxyAppointment._meta.db_table} p
    WHERE p.meeting_id = %(meeting)s::bigint AND p.proxy_id = %(actor)s::bigint AND p.revoked_at IS NULL
      AND p.holder_id <> h.id
)
FROM {Holder._meta.db_table} h
WHERE h.register_id = %(register)s::bigint AND h.user_id = %(actor)s::bigint
  AND (%(holder)s::bigint IS NULL OR h.id = %(holder)s::bigint)
LIMIT 2
"""  # noqa: S608 - the models' tables; every value is a parameter


def own_holder(*, item: OpenItem, actor: User, holder_id: int | None) -> tuple[int, int] | None:
    """(holder id, shares) when the actor votes their own single holding, else None."""
    with prepared_cursor(connection) as cursor:
        cursor.execute(
            HOLDER_SQL,
            {"meeting": item.meeting_id, "register": item.register_id, "actor": actor.pk, "holder": holder_id},
        )
        rows = cursor.fetchall()
    if len(rows) != 1:
        return None
    holder, shares, represents_others = rows[0]
    if represents_others and holder_id is None:
        return None
    return int(holder), int(shares)


def _arrays(rows: Mapping[int, list[int]], width: int) -> dict[str, str]:
    items = sorted(rows.items())
    return {
        "ids": array_literal(option for option, _ in items),
        **{f"v{i}": array_literal(row[i] for _, row in items) for i in range(width)},
    }


# PostgreSQL runs the data-modifying WITH clauses that nothing reads after the main query, the
# last written first (one read by another runs when that one reads it). So these statements take
# their rows in the general path's order: the item (key share), the ballot, its lines, the trail,
# the attendance; then the meeting and the totals as meetings.ballot_counters' statement does
# (the item's count, its shares voted, the tallies, the options). Two ballots on one item, by
# either path, never wait for each other's rows in opposite orders.
FIRST_LINES_BALLOT_SQL = f"""
WITH poll AS (
    SELECT id FROM {Poll._meta.db_table}
    WHERE id = %(poll)s AND kind = ANY(%(kinds)s::text[]) AND meeting_id = %(meeting)s
      AND {OPEN_NOW_SQL}
      AND (SELECT count(*) FROM {Option._meta.db_table}
           WHERE poll_id = %(poll)s AND id = ANY(%(line_options)s::bigint[])) = %(line_option_count)s
    FOR KEY SHARE
), holder AS (
    SELECT id FROM {Holder._meta.db_table}
    WHERE id = %(holder)s AND user_id = %(actor)s AND shares = %(shares)s AND register_id = %(register)s
      AND NOT EXISTS (SELECT 1 FROM {AuditHead._meta.db_table} WHERE stream = %(stream)s)
), ballot AS (
    INSERT INTO {Ballot._meta.db_table}
        (poll_id, voter_id, holder_id, option_id, weight, shares_for, shares_against, shares_abstain, salt,
         cast_at, updated_at)
    SELECT poll.id, %(actor)s, holder.id, NULL, %(weight)s, NULL, NULL, NULL, '', %(at)s, %(at)s
    FROM poll, holder
    ON CONFLICT (poll_id, holder_id) WHERE holder_id IS NOT NULL DO NOTHING
    RETURNING id
), arrived AS (
    INSERT INTO {Attendance._meta.db_table} (meeting_id, holder_id, shares, source, recorded_by_id, at)
    SELECT %(meeting)s, holder.id, %(shares)s, %(source)s, %(actor)s, %(at)s FROM ballot, holder
    ON CONFLICT (meeting_id, holder_id) DO NOTHING
    RETURNING shares
), root AS (
    UPDATE {AuditRoot._meta.db_table} r
    SET n = r.n + 1, a0 = r.a0 # %(c0)s::bigint, a1 = r.a1 # %(c1)s::bigint, a2 = r.a2 # %(c2)s::bigint,
        a3 = r.a3 # %(c3)s::bigint
    WHERE r.shard = (SELECT shard FROM {AuditRoot._meta.db_table} ORDER BY shard LIMIT 1 FOR UPDATE SKIP LOCKED)
      AND EXISTS (SELECT 1 FROM ballot)
    RETURNING r.shard, r.n
), link AS (
    INSERT INTO {AuditEvent._meta.db_table}
        (stream, seq, action, actor_id, actor_name, at, payload, prev_hash, key_id, hash, root_shard, root_n)
    SELECT %(stream)s, 1, 'ballot_cast', %(actor)s, %(name)s, %(at)s, %(payload)s::jsonb, '', %(key_id)s,
        %(hash)s, root.shard, root.n
    FROM ballot LEFT JOIN root ON true
), head AS (
    INSERT INTO {AuditHead._meta.db_table} (stream, seq, hash) SELECT %(stream)s, 1, %(hash)s FROM ballot
), lines AS (
    INSERT INTO {BallotLine._meta.db_table} (ballot_id, option_id, choice, shares)
    SELECT ballot.id, l.option, l.choice, l.shares
    FROM ballot, unnest(%(line_options)s::bigint[], %(line_choices)s::text[], %(line_shares)s::bigint[])
        WITH ORDINALITY AS l (option, choice, shares, n)
    ORDER BY l.n
), notified AS (
    INSERT INTO {Notification._meta.db_table} (key, kind, subject, recipient, context, created_at, attempts, last_error)
    SELECT %(n_key)s::text, %(n_kind)s::text, '', %(n_recipient)s::text, %(n_context)s::jsonb, %(at)s, 0, ''
    FROM ballot WHERE %(n_key)s::text IS NOT NULL
    ON CONFLICT (key) DO NOTHING
    RETURNING id
)
SELECT id, (SELECT id FROM notified),
    set_config('quorum.fast_ballot', %(hash)s, true),
    set_config('quorum.fast_arrived', coalesce((SELECT shares FROM arrived), 0)::text, true)
FROM ballot
"""  # noqa: S608 - the models' tables and OPEN_NOW_SQL (the lifecycle's own names); values are parameters


# Right after FIRST_LINES_BALLOT_SQL, in its transaction, and only if it inserted the ballot:
# it said so in settings local to the transaction, so both can go in one round trip. The setting
# is this attempt's own link hash: in a caller's transaction (a savepoint each) it outlives the
# attempt, and a later attempt that inserts nothing must not find it and count again.
FIRST_LINES_TOTALS_SQL = f"""
WITH inserted AS (
    SELECT nullif(current_setting('quorum.fast_arrived', true), '')::bigint AS arrived
    WHERE current_setting('quorum.fast_ballot', true) = %(hash)s
), chosen AS (
    UPDATE {Option._meta.db_table} o SET votes = o.votes + d.n, weight = o.weight + d.w
    FROM unnest(%(chosen_ids)s::bigint[], %(chosen_n)s::bigint[], %(chosen_w)s::bigint[]) AS d (id, n, w)
    WHERE o.id = d.id AND EXISTS (SELECT 1 FROM inserted)
), tallied AS (
    UPDATE {NomineeTally._meta.db_table} t SET
        against_ballots = t.against_ballots + d.an, against_shares = t.against_shares + d.aw,
        abstain_ballots = t.abstain_ballots + d.xn, abstain_shares = t.abstain_shares + d.xw
    FROM unnest(%(tallied_ids)s::bigint[], %(tallied_an)s::bigint[], %(tallied_aw)s::bigint[],
        %(tallied_xn)s::bigint[], %(tallied_xw)s::bigint[]) AS d (id, an, aw, xn, xw)
    WHERE t.option_id = d.id AND EXISTS (SELECT 1 FROM inserted)
), voted AS (
    UPDATE {ItemTerms._meta.db_table} SET shares_voted = shares_voted + %(weight)s
    WHERE poll_id = %(poll)s AND EXISTS (SELECT 1 FROM inserted)
), counted AS (
    UPDATE {Poll._meta.db_table} SET ballot_count = ballot_count + 1
    WHERE id = %(poll)s AND EXISTS (SELECT 1 FROM inserted)
), present AS (
    UPDATE {Meeting._meta.db_table} m SET shares_present = m.shares_present + inserted.arrived
    FROM inserted WHERE m.id = %(meeting)s AND inserted.arrived <> 0
)
SELECT 1
"""  # noqa: S608 - the models' tables; values are parameters


def _lines(*, item: OpenItem, shares: int, data: Mapping[str, Any]) -> tuple[dict[Line, int], int] | None:
    """The ballot's lines and weight by the general path's rules; None for anything it refuses."""
    payload = {key: value for key, value in data.items() if key != "holder"}
    try:
        lines = ballot_rules.ballot_lines(
            payload=payload,
            ids=item.ids,
            shares=shares,
            standard=item.standard,
            seats=item.seats,
            cumulative=item.cumulative,
        )
    except LineProblem:
        return None
    if not lines:
        return None
    weight = ballot_rules.ballot_weight(lines, standard=item.standard, cumulative=item.cumulative, shares=shares)
    return lines, weight


def _options_named(lines: Mapping[Line, int]) -> int:
    return len({option for option, _choice in lines})


def _run(params: Mapping[str, Any]) -> tuple[int, int | None] | None:
    try:
        row = first_row_of_two(connection, FIRST_LINES_BALLOT_SQL, FIRST_LINES_TOTALS_SQL, params)
    except IntegrityError:
        return None  # a racing link, every root shard busy: the general path sorts it out
    return (int(row[0]), row[1]) if row else None


def _confirmation(confirm: WithBallot | None, link_hash: str) -> dict[str, Any]:
    """The outbox row of the ballot's confirmation, as polls.receipt_mail.ballot_receipts_mail
    would queue it, when the caller asked for it to go with the ballot; no key, no row."""
    user = confirm.user if confirm is not None else None
    email: object = getattr(user, "email", None)
    if user is None or not user.is_authenticated or not isinstance(email, str) or not email:
        return {"n_key": None, "n_kind": "", "n_recipient": "", "n_context": "{}"}
    fields = ballot_receipts_fields(user_id=int(user.pk), email=email, codes=[receipts.receipt_code(link_hash)])
    return {
        "n_key": fields["key"][:200],
        "n_kind": fields["kind"],
        "n_recipient": fields["recipient"],
        "n_context": json.dumps(fields["context"]),
    }


def first_lines_ballot(
    *, poll_id: int, actor: User, data: Mapping[str, Any], now: datetime.datetime, confirm: WithBallot | None = None
) -> CastResult | None:
    """A holder's first ballot of lines in one transaction of two statements, or None: the
    general path's case. With `confirm`, the ballot's receipt confirmation is queued in the
    ballot's statement."""
    holder_key = data.get("holder")
    if holder_key is not None and type(holder_key) is not int:
        return None
    item = open_item(poll_id, now)
    if item is None:
        return None
    found = own_holder(item=item, actor=actor, holder_id=holder_key)
    if found is None or found[1] <= 0:
        return None
    holder_id, shares = found
    figured = _lines(item=item, shares=shares, data=data)
    if figured is None:
        return None
    lines, weight = figured
    at = timezone.now()
    stream = f"ballot:{poll_id}:holder:{holder_id}"
    # What polls.ballots._audit_ballot records for a holder's ballot of lines, with its lines.
    payload: dict[str, object] = {"poll": poll_id, "option": None, "weight": weight}
    payload.update(holder=holder_id, shares_for=None, shares_against=None, shares_abstain=None)
    payload.update(lines=lines_payload(lines))
    link = link_prepare(
        stream=stream,
        seq=1,
        action="ballot_cast",
        actor_id=actor.pk,
        actor_name=actor.get_username(),
        at=at,
        payload=payload,
        prev_hash="",
    )
    ordered = sorted(lines.items())
    chosen, tallied = _split(line_deltas({}, lines))
    chosen_arrays, tallied_arrays = _arrays(chosen, 2), _arrays(tallied, 4)
    params: dict[str, Any] = {
        "poll": poll_id,
        "kinds": array_literal(_line_kinds()),
        "now": now,
        "meeting": item.meeting_id,
        "register": item.register_id,
        "holder": holder_id,
        "actor": actor.pk,
        "shares": shares,
        "weight": weight,
        "at": at,
        "stream": stream,
        "name": actor.get_username(),
        "payload": json.dumps(payload),
        "hash": link.hash,
        "key_id": current_key()[0],
        "source": str(AttendanceSource.BALLOT),
        "line_options": array_literal(option for (option, _choice), _n in ordered),
        "line_choices": array_literal(str(choice) for (_option, choice), _n in ordered),
        "line_shares": array_literal(n for _line, n in ordered),
        # The cached ids are checked against the item's options as the ballot lands: a nominee
        # removed as the item opened sends the ballot to the general path, which refuses it,
        # rather than to a foreign key that fails at the commit of a caller's transaction.
        "line_option_count": _options_named(lines),
        "chosen_ids": chosen_arrays["ids"],
        "chosen_n": chosen_arrays["v0"],
        "chosen_w": chosen_arrays["v1"],
        **{
            f"tallied_{name}": tallied_arrays[key]
            for name, key in (("ids", "ids"), ("an", "v0"), ("aw", "v1"), ("xn", "v2"), ("xw", "v3"))
        },
        **{f"c{i}": link.share[i] for i in range(ROOT_WORDS)},
        **_confirmation(confirm, link.hash),
    }

    inserted = _run(params)
    if inserted is None:
        return None
    if confirm is not None:
        confirm.queued = True
        if inserted[1] is not None:
            send_notification_on_commit(int(inserted[1]))  # as core.notifications queues it
    ballot = Ballot(
        pk=inserted[0],
        poll_id=poll_id,
        voter=actor,
        holder_id=holder_id,
        option_id=None,
        weight=weight,
        salt="",
        cast_at=at,
        updated_at=at,
    )
    return CastResult(
        ballot=ballot, created=True, changed=False, link_hash=link.hash, detail={"lines": lines_json(lines)}
    )
