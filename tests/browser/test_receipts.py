"""Receipts in a browser: a member votes and reads the receipt, a visitor with no account checks
it, the member changes the vote and the old receipt reads "superseded"."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import ACTION_TIMEOUT_MS, World, axe_summary, axe_violations, screenshot

pytestmark = pytest.mark.browser

CODE = re.compile(r"[0-9a-f]{5}-[0-9a-f]{5}-[0-9a-f]{5}-[0-9a-f]{5}")
PHONE = {"width": 375, "height": 740}


def receipt_shown(page: Page) -> str:
    """The code beside "Your receipt code:", checked to be the one the confirmation named."""
    code = page.locator(".your-receipt code").inner_text().strip()
    assert CODE.fullmatch(code), code
    expect(page.get_by_role("status")).to_contain_text(code)
    return code


def visitor(new_context: Callable[..., BrowserContext], **context_args: object) -> Page:
    context = new_context(viewport=PHONE, **context_args)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return context.new_page()


def fits_the_screen(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


def test_a_member_votes_a_visitor_checks_the_receipt_and_a_change_supersedes_it(
    world: World, signed_in: Callable[..., Page], new_context: Callable[..., BrowserContext]
) -> None:
    poll = world.poll
    member = signed_in("alice")
    member.goto(f"/polls/{poll.pk}/")
    member.get_by_label("Yes").check()
    member.get_by_role("button", name="Vote").click()
    expect(member.get_by_role("status")).to_contain_text("Your vote has been recorded. Your receipt code is")
    first = receipt_shown(member)

    # A visitor, signed in nowhere, on a phone, types the code as read out (upper case, spaces).
    guest = visitor(new_context)
    guest.goto("/receipts/")
    guest.get_by_label("Check a receipt code").fill(first.upper().replace("-", " "))
    guest.get_by_role("button", name="Check", exact=True).click()
    expect(guest).to_have_url(re.compile(rf"/receipts/{first}/$"))
    main = guest.locator("main")
    expect(main).to_contain_text("Recorded as cast at")
    expect(main).to_contain_text("the poll is not certified yet")
    expect(main).to_contain_text(poll.title)
    for secret in ("alice", "Alice", "Yes"):
        expect(main).not_to_contain_text(secret)
    fits_the_screen(guest)

    member.get_by_label("Only a summary").check()
    member.get_by_role("button", name="Change my vote").click()
    expect(member.get_by_role("status")).to_contain_text("Your new receipt code is")
    second = receipt_shown(member)
    assert second != first

    guest.reload()
    expect(main).to_contain_text("superseded by a later ballot")
    expect(main).not_to_contain_text("Only a summary")
    violations = axe_violations(guest)
    assert not violations, axe_summary(guest.url, violations)
    violations = axe_violations(member)
    assert not violations, axe_summary(member.url, violations)
    screenshot(guest, "receipt-superseded")
    guest.goto(f"/receipts/{second}/")
    expect(main).to_contain_text("Recorded as cast at")
    expect(main).not_to_contain_text("superseded")

    # An unknown code is the site's plain "not found", whoever asks.
    response = guest.goto("/receipts/00000-00000-00000-00000/")
    assert response is not None and response.status == 404


def test_a_holder_reads_one_receipt_per_item_and_a_visitor_reads_it_in_italian(
    world: World, signed_in: Callable[..., Page], new_context: Callable[..., BrowserContext]
) -> None:
    first, second = world.items[0], world.items[1]
    holder = signed_in("alice")
    holder.goto(f"/meetings/{world.meeting.pk}/")
    holder.get_by_role("group", name=first.title).get_by_label("For").check()
    holder.get_by_role("group", name=second.title).get_by_label("Against").check()
    holder.get_by_role("button", name="Record my ballot").click()
    expect(holder.get_by_role("status")).to_contain_text("Receipt codes, one per item")
    receipts = holder.locator(".receipts li")
    expect(receipts).to_have_count(2)
    code = holder.locator(".receipts li").filter(has_text=first.title).locator("code").inner_text().strip()
    assert CODE.fullmatch(code), code

    guest = visitor(new_context, locale="it-IT")
    guest.goto(f"/receipts/{code}/")
    expect(guest.locator("main")).to_contain_text("Registrata come espressa")
    expect(guest.locator("main")).not_to_contain_text("Alice")
    fits_the_screen(guest)
    screenshot(guest, "receipt-italian")
