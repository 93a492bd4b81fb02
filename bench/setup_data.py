"""Build the benchmark's data in PostgreSQL with set-based SQL: a million accounts, polls at
1,000 and 1,000,000 ballots, and a shareholder item whose million holders all voted.
Prints a JSON object of the ids the load runs need."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import sys
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from core.models import ApiToken  # noqa: E402
from meetings import meeting_services  # noqa: E402
from meetings.models import RegisterSnapshot  # noqa: E402
from polls import services  # noqa: E402
from polls.models import Option, Poll  # noqa: E402

USERS = int(os.environ.get("BENCH_USERS", "1000000"))
TOKENS = int(os.environ.get("BENCH_TOKENS", "60000"))


def sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def make_accounts() -> tuple[int, int]:
    sql(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
        "is_active, date_joined) SELECT '!', false, 'bench' || g, '', '', 'bench' || g || '@example.com', false, "
        "true, now() FROM generate_series(1, %s) AS g",
        [USERS],
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM auth_user WHERE username LIKE 'bench%%'")
        first, last = cursor.fetchone()
    # Tokens for the API voters: the last TOKENS accounts, so the bare view's voters never clash.
    # The key is derived from the id (bench.run derives it again); each row is sealed as
    # core.services.api_token_issue seals it for a shareholder (keyed by SECRET_KEY, so SQL
    # alone cannot mint one): issued without a code, so each request asks whether the account
    # needs one.
    now = timezone.now()
    users = User.objects.filter(pk__gt=last - TOKENS, pk__lte=last).only("pk", "password")
    ApiToken.objects.bulk_create(
        (
            ApiToken.sealed(
                user=user,
                key=hashlib.sha256(f"bench-{user.pk}".encode()).hexdigest()[:40],
                otp_verified=False,
                created_at=now,
                expires_at=now + datetime.timedelta(days=30),
            )
            for user in users.iterator(chunk_size=5000)
        ),
        batch_size=5000,
    )
    return first, last


def open_poll(title: str, **fields: object) -> Poll:
    now = timezone.now()
    poll = services.poll_create(
        title=title,
        options=["Yes", "No"],
        opens_at=now - datetime.timedelta(hours=1),
        closes_at=now + datetime.timedelta(days=1),
        actor=None,
        **fields,  # type: ignore[arg-type]
    )
    return services.poll_open(poll=poll)


def fill_ballots(poll: Poll, first_user: int, count: int) -> None:
    yes, no = Option.objects.filter(poll=poll).order_by("position").values_list("pk", flat=True)
    sql(
        "INSERT INTO polls_ballot (poll_id, voter_id, option_id, weight, cast_at, updated_at) "
        "SELECT %s, u, CASE WHEN u %% 3 = 0 THEN %s ELSE %s END, 1, now(), now() "
        "FROM generate_series(%s, %s) AS u",
        [poll.pk, no, yes, first_user, first_user + count - 1],
    )
    sync_counters(poll)


def sync_counters(poll: Poll) -> None:
    sql(
        "UPDATE polls_option o SET votes = c.n, weight = c.w FROM (SELECT option_id, count(*) AS n, sum(weight) AS w "
        "FROM polls_ballot WHERE poll_id = %s GROUP BY option_id) c WHERE o.id = c.option_id",
        [poll.pk],
    )
    sql("ANALYZE polls_ballot")


def shareholder_item(register: RegisterSnapshot, voter_id: int) -> Poll:
    meeting = meeting_services.meeting_create(
        title="Bench meeting", date=datetime.date(2025, 11, 6), register=register, actor=None
    )
    now = timezone.now()
    item = meeting_services.item_create(
        meeting=meeting,
        title="Bench item",
        standard="present_and_entitled",
        opens_at=now - datetime.timedelta(hours=1),
        closes_at=now + datetime.timedelta(days=1),
        results_visibility="live",
        actor=None,
    )
    services.poll_open(poll=item)
    options = dict(Option.objects.filter(poll=item).values_list("code", "pk"))
    sql(
        "INSERT INTO polls_ballot (poll_id, voter_id, holder_id, option_id, weight, shares_for, shares_against, "
        "shares_abstain, cast_at, updated_at) SELECT %s, %s, h.id, CASE h.id %% 3 WHEN 0 THEN %s WHEN 1 THEN %s "
        "ELSE %s END, h.shares, CASE WHEN h.id %% 3 = 0 THEN h.shares ELSE 0 END, CASE WHEN h.id %% 3 = 1 THEN "
        "h.shares ELSE 0 END, CASE WHEN h.id %% 3 = 2 THEN h.shares ELSE 0 END, now(), now() FROM meetings_holder h "
        "WHERE h.register_id = %s AND h.shares > 0",
        [item.pk, voter_id, options["for"], options["against"], options["abstain"], register.pk],
    )
    for code, column in (("for", "shares_for"), ("against", "shares_against"), ("abstain", "shares_abstain")):
        sql(
            f"UPDATE polls_option SET votes = (SELECT count(*) FROM polls_ballot WHERE poll_id = %s AND {column} > 0), "  # noqa: S608
            f"weight = (SELECT coalesce(sum({column}), 0) FROM polls_ballot WHERE poll_id = %s) WHERE id = %s",
            [item.pk, item.pk, options[code]],
        )
    sql(
        "UPDATE polls_poll SET ballot_count = (SELECT count(*) FROM polls_ballot WHERE poll_id = %s) WHERE id = %s",
        [item.pk, item.pk],
    )
    sql("ANALYZE polls_ballot")
    return services.poll_close(poll=item)


def main() -> None:
    """The accounts always (the bare view's voters and the API's tokens); the polls and the item
    when BENCH_PARTS has "core" (bench.run passes its environment on)."""
    register_id = int(sys.argv[1])
    with transaction.atomic():
        first, last = make_accounts()
        ids: dict[str, int] = {"first_user": first, "last_user": last, "tokens_from": last - TOKENS + 1}
        if "core" in os.environ.get("BENCH_PARTS", "core,election").replace(" ", "").split(","):
            ids.update(make_polls(register_id, first))
    print(json.dumps(ids))


def make_polls(register_id: int, first: int) -> dict[str, int]:
    api_poll = open_poll("Bench: API votes", allow_change=True)
    bare_poll = open_poll("Bench: bare inserts")
    small = open_poll("Bench: 1,000 ballots")
    large = open_poll("Bench: 1,000,000 ballots")
    fill_ballots(small, first, 1000)
    fill_ballots(large, first, min(USERS, 1_000_000))
    item = shareholder_item(RegisterSnapshot.objects.get(pk=register_id), first)
    assert item.meeting_id is not None  # an item belongs to its meeting
    return {
        "api_poll": api_poll.pk,
        "api_option": api_poll.options.order_by("position").values_list("pk", flat=True)[0],
        "bare_poll": bare_poll.pk,
        "bare_option": bare_poll.options.order_by("position").values_list("pk", flat=True)[0],
        "small_poll": small.pk,
        "large_poll": large.pk,
        "item": item.pk,
        "meeting": item.meeting_id,
    }


if __name__ == "__main__":
    main()
