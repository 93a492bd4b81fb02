"""Journey (d): the same pages in Italian, with Italian text (from locale/it/LC_MESSAGES/django.po)
and Italian number formatting (1.060.000.000, 43,3%)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import BrowserContext, Page, expect

from meetings.models import Holder
from meetings.services import item_ballot_cast
from polls.models import ResultsVisibility
from tests.browser.conftest import ACTION_TIMEOUT_MS, OUTSTANDING, World, axe_summary, axe_violations, screenshot
from tests.factories import make_item

pytestmark = pytest.mark.browser

ITALIAN = {"locale": "it-IT", "extra_http_headers": {"Accept-Language": "it"}}


def italian_page(new_context: Callable[..., BrowserContext]) -> Page:
    context = new_context(**ITALIAN)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return context.new_page()


def test_a_reader_whose_browser_asks_for_italian_reads_the_home_page_in_italian(
    world: World, new_context: Callable[..., BrowserContext]
) -> None:
    page = italian_page(new_context)
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("navigation")).to_contain_text("Votazioni")  # "Polls"
    expect(page.get_by_role("link", name="Accedi")).to_be_visible()  # "Log in"
    expect(page.get_by_role("heading", name="Assemblee degli azionisti")).to_be_visible()  # "Shareholder meetings"
    expect(page.get_by_role("link", name="Vai al contenuto")).to_be_attached()  # "Skip to content"


def test_a_results_page_in_italian_shows_italian_text_and_italian_share_counts(
    world: World, new_context: Callable[..., BrowserContext]
) -> None:
    item = make_item(
        world.meeting,
        title="Authorize the investment in xAI",
        standard="present_and_entitled",
        results_visibility=ResultsVisibility.LIVE,
    )
    for account, choice in [("TSLA-0001", "for"), ("TSLA-0002", "against"), ("TSLA-0003", "abstain")]:
        holder = Holder.objects.select_related("user").get(account=account)
        assert holder.user is not None
        item_ballot_cast(poll_id=item.pk, actor=holder.user, choice=choice, holder_id=holder.pk)

    page = italian_page(new_context)
    page.goto(f"/polls/{item.pk}/results/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Risultati")  # "Results"
    shares = page.get_by_role("table", name="Azioni per scelta di voto")  # "Shares by choice"
    for label, amount, percent in [
        ("Favorevole", "1.060.000.000", "43,3%"),  # "For"
        ("Contrario", "916.300.000", "37,4%"),  # "Against"
        ("Astenuto", "473.000.000", "19,3%"),  # "Abstain"
    ]:
        row = shares.get_by_role("row").filter(has=page.get_by_role("rowheader", name=label, exact=True))
        expect(row).to_contain_text(amount)
        expect(row).to_contain_text(percent)
    outstanding = shares.get_by_role("row").filter(has_text="Azioni in circolazione")  # "Shares outstanding"
    expect(outstanding).to_contain_text(f"{OUTSTANDING:,}".replace(",", "."))
    outcome = page.locator("main dl.outcome")
    expect(outcome).to_contain_text("Non approvato")  # "Fails"
    expect(outcome).to_contain_text("43,3")
    what_if = page.get_by_role("table", name="Simulazione: gli stessi totali secondo ciascun criterio")
    votes_cast = what_if.get_by_role("row").filter(has_text="Voti espressi")  # "Votes cast"
    expect(votes_cast).to_contain_text("53,6%")
    expect(votes_cast).to_contain_text("sarebbe approvato")  # "would pass"
    expect(page.locator("main")).not_to_contain_text("1,060,000,000")
    violations = axe_violations(page)
    assert not violations, axe_summary(page.url, violations)
    screenshot(page, "d-results-in-italian")


def test_the_language_switcher_turns_a_members_pages_italian_and_keeps_them_so(
    world: World, signed_in: Callable[..., Page]
) -> None:
    page = signed_in("alice")
    page.goto("/")
    expect(page.get_by_role("heading", name="My pending ballots")).to_be_visible()
    switcher = page.locator("form:has(select[name=language])")
    switcher.get_by_role("combobox", name="Language").select_option("it")
    switcher.get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("heading", name="Le mie votazioni in sospeso")).to_be_visible()  # "My pending ballots"
    expect(page.get_by_role("heading", name="Le mie proposte")).to_be_visible()  # "My proposals"

    # The choice holds for the next page, and is kept on the profile for the e-mails.
    page.goto(f"/polls/{world.poll.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("navigation")).to_contain_text("Votazioni")
    assert User.objects.get(username="alice").profile.language == "it"
