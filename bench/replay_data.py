"""The X poll replay's data (bench/replay.py): a million accounts, a token for each of the
replay's voters, the open poll they vote on, and polls already holding 1,000, 100,000 and
1,000,000 ballots for the results-as-work-grows runs. Prints the ids as JSON."""

from __future__ import annotations

import json
import os
import sys

ballots = int(sys.argv[1])
# bench.setup_data reads its sizes when imported: every account that votes needs a token.
os.environ["BENCH_USERS"] = str(max(ballots, 1_000_000))
os.environ["BENCH_TOKENS"] = str(ballots)

from django.db import transaction  # noqa: E402

from bench.setup_data import fill_ballots, make_accounts, open_poll  # noqa: E402
from polls.models import Option  # noqa: E402

SIZES = {"1k": 1_000, "100k": 100_000, "1m": 1_000_000}


def main() -> None:
    with transaction.atomic():
        first, last = make_accounts()
        replay = open_poll("Should Tesla invest $5B in xAI?", results_visibility="live")
        yes, no = Option.objects.filter(poll=replay).order_by("position").values_list("pk", flat=True)
        ids: dict[str, int] = {"tokens_from": last - ballots + 1, "poll": replay.pk, "yes": yes, "no": no}
        for name, size in SIZES.items():
            poll = open_poll(f"Results at {size:,} ballots", results_visibility="live")
            fill_ballots(poll, first, size)
            ids[f"results_{name}"] = poll.pk
    print(json.dumps(ids))


if __name__ == "__main__":
    main()
