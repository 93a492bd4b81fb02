"""`make bench-replay`: the X poll's 958,086 ballots, each from its own account, through the real
API (`POST /api/v1/polls/{id}/ballot/` with a token) at 32 connections, 67.9% Yes, against
gunicorn with production settings on a fresh PostgreSQL database. Prints the time, the sustained
rate, p50/p99, the vote rate and each worker's memory as the poll grows (1k, 100k, the end), the
results rate on polls of 1,000, 100,000 and 1,000,000 ballots, and the final counts checked
against a recount and the audit trail. BENCH_REPLAY_BALLOTS makes a shorter run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("BENCH_DB", "quorum_replay")
os.environ.setdefault("BENCH_PORT", "8078")

from bench.run import (
    BENCH,
    CONNECTIONS,
    DB_NAME,
    ENV,
    OUT,
    PG,
    PORT,
    PY,
    READ_SECONDS,
    THREADS,
    psql,
    recreate_database,
    run,
    start_gunicorn,
    step,
    wrk,
)

BALLOTS = int(os.environ.get("BENCH_REPLAY_BALLOTS", "958086"))
YES_PER_1000 = 679
GOAL_RATE = 800  # ballots/s: the X poll in under 20 minutes
MILESTONES = (1_000, 100_000)


def expected_yes(total: int) -> int:
    """As bench/replay.lua chooses: ballot n is Yes when (n * 7919) mod 1000 < 679."""
    return sum(1 for n in range(1, total + 1) if (n * 7919) % 1000 < YES_PER_1000)


def query(sql: str) -> list[str]:
    out = run("psql", "-qtA", f"{PG}/{DB_NAME}", "-c", sql, capture=True)
    return [line for line in out.splitlines() if line]


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory of each gunicorn worker (the master's children)."""
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True, check=False).stdout.split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        sizes.append(round(kb / 1024, 1))
    return sizes


@dataclass
class Progress:
    """Counts read from the poll's option counters once a second while the replay runs."""

    poll: int
    master: int
    samples: list[tuple[float, int]] = field(default_factory=list)
    memory: dict[str, list[float]] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def count(self) -> int:
        return int(query(f"SELECT coalesce(sum(votes), 0) FROM polls_option WHERE poll_id = {self.poll}")[0])  # noqa: S608

    def watch(self) -> None:
        pending = list(MILESTONES)
        while not self.stop.is_set():
            counted = self.count()
            self.samples.append((time.perf_counter(), counted))
            while pending and counted >= pending[0]:
                self.memory[f"{pending.pop(0):,}"] = worker_rss_mb(self.master)
            self.stop.wait(1.0)

    def rate_between(self, low: int, high: int) -> float | None:
        """Ballots per second from the first sample at `low` ballots to the first at `high`."""
        first = next(((t, n) for t, n in self.samples if n >= low), None)
        last = next(((t, n) for t, n in self.samples if n >= high), None)
        if first is None or last is None or last[0] <= first[0]:
            return None
        return (last[1] - first[1]) / (last[0] - first[0])


def replay(ids: dict[str, Any], tokens: Path, master: int) -> dict[str, Any]:
    progress = Progress(poll=ids["poll"], master=master)
    watcher = threading.Thread(target=progress.watch, daemon=True)
    watcher.start()
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", "-d3600s", "--timeout", "5s", "-s", str(BENCH / "replay.lua")]
    command += [f"http://127.0.0.1:{PORT}/api/v1/polls/{ids['poll']}/ballot/"]
    command += ["--", str(tokens), str(BALLOTS), str(ids["yes"]), str(ids["no"]), str(THREADS)]
    started = time.perf_counter()
    load = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, text=True)
    # Each wrk thread stops once its share is sent, but wrk itself waits out -d: stop it (SIGINT
    # prints its summary) once every ballot is counted or the count has not moved for 15 s.
    last_move, last_count = time.perf_counter(), -1
    while load.poll() is None:
        time.sleep(1.0)
        counted = progress.samples[-1][1] if progress.samples else 0
        if counted != last_count:
            last_move, last_count = time.perf_counter(), counted
        if counted >= BALLOTS or time.perf_counter() - last_move > 15:
            load.send_signal(signal.SIGINT)
            break
    output, _ = load.communicate(timeout=60)
    progress.stop.set()
    watcher.join(timeout=10)
    finished = next((t for t, n in progress.samples if n >= progress.samples[-1][1]), time.perf_counter())
    summary = next(line for line in output.splitlines() if line.startswith("RESULT "))
    latency = {key: float(value) for key, value in (pair.split("=") for pair in summary.split()[1:])}
    progress.memory["end"] = worker_rss_mb(master)
    return {
        "seconds": finished - started,
        "counted": progress.samples[-1][1],
        "p50_ms": latency["p50"],
        "p99_ms": latency["p99"],
        "non2xx": latency["non2xx"],
        "socket_errors": latency["socket"],
        # The vote rate near each point, over the next 5,000 ballots (the last tenth at the end).
        "rate_at": {f"{m:,}": progress.rate_between(m, m + 5_000) for m in MILESTONES}
        | {"end": progress.rate_between(BALLOTS * 9 // 10, BALLOTS)},
        "samples": progress.samples,
        "memory_mb": progress.memory,
    }


def results_growth(ids: dict[str, Any]) -> dict[str, float]:
    """Anonymous results reads of polls holding 1k, 100k and 1M ballots, interleaved twice."""
    rates: dict[str, list[float]] = {name: [] for name in ("1k", "100k", "1m")}
    for _ in range(2):
        for name in rates:
            measured = wrk(f"/api/v1/polls/{ids[f'results_{name}']}/results/", READ_SECONDS, "read.lua")
            rates[name].append(measured["rps"])
    return {name: max(values) for name, values in rates.items()}


def checked(ids: dict[str, Any]) -> dict[str, Any]:
    """The stored ballots against the running totals and the choices sent, and the audit trail."""
    poll = int(ids["poll"])
    # The results polls' ballots were written by SQL, with no trail: gone before the trail is checked.
    filled = ", ".join(str(int(ids[f"results_{name}"])) for name in ("1k", "100k", "1m"))
    psql(
        f"DELETE FROM polls_ballot WHERE poll_id IN ({filled})",  # noqa: S608 - ints
        f"UPDATE polls_option SET votes = 0, weight = 0 WHERE poll_id IN ({filled})",  # noqa: S608 - ints
    )
    recount = dict(
        line.split("|")
        for line in query(f"SELECT option_id, count(*) FROM polls_ballot WHERE poll_id = {poll} GROUP BY option_id")  # noqa: S608
    )
    counters = dict(line.split("|") for line in query(f"SELECT id, votes FROM polls_option WHERE poll_id = {poll}"))  # noqa: S608
    voters = int(query(f"SELECT count(DISTINCT voter_id) FROM polls_ballot WHERE poll_id = {poll}")[0])  # noqa: S608
    yes, no = int(recount.get(str(ids["yes"]), 0)), int(recount.get(str(ids["no"]), 0))
    verified = subprocess.run([PY, "manage.py", "verify_audit"], env=ENV, text=True, capture_output=True, check=False)
    return {
        "ballots": yes + no,
        "yes": yes,
        "no": no,
        "distinct_voters": voters,
        "counters_equal_recount": counters == recount,
        "expected_yes": expected_yes(BALLOTS),
        "audit_verified": verified.returncode == 0,
        "audit_output": (verified.stdout + verified.stderr).strip()[-500:],
    }


def main() -> None:
    OUT.mkdir(exist_ok=True)
    step(f"fresh database {DB_NAME}: a million accounts, {BALLOTS:,} tokens, the poll, results polls")
    recreate_database()
    ids = json.loads(run(PY, "-m", "bench.replay_data", str(BALLOTS), capture=True))
    tokens = OUT / "replay-tokens.txt"
    keys = (
        "SELECT substr(encode(sha256(('bench-' || user_id)::bytea), 'hex'), 1, 40) FROM core_apitoken "  # noqa: S608 - an int
        f"WHERE user_id >= {int(ids['tokens_from'])} ORDER BY user_id"
    )
    psql(f"\\copy ({keys}) TO '{tokens}'")
    step(f"gunicorn, 4 sync workers; {BALLOTS:,} ballots at {CONNECTIONS} connections")
    server = start_gunicorn()
    try:
        replayed = replay(ids, tokens, server.pid)
        step("results at 1,000, 100,000 and 1,000,000 ballots")
        growth = results_growth(ids)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    step("recount and audit trail")
    counts = checked(ids)
    report(replayed, growth, counts)


def report(replayed: dict[str, Any], growth: dict[str, float], counts: dict[str, Any]) -> None:
    rate = counts["ballots"] / replayed["seconds"]
    lost = BALLOTS - counts["ballots"]
    print()
    print(f"X poll replay: {BALLOTS:,} ballots from as many accounts, {CONNECTIONS} connections")
    print(f"  time {replayed['seconds'] / 60:.1f} min, sustained {rate:,.0f} ballots/s (goal >= {GOAL_RATE})")
    print(f"  latency p50 {replayed['p50_ms']:.1f} ms, p99 {replayed['p99_ms']:.1f} ms")
    print(f"  refused {int(replayed['non2xx'])}, socket errors {int(replayed['socket_errors'])}")
    print(f"  stored {counts['ballots']:,} (lost {lost:,}), distinct voters {counts['distinct_voters']:,}")
    yes_share = 100 * counts["yes"] / counts["ballots"] if counts["ballots"] else 0.0
    print(f"  yes {counts['yes']:,} ({yes_share:.1f}%; sent {counts['expected_yes']:,}), no {counts['no']:,}")
    print(f"  running totals equal the recount: {counts['counters_equal_recount']}")
    print(f"  audit trail verifies: {counts['audit_verified']} ({counts['audit_output']})")
    print("cost as the poll grows")
    for point, value in replayed["rate_at"].items():
        shown = "n/a" if value is None else f"{value:,.0f} ballots/s"
        print(f"  vote rate at {point} ballots: {shown}")
    for point, sizes in replayed["memory_mb"].items():
        print(f"  worker RSS at {point}: {', '.join(f'{s:.0f}' for s in sizes)} MB")
    for name, value in growth.items():
        print(f"  results req/s on a poll of {name} ballots: {value:,.0f}")
    stamp = time.strftime("%Y%m%dT%H%M%S")
    record = {"ballots": BALLOTS, "replay": replayed, "results": growth, "counts": counts, "rate": rate}
    (OUT / f"replay-{stamp}.json").write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
