"""A proxy votes 20 holders on one page (issue 15): on a phone, the common choices with one
holder's exception opened from its disclosure by the keyboard, one post, every ballot recorded;
the page fits 375 px and passes axe. A holder then reads who voted for them."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from meetings.models import Holder, Meeting
from meetings.services import proxy_appoint
from polls.models import Ballot, Poll
from tests.browser.conftest import axe_summary, axe_violations, screenshot
from tests.browser.test_small_screens import OVERFLOW, PHONE
from tests.factories import make_item, make_meeting, make_register, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOLDERS = 20


def fits(page: Page, what: str) -> None:
    measure = page.evaluate(OVERFLOW)
    assert measure["scrollWidth"] <= measure["clientWidth"], f"{what} is wider than the screen: {measure}"


@pytest.fixture
def desk() -> tuple[Meeting, list[Holder], Poll, Poll]:
    owners = [make_user(username=f"owner{i:02d}", email=f"owner{i:02d}@example.com") for i in range(HOLDERS)]
    proxy = make_user(username="fundproxy", email="fundproxy@example.com")
    register = make_register(
        [(f"H-{i:02d}", f"Holder {i:02d}", f"owner{i:02d}@example.com", 10 * (i + 1)) for i in range(HOLDERS)],
        outstanding=10_000,
    )
    meeting = make_meeting(register, date=timezone.localdate() + datetime.timedelta(days=7))
    holders = list(register.holders.order_by("account"))
    for owner, holder in zip(owners, holders, strict=True):
        proxy_appoint(meeting=meeting, holder=holder, proxy=proxy, actor=owner)
    return meeting, holders, make_item(meeting, title="Ratify the auditor"), make_item(meeting, title="Say on pay")


def test_a_proxy_votes_twenty_holders_on_one_page_on_a_phone(
    desk: tuple[Meeting, list[Holder], Poll, Poll], signed_in: Callable[..., Page]
) -> None:
    meeting, holders, auditor, pay = desk
    page = signed_in("fundproxy", **PHONE)
    page.goto(f"/meetings/{meeting.pk}/")
    page.get_by_role("link", name="You vote for 20 holders as their proxy: vote them all on one page").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Vote as proxy")
    expect(page.locator("ul.proxy-holders > li")).to_have_count(HOLDERS)
    fits(page, "the proxy's page")
    violations = axe_violations(page)
    assert not violations, axe_summary(page.url, violations)

    page.get_by_role("group", name="Ratify the auditor").get_by_label("For").check()
    page.get_by_role("group", name="Say on pay").get_by_label("Against").check()
    page.get_by_label("Holder 19").uncheck()
    summary = page.get_by_text("Exceptions for Holder 00")
    summary.focus()
    page.keyboard.press("Enter")
    page.get_by_role("combobox", name="Say on pay").first.select_option("abstain")
    fits(page, "an open exception")
    page.get_by_role("button", name="Record the ballots").last.click()
    expect(page.get_by_text("Recorded 38 ballots for 19 holders.")).to_be_visible()
    screenshot(page, "proxy-votes-twenty-holders")

    assert Ballot.objects.filter(poll=auditor).count() == HOLDERS - 1
    assert Ballot.objects.filter(poll=pay).count() == HOLDERS - 1
    assert Ballot.objects.get(poll=pay, holder=holders[0]).shares_abstain == holders[0].shares
    assert not Ballot.objects.filter(holder=holders[19]).exists()

    holder_page = signed_in("owner00", **PHONE)
    holder_page.goto(f"/meetings/{meeting.pk}/")
    expect(holder_page.locator(".casters")).to_contain_text("Ratify the auditor: cast by your proxy fundproxy at")
    expect(holder_page.get_by_role("group", name="Instructions, item by item")).to_be_visible()
    fits(holder_page, "the holder's page with the proxy form")
    violations = axe_violations(holder_page)
    assert not violations, axe_summary(holder_page.url, violations)
