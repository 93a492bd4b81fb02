"""The secretary imports a register of record from the console, watching the upload's progress."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from polls.models import RegisterSnapshot
from tests.browser.conftest import World
from tests.factories import register_csv

pytestmark = pytest.mark.browser

# Each change of the <progress> element's value, kept in sessionStorage: the console's script
# replaces the document with the server's answer, and the record has to outlive that.
WATCH_PROGRESS = """() => {
  const progress = document.querySelector('main form progress');
  sessionStorage.setItem('progress', '[]');
  new MutationObserver(() => {
    const seen = JSON.parse(sessionStorage.getItem('progress'));
    const row = progress.closest('.progress-row') || progress.parentElement;
    seen.push({value: progress.getAttribute('value'), visible: !row.hidden});
    sessionStorage.setItem('progress', JSON.stringify(seen));
  }).observe(progress, {attributes: true, attributeFilter: ['value']});
}"""


def test_the_secretary_imports_a_long_register_from_the_console_and_sees_its_progress(
    world: World, signed_in: Callable[..., Page], tmp_path: Path
) -> None:
    rows: list[tuple[str, str, str, int | str]] = [
        (f"H-{n:06d}", f"Holder {n}", f"holder{n}@example.com", 1_000 + n) for n in range(20_000)
    ]
    register = tmp_path / "register-2026-03-31.csv"
    register.write_bytes(register_csv(rows))
    total = sum(1_000 + n for n in range(20_000))

    page = signed_in("secretary")
    page.goto("/console/")
    form = page.locator("main form:has(input[type=file])")
    progress = form.locator("progress")
    expect(progress).to_be_hidden()
    page.evaluate(WATCH_PROGRESS)
    form.locator("input[type=file]").set_input_files(register)
    form.locator("[name=record_date]").fill("2026-03-31")
    form.locator("[name=shares_outstanding]").fill(str(total + 1_000_000))
    form.get_by_role("button", name="Import").click()

    expect(page.get_by_role("status")).to_contain_text("20,000 holders", timeout=30_000)
    snapshot = RegisterSnapshot.objects.get(source_name=register.name)
    assert snapshot.holders.count() == 20_000
    latest = page.get_by_role("table", name="Latest registers")
    expect(latest.get_by_role("row").filter(has_text=register.name)).to_contain_text(f"{total:,}")
    seen = page.evaluate("() => JSON.parse(sessionStorage.getItem('progress') || '[]')")
    assert seen, "the progress bar never moved"
    assert all(step["visible"] for step in seen), seen
    assert {"value": "100", "visible": True} in seen, f"the upload never showed 100%: {seen}"
    assert seen[-1] == {"value": None, "visible": True}, f"no indeterminate bar while the server checks: {seen}"
