"""`make run` as a newcomer sees it: scripts/run.sh on a fresh SQLite database with the embedded
broker and its worker, walked through by every role, prints no warning and no traceback."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "quorum-demo"
# What a newcomer should never read in the console or the worker's log.
NOISE = re.compile(r"Traceback|Warning|WARNING|superuser|No hostname|pip install|\bERROR\b")


@dataclass
class Served:
    url: str
    output: Path
    worker_log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if not (ROOT / ".venv" / "bin" / "celery").exists():
        pytest.skip("needs the project's .venv (make run builds it)")
    folder = tmp_path_factory.mktemp("make-run")
    port = free_port()
    output = folder / "console.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "DATABASE_", "PYTEST", "QUORUM_"))
    }
    # As the Makefile's `run` target sets it, on a database and queue folder of the test's own.
    env |= {
        "DEBUG": "1",
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_FILESYSTEM_DIR": str(folder / "celery"),
        "CELERY_WORKER_LOG": str(folder / "worker.log"),
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "MEDIA_ROOT": str(folder / "media"),
    }
    with output.open("w") as sink:
        server = subprocess.Popen(
            ["scripts/run.sh", str(port)],  # noqa: S607
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"run.sh stopped:\n{output.read_text()}")
            try:
                if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        else:
            pytest.fail(f"the server did not start:\n{output.read_text()}")
        yield Served(url=url, output=output, worker_log=folder / "worker.log")
    finally:
        stop(server)


def stop(server: subprocess.Popen[bytes]) -> None:
    """run.sh and everything it started (worker, runserver and its reloader) share its group."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def signed_in(url: str, username: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{url}/accounts/login/", timeout=10)
    answer = session.post(
        f"{url}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{url}/accounts/login/"},
        timeout=10,
    )
    assert answer.url.rstrip("/") != f"{url}/accounts/login", f"{username} could not sign in"
    return session


WALK: dict[str | None, list[tuple[str, int]]] = {
    None: [("/", 200), ("/polls/1/", 200), ("/proposals/", 200), ("/no-such-page/", 404), ("/api/v1/polls/", 200)],
    "alice": [("/", 200), ("/polls/1/", 200), ("/meetings/2/", 200), ("/console/", 403), ("/proposals/2/", 200)],
    "robyn": [("/proposals/", 200), ("/proposals/2/", 200), ("/proposals/2/review/", 200), ("/proposals/1/", 200)],
    "elon": [("/proposals/1/", 200), ("/console/", 403)],
    "secretary": [("/console/", 200), ("/meetings/1/", 200), ("/admin/", 200), ("/proposals/2/", 200)],
}


def import_on_the_worker(url: str) -> None:
    """The console's register import is queued for the worker run.sh started, which reads the
    file from the shared MEDIA_ROOT; the page's JSON follows it to the end."""
    secretary = signed_in(url, "secretary")
    register = "holder,name,email,shares\n" + "".join(
        f"W-{n},Holder {n},w{n}@example.com,{n + 1}\n" for n in range(500)
    )
    answer = secretary.post(
        f"{url}/console/registers/import/",
        data={
            "record_date": "2026-03-31",
            "shares_outstanding": "1000000",
            "csrfmiddlewaretoken": secretary.cookies["csrftoken"],
        },
        files={"file": ("walk.csv", register.encode(), "text/csv")},
        headers={"Referer": f"{url}/console/"},
        timeout=20,
    )
    assert "/console/registers/imports/" in answer.url, answer.url
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = secretary.get(f"{answer.url}status/", timeout=10).json()
        if status["finished"]:
            break
        time.sleep(0.5)
    assert status["status"] == "done", status
    assert status["lines_imported"] == 500


def test_every_role_walks_the_demo_and_the_logs_stay_quiet(served: Served) -> None:
    for username, pages in WALK.items():
        session = signed_in(served.url, username) if username else requests.Session()
        for path, status in pages:
            answer = session.get(f"{served.url}{path}", timeout=20)
            assert answer.status_code == status, f"{username or 'visitor'} {path}: {answer.status_code}"
            if status == 404:
                assert "Using the URLconf" not in answer.text  # the site's 404, not Django's technical page
    import_on_the_worker(served.url)
    time.sleep(1)  # the last request lines and anything the worker picked up
    console = served.output.read_text()
    assert "Quorum is at http://127.0.0.1:" in console
    assert "secretary / quorum-demo" in console
    worker = served.worker_log.read_text() if served.worker_log.exists() else ""
    for name, text in (("console", console), ("worker log", worker)):
        found = [line for line in text.splitlines() if NOISE.search(line)]
        assert not found, f"{name} has warnings or tracebacks:\n" + "\n".join(found[:20])
    assert "Forbidden (Permission denied): /console/" in console  # one line per refusal, kept
