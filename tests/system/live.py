"""Helpers for tests that hand the test database to another process (a worker, gunicorn,
pg_dump)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The PostgreSQL test database as a URL another process can connect to."""
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def server_env(settings_module: str, **overrides: str) -> dict[str, str]:
    """This process's environment for a production-like server on the test database: this
    process's secret key (the API tokens the tests issue are sealed with it, as every node of a
    deployment shares one), no debug, no HTTPS redirect and no Celery broker."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": database_url(),
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "ERROR",
        **overrides,
    }
    env.pop("CELERY_BROKER_URL", None)
    return env


@contextmanager
def gunicorn(env: dict[str, str], *, port: int, workers: int, tries: int) -> Iterator[str]:
    """gunicorn with `workers` processes on 127.0.0.1:`port`, started from the project root with
    `env`; yields its base URL once /healthz answers (or after `tries` tenths of a second), and
    stops it on the way out."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "error",
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(tries):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def celery_worker(queue: str, broker: str, **overrides: str) -> subprocess.Popen[str]:
    """A real Celery worker (solo pool: one task at a time, in queue order) consuming `queue`
    on the test database; the caller stops it (terminate, or kill for a crash)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url(),  # the test database, not the one named in the env
        "CELERY_BROKER_URL": broker,
        **overrides,
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue]
    command += ["--without-gossip", "--without-mingle", "--loglevel=INFO"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def worker_broker() -> str:
    """The network broker a real worker needs; skips (fails in CI) without one or without PostgreSQL."""
    import pytest
    from django.conf import settings

    broker = settings.CELERY_BROKER_URL
    if not broker or broker.startswith("filesystem://") or connection.vendor != "postgresql":
        if os.environ.get("QUORUM_REQUIRE_WORKER"):
            pytest.fail("CI asked for the real-worker test but there is no PostgreSQL database and network broker")
        pytest.skip("needs PostgreSQL and a network broker (set DATABASE_URL and CELERY_BROKER_URL)")
    return str(broker)


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False
