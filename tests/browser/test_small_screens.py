"""Journey (e): at 375 px wide (a phone) no page scrolls sideways."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from polls import services as poll_services
from proposals.models import Proposal
from tests.browser.conftest import World, screenshot

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}

# The outermost elements that reach past the right edge, named like CSS selectors.
OVERFLOW = """() => {
  const edge = document.documentElement.clientWidth + 0.5;
  const past = el => el.getBoundingClientRect().right > edge;
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + [...el.classList].map(c => '.' + c).join('');
  const wide = [...document.querySelectorAll('body *')].filter(el => past(el) && !past(el.parentElement));
  return {
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    wide: wide.slice(0, 10).map(el => `${name(el)} (${Math.round(el.getBoundingClientRect().right)} px)`),
  };
}"""

# (who reads it, the page); {poll}, {item}, {closed_item}, {meeting}, {proposal} are filled in.
PAGES = [
    ("alice", "/"),
    ("alice", "/polls/{poll}/"),
    ("alice", "/polls/{poll}/results/"),
    ("alice", "/meetings/{meeting}/"),
    ("alice", "/polls/{item}/results/"),
    ("alice", "/proposals/{proposal}/"),
    ("secretary", "/"),
    ("secretary", "/proposals/{proposal}/"),
    ("secretary", "/console/"),
    ("secretary", "/console/polls/{closed_item}/certify/"),
    ("secretary", "/console/meetings/{meeting}/"),
    ("secretary", "/console/meetings/{meeting}/edit/"),
    ("secretary", "/console/polls/{item}/recommendation/"),
]


@pytest.mark.parametrize(("username", "path"), PAGES)
def test_no_page_overflows_horizontally_at_375_pixels(
    username: str, path: str, world: World, proposal_in_review: Proposal, signed_in: Callable[..., Page]
) -> None:
    closed_item = world.items[0]
    poll_services.poll_close(poll=closed_item)
    url = path.format(
        poll=world.poll.pk,
        item=world.items[1].pk,
        closed_item=closed_item.pk,
        meeting=world.meeting.pk,
        proposal=proposal_in_review.pk,
    )
    page = signed_in(username, **PHONE)
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url} answered {response and response.status}"
    assert page.viewport_size == {"width": 375, "height": 812}
    measure = page.evaluate(OVERFLOW)
    assert measure["scrollWidth"] <= measure["clientWidth"], f"{url} is wider than the screen: {measure}"
    if path == "/meetings/{meeting}/":
        screenshot(page, "e-meeting-ballot-at-375px")


# The chart's tick labels as rendered: the font size times the SVG's scale on screen; and the
# snapshot table's Note column, which must be on screen or reachable by scrolling its region.
CHART_AND_NOTES = """() => {
  const svg = document.querySelector('.chart svg');
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const ticks = [...svg.querySelectorAll('text.tick')].map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
  const region = document.querySelector('.snapshots');
  const headers = [...region.querySelectorAll('thead th')];
  const note = headers[headers.length - 1];
  const cells = [...region.querySelectorAll('tbody tr')].map(row => row.lastElementChild);
  const box = region.getBoundingClientRect();
  region.scrollLeft = region.scrollWidth;
  const scrolled = note.getBoundingClientRect();
  return {
    smallest: Math.min(...ticks),
    note: note.textContent.trim(),
    reachable: scrolled.left >= box.left - 0.5 && scrolled.right <= box.right + 0.5,
    clipped: cells.filter(cell => cell.scrollWidth > cell.clientWidth + 1).length,
  };
}"""


def test_the_recorded_x_polls_chart_and_snapshot_notes_stay_readable_at_375_pixels(
    world: World, signed_in: Callable[..., Page]
) -> None:
    import datetime
    from decimal import Decimal

    from tests.browser.conftest import make_recorded_x_poll

    recorded = make_recorded_x_poll()
    poll_services.recorded_snapshot_add(
        recorded_poll=recorded,
        taken_at=datetime.datetime(2024, 7, 26, 22, 0, tzinfo=datetime.UTC),
        total_votes=958_086,
        percentages={"Yes": Decimal("67.9"), "No": Decimal("32.1")},
        note="Final count as the platform showed it after the poll closed, quoted in the proxy statement",
    )
    page = signed_in("alice", **PHONE)
    response = page.goto(f"/recorded/{recorded.pk}/")
    assert response is not None and response.status == 200
    measure = page.evaluate(CHART_AND_NOTES)
    assert measure["smallest"] >= 10, f"axis labels shrink to {measure['smallest']:.1f} px"
    assert measure["note"] == "Note"
    assert measure["reachable"], "the Note column cannot be brought on screen"
    assert measure["clipped"] == 0, "a note is cut off"
    page_width = page.evaluate(OVERFLOW)
    assert page_width["scrollWidth"] <= page_width["clientWidth"], page_width
    screenshot(page, "e-recorded-x-poll-at-375px")
