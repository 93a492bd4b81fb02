"""The first ballot of a public poll in one round trip (PostgreSQL). It must do exactly
what the general path in polls/ballots.py does for the same case; tests/polls/test_fastpath.py
runs both on the same cases."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection

from core.audit import ROOT_WORDS, current_key, link_prepare
from core.prepared import array_literal, first_row_of_two
from polls import kinds, lifecycle, secrecy
from polls.ballots import CastResult
from polls.models import Ballot

# Two statements in one round trip and one transaction (core.prepared.first_row_of_two), each
# prepared once per connection. The first: the poll is read under the same key-share lock as
# the general path (so a close waits for it), the option must belong to that poll, the unique
# index decides whether this is a first ballot, and the audit chain's first link, its head and
# its share of the root (folded into a shard no one else holds; core/audit.py) are written only
# if the ballot was. With every root shard busy the link gets no place (NULL), the statement
# fails and the general path waits for one. A voter whose chain already has links (they withdrew
# before) is left to the general path, which appends. Whether the poll is open now is
# OPEN_NOW_SQL, made from the lifecycle table as Poll.effective_status is. The second moves the
# option's counter, only if the first inserted the ballot (it says so with this attempt's salt,
# random each time, in a setting local to the transaction).
#
# Why the counter is not in the first: every voter of an option updates its row, and PostgreSQL
# re-checks a row another transaction updated since the statement began (EvalPlanQual) by
# setting up every clause of the statement again; in the short second statement that costs
# little (meetings/ballot_fastpath.py measured it for the election ballot). Like the general
# path, the trail's root shard is taken before the counter row.


def window_sql(conditions: Iterable[lifecycle.WindowCondition], *, now: str = "%(now)s") -> str:
    """Conditions on the stored status and the window (polls.lifecycle) as SQL on polls_poll's
    columns, compared with the parameter `now`. The statuses and columns are the lifecycle's
    own names, never a caller's text."""
    parts = []
    for condition in conditions:
        terms = [f"status = '{condition.status.value}'"]
        if condition.since is not None:
            terms.append(f"{condition.since.value} <= {now}")
        if condition.until is not None:
            terms.append(f"{condition.until.value} > {now}")
        parts.append("(" + " AND ".join(terms) + ")")
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


OPEN_NOW_SQL = window_sql(lifecycle.effective_status_conditions(lifecycle.Status.OPEN))

FIRST_BALLOT_SQL = f"""
WITH poll AS (
    SELECT id, secret FROM polls_poll
    WHERE id = %(poll)s::bigint AND kind = ANY(%(kinds)s::text[])
      AND {OPEN_NOW_SQL}
    FOR KEY SHARE
), chosen AS (
    SELECT o.id, poll.secret FROM polls_option o JOIN poll ON o.poll_id = poll.id
    WHERE o.id = %(option)s::bigint AND NOT EXISTS (SELECT 1 FROM core_audithead WHERE stream = %(stream)s::text)
), ballot AS (
    INSERT INTO polls_ballot (poll_id, voter_id, option_id, weight, salt, cast_at, updated_at)
    SELECT %(poll)s::bigint, %(voter)s::bigint, chosen.id, 1, CASE WHEN chosen.secret THEN %(salt)s::text ELSE '' END,
        %(now)s, %(now)s
    FROM chosen
    ON CONFLICT (poll_id, voter_id) WHERE holder_id IS NULL DO NOTHING
    RETURNING id, salt
), link_content AS (
    SELECT v.* FROM ballot JOIN (VALUES
        (false, %(payload)s::jsonb, %(hash)s::text, %(c0)s::bigint, %(c1)s::bigint, %(c2)s::bigint, %(c3)s::bigint),
        (true, %(secret_payload)s::jsonb, %(secret_hash)s::text, %(s0)s::bigint, %(s1)s::bigint, %(s2)s::bigint,
            %(s3)s::bigint)
    ) AS v (secret, payload, hash, c0, c1, c2, c3) ON v.secret = (ballot.salt <> '')
), root AS (
    UPDATE core_auditroot r SET n = r.n + 1, a0 = r.a0 # l.c0, a1 = r.a1 # l.c1, a2 = r.a2 # l.c2, a3 = r.a3 # l.c3
    FROM link_content l
    WHERE r.shard = (SELECT shard FROM core_auditroot ORDER BY shard LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING r.shard, r.n
), link AS (
    INSERT INTO core_auditevent
        (stream, seq, action, actor_id, actor_name, at, payload, prev_hash, key_id, hash, root_shard, root_n)
    SELECT %(stream)s::text, 1, 'ballot_cast', %(voter)s::bigint, %(name)s::text, %(now)s, l.payload, '',
        %(key_id)s::text, l.hash, root.shard, root.n
    FROM link_content l LEFT JOIN root ON true
), head AS (
    INSERT INTO core_audithead (stream, seq, hash) SELECT %(stream)s::text, 1, hash FROM link_content
)
SELECT id, salt, set_config('quorum.fast_ballot', %(salt)s::text, true) FROM ballot
"""  # noqa: S608 - OPEN_NOW_SQL holds the lifecycle's own status values and column names

FIRST_BALLOT_COUNTER_SQL = """
UPDATE polls_option SET votes = votes + 1, weight = weight + 1
WHERE id = %(option)s::bigint AND current_setting('quorum.fast_ballot', true) = %(salt)s::text
"""


def first_ballot_in_one_trip(*, poll_id: int, actor: User, option_id: int, now: datetime.datetime) -> CastResult | None:
    stream = f"ballot:{poll_id}:voter:{actor.pk}"
    # Whether the poll is secret is read by the statement itself; both links are prepared.
    salt = secrecy.new_salt()
    payload = secrecy.public_ballot_payload(poll_id=poll_id, option_id=option_id, weight=1, secret=False, salt="")
    secret_payload = secrecy.public_ballot_payload(
        poll_id=poll_id, option_id=option_id, weight=1, secret=True, salt=salt
    )
    link, secret_link = (
        link_prepare(
            stream=stream,
            seq=1,
            action="ballot_cast",
            actor_id=actor.pk,
            actor_name=actor.get_username(),
            at=now,
            payload=content,
            prev_hash="",
        )
        for content in (payload, secret_payload)
    )
    params: dict[str, Any] = {
        "poll": poll_id,
        "kinds": array_literal(kinds.kinds_where(lambda form: form.option_ballots)),  # whose ballot names one option
        "option": option_id,
        "voter": actor.pk,
        "now": now,
        "stream": stream,
        "name": actor.get_username(),
        "payload": json.dumps(payload),
        "hash": link.hash,
        "key_id": current_key()[0],
        "salt": salt,
        "secret_payload": json.dumps(secret_payload),
        "secret_hash": secret_link.hash,
        **{f"c{i}": link.share[i] for i in range(ROOT_WORDS)},
        **{f"s{i}": secret_link.share[i] for i in range(ROOT_WORDS)},
    }

    try:
        inserted = first_row_of_two(connection, FIRST_BALLOT_SQL, FIRST_BALLOT_COUNTER_SQL, params)
    except IntegrityError:
        return None  # e.g. a link raced into the chain: the general path sorts it out
    if inserted is None:
        return None
    ballot = Ballot(
        pk=inserted[0],
        poll_id=poll_id,
        voter=actor,
        option_id=option_id,
        weight=1,
        salt=inserted[1],
        cast_at=now,
        updated_at=now,
    )
    # The statement chose the secret link when it stored a salt: that link's hash is the receipt.
    link_hash = secret_link.hash if inserted[1] else link.hash
    return CastResult(ballot=ballot, created=True, changed=False, link_hash=link_hash)
