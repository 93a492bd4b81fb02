"""`make bench`: the vote path, results, register import, certification and page renders,
and a ten-nominee election's vote path and results (issue 14), each beside a baseline measured
in the same run on this machine. Prints a table of figure, baseline, ratio and target and
writes bench/results/latest.json. Timing never fails a test. BENCH_PARTS=election (or core)
runs one part (selected_parts)."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "results"
PY = sys.executable
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_DB", "quorum_bench")
PORT = int(os.environ.get("BENCH_PORT", "8077"))
CONNECTIONS, THREADS = 32, 2
VOTE_SECONDS, READ_SECONDS, ROUNDS = 8, 5, 3
REGISTER_ROWS = int(os.environ.get("BENCH_REGISTER_ROWS", "1000000"))

ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "AUDIT_KEY": secrets.token_urlsafe(48),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
    "CONN_MAX_AGE": "60",
    "LOG_LEVEL": "WARNING",
    "QUORUM_BENCH_DIR": str(BENCH),  # where vote.lua finds read.lua
}
# A broker no worker reads: what a request queues (an item ballot's receipt e-mail) costs the
# publish it costs in production, where a worker elsewhere sends it, not the sending itself.
ENV["CELERY_BROKER_URL"] = "memory://"
ENV.pop("CELERY_TASK_ALWAYS_EAGER", None)


def step(message: str) -> None:
    print(f"-- {message}", flush=True)


def run(*command: str, capture: bool = False) -> str:
    result = subprocess.run(command, cwd=ROOT, env=ENV, check=False, text=True, capture_output=capture)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed ({result.returncode}):\n{result.stderr or ''}")
    return result.stdout if capture else ""


def psql(*commands: str) -> None:
    args = ["psql", "-q", "-v", "ON_ERROR_STOP=1", f"{PG}/{DB_NAME}"]
    for command in commands:
        args += ["-c", command]
    run(*args)


def recreate_database() -> None:
    run("psql", "-q", f"{PG}/postgres", "-c", f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    run("psql", "-q", f"{PG}/postgres", "-c", f"CREATE DATABASE {DB_NAME}")
    run(PY, "manage.py", "migrate", "--noinput", "-v0")
    run(PY, "manage.py", "collectstatic", "--noinput", "-v0")


def register_file() -> Path:
    path = OUT / "register.csv"
    if path.exists() and sum(1 for _ in path.open()) == REGISTER_ROWS + 1:
        return path
    with path.open("w") as handle:
        handle.write("holder,name,email,shares\n")
        for i in range(REGISTER_ROWS):
            handle.write(f"H{i:07d},Holder {i},holder{i}@example.com,{1 + (i * 7919) % 1000}\n")
    return path


def time_import(path: Path) -> dict[str, float]:
    """The real import (command, validation, staging, linking) against a raw COPY of the same
    file into a table shaped like the holders table, with the same indexes: the least it costs
    to get these rows into a table like ours."""
    copies = []
    for _ in range(2):
        start = time.perf_counter()
        psql(
            "CREATE TABLE bench_copy (LIKE meetings_holder INCLUDING ALL)",
            "ALTER TABLE bench_copy ALTER COLUMN register_id SET DEFAULT 0",
            f"\\copy bench_copy (account, name, email, shares) FROM '{path}' WITH (FORMAT csv, HEADER)",
            "DROP TABLE bench_copy",
        )
        copies.append(time.perf_counter() - start)
    start = time.perf_counter()
    output = subprocess.run(
        [
            "/usr/bin/time",
            "-f",
            "MAXRSS %M",
            PY,
            "manage.py",
            "import_register",
            str(path),
            "--record-date",
            "2025-09-15",
            "--shares-outstanding",
            "2000000000",
        ],
        cwd=ROOT,
        env=ENV,
        check=True,
        text=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - start
    peak_kb = int(re.search(r"MAXRSS (\d+)", output.stderr).group(1))  # type: ignore[union-attr]
    register_id = int(re.search(r"register #(\d+)", output.stdout).group(1))  # type: ignore[union-attr]
    return {
        "import_s": seconds,
        "copy_s": statistics.median(copies),
        "peak_mb": peak_kb / 1024,
        "register": register_id,
    }


def start_gunicorn() -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [PY, "-m", "gunicorn", "config.wsgi", "-w", "4", "-b", f"127.0.0.1:{PORT}", "--log-level", "warning"],
        cwd=ROOT,
        env=ENV,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not answer /healthz")


def wrk(path: str, seconds: int, script: str, *args: str) -> dict[str, float]:
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s", "-s", str(BENCH / script)]
    command += [f"http://127.0.0.1:{PORT}{path}"]
    if args:
        command += ["--", *args]
    output = run(*command, capture=True)
    match = re.search(r"RESULT (.*)", output)
    assert match, output
    return {key: float(value) for key, value in (pair.split("=") for pair in match.group(1).split())}


def median_of(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def selected_parts() -> set[str]:
    """BENCH_PARTS picks what to measure: "core" (vote, results, import, certification, pages)
    and "election" (issue 14: a ten-nominee election's vote path and results); both by default.
    The database, the register import and the accounts are made for either."""
    parts = {part.strip() for part in os.environ.get("BENCH_PARTS", "core,election").split(",") if part.strip()}
    unknown = parts - {"core", "election"}
    if unknown or not parts:
        raise SystemExit(f"BENCH_PARTS takes core and/or election, not {sorted(unknown) or 'nothing'}")
    return parts


def vote_rounds(ids: dict[str, Any], tokens: Path, prefix: str, body: dict[str, Any]) -> dict[str, list[Any]]:
    """ROUNDS rounds of the bare insert view, then the API ballot, each on its own voters."""
    token_count = sum(1 for _ in tokens.open())
    bare_runs, api_runs = [], []
    stride_bare, stride_api = 40_000, token_count // (THREADS * ROUNDS)
    for round_ in range(ROUNDS):
        step(f"{prefix.replace('_', ' ')}vote round {round_ + 1}/{ROUNDS}: bare insert view, then the API")
        bare_runs.append(
            wrk(
                f"/bench/bare-ballot/{ids[prefix + 'bare_poll']}/{ids[prefix + 'bare_option']}/",
                VOTE_SECONDS,
                "vote.lua",
                "bare",
                str(ids["first_user"] + round_ * THREADS * stride_bare),
                str(stride_bare),
            )
        )
        api_runs.append(
            wrk(
                f"/api/v1/polls/{ids[prefix + 'api_poll']}/ballot/",
                VOTE_SECONDS,
                "vote.lua",
                "api",
                str(1 + round_ * THREADS * stride_api),
                str(stride_api),
                str(tokens),
                json.dumps(body),
            )
        )
    return {f"{prefix}bare": bare_runs, f"{prefix}api": api_runs}


def core_runs(ids: dict[str, Any], tokens: Path) -> dict[str, list[Any]]:
    runs = vote_rounds(ids, tokens, "", {"option": ids["api_option"]})
    step("results at 1,000 and 1,000,000 ballots, and the bare counter view")
    runs.update(results_1k=[], results_1m=[], counters=[])
    for _ in range(2):
        runs["results_1k"].append(wrk(f"/api/v1/polls/{ids['small_poll']}/results/", READ_SECONDS, "read.lua"))
        runs["results_1m"].append(wrk(f"/api/v1/polls/{ids['large_poll']}/results/", READ_SECONDS, "read.lua"))
        runs["counters"].append(wrk(f"/bench/counters/{ids['large_poll']}/", READ_SECONDS, "read.lua"))
    return runs


def election_runs(ids: dict[str, Any], tokens: Path) -> dict[str, list[Any]]:
    """Issue 14: a whole ten-nominee ballot per request through the API, beside the bare insert
    view; the election's results at 1,000 and at 1,000,000 ballots, interleaved."""
    runs = vote_rounds(ids, tokens, "election_", ids["election_votes_body"])
    step("election results at 1,000 and 1,000,000 ballots")
    runs.update(election_results_1k=[], election_results_1m=[])
    for _ in range(2):
        for size, poll in (("1k", ids["election_small"]), ("1m", ids["election_large"])):
            runs[f"election_results_{size}"].append(wrk(f"/api/v1/polls/{poll}/results/", READ_SECONDS, "read.lua"))
    return runs


def count_ballots(poll_id: int) -> int:
    out = run(
        "psql",
        "-qtA",
        f"{PG}/{DB_NAME}",
        "-c",
        f"SELECT count(*) FROM polls_ballot WHERE poll_id = {int(poll_id)}",  # noqa: S608 - an int
        capture=True,
    )
    return int(out.strip())


def main() -> None:
    parts = selected_parts()
    OUT.mkdir(exist_ok=True)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    started = time.perf_counter()
    step(f"parts: {', '.join(sorted(parts))}; fresh database {DB_NAME}, migrations, static files")
    recreate_database()
    step(f"register import of {REGISTER_ROWS:,} rows against a raw COPY of the same file")
    imported = time_import(register_file())
    step(
        "a million accounts"
        + (", polls at 1,000 and 1,000,000 ballots, a million-holder item" if "core" in parts else "")
    )
    ids = json.loads(run(PY, "-m", "bench.setup_data", str(int(imported["register"])), capture=True))
    if "election" in parts:
        step("ten-nominee elections: the API's voters, and 1,000 and 1,000,000 ballots of ten lines")
        election = [str(int(imported["register"])), str(ids["tokens_from"]), str(ids["last_user"])]
        ids.update(json.loads(run(PY, "-m", "bench.election_data", *election, capture=True)))
    tokens = OUT / "tokens.txt"
    run(
        "psql",
        "-qtA",
        "-o",
        str(tokens),
        f"{PG}/{DB_NAME}",
        "-c",
        # Only digests are stored: the keys are derived from the ids as bench.setup_data made them.
        f"SELECT substr(encode(sha256(('bench-' || user_id)::bytea), 'hex'), 1, 40) FROM core_apitoken WHERE user_id >= {int(ids['tokens_from'])} ORDER BY user_id",  # noqa: S608, E501
    )
    step("gunicorn, 4 sync workers, production settings")
    server = start_gunicorn()
    runs: dict[str, list[Any]] = {}
    try:
        if "core" in parts:
            runs.update(core_runs(ids, tokens))
        if "election" in parts:
            runs.update(election_runs(ids, tokens))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    inproc: dict[str, Any] = {}
    if "core" in parts:
        stored = int(sum(r["requests"] - r["non2xx"] - r["socket"] for r in runs["api"]))
        step("in-process: pages at 1,000,000 ballots, certification, vote integrity")
        inproc = json.loads(run(PY, "-m", "bench.inprocess", json.dumps(ids), str(stored), capture=True))
    if "election" in parts:
        inproc["election_ballots_stored"] = count_ballots(ids["election_api_poll"])
    report(imported, runs, inproc, time.perf_counter() - started)


Row = tuple[str, float, float | None, float | None, str]


def core_rows(imported: dict[str, float], runs: dict[str, list[Any]], inproc: dict[str, Any]) -> list[Row]:
    api, bare, small, large, counters = (runs[k] for k in ("api", "bare", "results_1k", "results_1m", "counters"))
    cert = inproc["certification"]
    integrity = inproc["vote_integrity"]
    return [
        (
            "vote: API ballot req/s vs bare insert view",
            median_of(api, "rps"),
            median_of(bare, "rps"),
            median_of(api, "rps") / median_of(bare, "rps"),
            ">= 0.60",
        ),
        (
            "vote: p99 ms at 32 connections, API vs bare view",
            median_of(api, "p99"),
            median_of(bare, "p99"),
            median_of(api, "p99") / median_of(bare, "p99"),
            "< 50",
        ),
        ("vote: errors (non-2xx + socket)", sum(r["non2xx"] + r["socket"] for r in api), None, None, "0"),
        (
            "vote: ballots stored / 2xx answered (>= 1: none lost)",
            integrity["ballots_stored"],
            integrity["responses_2xx"],
            integrity["ballots_stored"] / max(integrity["responses_2xx"], 1),
            "1.00",
        ),
        (
            "results: p50 ms at 1M vs at 1k ballots",
            median_of(large, "p50"),
            median_of(small, "p50"),
            median_of(large, "p50") / median_of(small, "p50"),
            "<= 1.50",
        ),
        (
            "results: req/s at 1M vs bare counter view",
            median_of(large, "rps"),
            median_of(counters, "rps"),
            median_of(large, "rps") / median_of(counters, "rps"),
            ">= 0.80",
        ),
        (
            "register import 1M: speed vs raw COPY (s)",
            imported["import_s"],
            imported["copy_s"],
            imported["copy_s"] / imported["import_s"],
            ">= 0.50",
        ),
        ("register import 1M: peak memory MB", imported["peak_mb"], None, None, "< 300"),
        (
            "certify 1M-ballot item vs raw GROUP BY (ms)",
            cert["certify_ms"],
            cert["group_by_ms"],
            cert["certify_ms"] / cert["group_by_ms"],
            "<= 2.00",
        ),
        ("poll page at 1M ballots, server ms", inproc["poll_page_1m"]["ms"], None, None, "< 30"),
        ("item results page at 1M ballots, server ms", inproc["item_results_page_1m"]["ms"], None, None, "< 30"),
        ("meeting page at 1M ballots, server ms", inproc["meeting_page_1m"]["ms"], None, None, "< 30"),
    ]


def election_rows(runs: dict[str, list[Any]], inproc: dict[str, Any]) -> list[Row]:
    api, bare = runs["election_api"], runs["election_bare"]
    small, large = runs["election_results_1k"], runs["election_results_1m"]
    answered = int(sum(r["requests"] - r["non2xx"] - r["socket"] for r in api))
    stored = inproc["election_ballots_stored"]
    return [
        (
            "election vote (10 nominees): API vs bare insert",
            median_of(api, "rps"),
            median_of(bare, "rps"),
            median_of(api, "rps") / median_of(bare, "rps"),
            ">= 0.50",
        ),
        (
            "election vote: p99 ms, API vs bare view",
            median_of(api, "p99"),
            median_of(bare, "p99"),
            median_of(api, "p99") / median_of(bare, "p99"),
            "< 50",
        ),
        ("election vote: errors (non-2xx + socket)", sum(r["non2xx"] + r["socket"] for r in api), None, None, "0"),
        ("election vote: ballots stored / 2xx (>= 1: none lost)", stored, answered, stored / max(answered, 1), "1.00"),
        (
            "election results: req/s at 1k vs at 1M ballots",
            median_of(small, "rps"),
            median_of(large, "rps"),
            median_of(small, "rps") / median_of(large, "rps"),
            "<= 1.50",
        ),
        ("election results: p50 ms at 1M ballots", median_of(large, "p50"), None, None, ""),
    ]


def report(imported: dict[str, float], runs: dict[str, list[Any]], inproc: dict[str, Any], elapsed: float) -> None:
    rows: list[Row] = []
    if "api" in runs:
        rows += core_rows(imported, runs, inproc)
    if "election_api" in runs:
        rows += election_rows(runs, inproc)
    print()
    print(f"{'figure':<50} {'value':>12} {'baseline':>12} {'ratio':>7}  target")
    for name, value, baseline, ratio, target in rows:
        base = "" if baseline is None else f"{baseline:,.1f}"
        rat = "" if ratio is None else f"{ratio:.2f}"
        print(f"{name:<50} {value:>12,.1f} {base:>12} {rat:>7}  {target}")
    if "certification" in inproc:
        cert, integrity = inproc["certification"], inproc["vote_integrity"]
        print(
            f"\nvote integrity: totals equal a recount: {integrity['totals_equal_recount']}; "
            f"certification recount {cert['recount_ms']} ms over {cert['item_ballots']:,} ballots"
        )
    print(f"bench took {elapsed:.0f} s")
    payload = {
        "rows": [dict(zip(["figure", "value", "baseline", "ratio", "target"], row, strict=True)) for row in rows],
        "raw": {**runs, "import": imported, "inprocess": inproc},
        "elapsed_s": elapsed,
    }
    (OUT / "latest.json").write_text(json.dumps(payload, indent=2))
    print(f"written {OUT / 'latest.json'}")


if __name__ == "__main__":
    main()
