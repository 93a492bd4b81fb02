"""The secretary adds a director with an interest in xAI from the console; a director signs a
unanimous written consent with their password. On a phone-sized screen, under the CSP."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from proposals import consent
from proposals.models import Director, Proposal
from tests.browser.conftest import PASSWORD, World, axe_summary, axe_violations
from tests.factories import make_proposal, start_review

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 375, "height": 740}}


def fits(page: Page) -> bool:
    """No sideways scrolling on a phone, and no serious accessibility violation (axe)."""
    violations = axe_violations(page)
    assert not violations, axe_summary(page.url, violations)
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_the_secretary_adds_a_director_with_an_interest_in_xai_from_the_console(
    world: World, signed_in: Callable[..., Page]
) -> None:
    secretary = signed_in("secretary", **PHONE)
    secretary.goto("/console/")
    secretary.get_by_role("link", name="People").click()
    expect(secretary.get_by_role("heading", level=1)).to_have_text("People")
    assert fits(secretary)
    secretary.get_by_role("link", name="Add a director").click()
    secretary.get_by_label("Account (username or e-mail)").fill("paolo@example.com")
    secretary.get_by_label("Title").fill("Independent director")
    secretary.get_by_label("In office from").fill("2025-01-01")
    secretary.get_by_label("xAI", exact=True).check()
    assert fits(secretary)
    secretary.get_by_role("button", name="Save director").click()
    expect(secretary.get_by_role("status")).to_contain_text("paolo is saved as a director")
    row = secretary.locator("li.poll-row").filter(has_text="Independent director")
    expect(row).to_contain_text("xAI")
    expect(row).to_contain_text("in office")
    director = Director.objects.get(user__username="paolo")
    assert director.in_office and director.conflict_with("xAI Holdings Corp.") is not None


def test_a_director_signs_a_written_consent_with_their_password(world: World, signed_in: Callable[..., Page]) -> None:
    # Not xAI: Elon would be recused, and a consent could not be unanimous.
    proposal: Proposal = start_review(
        make_proposal(
            User.objects.get(username="alice"), title="Open a plant in Italy", counterparty="Comune di Torino"
        ),
        world.secretary,
    )
    found = consent.consent_create(
        proposal_id=proposal.pk,
        text="RESOLVED, that the Company open a plant in Italy.",
        outcome="approved",
        actor=world.secretary,
    )
    kimbal = signed_in("kimbal", **PHONE)
    kimbal.goto(f"/proposals/consents/{found.pk}/")
    main = kimbal.locator("main")
    expect(main).to_contain_text("RESOLVED, that the Company open a plant in Italy.")
    assert fits(kimbal)
    kimbal.get_by_label("Your password").fill("not my password")
    kimbal.get_by_role("button", name="Sign the resolution").click()
    expect(kimbal.get_by_role("alert")).to_contain_text("The password or the code is not right.")
    kimbal.get_by_label("Your password").fill(PASSWORD)
    kimbal.get_by_role("button", name="Sign the resolution").click()
    expect(kimbal.get_by_role("status")).to_contain_text("You signed.")
    expect(main.locator("li.poll-row").filter(has_text="kimbal")).to_contain_text("signed")
    expect(kimbal.get_by_role("button", name="Sign the resolution")).to_have_count(0)
    assert found.signatures.get(director__user__username="kimbal").response == "signed"


def test_the_board_meets_and_approves_its_minutes_which_then_print(
    world: World, signed_in: Callable[..., Page]
) -> None:
    from proposals import board_meetings

    secretary = signed_in("secretary", **PHONE)
    secretary.goto("/console/")
    secretary.get_by_role("link", name="Board meetings").click()
    secretary.get_by_role("link", name="Schedule a board meeting").click()
    secretary.get_by_label("Date and time").fill("2025-11-10T09:00")
    secretary.get_by_label("Place").fill("Austin, Gigafactory Texas")
    secretary.get_by_role("button", name="Schedule").click()
    expect(secretary.get_by_role("status")).to_contain_text("The board meeting is scheduled.")
    assert fits(secretary)
    secretary.get_by_label("Minutes (Markdown)").fill("# Minutes\n\nRobyn chaired. **Quorum** present.")
    secretary.get_by_role("button", name="Save the minutes").click()
    secretary.get_by_role("button", name="Circulate to the directors").click()
    expect(secretary.get_by_role("status")).to_contain_text("circulated")
    meeting_url = secretary.url
    for name in ("robyn", "kimbal", "ira"):
        director = signed_in(name, **PHONE)
        director.goto(meeting_url)
        expect(director.locator(".minutes strong")).to_have_text("Quorum")
        director.get_by_role("button", name="Approve the minutes").click()
        expect(director.get_by_role("status")).to_contain_text("Your approval of the minutes is recorded.")
    secretary.goto(meeting_url)
    secretary.get_by_role("link", name="Printable minutes").click()
    expect(secretary.get_by_role("heading", level=1)).to_contain_text("Minutes of the board meeting")
    meeting = board_meetings.BoardMeeting.objects.get()
    expect(secretary.locator("main")).to_contain_text(meeting.minutes_digest[:8])
    assert fits(secretary)
