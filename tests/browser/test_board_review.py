"""A director reads the whole review page in a browser (under the Content-Security-Policy the
conftest enforces), votes to refer, and the secretary is offered Decide only when it can work."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Page, expect

from proposals import materials
from proposals.models import Proposal
from tests.browser.conftest import World, axe_violations

pytestmark = pytest.mark.browser


def test_a_director_reads_the_full_review_page_and_votes_to_refer(
    world: World, proposal_in_review: Proposal, signed_in: Callable[..., Page]
) -> None:
    proposal = proposal_in_review
    proposal.polls.add(world.poll)
    materials.attachment_add(
        proposal=proposal, actor=world.secretary, upload=SimpleUploadedFile("valuation.txt", b"board papers")
    )
    materials.comment_add(
        proposal=proposal, actor=User.objects.get(username="robyn"), body="Ask xAI for the term sheet."
    )

    kimbal = signed_in("kimbal")
    kimbal.goto(f"/proposals/{proposal.pk}/review/")
    main = kimbal.locator("main")
    expect(kimbal.get_by_role("heading", level=1)).to_contain_text(proposal.title)
    expect(main).to_contain_text("Tesla and xAI would share talent and compute")  # the body
    expect(main).to_contain_text("5,000,000,000.00 USD")
    expect(main).to_contain_text("xAI")
    expect(main).to_contain_text("Quorum: 3 of 5 directors in office.")
    expect(main.get_by_role("link", name="valuation.txt")).to_be_visible()
    expect(main).to_contain_text("Ask xAI for the term sheet.")
    expect(kimbal.get_by_role("table", name=f"Results: {world.poll.title}")).to_be_visible()
    expect(main.locator("ul.recusals")).to_contain_text("interest in xAI")
    board = kimbal.get_by_role("table", name="Board review")
    expect(board.get_by_role("row").filter(has_text="robyn")).to_contain_text("Abstain")
    expect(board.get_by_role("row").filter(has_text="james")).to_contain_text("not yet")

    form = kimbal.locator("main form")
    form.get_by_label("Refer to the shareholders with no recommendation").check()
    kimbal.get_by_role("button", name="Record my vote").click()
    expect(kimbal.get_by_role("status")).to_contain_text("Your review vote is recorded")

    # Before the due date the secretary reads when deciding becomes possible, with no button.
    secretary = signed_in("secretary")
    secretary.goto(f"/proposals/{proposal.pk}/")
    expect(secretary.locator("main")).to_contain_text("you can decide from then on")
    expect(secretary.get_by_role("link", name="Decide…")).to_have_count(0)
    expect(secretary.locator("main form:has(input[name=action][value=refer])")).to_have_count(0)


def test_the_decide_confirmation_the_board_settings_and_the_consoles_confirmation_are_accessible(
    world: World, proposal_in_review: Proposal, signed_in: Callable[..., Page]
) -> None:
    from tests.browser.test_accessibility import assert_accessible

    secretary = signed_in("secretary")
    assert_accessible(secretary, f"/proposals/{proposal_in_review.pk}/decide/")
    expect(secretary.get_by_role("alert")).to_contain_text("decides only at the due date")
    assert_accessible(secretary, "/proposals/board/settings/")
    secretary.get_by_label("A majority of the disinterested directors (special committee)").check()
    secretary.get_by_role("button", name="Save").click()
    expect(secretary.get_by_role("status")).to_contain_text("The board's settings are saved")
    # The console's Close now asks first, on a page of its own, with nothing inline.
    secretary.goto("/console/")
    row = secretary.locator("li, tr").filter(has_text=world.poll.title)
    row.get_by_role("button", name="Close now").click()
    expect(secretary.get_by_role("heading", level=1)).to_have_text("Close now")
    assert not axe_violations(secretary), "the confirmation page"
    secretary.get_by_role("button", name="Cancel").or_(secretary.get_by_role("link", name="Cancel")).click()
    expect(secretary).to_have_url(re.compile(r"/console/$"))
