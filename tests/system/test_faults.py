"""Faults end to end, with real processes on 127.0.0.1: a Celery worker SIGKILLed inside a task,
Redis stopped while votes and transitions arrive, PostgreSQL restarted under a vote load served
by gunicorn.

Every test starts its own Redis (and its own PostgreSQL cluster) on a free port and never
touches the shared services; each is bounded in requests and seconds, and stops every process
it started, by process group, in a `finally`. The figures each test measures are printed
(`pytest -s`). A missing prerequisite skips, except in CI (QUORUM_REQUIRE_WORKER=1), where it
fails.
"""

from __future__ import annotations

import ast
import contextlib
import email
import glob
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from config.celery import app
from core.models import AuditEvent
from core.services import api_token_issue
from meetings.services import tabulation_record
from polls import services as poll_services
from polls.models import Ballot, Poll, PollStatus
from polls.trail_verify import audit_verify
from proposals import notifications, review_votes, services
from proposals.models import Notification, Proposal
from proposals.workflow import Action, State
from tests.factories import (
    make_director,
    make_meeting,
    make_poll,
    make_proposal,
    make_register,
    make_secretary,
    make_user,
    start_review,
)
from tests.system.live import database_url

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = bool(os.environ.get("QUORUM_REQUIRE_WORKER"))
# A killed worker's task comes back after this many seconds (see CELERY_VISIBILITY_TIMEOUT).
VISIBILITY_TIMEOUT = 2

pytestmark = [pytest.mark.celery_worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


# --- Processes ---------------------------------------------------------------------------------


def unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"CI runs the fault tests, but {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def postgres_suite() -> None:
    """Checked before any server starts. The workers and web servers share the test database,
    which SQLite cannot do across processes; CI runs this file in its PostgreSQL pass."""
    if connection.vendor != "postgresql":
        unavailable("the fault tests need the PostgreSQL test database (set DATABASE_URL)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll until `condition` holds; the seconds it took. Fails the test after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


class Process:
    """A child in its own process group, so a kill reaches everything it forked."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as output:
            self.popen = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL, the way the OOM killer or a lost machine ends a worker: nothing runs after it."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)  # anything the leader left behind


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    """Start processes that are all stopped when the test ends, however it ends."""
    started: list[Process] = []

    def start(name: str, command: list[str], env: dict[str, str]) -> Process:
        process = Process(command, env, tmp_path / f"{name}.log")
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in reversed(started):
            process.stop()


class PrivateRedis:
    """A throwaway redis-server on a free port: no persistence, so a stop loses what it held."""

    def __init__(self, spawn: Callable[..., Process]) -> None:
        if shutil.which("redis-server") is None:
            unavailable("redis-server is not installed")
        self.spawn = spawn
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: Process | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--protected-mode", "no"]
        self.process = self.spawn("redis", command, dict(os.environ))
        wait_for(self.answers, 10, "the private redis-server")

    def stop(self) -> None:
        assert self.process is not None
        self.process.stop()
        wait_for(lambda: not self.answers(), 10, "the private redis-server to stop")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture
def redis(spawn: Callable[..., Process]) -> PrivateRedis:
    server = PrivateRedis(spawn)
    server.start()
    return server


def app_env(database: str, broker: str | None, **extra: str) -> dict[str, str]:
    """Production settings pointed at the given database and broker (none: tasks run eagerly)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    env.pop("CELERY_BROKER_URL", None)
    if broker:
        env["CELERY_BROKER_URL"] = broker
    return env


def start_gunicorn(spawn: Callable[..., Process], env: dict[str, str], workers: int = 2) -> tuple[Process, str]:
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    process = spawn("gunicorn", [*command, "--log-level", "warning"], env)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=10).close()
        except urllib.error.HTTPError:
            return True  # 503 names a service that is away; the server itself answers
        except OSError:
            return False
        return True

    wait_for(answers, 30, "gunicorn")
    return process, base


@dataclass
class Worker:
    process: Process
    fault_dir: Path

    @property
    def outbox(self) -> Path:
        return self.fault_dir / "outbox"

    def paused(self, step: str) -> bool:
        return (self.fault_dir / f"paused-{step}").exists()


def start_worker(
    spawn: Callable[..., Process], broker: str, fault_dir: Path, *, pause: str = "", resend_after: int = 60
) -> Worker:
    """A worker on the test database, mailing into `fault_dir/outbox` (tests/system/faults_worker.py)."""
    (fault_dir / "outbox").mkdir(parents=True, exist_ok=True)
    env = app_env(
        database_url(),
        broker,
        # filemail:// with an absolute path needs the path's own slash after the scheme's three.
        EMAIL_URL=f"filemail:///{fault_dir / 'outbox'}",
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
        NOTIFICATION_RESEND_AFTER_SECONDS=str(resend_after),
        QUORUM_FAULT_DIR=str(fault_dir),
        QUORUM_FAULT_PAUSE=pause,
        LOG_LEVEL="INFO",
    )
    command = [sys.executable, "-m", "celery", "-A", "tests.system.faults_worker", "worker", "--pool=solo"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"]
    process = spawn(f"worker-{pause or 'plain'}-{time.monotonic_ns()}", command, env)
    wait_for(lambda: " ready." in process.output() or process.popen.poll() is not None, 60, "the worker")
    assert process.popen.poll() is None, process.output()
    return Worker(process, fault_dir)


def play_beat(broker: str, worker: Worker, task: str = "proposals.tasks.proposals_sweep") -> dict[str, int]:
    """Do beat's turn: send the sweep to the worker and read what it reports in its log."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write(broker) as conn:
            task_id = app.send_task(task, connection=conn).id
    finally:
        app.conf.task_always_eager = eager
    pattern = re.compile(rf"{re.escape(task)}\[{task_id}\] succeeded in [0-9.e-]+s: (\{{.*\}})")
    wait_for(lambda: pattern.search(worker.process.output()) is not None, 60, f"{task} on the worker")
    match = pattern.search(worker.process.output())
    assert match is not None
    return dict(ast.literal_eval(match.group(1)))


def mails(outbox: Path) -> list[email.message.Message]:
    """Every message the file backend wrote (one file per connection, messages ruled off)."""
    found = []
    for path in sorted(outbox.iterdir()):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                found.append(email.message_from_bytes(chunk))
    return found


@dataclass
class Reply:
    status: int  # 0: no HTTP answer at all (refused, reset, timed out)
    body: Any = None
    retry_after: str | None = None
    error: str = ""
    started: float = 0.0
    ended: float = 0.0


def call(url: str, token: str, body: dict[str, Any] | None = None, method: str = "POST") -> Reply:
    request = urllib.request.Request(
        url,
        data=json.dumps(body or {}).encode() if method == "POST" else None,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method=method,
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw, retry_after = int(response.status), response.read(), response.headers.get("Retry-After")
    except urllib.error.HTTPError as error:
        status, raw, retry_after = int(error.code), error.read(), error.headers.get("Retry-After")
    except OSError as error:  # the connection was refused, reset or timed out
        return Reply(0, error=repr(error), started=started, ended=time.monotonic())
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = raw[:200]
    return Reply(status, parsed, retry_after, started=started, ended=time.monotonic())


def token_for(user: Any) -> str:
    return api_token_issue(user=user, otp_verified=True)[0]


def report(title: str, **figures: Any) -> None:
    print(f"\n[faults] {title}: " + ", ".join(f"{name}={value}" for name, value in figures.items()))


# --- 1. A worker killed in the middle of its task --------------------------------------------


def shareholder_vote_ready_to_certify() -> tuple[Proposal, Poll, str]:
    """The xAI proposal on the ballot, voted and tallied: certification is the next step. The
    steps up to here run eagerly in the test process (their mail too, to the in-memory outbox);
    the worker takes over at certification."""
    secretary = make_secretary(email="secretary@example.com")
    directors = [make_director(username) for username in ("robyn", "kimbal")]
    make_director("elon", interests=("xAI",))
    proposal = make_proposal(proposer=make_user(username="proposer", email="proposer@example.com"))
    start_review(proposal, secretary)
    # Referral is the board's decision: both disinterested directors vote to refer.
    for director in directors:
        review_votes.review_vote_cast(proposal_id=proposal.pk, actor=director.user, decision="refer")
    register = make_register([("CEDE", "Cede & Co", "cede@example.com", 3_000_000_000)], outstanding=3_200_000_000)
    proposal = services.proposal_transition(
        proposal_id=proposal.pk, action=Action.PUT_TO_VOTE, actor=secretary, meeting=make_meeting(register)
    )
    item = proposal.item
    assert item is not None
    poll_services.poll_open(poll=item, actor=secretary)
    poll_services.poll_close(poll=item, actor=secretary)
    tabulation_record(
        poll=item,
        shares_for=1_060_000_000,
        shares_against=916_300_000,
        shares_abstain=473_000_000,
        entered_by=secretary,
    )
    return proposal, item, token_for(secretary)


OUTCOME_RECIPIENTS = {"proposer@example.com", "robyn@example.com", "kimbal@example.com", "elon@example.com"}


def events(stream: str, action: str) -> int:
    return AuditEvent.objects.filter(stream=stream, action=action).count()


def outcome_sent() -> int:
    return Notification.objects.filter(kind="outcome", sent_at__isnull=False).count()


def assert_settled_once_and_mailed_once(proposal: Proposal, item: Poll, outbox: Path) -> Counter[str]:
    proposal.refresh_from_db()
    assert proposal.status == State.ADOPTED  # 53.6% of the votes cast
    assert events(f"poll:{item.pk}", "poll_certified") == 1
    assert events(f"proposal:{proposal.pk}", "settle") == 1
    outcome = [m for m in mails(outbox) if "outcome" in str(m["Subject"]).lower()]
    per_recipient = Counter(str(m["To"]) for m in outcome)
    assert per_recipient == Counter(dict.fromkeys(OUTCOME_RECIPIENTS, 1))
    message_ids = {str(m["Message-ID"]) for m in outcome}
    assert message_ids == {
        notifications.notification_message_id(n) for n in Notification.objects.filter(kind="outcome")
    }
    assert list(audit_verify()) == []
    return per_recipient


def test_a_worker_killed_while_settling_a_certified_vote_settles_it_once_after_a_restart(
    spawn: Callable[..., Process], redis: PrivateRedis, tmp_path: Path
) -> None:
    proposal, item, secretary = shareholder_vote_ready_to_certify()
    _, web = start_gunicorn(spawn, app_env(database_url(), redis.url))
    worker = start_worker(spawn, redis.url, tmp_path, pause="settle")

    # The inspector counted shares the site never saw as ballots: the secretary confirms the difference.
    certified = call(f"{web}/api/v1/polls/{item.pk}/certify/", secretary, {"confirm_difference": True})
    assert certified.status == 200, certified
    wait_for(lambda: worker.paused("settle"), 30, "the worker to be inside the settlement")
    worker.process.kill()
    # Killed with the status and the event written but not committed: nothing of it remains.
    assert Proposal.objects.get(pk=proposal.pk).status == State.SHAREHOLDER_VOTE
    assert events(f"proposal:{proposal.pk}", "settle") == 0
    assert Poll.objects.get(pk=item.pk).status == PollStatus.CERTIFIED

    restarted = time.monotonic()
    worker = start_worker(spawn, redis.url, tmp_path)
    wait_for(lambda: outcome_sent() == len(OUTCOME_RECIPIENTS), 60, "the redelivered settlement and its mail")
    recovered = time.monotonic() - restarted
    time.sleep(VISIBILITY_TIMEOUT + 1.5)  # room for any second delivery to show itself
    sweep = play_beat(redis.url, worker)

    assert sweep["settled"] == 0
    assert sweep["resent"] == 0
    per_recipient = assert_settled_once_and_mailed_once(proposal, item, worker.outbox)
    report(
        "worker killed mid-settlement",
        certifications=events(f"poll:{item.pk}", "poll_certified"),
        settlements=events(f"proposal:{proposal.pk}", "settle"),
        emails_per_recipient=dict(per_recipient),
        seconds_from_restart_to_all_mailed=f"{recovered:.1f}",
        sweep_after=sweep,
    )


def test_a_worker_killed_while_mailing_the_outcome_sends_each_message_once_after_a_restart(
    spawn: Callable[..., Process], redis: PrivateRedis, tmp_path: Path
) -> None:
    proposal, item, secretary = shareholder_vote_ready_to_certify()
    _, web = start_gunicorn(spawn, app_env(database_url(), redis.url))
    worker = start_worker(spawn, redis.url, tmp_path, pause="mail")

    assert call(f"{web}/api/v1/polls/{item.pk}/certify/", secretary, {"confirm_difference": True}).status == 200
    wait_for(lambda: worker.paused("mail"), 30, "the worker to be between two messages")
    worker.process.kill()
    # One message went out and was recorded; the one in hand when the worker died was not.
    assert len(mails(worker.outbox)) == 1
    assert outcome_sent() == 1
    assert Proposal.objects.get(pk=proposal.pk).status == State.ADOPTED

    restarted = time.monotonic()
    worker = start_worker(spawn, redis.url, tmp_path)
    wait_for(lambda: outcome_sent() == len(OUTCOME_RECIPIENTS), 60, "the rest of the mail")
    recovered = time.monotonic() - restarted
    time.sleep(VISIBILITY_TIMEOUT + 1.5)
    sweep = play_beat(redis.url, worker)

    assert sweep["resent"] == 0
    per_recipient = assert_settled_once_and_mailed_once(proposal, item, worker.outbox)
    report(
        "worker killed mid-mailing",
        emails_before_kill=1,
        emails_per_recipient=dict(per_recipient),
        certifications=events(f"poll:{item.pk}", "poll_certified"),
        settlements=events(f"proposal:{proposal.pk}", "settle"),
        seconds_from_restart_to_all_mailed=f"{recovered:.1f}",
        sweep_after=sweep,
    )


# --- 2. Redis stopped while votes and transitions arrive -------------------------------------

VOTERS = 40
PROPOSALS = 10


def test_with_redis_stopped_votes_and_transitions_are_stored_and_the_sweep_does_the_work_when_it_is_back(
    spawn: Callable[..., Process], redis: PrivateRedis, tmp_path: Path
) -> None:
    secretary = make_secretary(email="secretary@example.com")
    poll = make_poll()
    yes = poll.options.get(label="Yes").pk
    voters = [token_for(make_user()) for _ in range(VOTERS)]
    proposals = [make_proposal() for _ in range(PROPOSALS)]
    proposers = [token_for(proposal.proposer) for proposal in proposals]
    escalating = make_poll(title="Should the board look at xAI?")
    poll_services.poll_escalation_set(poll=escalating, option_label="Yes", threshold="1/2", comparator=">")
    poll_services.ballot_cast(
        poll_id=escalating.pk, voter=make_user(), option_id=escalating.options.get(label="Yes").pk
    )

    gunicorn, web = start_gunicorn(spawn, app_env(database_url(), redis.url))
    worker = start_worker(spawn, redis.url, tmp_path, resend_after=1)
    redis.stop()

    def ballot(i: int) -> Reply:
        return call(f"{web}/api/v1/polls/{poll.pk}/ballot/", voters[i], {"option": yes})

    def submit(i: int) -> Reply:
        return call(f"{web}/api/v1/proposals/{proposals[i].pk}/transitions/", proposers[i], {"action": "submit"})

    with ThreadPoolExecutor(max_workers=10) as pool:
        ballots = [pool.submit(ballot, i) for i in range(VOTERS)]
        submits = [pool.submit(submit, i) for i in range(PROPOSALS)]
        close = pool.submit(call, f"{web}/api/v1/polls/{escalating.pk}/close/", token_for(secretary))
        replies = {"ballot": [f.result() for f in ballots], "submit": [f.result() for f in submits]}
    outage_ended = time.monotonic()

    assert Counter(r.status for r in replies["ballot"]) == {201: VOTERS}
    assert Counter(r.status for r in replies["submit"]) == {200: PROPOSALS}
    assert close.result().status == 200
    assert Ballot.objects.filter(poll=poll).count() == VOTERS
    assert Proposal.objects.filter(status=State.SUBMITTED).count() == PROPOSALS
    assert Poll.objects.get(pk=escalating.pk).status == PollStatus.CLOSED
    log = gunicorn.output()
    assert log.count("could not enqueue proposals.tasks.send_notification") == PROPOSALS
    assert log.count("could not enqueue proposals.tasks.proposals_escalate") == 1
    assert Notification.objects.filter(sent_at__isnull=True).count() == PROPOSALS
    assert not Proposal.objects.filter(escalated_from=escalating).exists()
    assert mails(worker.outbox) == []

    redis.start()
    back = time.monotonic()
    # Everything now pending was queued over a second ago: the sweep counts it as lost.
    time.sleep(max(0.0, outage_ended + 1.2 - time.monotonic()))
    sweep = play_beat(redis.url, worker)
    wait_for(lambda: not Notification.objects.filter(sent_at__isnull=True).exists(), 30, "the pending mail")
    caught_up = time.monotonic() - back
    again = play_beat(redis.url, worker)

    assert sweep["resent"] == PROPOSALS
    assert sweep["escalated"] == 1
    assert again["resent"] == again["escalated"] == 0
    assert Proposal.objects.filter(escalated_from=escalating).count() == 1
    sent = mails(worker.outbox)
    per_message = Counter(str(m["Message-ID"]) for m in sent)
    assert len(per_message) == PROPOSALS + 1  # a "submitted" each, and the escalation
    assert set(per_message.values()) == {1}
    assert Counter(str(m["To"]) for m in sent) == {"secretary@example.com": PROPOSALS + 1}
    latencies = sorted(r.ended - r.started for rs in replies.values() for r in rs)
    report(
        "redis stopped",
        requests=VOTERS + PROPOSALS + 1,
        ok_2xx=VOTERS + PROPOSALS + 1,
        ballots_stored=Ballot.objects.filter(poll=poll).count(),
        transitions_stored=PROPOSALS + 1,
        enqueue_failures_logged=log.count("could not enqueue"),
        slowest_request_s=f"{latencies[-1]:.2f}",
        median_request_s=f"{latencies[len(latencies) // 2]:.2f}",
        seconds_from_redis_back_to_all_mailed=f"{caught_up:.1f}",
        first_sweep=sweep,
        second_sweep=again,
        emails_sent=len(sent),
        duplicates=sum(n - 1 for n in per_message.values()),
    )


# --- 3. PostgreSQL restarted during a vote load ----------------------------------------------

LOAD_VOTERS = 1500
LOAD_THREADS = 8
PROBE_VOTERS = 20

SEED = """
import json, sys
import django
django.setup()
from django.contrib.auth import get_user_model
import datetime, secrets
from django.utils import timezone
from core.models import ApiToken
from tests.factories import make_poll
User = get_user_model()
poll = make_poll()
users = User.objects.bulk_create([User(username=f"voter{i}") for i in range(int(sys.argv[1]))])
keys = [secrets.token_hex(20) for _ in users]
now = timezone.now()
ApiToken.objects.bulk_create([
    ApiToken(user=user, digest=ApiToken.digest_of(key), password_stamp=ApiToken.stamp_of(user.password),
             created_at=now, expires_at=now + datetime.timedelta(days=1))
    for user, key in zip(users, keys)
])
print(json.dumps({"poll": poll.pk, "option": poll.options.get(label="Yes").pk,
                  "voters": [[key, user.pk] for key, user in zip(keys, users)]}))
"""


class PrivateCluster:
    """A throwaway PostgreSQL cluster on a free port, owned by the postgres account when the tests
    run as root (the server refuses root)."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb") or ""]
        if not found[-1]:
            unavailable("PostgreSQL's initdb is not installed")
        self.bin = Path(found[-1]).parent
        self.as_owner: list[str] = []
        self.root = Path(tempfile.mkdtemp(prefix="quorum-faults-pg-"))
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                unavailable("running as root, and runuser is missing to run PostgreSQL as postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres", "postgres")
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/quorum"

    def pg_ctl(self, *args: str) -> None:
        command = [*self.as_owner, str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-w", "-t", "60", *args]
        # The server inherits pg_ctl's output: a pipe would stay open as long as the server runs.
        with (self.root / "pg_ctl.log").open("ab") as output:
            subprocess.run(command, check=True, stdout=output, stderr=subprocess.STDOUT, timeout=90)

    def start(self) -> None:
        initdb = [*self.as_owner, str(self.bin / "initdb"), "-D", str(self.root / "data"), "-U", "postgres"]
        subprocess.run([*initdb, "-A", "trust", "-E", "UTF8", "--no-sync"], check=True, capture_output=True, timeout=90)
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c max_connections=50"
        self.pg_ctl("-l", str(self.root / "server.log"), "-o", options, "start")
        createdb = [*self.as_owner, str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port)]
        subprocess.run([*createdb, "-U", "postgres", "quorum"], check=True, capture_output=True, timeout=30)

    def restart(self) -> None:
        self.pg_ctl("-l", str(self.root / "server.log"), "-m", "fast", "restart")

    def destroy(self) -> None:
        try:
            if (self.root / "data" / "postmaster.pid").exists():
                self.pg_ctl("-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def django(self, *args: str) -> str:
        """Run Python with the project on this cluster (test settings: quick hashing, no broker)."""
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test", "DATABASE_URL": self.url}
        env.pop("CELERY_BROKER_URL", None)
        command = [sys.executable, *args]
        return subprocess.run(
            command, cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=120
        ).stdout

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/quorum", autocommit=True) as conn:
            return list(conn.execute(sql, params).fetchall())


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    server = PrivateCluster()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


def test_a_postgres_restart_under_a_vote_load_answers_503_loses_no_committed_vote_and_recovers(
    spawn: Callable[..., Process], cluster: PrivateCluster
) -> None:
    cluster.django("manage.py", "migrate", "--noinput")
    world = json.loads(cluster.django("-c", SEED, str(LOAD_VOTERS + PROBE_VOTERS)).strip().splitlines()[-1])
    voters: list[tuple[str, int]] = [tuple(v) for v in world["voters"]]
    load, probes = voters[:LOAD_VOTERS], voters[LOAD_VOTERS:]
    _, web = start_gunicorn(spawn, app_env(cluster.url, None), workers=4)
    url = f"{web}/api/v1/polls/{world['poll']}/ballot/"

    counter = itertools.count()
    replies: dict[int, Reply] = {}
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            i = next(counter)
            if i >= len(load):
                return
            replies[i] = call(url, load[i][0], {"option": world["option"]})
            time.sleep(0.04)

    threads = [threading.Thread(target=client) for _ in range(LOAD_THREADS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        restart_began = time.monotonic()
        cluster.restart()
        restart_ended = time.monotonic()
        time.sleep(3.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    probe_replies = [call(url, token, {"option": world["option"]}) for token, _ in probes]

    statuses = Counter(reply.status for reply in replies.values())
    failed = [reply for reply in replies.values() if reply.status not in (200, 201)]
    stored = {row[0] for row in cluster.query("SELECT voter_id FROM polls_ballot WHERE poll_id = %s", world["poll"])}
    ballots = cluster.query("SELECT count(*) FROM polls_ballot WHERE poll_id = %s", world["poll"])[0][0]
    accepted = {load[i][1] for i, reply in replies.items() if reply.status == 201}
    drifted = cluster.query(
        "SELECT o.id FROM polls_option o LEFT JOIN polls_ballot b ON b.option_id = o.id "
        "WHERE o.poll_id = %s GROUP BY o.id HAVING o.votes <> count(b.id)",
        world["poll"],
    )
    print_failures = [(r.status, r.body, r.error) for r in failed if r.status != 503][:5]

    assert set(statuses) <= {201, 503}, print_failures
    assert statuses[503] > 0, "the restart landed between requests; nothing was in flight"
    assert all(isinstance(r.body, dict) and "unavailable" in r.body["detail"] for r in failed)
    assert all(r.retry_after == "5" for r in failed)
    assert accepted <= stored  # no vote answered 201 is missing
    assert ballots == len(stored)  # one ballot per voter
    assert drifted == []
    assert [reply.status for reply in probe_replies] == [201] * PROBE_VOTERS
    last_failure = max(r.ended for r in failed)
    first_failure = min(r.started for r in failed)
    landed_anyway = len(stored - accepted - {voter for _, voter in probes})
    report(
        "postgres restarted under load",
        requests=len(replies) + len(probe_replies),
        ok_2xx=statuses[201] + PROBE_VOTERS,
        clean_503=statuses[503],
        status_500=statuses[500],
        connection_errors=statuses[0],
        ballots_stored=ballots,
        lost=len(accepted - stored),
        duplicates=ballots - len(stored),
        answered_503_but_committed=landed_anyway,
        restart_s=f"{restart_ended - restart_began:.2f}",
        failures_from_s=f"{first_failure - restart_began:.2f}",
        outage_seen_by_clients_s=f"{last_failure - first_failure:.2f}",
        last_failure_s_after_restart_done=f"{last_failure - restart_ended:.2f}",
        probes_after_recovery=f"{PROBE_VOTERS}/{PROBE_VOTERS} 201",
    )
