"""Build the election benchmark's data (issue 14): a ten-nominee election whose voters are the
API's token accounts (each the one holder of a small register), a fresh bare-insert poll for
the baseline beside it, and ten-nominee elections at 1,000 and 1,000,000 ballots on the big
register, their ballots, lines, nominee tallies and counters written by set-based SQL and
consistent with one another as the ballot service would leave them.
`python -m bench.election_data <register id> <first token user> <last user>`; prints JSON."""

from __future__ import annotations

import datetime
import io
import json
import os
import sys
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.setup_data import open_poll, sql  # noqa: E402
from meetings import meeting_services  # noqa: E402
from meetings.ballot_services import annual_item_create  # noqa: E402
from meetings.models import Meeting, RegisterSnapshot  # noqa: E402
from meetings.register_import import register_import  # noqa: E402
from polls import services  # noqa: E402
from polls.models import Poll  # noqa: E402

NOMINEES = [f"Nominee {i:02d}" for i in range(1, 11)]
LARGE = int(os.environ.get("BENCH_ELECTION_BALLOTS", "1000000"))
SMALL = 1000
# A ballot's choice on a nominee, from (ballot id + nominee position) mod 10: mostly for.
CHOICE_SQL = "CASE WHEN (b.id + o.position) %% 10 < 6 THEN 'for' WHEN (b.id + o.position) %% 10 < 9 THEN 'against' ELSE 'abstain' END"  # noqa: E501


def election(meeting: Meeting, title: str, **fields: Any) -> Poll:
    now = timezone.now()
    poll = annual_item_create(
        meeting=meeting,
        kind="election",
        title=title,
        nominees=NOMINEES,
        seats=8,
        election_standard="majority",
        opens_at=now - datetime.timedelta(hours=1),
        closes_at=now + datetime.timedelta(days=1),
        actor=None,
        **fields,
    )
    return services.poll_open(poll=poll)


def voters_register(first_token_user: int, last_user: int) -> RegisterSnapshot:
    """One holder per token account (account E<user id>), linked to it as a claim would."""
    rows = ["holder,name,email,shares"]
    rows += [f"E{u},Voter {u},voter{u}@example.com,{100 + u % 900}" for u in range(first_token_user, last_user + 1)]
    register = register_import(
        source=io.BytesIO(("\n".join(rows) + "\n").encode()),
        record_date=datetime.date(2025, 9, 15),
        shares_outstanding=100_000_000,
        actor=None,
        source_name="bench-election-voters.csv",
    )
    sql(
        "UPDATE meetings_holder SET user_id = CAST(substr(account, 2) AS bigint) WHERE register_id = %s",
        [register.pk],
    )
    return register


def fill_election(poll: Poll, register: RegisterSnapshot, voter_id: int, count: int) -> None:
    """`count` ballots from the register's first holders, a line on every nominee each, then
    every running total the service keeps: the options' `for`, the tallies' against and
    abstain, the shares voted and the ballot count."""
    sql(
        "INSERT INTO polls_ballot (poll_id, voter_id, holder_id, option_id, weight, cast_at, updated_at) "
        "SELECT %s, %s, h.id, NULL, h.shares, now(), now() FROM meetings_holder h "
        "WHERE h.register_id = %s AND h.shares > 0 ORDER BY h.id LIMIT %s",
        [poll.pk, voter_id, register.pk, count],
    )
    sql(
        "INSERT INTO meetings_ballotline (ballot_id, option_id, choice, shares) "  # noqa: S608
        f"SELECT b.id, o.id, {CHOICE_SQL}, b.weight FROM polls_ballot b JOIN polls_option o ON o.poll_id = b.poll_id "
        "WHERE b.poll_id = %s",
        [poll.pk],
    )
    lines = (
        "SELECT l.option_id, l.choice, count(*) AS n, sum(l.shares) AS w FROM meetings_ballotline l "
        "JOIN polls_ballot b ON b.id = l.ballot_id WHERE b.poll_id = %s GROUP BY l.option_id, l.choice"
    )
    sql(
        f"UPDATE polls_option o SET votes = c.n, weight = c.w FROM ({lines}) c "  # noqa: S608
        "WHERE o.id = c.option_id AND c.choice = 'for'",
        [poll.pk],
    )
    for choice in ("against", "abstain"):
        sql(
            f"UPDATE meetings_nomineetally t SET {choice}_ballots = c.n, {choice}_shares = c.w FROM ({lines}) c "  # noqa: S608
            "WHERE t.option_id = c.option_id AND c.choice = %s",
            [poll.pk, choice],
        )
    sql(
        "UPDATE meetings_itemterms SET shares_voted = (SELECT coalesce(sum(weight), 0) FROM polls_ballot "
        "WHERE poll_id = %s) WHERE poll_id = %s",
        [poll.pk, poll.pk],
    )
    sql(
        "UPDATE polls_poll SET ballot_count = (SELECT count(*) FROM polls_ballot WHERE poll_id = %s) WHERE id = %s",
        [poll.pk, poll.pk],
    )


def nominee_ids(poll: Poll) -> list[int]:
    return list(poll.options.order_by("position").values_list("pk", flat=True))


def main() -> None:
    register_id, first_token_user, last_user = (int(arg) for arg in sys.argv[1:4])
    big = RegisterSnapshot.objects.get(pk=register_id)
    with transaction.atomic():
        voters = voters_register(first_token_user, last_user)
        vote_meeting = meeting_services.meeting_create(
            title="Bench election (votes)", date=datetime.date(2025, 11, 6), register=voters, actor=None
        )
        vote_poll = election(vote_meeting, "Bench: election API votes", allow_change=True)
        bare = open_poll("Bench: bare inserts beside the election")
        results_meeting = meeting_services.meeting_create(
            title="Bench election (results)", date=datetime.date(2025, 11, 6), register=big, actor=None
        )
        small = election(results_meeting, "Bench: election at 1,000 ballots", results_visibility="live")
        large = election(results_meeting, "Bench: election at 1,000,000 ballots", results_visibility="live")
        fill_election(small, big, first_token_user, SMALL)
        fill_election(large, big, first_token_user, LARGE)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE polls_ballot")
        cursor.execute("ANALYZE meetings_ballotline")
    choices = ["for", "for", "against", "for", "abstain", "for", "for", "against", "for", "for"]
    print(
        json.dumps(
            {
                "election_api_poll": vote_poll.pk,
                "election_votes_body": {"votes": dict(zip(map(str, nominee_ids(vote_poll)), choices, strict=True))},
                "election_bare_poll": bare.pk,
                "election_bare_option": bare.options.order_by("position").values_list("pk", flat=True)[0],
                "election_small": small.pk,
                "election_large": large.pk,
            }
        )
    )


if __name__ == "__main__":
    main()
