"""The secretary reads the outbox (issue 15): on a phone, with the keyboard alone, in English and
Italian; opens an e-mail's preview and sends a failed one again."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from core.models import Notification, NotificationStatus
from tests.browser.conftest import World, axe_summary, axe_violations, screenshot
from tests.browser.test_accessibility import tab_to
from tests.browser.test_small_screens import OVERFLOW, PHONE
from tests.factories import make_proposal

pytestmark = pytest.mark.browser


@pytest.fixture
def failed(world: World) -> Notification:
    """The meeting's notices went out when its items opened; a proposal's mail failed."""
    proposal = make_proposal(title="Invest $5B in xAI")
    notification = Notification.objects.create(
        key=f"submitted:{proposal.pk}::gone@example.com",
        kind="submitted",
        subject=f"proposal:{proposal.pk}",
        recipient="gone@example.com",
    )
    Notification.objects.filter(pk=notification.pk).update(
        attempts=5, failed_at=timezone.now(), last_error="SMTP 550 mailbox unavailable"
    )
    return notification


def test_the_secretary_reads_the_outbox_on_a_phone_and_resends_with_the_keyboard(
    world: World, failed: Notification, signed_in: Callable[..., Page]
) -> None:
    assert Notification.objects.filter(kind="meeting_notice", sent_at__isnull=False).count() == 3
    page = signed_in("secretary", **PHONE)
    page.goto("/console/")
    page.get_by_role("link", name="Outbox").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outbox")
    expect(page.locator("main")).to_contain_text("[Quorum] Meeting notice: 2025 Annual Meeting of Stockholders")
    expect(page.locator("main")).to_contain_text("SMTP 550 mailbox unavailable")
    measure = page.evaluate(OVERFLOW)
    assert measure["scrollWidth"] <= measure["clientWidth"], f"the outbox is wider than the screen: {measure}"
    violations = axe_violations(page)
    assert not violations, axe_summary(page.url, violations)

    tab_to(page, lambda el: el["tag"] == "summary")
    page.keyboard.press("Enter")
    expect(page.locator("details[open] pre.mail-preview").first).to_be_visible()
    measure = page.evaluate(OVERFLOW)
    assert measure["scrollWidth"] <= measure["clientWidth"], f"an open preview is wider than the screen: {measure}"

    tab_to(page, lambda el: el["tag"] == "button" and el["text"] == "Send again", limit=80)
    page.keyboard.press("Enter")
    expect(page.get_by_text("The notification to gone@example.com is queued again.")).to_be_visible()
    assert Notification.objects.get(pk=failed.pk).status == NotificationStatus.SENT
    screenshot(page, "outbox-at-375px")


def test_the_outbox_reads_in_italian(world: World, failed: Notification, signed_in: Callable[..., Page]) -> None:
    page = signed_in("secretary")
    page.goto("/console/outbox/?status=failed")
    switcher = page.locator("form:has(select[name=language])")
    switcher.get_by_role("combobox", name="Language").select_option("it")
    switcher.get_by_role("button").click()
    page.goto("/console/outbox/?status=failed")
    expect(page.get_by_role("heading", level=1)).to_have_text("Posta in uscita")
    expect(page.get_by_role("button", name="Invia di nuovo a gone@example.com")).to_be_visible()
    expect(page.get_by_role("link", name="Non riuscita (1)")).to_have_attribute("aria-current", "page")
    violations = axe_violations(page)
    assert not violations, axe_summary(page.url, violations)
