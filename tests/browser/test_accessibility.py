"""axe-core on the main pages, each as the role that uses it: no serious or critical finding."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

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
