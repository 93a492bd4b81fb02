"""`python -m bench.election_cpu [rounds]`: after one `BENCH_PARTS=election make bench`, where the
machine's CPU goes per request under wrk, the bare insert view beside the thin election vote:
the gunicorn workers', PostgreSQL's (every backend of the bench database) and wrk's own, from
/proc and the children's rusage. bench.election_profile measures one process in isolation; under
32 connections PostgreSQL's share of a ballot was several times its share alone (EvalPlanQual
re-checks of the rows every ballot of the item updates), which only this shows."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.ab import query, vote
from bench.election_ab import fresh_items
from bench.run import DB_NAME, OUT, THREADS, start_gunicorn

TICK = os.sysconf("SC_CLK_TCK")
# Every backend of the bench database; listed again after a run, for the connections it opened.
BACKENDS = f"postgres: .* {DB_NAME}"


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone since it was listed
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICK


def pids(pattern: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True, check=False).stdout
    return [int(pid) for pid in out.split()]


def measure(label: str, run: Callable[[], dict[str, float]]) -> None:
    servers, backends = pids("gunicorn config.wsgi"), pids(BACKENDS)
    server_start, backend_start = cpu_seconds(servers), cpu_seconds(backends)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.time()
    result = run()
    wall = time.time() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server = cpu_seconds(servers) - server_start
    backend = cpu_seconds(pids(BACKENDS)) - backend_start
    wrk = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    per = 1000 / max(result["requests"], 1)
    print(
        f"{label}: {result['rps']:.0f}/s; CPU per request: gunicorn {server * per:.2f} ms, "
        f"PostgreSQL {backend * per:.2f} ms, wrk {wrk * per:.2f} ms; cores used {(server + backend + wrk) / wall:.2f}",
        flush=True,
    )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    tokens = OUT / "tokens.txt"
    token_count = sum(1 for _ in tokens.open())
    first_user = int(query("SELECT min(id) FROM auth_user"))
    items = fresh_items(rounds)
    stride = token_count // (THREADS * rounds)
    server = start_gunicorn()
    try:
        for r, item in enumerate(items):
            bare = f"/bench/bare-ballot/{item['bare']}/{item['bare_option']}/"
            measure("bare", lambda: vote(bare, "bare", str(first_user + 50_000 * (r + 1)), "40000"))  # noqa: B023 - called at once
            path, body = f"/api/v1/polls/{item['election']}/ballot/", json.dumps(item["body"])
            measure("thin", lambda: vote(path, "api", str(1 + r * THREADS * stride), str(stride), str(tokens), body))  # noqa: B023 - called at once
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
