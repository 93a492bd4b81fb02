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

import glob
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from core.models import Notification
from core.notifications import notification_message_id
from meetings.services import tabulation_record
from polls import services as poll_services
from polls.ballots import ballot_cast
from polls.models import Ballot, Poll, PollStatus
from polls.trail_verify import audit_verify
from proposals import review_votes, services
from proposals.models import Proposal
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
from tests.system.faults_harness import (
    APP_SECRET_KEY,
    ROOT,
    VISIBILITY_TIMEOUT,
    PrivateRedis,
    Process,
    Reply,
    app_env,
    call,
    events,
    free_port,
    mails,
    play_beat,
    report,
    start_gunicorn,
    start_worker,
    token_for,
    unavailable,
    wait_for,
)
from tests.system.live import database_url

pytestmark = [pytest.mark.celery_worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


# --- Processes ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def postgres_suite() -> None:
    """Checked before any server starts. The workers and web servers share the test database,
    which SQLite cannot do across processes; CI runs this file in its PostgreSQL pass."""
    if connection.vendor != "postgresql":
        unavailable("the fault tests need the PostgreSQL test database (set DATABASE_URL)")


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


@pytest.fixture
def redis(spawn: Callable[..., Process]) -> PrivateRedis:
    server = PrivateRedis(spawn)
    server.start()
    return server


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
        actor=secretary,
    )
    return proposal, item, token_for(secretary)


OUTCOME_RECIPIENTS = {"proposer@example.com", "robyn@example.com", "kimbal@example.com", "elon@example.com"}


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
    assert message_ids == {notification_message_id(n) for n in Notification.objects.filter(kind="outcome")}
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
    ballot_cast(poll_id=escalating.pk, actor=make_user(), option_id=escalating.options.get(label="Yes").pk)

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
    assert log.count("could not enqueue core.tasks.send_notification") == PROPOSALS
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
    ApiToken.sealed(user=user, key=key, otp_verified=False, created_at=now,
                    expires_at=now + datetime.timedelta(days=1))
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
        env["SECRET_KEY"] = APP_SECRET_KEY  # the servers' key: the tokens it seeds are sealed with it
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
