"""A shareholder claims a holding with the control number from their notice and votes it
(issue 15), on a phone, by keyboard: the claim links the holding, the meeting page then offers
its ballot, and the ballot is recorded with its receipt."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from meetings import holdings
from meetings.models import Holder, Meeting, RegisterSnapshot
from polls.models import Ballot, Poll
from tests.browser.conftest import axe_summary, axe_violations, screenshot
from tests.browser.test_small_screens import OVERFLOW, PHONE
from tests.factories import make_item, make_meeting, make_register, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def control_number_of(register: RegisterSnapshot, account: str) -> str:
    """As the printer's mailing file has it (the database keeps only a digest)."""
    with open(holdings.mailing_path(register), encoding="utf-8", newline="") as source:
        return next(row["control_number"] for row in csv.DictReader(source) if row["holder"] == account)


@pytest.fixture
def notice(settings: Any) -> tuple[Meeting, Poll, str]:
    settings.REGISTER_LINK_BY_EMAIL = False  # a holding is the account's only by its control number
    make_user(username="gina", email="gina@example.com")
    register = make_register(
        [("H-G", "Gina Investor", "gina@example.com", 2_500), ("H-O", "Other Fund", "o@example.com", 7_500)],
        outstanding=10_000,
    )
    meeting = make_meeting(register, date=timezone.localdate() + datetime.timedelta(days=7))
    item = make_item(meeting, title="Ratify the auditor")
    return meeting, item, control_number_of(register, "H-G")


def test_a_shareholder_claims_a_holding_by_its_control_number_and_votes_it(
    notice: tuple[Meeting, Poll, str], signed_in: Callable[..., Page]
) -> None:
    meeting, item, number = notice
    page = signed_in("gina", **PHONE)
    page.goto(f"/meetings/{meeting.pk}/")
    expect(page.get_by_text("You are not a holder in the register of record")).to_be_visible()

    page.goto("/holdings/claim/")
    field = page.get_by_label("Control number")
    field.focus()
    page.keyboard.type(f"{number[:8]} {number[8:]}")  # spaces, as printed, are allowed
    page.keyboard.press("Enter")
    expect(page.get_by_text("The holding of Gina Investor is now linked to your account.")).to_be_visible()
    assert Holder.objects.get(account="H-G").user is not None

    page.goto(f"/meetings/{meeting.pk}/")
    ballot = page.get_by_role("group", name="Ratify the auditor")
    ballot.get_by_label("For").focus()
    page.keyboard.press("Space")
    measure = page.evaluate(OVERFLOW)
    assert measure["scrollWidth"] <= measure["clientWidth"], measure
    violations = axe_violations(page)
    assert not violations, axe_summary(page.url, violations)
    page.get_by_role("button", name="Record my ballot").last.focus()
    page.keyboard.press("Enter")
    expect(page.locator("li.message.info", has_text="Receipt code:")).to_be_visible()
    screenshot(page, "claim-and-vote")
    recorded = Ballot.objects.select_related("holder").get(poll=item)
    assert recorded.holder is not None
    assert (recorded.holder.account, recorded.shares_for) == ("H-G", 2_500)


def test_a_wrong_control_number_is_refused_without_saying_why(
    notice: tuple[Meeting, Poll, str], signed_in: Callable[..., Page]
) -> None:
    page = signed_in("gina", **PHONE)
    page.goto("/holdings/claim/")
    page.get_by_label("Control number").fill("0000 0000 0000 0000")
    page.get_by_role("button", name="Claim").click()
    expect(page.locator(".field-error")).to_be_visible()
    assert Holder.objects.get(account="H-G").user is None
