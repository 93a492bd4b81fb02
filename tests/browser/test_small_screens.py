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
