"""axe-core on the main pages, each as the role that uses it: no serious or critical finding."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from polls import services as poll_services
from proposals.models import Proposal
from tests.browser.conftest import World, axe_summary, axe_violations

pytestmark = pytest.mark.browser


def assert_accessible(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None
    assert response.status == 200, f"{path} answered {response.status}"
    violations = axe_violations(page)
    assert not violations, axe_summary(path, violations)


def test_the_home_page_has_no_serious_accessibility_violation(world: World, signed_in: Callable[..., Page]) -> None:
    assert_accessible(signed_in("alice"), "/")


def test_the_home_page_for_a_visitor_has_no_serious_accessibility_violation(world: World, page: Page) -> None:
    assert_accessible(page, "/")


def test_a_poll_page_has_no_serious_accessibility_violation(world: World, signed_in: Callable[..., Page]) -> None:
    assert_accessible(signed_in("alice"), f"/polls/{world.poll.pk}/")


def test_the_meeting_ballot_has_no_serious_accessibility_violation(
    world: World, signed_in: Callable[..., Page]
) -> None:
    page = signed_in("alice")
    assert_accessible(page, f"/meetings/{world.meeting.pk}/")
    assert page.locator("fieldset.item").count() == 3, "the ballot should list the three open items"


def test_a_proposal_page_has_no_serious_accessibility_violation(
    proposal_in_review: Proposal, signed_in: Callable[..., Page]
) -> None:
    assert_accessible(signed_in("secretary"), f"/proposals/{proposal_in_review.pk}/")


def test_a_directors_review_page_has_no_serious_accessibility_violation(
    proposal_in_review: Proposal, signed_in: Callable[..., Page]
) -> None:
    assert_accessible(signed_in("kimbal"), f"/proposals/{proposal_in_review.pk}/review/")


def test_the_secretary_console_has_no_serious_accessibility_violation(
    proposal_in_review: Proposal, world: World, signed_in: Callable[..., Page]
) -> None:
    page = signed_in("secretary")
    assert_accessible(page, "/console/")
    expect(page.locator("main progress")).to_have_count(1)


def test_the_certification_page_has_no_serious_accessibility_violation(
    world: World, signed_in: Callable[..., Page]
) -> None:
    poll_services.poll_close(poll=world.poll)
    assert_accessible(signed_in("secretary"), f"/console/polls/{world.poll.pk}/certify/")


def test_the_axe_pass_reports_what_it_should(world: World, page: Page) -> None:
    """The wiring itself: a form control without a label on the page is a critical finding."""
    page.goto("/")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text>')")
    assert "label" in {violation["id"] for violation in axe_violations(page)}
