"""The process harness of tests/system/test_faults.py: private Redis, gunicorn and Celery
workers on free ports, and the calls the fault scenarios make through them."""

from __future__ import annotations

import ast
import contextlib
import email
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from config.celery import app
from core.models import AuditEvent
from core.services import api_token_issue
from tests.system.live import database_url

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = bool(os.environ.get("QUORUM_REQUIRE_WORKER"))
# A killed worker's task comes back after this many seconds (see CELERY_VISIBILITY_TIMEOUT).
VISIBILITY_TIMEOUT = 2


def unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"CI runs the fault tests, but {reason}")
    pytest.skip(reason)


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


# One key for the servers and the tokens this process issues for them: a token is sealed with
# SECRET_KEY (core.models.ApiToken.seal), as every node of a deployment shares it.
APP_SECRET_KEY = secrets.token_urlsafe(50)


def app_env(database: str, broker: str | None, **extra: str) -> dict[str, str]:
    """Production settings pointed at the given database and broker (none: tasks run eagerly)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database,
        "DEBUG": "0",
        "SECRET_KEY": APP_SECRET_KEY,
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
    from django.test import override_settings

    with override_settings(SECRET_KEY=APP_SECRET_KEY):
        return api_token_issue(user=user, otp_verified=True)[0]


def report(title: str, **figures: Any) -> None:
    print(f"\n[faults] {title}: " + ", ".join(f"{name}={value}" for name, value in figures.items()))


def events(stream: str, action: str) -> int:
    return AuditEvent.objects.filter(stream=stream, action=action).count()
