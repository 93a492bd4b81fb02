"""Measurements taken inside one process against the bench database: page render time and
query counts at 1,000,000 ballots, certification against a raw GROUP BY, and the check that
the load left exactly the ballots it was told were stored."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from polls import certification  # noqa: E402
from polls.models import Ballot, Poll  # noqa: E402


def median_ms(run: Callable[[], object], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def page(client: Client, path: str) -> dict[str, float]:
    def get() -> None:
        response = client.get(path, secure=True)
        assert response.status_code == 200, (path, response.status_code)

    get()  # warm: templates compiled, connection open
    with CaptureQueriesContext(connection) as queries:
        get()
    return {"ms": round(median_ms(get, 30), 2), "queries": len(queries)}


def raw_group_by(poll_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT option_id, count(*), sum(weight) FROM polls_ballot WHERE poll_id = %s GROUP BY option_id",
            [poll_id],
        )
        cursor.fetchall()


def main() -> None:
    ids = json.loads(sys.argv[1])
    stored_2xx = int(sys.argv[2])
    client = Client()
    client.force_login(get_user_model().objects.get(pk=ids["first_user"]))
    item = Poll.objects.get(pk=ids["item"])
    results: dict[str, object] = {
        "poll_page_1m": page(client, f"/polls/{ids['large_poll']}/"),
        "poll_results_page_1m": page(client, f"/polls/{ids['large_poll']}/results/"),
        "item_results_page_1m": page(client, f"/polls/{ids['item']}/results/"),
        "meeting_page_1m": page(client, f"/meetings/{ids['meeting']}/"),
    }
    raw_group_by(item.pk)  # warm the cache for both sides alike
    group_by_ms = median_ms(lambda: raw_group_by(item.pk), 3)
    recount_ms = median_ms(lambda: certification.poll_recount(poll=item), 3)
    start = time.perf_counter()
    certification.poll_certify(poll=item, actor=get_user_model().objects.get(pk=ids["first_user"]))
    certify_ms = (time.perf_counter() - start) * 1000
    results["certification"] = {
        "certify_ms": round(certify_ms, 1),
        "recount_ms": round(recount_ms, 1),
        "group_by_ms": round(group_by_ms, 1),
        "item_ballots": Ballot.objects.filter(poll=item).count(),
    }
    api_poll = Poll.objects.get(pk=ids["api_poll"])
    results["vote_integrity"] = {
        "responses_2xx": stored_2xx,
        "ballots_stored": Ballot.objects.filter(poll=api_poll).count(),
        "totals_equal_recount": all(line.matches for line in certification.poll_recount(poll=api_poll)),
    }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
