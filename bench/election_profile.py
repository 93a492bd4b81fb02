"""`python -m bench.election_profile [ballots] [--bare|--viewset] [--profile [--cpu]]`, after one
`BENCH_PARTS=election make bench` (run under bench.run's environment, e.g. through
bench.election_ab's ENV): casts `ballots` ten-nominee election ballots in this process through
the API (the thin view, or with --viewset the viewset) on a fresh election, each by a token
voter of the voters' meeting, and prints the median milliseconds per ballot, the statements of
one ballot and, with --profile, the functions that cost most (cProfile, cumulative; with --cpu
by CPU time rather than wall time; SORT=tottime to sort otherwise)."""

from __future__ import annotations

import cProfile
import hashlib
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench.election_data import election, nominee_ids  # noqa: E402
from bench.setup_data import open_poll  # noqa: E402
from core.models import ApiToken  # noqa: E402
from meetings.models import Holder, Meeting  # noqa: E402

CHOICES = ["for", "for", "against", "for", "abstain", "for", "for", "against", "for", "for"]


def _backend_cpu() -> float | None:
    """Seconds of CPU this connection's PostgreSQL backend has used, when it runs on this machine
    (the server's share of a ballot, which the machine's cores also pay under wrk)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def main() -> None:
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    count = int(args[0]) if args else 300
    meeting = Meeting.objects.get(title="Bench election (votes)")
    poll = election(meeting, f"Bench profile election {time.time()}", allow_change=True)
    body = json.dumps({"votes": dict(zip(map(str, nominee_ids(poll)), CHOICES, strict=True))})
    voters = list(
        Holder.objects.filter(register_id=meeting.register_id, user__isnull=False)
        .filter(user__in=ApiToken.objects.values("user_id"))
        .order_by("?")
        .values_list("user_id", flat=True)[: count + 1]
    )
    keys = [hashlib.sha256(f"bench-{user}".encode()).hexdigest()[:40] for user in voters]
    client = Client()
    extra: dict[str, Any] = {"HTTP_ACCEPT": "application/json, */*"} if "--viewset" in sys.argv else {}
    path = f"/api/v1/polls/{poll.pk}/ballot/"
    if "--bare" in sys.argv:  # the bare insert view on a fresh poll, for its cost beside ours
        bare = open_poll(f"Bench profile bare {time.time()}")
        path = f"/bench/bare-ballot/{bare.pk}/{bare.options.order_by('position').values_list('pk', flat=True)[0]}/"
        keys = [str(user) for user in voters]

    def cast(key: str) -> None:
        if "--bare" in sys.argv:
            response = client.post(path, HTTP_X_VOTER=key, secure=True)
        else:
            response = client.post(
                path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}", secure=True, **extra
            )
        assert response.status_code == 201, (response.status_code, response.content[:300])

    statements: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(" ".join(sql.split())[:150])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        cast(keys[0])
    backend = _backend_cpu()
    timings = []
    cpu_start = time.process_time()
    # --cpu: the profile's clock is this process's CPU time, so waits on the database drop out.
    timer = time.process_time if "--cpu" in sys.argv else time.perf_counter
    profiler = cProfile.Profile(timer) if "--profile" in sys.argv else None
    for key in keys[1:]:
        start = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        cast(key)
        if profiler is not None:
            profiler.disable()
        timings.append((time.perf_counter() - start) * 1000)
    cpu = (time.process_time() - cpu_start) * 1000 / len(timings)
    print(f"CPU per ballot in this process: {cpu:.2f} ms")
    if backend is not None:
        used = (_backend_cpu() or 0) - backend
        print(f"CPU per ballot in its PostgreSQL backend: {used * 1000 / len(timings):.2f} ms")
    print(
        f"{len(timings)} ballots: median {statistics.median(timings):.2f} ms, statements per ballot {len(statements)}"
    )
    for statement in statements:
        print("   ", statement)
    if profiler is not None:
        stats = pstats.Stats(profiler)
        if os.environ.get("PROFILE_OUT"):  # for pstats or snakeviz
            stats.dump_stats(os.environ["PROFILE_OUT"])
        stats.sort_stats(os.environ.get("SORT", "cumulative")).print_stats(70)


if __name__ == "__main__":
    main()
