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


@pytest.mark.parametrize("path", ["/console/polls/new/", "/console/meetings/new/", "/proposals/new/"])
def test_the_forms_that_create_things_have_no_serious_accessibility_violation(
    path: str, world: World, signed_in: Callable[..., Page]
) -> None:
    page = signed_in("secretary")
    assert_accessible(page, path)
    # Sent empty, the form comes back with its errors; those must be as accessible as the form.
    page.locator("main form button[type=submit]").first.click()
    violations = axe_violations(page)
    assert not violations, axe_summary(page.url, violations)


def test_the_meeting_edit_and_recommendation_forms_have_no_serious_accessibility_violation(
    world: World, signed_in: Callable[..., Page]
) -> None:
    page = signed_in("secretary")
    assert_accessible(page, f"/console/meetings/{world.meeting.pk}/edit/")
    expect(page.locator("input[name=proxy_cutoff]")).to_have_attribute("type", "datetime-local")
    assert_accessible(page, f"/console/polls/{world.items[0].pk}/recommendation/")
    expect(page.locator("select[name=recommendation]")).to_be_visible()


def test_the_axe_pass_reports_what_it_should(world: World, page: Page) -> None:
    """The wiring itself: a form control without a label on the page is a critical finding."""
    page.goto("/")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text>')")
    assert "label" in {violation["id"] for violation in axe_violations(page)}


FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {tag: el.tagName.toLowerCase(), type: el.type || '', name: el.name || '', value: el.value || '',
          text: (el.innerText || '').trim(), outline: style.outlineStyle, onScreen: box.right > 0 && box.bottom > 0};
}"""


def tab_to(page: Page, wanted: Callable[[dict[str, str]], bool], limit: int = 40) -> dict[str, str]:
    """Press Tab until the focused element is the one wanted; every stop must show its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused["outline"] != "none", f"no visible focus on {focused}"
        if wanted(focused):
            return focused
    raise AssertionError(f"Tab never reached the element wanted in {limit} presses")


def test_a_member_votes_with_the_keyboard_alone_and_always_sees_the_focus(
    world: World, signed_in: Callable[..., Page]
) -> None:
    page = signed_in("alice")
    page.goto(f"/polls/{world.poll.pk}/")
    skip = tab_to(page, lambda el: el["tag"] == "a")
    assert skip["text"] == "Skip to content" and skip["onScreen"], "the first stop is a visible skip link"
    tab_to(page, lambda el: el["type"] == "radio")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")  # radios in a group move with the arrows
    assert page.evaluate(FOCUSED)["outline"] != "none"
    tab_to(page, lambda el: el["tag"] == "button" and el["text"] == "Vote")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Your vote has been recorded")
    expect(page.locator("main")).to_contain_text("Your vote: No")
