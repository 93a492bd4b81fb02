"""The secretary imports a 200,000-line register of record from the console and watches a worker
check and import it on the import's own page."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from playwright.sync_api import Page, expect

from meetings import import_jobs
from meetings.models import RegisterImport, RegisterSnapshot
from meetings.tasks import register_import_run
from tests.browser.conftest import World, axe_summary, axe_violations
from tests.factories import register_csv

pytestmark = pytest.mark.browser

LINES = 200_000

# Each value the import page's bar takes, kept in sessionStorage across the page's reload.
WATCH_BAR = """
document.addEventListener('DOMContentLoaded', () => {
  const bar = document.getElementById('job-progress');
  if (!bar) return;
  new MutationObserver(() => {
    const seen = JSON.parse(sessionStorage.getItem('bar') || '[]');
    seen.push(bar.getAttribute('value'));
    sessionStorage.setItem('bar', JSON.stringify(seen));
  }).observe(bar, {attributes: true, attributeFilter: ['value']});
});
"""


@pytest.fixture
def worker_thread(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[threading.Thread]]:
    """The tests run Celery eagerly, which would import inside the request. Here the task runs
    as on a worker: in a thread of its own, on its own database connection, once the request
    has committed the job. Each progress report pauses a moment, so a fast database still
    leaves the page time to see the bar move (it polls about three times a second)."""
    threads: list[threading.Thread] = []

    def run(job_id: int) -> None:
        try:
            register_import_run.apply(args=[job_id])
        finally:
            connection.close()

    def enqueue(job_id: int) -> None:
        thread = threading.Thread(target=run, args=(job_id,), daemon=True)
        threads.append(thread)
        thread.start()

    report = import_jobs._progress

    def slowed(job_id: int) -> Callable[[int, int], None]:
        inner = report(job_id)

        def step(lines: int, bytes_read: int) -> None:
            inner(lines, bytes_read)
            time.sleep(0.1)

        return step

    conf = register_import_run.app.conf
    eager = conf.task_always_eager
    conf.task_always_eager = False
    monkeypatch.setattr(register_import_run, "delay_on_commit", enqueue)
    monkeypatch.setattr(import_jobs, "_progress", slowed)
    try:
        yield threads
    finally:
        conf.task_always_eager = eager
        for thread in threads:
            thread.join(timeout=60)


def test_a_refused_register_lists_every_bad_line_and_offers_the_form_again(
    world: World, signed_in: Callable[..., Page], tmp_path: Path, worker_thread: list[threading.Thread]
) -> None:
    rows: list[tuple[str, str, str, int | str]] = [
        (f"H-{n:04d}", f"Holder {n}", f"holder{n}@example.com", 10) for n in range(3_000)
    ]
    rows[9] = ("H-0009", "Holder 9", "holder9@example.com", "ten")
    rows[2_499] = ("H-2499", "Holder 2499", "x" * 200, 10)
    register = tmp_path / "register-with-errors.csv"
    register.write_bytes(register_csv(rows))
    page = signed_in("secretary")
    page.goto("/console/")
    form = page.locator("main form:has(input[type=file])")
    form.locator("input[type=file]").set_input_files(register)
    form.locator("[name=record_date]").fill("2026-03-31")
    form.locator("[name=shares_outstanding]").fill("1000000")
    form.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert")).to_contain_text("2 errors; nothing was imported", timeout=60_000)
    errors = page.get_by_role("list", name="Lines with errors").get_by_role("listitem")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("line 11: shares must be a whole number")
    assert "x" * 81 not in errors.nth(1).inner_text()
    again = page.locator("main form:has(input[type=file])")
    expect(again.locator("[name=shares_outstanding]")).to_have_value("1000000")
    violations = axe_violations(page)
    assert not violations, axe_summary(page.url, violations)


def test_the_secretary_imports_a_long_register_and_watches_a_worker_check_and_import_it(
    world: World, signed_in: Callable[..., Page], tmp_path: Path, worker_thread: list[threading.Thread]
) -> None:
    rows: list[tuple[str, str, str, int | str]] = [
        (f"H-{n:06d}", f"Holder {n}", f"holder{n}@example.com", 1_000 + n) for n in range(LINES)
    ]
    register = tmp_path / "register-2026-03-31.csv"
    register.write_bytes(register_csv(rows))
    total = sum(1_000 + n for n in range(LINES))

    page = signed_in("secretary")
    page.context.add_init_script(script=WATCH_BAR)
    page.goto("/console/")
    form = page.locator("main form:has(input[type=file])")
    expect(form.locator("progress")).to_be_hidden()
    form.locator("input[type=file]").set_input_files(register)
    form.locator("[name=record_date]").fill("2026-03-31")
    form.locator("[name=shares_outstanding]").fill(str(total + 1_000_000))
    form.get_by_role("button", name="Import").click()

    # The request answers at once with the import's page; a worker does the rest.
    page.wait_for_url("**/console/registers/imports/*/", timeout=30_000)
    job = RegisterImport.objects.get(source_name=register.name)
    assert not job.finished, "the import ran inside the request"
    expect(page.get_by_role("status")).to_contain_text(f"{LINES:,} holders", timeout=120_000)
    expect(page.locator("#job-progress")).to_have_attribute("value", "100")
    expect(page.locator("#job-progress-text")).to_contain_text(f"{LINES:,} lines checked · {LINES:,} imported")

    seen: list[Any] = page.evaluate("() => JSON.parse(sessionStorage.getItem('bar') || '[]')")
    moving = [value for value in seen if value not in ("0", "100")]
    assert len(set(moving)) >= 3, f"the bar did not move through three values before the result: {seen}"
    assert [int(value) for value in seen] == sorted(int(value) for value in seen), seen

    snapshot = RegisterSnapshot.objects.get(source_name=register.name)
    assert snapshot.holders.count() == LINES
    # A refresh finds the same import, finished; the console lists the register.
    page.reload()
    expect(page.get_by_role("status")).to_contain_text(f"{LINES:,} holders")
    violations = axe_violations(page)
    assert not violations, axe_summary(page.url, violations)
    page.goto("/console/")
    latest = page.get_by_role("table", name="Latest registers")
    expect(latest.get_by_role("row").filter(has_text=register.name)).to_contain_text(f"{total:,}")
