"""What a person sees when a form refuses what they sent, and the director's queue."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from polls.models import Ballot
from proposals.models import Proposal
from tests.browser.conftest import World

pytestmark = pytest.mark.browser


def test_a_proposal_without_a_title_comes_back_with_the_error_by_the_field_and_the_text_kept(
    world: World, signed_in: Callable[..., Page]
) -> None:
    page = signed_in("carol")
    page.goto("/proposals/new/")
    page.get_by_label("Summary").fill("Publish the annual report in Italian as well.")
    page.get_by_role("button", name="Save and submit").click()
    title = page.locator(".field").filter(has=page.get_by_label("Title"))
    expect(title.locator(".field-error")).to_contain_text("This field is required.")
    expect(page.get_by_label("Summary")).to_have_value("Publish the annual report in Italian as well.")
    assert not Proposal.objects.filter(proposer__username="carol").exists()


def test_a_vote_sent_after_the_session_cookie_was_lost_gets_the_friendly_csrf_page(
    world: World, signed_in: Callable[..., Page]
) -> None:
    page = signed_in("alice")
    page.goto(f"/polls/{world.poll.pk}/")
    page.context.clear_cookies(name="csrftoken")
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Vote").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This form has expired")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()  # in the site's layout
    assert not Ballot.objects.filter(poll=world.poll).exists()


def test_a_director_finds_the_proposal_to_review_with_its_due_date_and_a_conflicted_one_the_reason(
    proposal_in_review: Proposal, signed_in: Callable[..., Page]
) -> None:
    kimbal = signed_in("kimbal")
    queue = kimbal.get_by_role("region", name="To review for the board")
    expect(queue.get_by_role("link", name=proposal_in_review.title)).to_be_visible()
    expect(queue).to_contain_text("review due")
    queue.get_by_role("link", name=proposal_in_review.title).click()
    kimbal.get_by_role("link", name="Review this proposal").click()
    expect(kimbal.get_by_role("group", name="Your decision")).to_be_visible()

    elon = signed_in("elon")
    expect(elon.get_by_role("region", name="To review for the board")).to_contain_text("recused: interest in xAI")
