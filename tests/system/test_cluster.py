"""The production topology, rehearsed on one machine (issue 17; README, Deploying).

`scripts/cluster.sh up` brings up nginx, two gunicorn nodes, PgBouncer in transaction mode, a
PostgreSQL primary and its streaming replica, Redis, and a Celery worker per queue. Then:
CLUSTER_BALLOTS voters (2,000) vote through nginx at 32 connections, and the test checks that
no ballot was lost or doubled, that the totals equal a recount on the primary, that results read
from the replica converge within a second, that certification reads the primary (with the
replica held behind), and that a lockout set through one node holds on the other. Everything
it started is stopped at the end. Skipped unless QUORUM_CLUSTER_TEST=1 (`make cluster-test`);
it takes the team's benchmark lock (QUORUM_BENCH_LOCK) while it runs.
"""

from __future__ import annotations

import fcntl
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_DIR = Path(os.environ.get("CLUSTER_DIR", "/tmp/quorum-cluster"))  # noqa: S108 - scripts/cluster.sh's
BALLOTS = int(os.environ.get("CLUSTER_BALLOTS", "2000"))
CONNECTIONS = int(os.environ.get("CLUSTER_CONNECTIONS", "32"))
LOAD_DEADLINE_S = float(os.environ.get("CLUSTER_LOAD_DEADLINE", "300"))
LOCK = os.environ.get("QUORUM_BENCH_LOCK", "/tmp/team/bench.lock")  # noqa: S108 - the team's lock
LOCK_PASSWORD = "cluster-lock-pw-1"  # a throwaway account in a throwaway cluster

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        os.environ.get("QUORUM_CLUSTER_TEST") != "1", reason="set QUORUM_CLUSTER_TEST=1 (make cluster-test)"
    ),
]

SETUP = """
import datetime, json, os, secrets
from django.contrib.auth.models import Group, User
from django.utils import timezone
from core.models import ApiToken
from core.roles import SECRETARY_GROUP
from polls import services

now = timezone.now()
count = int(os.environ["CLUSTER_VOTERS"])
users = User.objects.bulk_create([User(username=f"cluster-voter-{i}", password="!") for i in range(count)])
keys = [secrets.token_hex(20) for _ in users]
def token(user, key, otp=False):
    return ApiToken.sealed(user=user, key=key, otp_verified=otp, created_at=now,
                           expires_at=now + datetime.timedelta(days=1))
ApiToken.objects.bulk_create([token(user, key) for user, key in zip(users, keys)])
secretary = User.objects.create_user("cluster-secretary", password=secrets.token_urlsafe(16), is_staff=True)
secretary.groups.add(Group.objects.get_or_create(name=SECRETARY_GROUP)[0])
secretary_key = secrets.token_hex(20)
token(secretary, secretary_key, otp=True).save()
lock = User.objects.create_user("cluster-lock", "lock@example.com", password=os.environ["CLUSTER_LOCK_PASSWORD"])
# One e-mail for the mail worker (routed to the mail queue), one task for the work worker.
from polls.receipt_mail import ballot_receipts_queue
from polls.tasks import polls_reconcile
mail = ballot_receipts_queue(user_id=lock.pk, email=lock.email, codes=["CLUSTER-TEST"])
polls_reconcile.delay()
poll = services.poll_create(title="Cluster: should the board scale out?", options=["Yes", "No"],
                            opens_at=now - datetime.timedelta(minutes=1), closes_at=now + datetime.timedelta(hours=2),
                            actor=None, allow_change=False)
poll = services.poll_open(poll=poll)
options = list(poll.options.order_by("position").values_list("pk", flat=True))
print("SETUP " + json.dumps({"poll": poll.pk, "options": options, "keys": keys, "secretary": secretary_key,
                              "mail": mail.pk}))
"""


@contextmanager
def bench_lock() -> Iterator[None]:
    """The team's rule: one measurement at a time on this machine (flock, as `flock(1)` takes it)."""
    if not Path(LOCK).parent.is_dir():
        yield
        return
    with open(LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cluster_sh(command: str) -> float:
    start = time.perf_counter()
    subprocess.run([str(ROOT / "scripts" / "cluster.sh"), command], cwd=ROOT, check=True, timeout=900)
    return time.perf_counter() - start


def read_env() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (CLUSTER_DIR / "env").read_text().splitlines() if "=" in line)
    return dict(pairs)


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict[str, Any]]:
    asked = time.perf_counter()
    with bench_lock():
        waited = time.perf_counter() - asked
        if (CLUSTER_DIR / "env").exists():
            # Someone's `make cluster`: not ours to take down at the end.
            pytest.fail(f"a cluster is already up in {CLUSTER_DIR}: scripts/cluster.sh down first")
        timings: dict[str, float] = {"lock_wait_s": waited}
        try:
            timings["up_s"] = cluster_sh("up")
            yield {"env": read_env(), "timings": timings}
        finally:
            timings["down_s"] = cluster_sh("down")
            print(f"\ncluster: down in {timings['down_s']:.1f} s")


def manage_shell(env: dict[str, str], code: str, **extra: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    environment |= env | extra
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


class Http:
    """One keep-alive connection per thread to one base URL."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.local = threading.local()

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any], http.client.HTTPResponse]:
        data = None if body is None else json.dumps(body).encode()
        all_headers = {"Accept": "application/json", **({"Content-Type": "application/json"} if data else {})}
        all_headers |= headers or {}
        for attempt in (1, 2):
            connection = getattr(self.local, "connection", None)
            if connection is None:
                connection = self.local.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                connection.request(method, path, body=data, headers=all_headers)
                response = connection.getresponse()
                raw = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A keep-alive connection the server closed before this request was sent. A POST
                # is resent only when nothing was answered: a ballot's uniqueness makes it safe.
                connection.close()
                self.local.connection = None
                if attempt == 2:
                    raise
        payload = (
            json.loads(raw) if raw and response.headers.get("Content-Type", "").startswith("application/json") else {}
        )
        return response.status, payload, response


def primary_query(env: dict[str, str], sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(env["PRIMARY_DIRECT_URL"], autocommit=True) as connection:
        return connection.execute(sql, params).fetchall()


def recount(env: dict[str, str], poll: int) -> dict[int, int]:
    rows = primary_query(env, "SELECT option_id, count(*) FROM polls_ballot WHERE poll_id = %s GROUP BY 1", (poll,))
    return {option: int(n) for option, n in rows}


def results_votes(site: Http, poll: int, cookie: str | None = None) -> dict[int, int]:
    """Results through the viewset (`?format=json`), which reads through the database router."""
    headers = {"Cookie": cookie} if cookie else {}
    status, payload, _ = site.request("GET", f"/api/v1/polls/{poll}/results/?format=json", headers=headers)
    assert status == 200, payload
    return {option["id"]: option["votes"] for option in payload["options"]}


def drive_votes(site: Http, poll: int, options: list[int], keys: list[str]) -> dict[str, Any]:
    """One first ballot per voter through nginx, CONNECTIONS at a time, bounded in count and time."""
    deadline = time.monotonic() + LOAD_DEADLINE_S

    def vote(index: int) -> tuple[int, int, float]:
        if time.monotonic() > deadline:
            return index, 0, 0.0
        option = options[0] if index % 3 else options[1]
        start = time.perf_counter()
        status, _payload, _ = site.request(
            "POST", f"/api/v1/polls/{poll}/ballot/", {"option": option}, {"Authorization": f"Token {keys[index]}"}
        )
        return index, status, time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(CONNECTIONS) as pool:
        answers = list(pool.map(vote, range(len(keys))))
    elapsed = time.perf_counter() - start
    latencies = sorted(seconds for _i, status, seconds in answers if status)
    return {
        "elapsed": elapsed,
        "accepted": {index for index, status, _s in answers if status == 201},
        "statuses": {status: sum(1 for _i, s, _l in answers if s == status) for status in {s for _i, s, _l in answers}},
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
    }


def converge(site: Http, poll: int, expected: dict[int, int], limit_s: float = 5.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < limit_s:
        if results_votes(site, poll) == expected:
            return time.perf_counter() - start
        time.sleep(0.02)
    raise AssertionError(f"the replica's results did not reach {expected} in {limit_s} s")


@contextmanager
def replica_paused(env: dict[str, str]) -> Iterator[None]:
    with psycopg.connect(env["REPLICA_DIRECT_URL"], autocommit=True) as replica:
        replica.execute("SELECT pg_wal_replay_pause()")
        try:
            yield
        finally:
            replica.execute("SELECT pg_wal_replay_resume()")


def test_the_cluster_under_a_vote_load(cluster: dict[str, Any]) -> None:
    env, timings = cluster["env"], cluster["timings"]
    site = Http(env["CLUSTER_URL"])

    start = time.perf_counter()
    out = manage_shell(
        env,
        SETUP,
        DATABASE_URL=env["PRIMARY_DIRECT_URL"],
        CLUSTER_VOTERS=str(BALLOTS + 1),
        CLUSTER_LOCK_PASSWORD=LOCK_PASSWORD,
    )
    data = json.loads(out.split("SETUP ", 1)[1])
    timings["setup_s"] = time.perf_counter() - start
    poll, options, keys = data["poll"], data["options"], data["keys"]
    spare = keys.pop()  # cast later, with the replica held behind

    load = drive_votes(site, poll, options, keys)
    voted = load["accepted"]
    # No ballot lost or doubled: every 201 is one row, every row a 201, one per voter.
    rows = primary_query(
        env,
        "SELECT count(*), count(DISTINCT voter_id) FROM polls_ballot WHERE poll_id = %s",
        (poll,),
    )[0]
    assert load["statuses"] == {201: len(keys)}, load["statuses"]
    assert rows == (len(voted), len(voted))
    # Running totals equal the recount on the primary, and what was sent.
    counters = dict(primary_query(env, "SELECT id, votes FROM polls_option WHERE poll_id = %s", (poll,)))
    sent = {options[0]: sum(1 for i in voted if i % 3), options[1]: sum(1 for i in voted if not i % 3)}
    assert counters == recount(env, poll) == sent
    # Results from the replica converge with the primary.
    replica_s = converge(site, poll, sent, limit_s=5.0)
    assert replica_s <= 1.0, f"replica results took {replica_s:.3f} s"

    with replica_paused(env):
        # A ballot the replica has not replayed: an anonymous read does not see it (it reads
        # the replica); the voter's browser, pinned by the cookie its POST got, does.
        status, _payload, response = site.request(
            "POST", f"/api/v1/polls/{poll}/ballot/", {"option": options[1]}, {"Authorization": f"Token {spare}"}
        )
        assert status == 201
        pin = response.headers["Set-Cookie"].split(";", 1)[0]
        assert pin.startswith("quorum_primary=")
        assert results_votes(site, poll) == sent
        after = {**sent, options[1]: sent[options[1]] + 1}
        assert results_votes(site, poll, cookie=pin) == after
        # Certification recounts on the primary: it certifies the ballot the replica lacks.
        secretary = {"Authorization": f"Token {data['secretary']}"}
        assert site.request("POST", f"/api/v1/polls/{poll}/close/", {}, secretary)[0] == 200
        start = time.perf_counter()
        status, certified, _ = site.request("POST", f"/api/v1/polls/{poll}/certify/", {}, secretary)
        timings["certify_ms"] = 1000 * (time.perf_counter() - start)
        assert status == 200, certified
        assert certified["status"] == "certified"
        frozen = primary_query(env, "SELECT certified_result FROM polls_poll WHERE id = %s", (poll,))[0][0]
        assert frozen["total_ballots"] == len(voted) + 1 == sum(recount(env, poll).values())
        assert results_votes(site, poll) == sent  # the replica still lags
    certified_s = converge(site, poll, after, limit_s=5.0)
    assert certified_s <= 1.0

    lockout = lockout_across_nodes(env)
    queues = both_queues_worked(env, data["mail"])
    print_report(load, timings, replica_s, certified_s, lockout, len(keys), queues)


def both_queues_worked(env: dict[str, str], mail: int) -> dict[str, Any]:
    """The mail worker sent the e-mail (the only consumer of the mail queue, into the cluster's
    mail folder); the work worker ran its tasks through PgBouncer's session pool; nothing left
    queued, no notification failed."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        sent = primary_query(env, "SELECT sent_at FROM proposals_notification WHERE id = %s", (mail,))[0][0]
        if sent is not None:
            break
        time.sleep(0.2)
    assert sent is not None, "the mail worker did not send the e-mail"
    assert any((CLUSTER_DIR / "mail").iterdir())
    with psycopg.connect(env["SESSION_POOL_URL"].rsplit("/", 1)[0] + "/pgbouncer", autocommit=True) as bouncer:
        stats = {row[0]: row[1] for row in bouncer.execute("SHOW STATS").fetchall()}
    assert stats.get("quorum_session", 0) > 0, stats
    failed = primary_query(env, "SELECT count(*) FROM proposals_notification WHERE failed_at IS NOT NULL")[0][0]
    assert failed == 0
    broker = redis.Redis.from_url(env["CELERY_BROKER_URL"])
    depth = {queue: broker.llen(queue) for queue in ("mail", "work")}
    return {"work_transactions": stats.get("quorum_session"), "failed": failed, "depth": depth}


def lockout_across_nodes(env: dict[str, str]) -> dict[str, Any]:
    """Wrong passwords through the first node lock the account; the right one through the second
    node, and through nginx, is refused (axes counts in the database both nodes share)."""
    first, second = (Http(base) for base in env["CLUSTER_NODES"].split(","))
    attempts = int(os.environ.get("LOGIN_LOCKOUT_ATTEMPTS", "5"))
    wrong = [
        first.request("POST", "/api/v1/auth/token/", {"username": "cluster-lock", "password": f"wrong-{i}"})[0]
        for i in range(attempts)
    ]
    right = {"username": "cluster-lock", "password": LOCK_PASSWORD}
    on_second, body, _ = second.request("POST", "/api/v1/auth/token/", right)
    through_nginx = Http(env["CLUSTER_URL"]).request("POST", "/api/v1/auth/token/", right)[0]
    assert set(wrong) <= {400, 429}, wrong
    assert wrong[0] == 400, wrong
    assert wrong[-1] == 429, wrong
    assert on_second == 429, body
    assert "Too many failed sign-in attempts" in body["detail"]
    assert through_nginx == 429
    return {"wrong": wrong, "second_node": on_second, "nginx": through_nginx}


def print_report(
    load: dict[str, Any],
    timings: dict[str, float],
    replica_s: float,
    certified_s: float,
    lockout: dict[str, Any],
    ballots: int,
    queues: dict[str, Any],
) -> None:
    rate = len(load["accepted"]) / load["elapsed"]
    print(
        f"\ncluster: waited {timings['lock_wait_s']:.0f} s for the bench lock; up in {timings['up_s']:.1f} s;"
        f" {ballots:,} voters and tokens made in {timings['setup_s']:.1f} s"
        f"\nvote load through nginx: {ballots:,} ballots at {CONNECTIONS} connections in {load['elapsed']:.1f} s"
        f" ({rate:,.0f}/s), p50 {load['p50_ms']:.0f} ms, p99 {load['p99_ms']:.0f} ms; answers {load['statuses']}"
        f"\nballots on the primary: {len(load['accepted']):,} = 201 answers, one per voter; totals = recount"
        f"\nresults through the replica converged {1000 * replica_s:.0f} ms after the last ballot (limit 1,000)"
        f"\nreplay paused: the replica's results lag, the pinned browser's read the primary;"
        f" certification on the primary in {timings['certify_ms']:.0f} ms counted the ballot the replica lacked;"
        f" replica caught up {1000 * certified_s:.0f} ms after replay resumed"
        f"\nlockout: {len(lockout['wrong'])} wrong passwords on node 1 -> {lockout['wrong']}; right password on"
        f" node 2 -> {lockout['second_node']}, through nginx -> {lockout['nginx']}"
        f"\nqueues: the mail worker sent its e-mail; the work worker ran {queues['work_transactions']} transactions"
        f" through the session pool; depth now {queues['depth']}; failed notifications {queues['failed']}"
    )
