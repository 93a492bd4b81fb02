"""No page loads anything from outside the app: no CDN, no font service, no analytics."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from proposals.models import Proposal
from tests.browser.conftest import ACTION_TIMEOUT_MS, World, log_in, make_recorded_x_poll

pytestmark = pytest.mark.browser


def test_every_request_the_browser_makes_goes_to_the_live_server(
    world: World, proposal_in_review: Proposal, new_context: Callable[..., BrowserContext], origin: str
) -> None:
    recorded = make_recorded_x_poll()
    requests: list[str] = []

    def refuse_outside(route: Route) -> None:
        """Nothing leaves the machine even if a page asks for it; the test still sees it asked."""
        if route.request.url.startswith(f"{origin}/"):
            route.continue_()
        else:
            route.abort()

    def browse() -> Page:
        context = new_context()
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.on("request", lambda request: requests.append(request.url))
        context.route("**/*", refuse_outside)
        return context.new_page()

    visitor = browse()
    for path in ["/", f"/polls/{world.poll.pk}/", f"/recorded/{recorded.pk}/", "/proposals/", "/api/v1/docs/"]:
        visitor.goto(path)
        visitor.wait_for_load_state("networkidle")

    member = log_in(browse(), "alice")
    member.goto(f"/polls/{world.poll.pk}/")
    member.get_by_label("Yes").check()
    member.get_by_role("button", name="Vote").click()
    expect(member.get_by_role("status")).to_contain_text("recorded")
    for path in [
        f"/polls/{world.poll.pk}/results/",
        f"/meetings/{world.meeting.pk}/",
        f"/proposals/{proposal_in_review.pk}/",
    ]:
        member.goto(path)
        member.wait_for_load_state("networkidle")

    secretary = log_in(browse(), "secretary")
    secretary.goto("/console/")
    secretary.wait_for_load_state("networkidle")

    outside = sorted({url for url in requests if not url.startswith(f"{origin}/")})
    assert not outside, f"requests outside {origin}: {outside}"
    assert any("/static/" in url for url in requests), "the stylesheet should be among the requests"
    assert len(requests) > 15, requests
