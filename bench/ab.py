"""`python -m bench.ab [rounds]`: after one `make bench`, repeat the vote and results runs on its
database, with the thin views and through the viewset in the same rounds, interleaved, so a
noisy machine moves both sides alike. Each round gets fresh polls (the tokens vote once per poll).
Prints each round's ratios, their medians and spread; writes bench/results/ab-<time>.json."""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.run import CONNECTIONS, DB_NAME, ENV, OUT, PG, PORT, PY, ROOT, THREADS, start_gunicorn, wrk

VOTE_SECONDS, READ_SECONDS = 6, 4
# An Accept the viewset answers with JSON all the same, but the thin views leave to it.
VIA_VIEWSET = "Accept: application/json, */*"


def query(sql: str) -> str:
    return subprocess.run(
        ["psql", "-qtA", f"{PG}/{DB_NAME}", "-c", sql], check=True, text=True, capture_output=True
    ).stdout.strip()


def fresh_polls(count: int) -> list[tuple[int, int]]:
    """(poll, its first option) for `count` new open polls."""
    code = (
        "import json; from bench.setup_data import open_poll; "
        f"polls = [open_poll('Bench A/B {{}}'.format(i), allow_change=True) for i in range({count})]; "
        "print(json.dumps([[p.pk, p.options.order_by('position').first().pk] for p in polls]))"
    )
    out = subprocess.run([PY, "-c", code], cwd=ROOT, env=ENV, check=True, text=True, capture_output=True).stdout
    return [tuple(pair) for pair in json.loads(out.strip().splitlines()[-1])]


def vote(path: str, *args: str, header: str | None = None) -> dict[str, float]:
    return wrk_with(path, VOTE_SECONDS, "vote.lua", header, *args)


def wrk_with(path: str, seconds: int, script: str, header: str | None, *args: str) -> dict[str, float]:
    if header is None:
        return wrk(path, seconds, script, *args)
    # bench.run.wrk has no header option: the same command with -H.
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s", "-H", header]
    command += ["-s", str(ROOT / "bench" / script), f"http://127.0.0.1:{PORT}{path}"]
    if args:
        command += ["--", *args]
    output = subprocess.run(command, cwd=ROOT, env=ENV, check=True, text=True, capture_output=True).stdout
    match = re.search(r"RESULT (.*)", output)
    assert match, output
    return {key: float(value) for key, value in (pair.split("=") for pair in match.group(1).split())}


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f})"


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    tokens = OUT / "tokens.txt"
    token_count = sum(1 for _ in tokens.open())
    first_user = int(query("SELECT min(id) FROM auth_user WHERE username LIKE 'bench%'"))
    large = int(query("SELECT id FROM polls_poll WHERE title = 'Bench: 1,000,000 ballots'"))
    polls = fresh_polls(3 * rounds)
    stride_api = token_count // (THREADS * rounds)
    stride_bare = 40_000
    server = start_gunicorn()
    rows: list[dict[str, Any]] = []
    try:
        for r in range(rounds):
            (bare_poll, bare_option), (thin_poll, thin_option), (full_poll, full_option) = polls[3 * r : 3 * r + 3]
            first_token = str(1 + r * THREADS * stride_api)
            bare = vote(f"/bench/bare-ballot/{bare_poll}/{bare_option}/", "bare", str(first_user), str(stride_bare))
            thin = vote(
                f"/api/v1/polls/{thin_poll}/ballot/", "api", first_token, str(stride_api), str(tokens),
                json.dumps({"option": thin_option}),
            )  # fmt: skip
            full = vote(
                f"/api/v1/polls/{full_poll}/ballot/", "api", first_token, str(stride_api), str(tokens),
                json.dumps({"option": full_option}), header=VIA_VIEWSET,
            )  # fmt: skip
            counters = wrk(f"/bench/counters/{large}/", READ_SECONDS, "read.lua")
            thin_read = wrk(f"/api/v1/polls/{large}/results/", READ_SECONDS, "read.lua")
            full_read = wrk_with(f"/api/v1/polls/{large}/results/", READ_SECONDS, "read.lua", VIA_VIEWSET)
            row = {
                "bare": bare, "vote_thin": thin, "vote_viewset": full,
                "counters": counters, "results_thin": thin_read, "results_viewset": full_read,
            }  # fmt: skip
            rows.append(row)
            print(
                f"round {r + 1}: vote thin {thin['rps'] / bare['rps']:.2f} (p99 {thin['p99']:.0f} ms), "
                f"viewset {full['rps'] / bare['rps']:.2f} (p99 {full['p99']:.0f} ms), bare {bare['rps']:.0f}/s; "
                f"results thin {thin_read['rps'] / counters['rps']:.2f}, "
                f"viewset {full_read['rps'] / counters['rps']:.2f}, counters {counters['rps']:.0f}/s; "
                f"errors {thin['non2xx'] + full['non2xx'] + thin_read['non2xx'] + full_read['non2xx']:.0f}",
                flush=True,
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    summary = {
        "vote_thin": spread([row["vote_thin"]["rps"] / row["bare"]["rps"] for row in rows]),
        "vote_viewset": spread([row["vote_viewset"]["rps"] / row["bare"]["rps"] for row in rows]),
        "vote_thin_p99_ms": spread([row["vote_thin"]["p99"] for row in rows]),
        "vote_viewset_p99_ms": spread([row["vote_viewset"]["p99"] for row in rows]),
        "results_thin": spread([row["results_thin"]["rps"] / row["counters"]["rps"] for row in rows]),
        "results_viewset": spread([row["results_viewset"]["rps"] / row["counters"]["rps"] for row in rows]),
    }
    for name, text in summary.items():
        print(f"{name:<22} {text}")
    out = OUT / f"ab-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"rounds": rows, "summary": summary}, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
