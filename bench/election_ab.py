"""`python -m bench.election_ab [rounds] [--viewset] [--waits]`: after one `BENCH_PARTS=election
make bench`, repeat the ten-nominee election's vote run on its database: each round gets a fresh
election on the voters' meeting and a fresh bare-insert poll (the tokens vote once per item), and
runs the bare insert view, then the API ballot through the thin view (and, with --viewset, the
same through the viewset, in the same round). --waits samples pg_stat_activity's wait events of
the API's statements during its runs (is the vote bound by CPU, row locks or WAL?). Prints each
round's ratio and their median; writes bench/results/election-ab-<time>.json."""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

from bench.ab import VIA_VIEWSET, query, vote
from bench.run import DB_NAME, ENV, OUT, PG, PY, ROOT, THREADS, start_gunicorn

WAITS_SQL = (
    "SELECT coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, '-') FROM pg_stat_activity "  # noqa: S608 - the bench database's name
    f"WHERE datname = '{DB_NAME}' AND state = 'active' AND pid <> pg_backend_pid()"
)


def fresh_items(count: int) -> list[dict[str, Any]]:
    """`count` pairs of a new open ten-nominee election on the voters' meeting (its vote body)
    and a new bare-insert poll (its first option)."""
    code = (
        "import json; from bench.election_data import election, nominee_ids; "
        "from bench.setup_data import open_poll; from meetings.models import Meeting; "
        "m = Meeting.objects.get(title='Bench election (votes)'); out = []\n"
        f"for i in range({count}):\n"
        "    e = election(m, f'Bench A/B election {i}', allow_change=True); b = open_poll(f'Bench A/B bare {i}')\n"
        "    choices = ['for', 'for', 'against', 'for', 'abstain', 'for', 'for', 'against', 'for', 'for']\n"
        "    out.append({'election': e.pk, 'body': {'votes': dict(zip(map(str, nominee_ids(e)), choices))},\n"
        "                'bare': b.pk, 'bare_option': b.options.order_by('position').first().pk})\n"
        "print(json.dumps(out))"
    )
    out = subprocess.run([PY, "-c", code], cwd=ROOT, env=ENV, check=True, text=True, capture_output=True).stdout
    return list(json.loads(out.strip().splitlines()[-1]))


class Waits:
    """Samples the database's active statements' wait events every 0.1 s while running."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            out = subprocess.run(
                ["psql", "-qtA", f"{PG}/postgres", "-c", WAITS_SQL], check=False, text=True, capture_output=True
            ).stdout
            self.counts.update(line for line in out.splitlines() if line)
            self.samples += 1
            time.sleep(0.1)

    def __enter__(self) -> Waits:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def summary(self) -> dict[str, float]:
        """Active statements per sample, by wait event."""
        return {event: round(n / max(self.samples, 1), 2) for event, n in self.counts.most_common(8)}


def main() -> None:
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    rounds = int(args[0]) if args else 3
    with_viewset, with_waits = "--viewset" in sys.argv, "--waits" in sys.argv
    tokens = OUT / "tokens.txt"
    token_count = sum(1 for _ in tokens.open())
    first_user = int(query("SELECT min(id) FROM auth_user"))
    items = fresh_items((2 if with_viewset else 1) * rounds)
    stride_api = token_count // (THREADS * rounds)
    server = start_gunicorn()
    rows: list[dict[str, Any]] = []
    try:
        for r in range(rounds):
            item = items[r]
            first_token = str(1 + r * THREADS * stride_api)
            bare = vote(f"/bench/bare-ballot/{item['bare']}/{item['bare_option']}/", "bare", str(first_user), "40000")
            row: dict[str, Any] = {"bare": bare}
            waits = Waits()
            with waits if with_waits else contextlib.nullcontext():
                row["thin"] = vote(
                    f"/api/v1/polls/{item['election']}/ballot/", "api", first_token, str(stride_api), str(tokens),
                    json.dumps(item["body"]),
                )  # fmt: skip
            row["thin_waits"] = waits.summary()
            if with_viewset:
                other = items[rounds + r]
                row["viewset"] = vote(
                    f"/api/v1/polls/{other['election']}/ballot/", "api", first_token, str(stride_api), str(tokens),
                    json.dumps(other["body"]), header=VIA_VIEWSET,
                )  # fmt: skip
            rows.append(row)
            line = (
                f"round {r + 1}: bare {bare['rps']:.0f}/s; election thin {row['thin']['rps']:.0f}/s "
                f"= {row['thin']['rps'] / bare['rps']:.2f} (p99 {row['thin']['p99']:.0f} ms, "
                f"non2xx {row['thin']['non2xx']:.0f})"
            )
            if with_viewset:
                line += f"; viewset {row['viewset']['rps']:.0f}/s = {row['viewset']['rps'] / bare['rps']:.2f}"
            print(line, flush=True)
            if with_waits:
                print(f"   waits per sample: {row['thin_waits']}", flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    ratios = [row["thin"]["rps"] / row["bare"]["rps"] for row in rows]
    low, high = min(ratios), max(ratios)
    print(f"election thin / bare: median {statistics.median(ratios):.2f} (min {low:.2f}, max {high:.2f})")
    out = OUT / f"election-ab-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"rounds": rows}, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
