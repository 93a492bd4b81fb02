"""What a visitor reads, and the pages people get when they may not see something."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import World, axe_summary, axe_violations, make_recorded_x_poll

pytestmark = pytest.mark.browser


def test_a_visitor_reads_the_recorded_x_poll_with_its_history_chart_and_its_numbers(world: World, page: Page) -> None:
    recorded = make_recorded_x_poll()
    page.goto(f"/recorded/{recorded.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(recorded.question)
    chart = page.get_by_role("img", name="Percentages per option at each snapshot")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None and box["height"] > 100, f"the chart is drawn too small: {box}"
    snapshots = page.get_by_role("table", name="Snapshots")
    expect(snapshots.get_by_role("row")).to_have_count(4)  # the header and three snapshots
    final = snapshots.get_by_role("row").filter(has_text="958,086")
    expect(final).to_contain_text("67.9%")
    expect(final).to_contain_text("32.1%")
    violations = axe_violations(page)
    assert not violations, axe_summary(page.url, violations)


def test_a_member_sent_to_the_console_gets_a_403_page_in_the_sites_layout(
    world: World, signed_in: Callable[..., Page]
) -> None:
    page = signed_in("alice")
    response = page.goto("/console/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Signed in as alice")
    expect(page.get_by_role("link", name="Back to the home page")).to_be_visible()


def test_an_address_that_leads_nowhere_gets_a_404_page_in_the_sites_layout(world: World, page: Page) -> None:
    response = page.goto("/polls/999999/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
