"""Issue 14's browser acceptance: a shareholder votes a whole annual-meeting ballot (a majority
election, a cumulative election, the say-on-pay frequency and a proposal) by keyboard alone on
the meeting page; the secretary closes and certifies the items in the console and downloads the
Item 5.07 CSV, whose rows the test reads; the ballot page fits a phone and passes axe in English
and in Italian."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import BrowserContext, Locator, Page, expect

from meetings.ballot_models import BallotLine
from meetings.ballot_services import lines_tabulation_record
from meetings.models import Holder, Meeting
from meetings.services import meeting_ballot_cast, tabulation_record
from polls.models import Ballot, Poll
from tests.browser.conftest import ACTION_TIMEOUT_MS, PASSWORD, axe_summary, axe_violations, screenshot
from tests.factories import make_annual_item, make_item, make_meeting, make_register, make_secretary, make_user

pytestmark = pytest.mark.browser

COMPANY = "Tesla, Inc."
MEETING_TITLE = "2025 Annual Meeting of Stockholders"
MAJORITY_TITLE = "Elect two directors"
CUMULATIVE_TITLE = "Elect directors by cumulative voting"
FREQUENCY_TITLE = "Say-on-pay frequency"
PROPOSAL_TITLE = "Ratify the appointment of the independent auditor"
MAJORITY: dict[str, Any] = {"title": MAJORITY_TITLE, "nominees": ["Ira Ehrenpreis", "Joe Gebbia"]}
CUMULATIVE: dict[str, Any] = {"title": CUMULATIVE_TITLE, "nominees": ["Ann Able", "Ben Bold", "Cy Calm"]}
# Cumulative voting for two seats: Alice has 1,200 shares x 2 = 2,400 votes, Bob 1,600.
ALICE_SHARES, BOB_SHARES, OUTSTANDING = 1_200, 800, 3_000
ALICE_CUMULATIVE = {"Ann Able": 2_000, "Cy Calm": 400}
RESIGNED = "Not elected: resignation tendered under the majority-voting policy"

PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}
ITALIAN = {"locale": "it-IT", "extra_http_headers": {"Accept-Language": "it"}}
WIDTH = "() => ({scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth})"


@dataclass
class Annual:
    meeting: Meeting
    alice: Holder
    bob: Holder
    majority: Poll  # two seats, Ira Ehrenpreis and Joe Gebbia
    cumulative: Poll  # plurality, two seats, Ann Able, Ben Bold and Cy Calm
    frequency: Poll
    proposal: Poll

    @property
    def url(self) -> str:
        return f"/meetings/{self.meeting.pk}/"

    @property
    def items(self) -> list[Poll]:
        return [self.majority, self.cumulative, self.frequency, self.proposal]

    def option(self, item: Poll, label: str) -> int:
        return int(item.options.get(label=label).pk)


@pytest.fixture
def annual(live_server: Any) -> Annual:
    """An annual meeting with its four open items, Alice (1,200 shares) and Bob (800) in the
    register. Accounts first, so the holders link to them by e-mail."""
    make_secretary(username="secretary")
    for name in ("alice", "bob"):
        make_user(username=name, email=f"{name}@example.com")
    rows = [("TSLA-0001", "Alice Example", ALICE_SHARES), ("TSLA-0002", "Bob Example", BOB_SHARES)]
    register = make_register(
        [(account, name, f"{name.split()[0].lower()}@example.com", shares) for account, name, shares in rows],
        outstanding=OUTSTANDING,
    )
    meeting = make_meeting(register, title=MEETING_TITLE)
    annual = Annual(
        meeting=meeting,
        alice=register.holders.get(account="TSLA-0001"),
        bob=register.holders.get(account="TSLA-0002"),
        majority=make_annual_item(meeting, "election", seats=2, election_standard="majority", **MAJORITY),
        cumulative=make_annual_item(
            meeting, "election", seats=2, election_standard="plurality", cumulative=True, **CUMULATIVE
        ),
        frequency=make_annual_item(meeting, "frequency", title=FREQUENCY_TITLE),
        proposal=make_item(meeting, title=PROPOSAL_TITLE),
    )
    assert annual.alice.user is not None and annual.bob.user is not None, "holders link to accounts by e-mail"
    return annual


def cast_by_service(
    annual: Annual, username: str, *, ira: str, joe: str, cumulative: dict[str, int], years: str, proposal: str
) -> None:
    """A holder's whole ballot through meetings.services.meeting_ballot_cast, as the page casts it."""
    holder = annual.alice if username == "alice" else annual.bob
    nominees = {name: str(annual.option(annual.cumulative, name)) for name in cumulative}
    ira_id, joe_id = (str(annual.option(annual.majority, name)) for name in MAJORITY["nominees"])
    meeting_ballot_cast(
        meeting=annual.meeting,
        actor=User.objects.get(username=username),
        holder_id=holder.pk,
        choices={
            annual.majority.pk: {"votes": {ira_id: ira, joe_id: joe}},
            annual.cumulative.pk: {"cumulative": {nominees[name]: str(votes) for name, votes in cumulative.items()}},
            annual.frequency.pk: {"option": annual.option(annual.frequency, years)},
            annual.proposal.pk: proposal,
        },
    )


def lines(item: Poll, holder: Holder) -> set[tuple[str, str, int]]:
    rows = BallotLine.objects.filter(ballot__poll=item, ballot__holder=holder)
    return set(rows.values_list("option__label", "choice", "shares"))


# --- keyboard --------------------------------------------------------------------------------


def tab_to(page: Page, target: Locator, *, limit: int = 60) -> None:
    """Press Tab until `target` has the focus, as a keyboard user moves through the page."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    focused = page.evaluate("() => document.activeElement && document.activeElement.outerHTML.slice(0, 200)")
    raise AssertionError(f"{limit} presses of Tab never reached {target}; the focus is on {focused}")


def nominee(page: Page, name: str) -> Locator:
    """A nominee's group of choices on a radio election (a fieldset named by its legend)."""
    return page.get_by_role("group", name=name, exact=True)


def votes_left(page: Page, item: Poll) -> Locator:
    return page.locator(f"#item-{item.pk}-left")


def vote_by_keyboard(page: Page, annual: Annual) -> None:
    """Alice's first try: everything chosen, but 3,000 cumulative votes of her 2,400."""
    # The skip link first, then every choice reached with Tab and made with Space or an arrow.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")

    ira_for = nominee(page, "Ira Ehrenpreis").get_by_role("radio", name="For", exact=True)
    tab_to(page, ira_for)
    page.keyboard.press("Space")
    expect(ira_for).to_be_checked()
    # One Tab leaves Ira's group for Joe's, on its first choice; the arrow moves to Against and picks it.
    joe = nominee(page, "Joe Gebbia")
    page.keyboard.press("Tab")
    expect(joe.get_by_role("radio", name="For", exact=True)).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(joe.get_by_role("radio", name="Against", exact=True)).to_be_focused()
    expect(joe.get_by_role("radio", name="Against", exact=True)).to_be_checked()
    expect(joe.get_by_role("radio", name="For", exact=True)).not_to_be_checked()
    expect(ira_for).to_be_checked()

    # Cumulative votes: the counter follows each keystroke.
    counter = votes_left(page, annual.cumulative)
    expect(counter).to_contain_text("Votes left: 2,400 of 2,400")
    over = counter.locator("[data-over-limit]")
    expect(over).to_be_hidden()
    tab_to(page, page.get_by_label("Ann Able", exact=True))
    page.keyboard.type("2000")
    expect(counter).to_contain_text("Votes left: 400 of 2,400")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Ben Bold", exact=True)).to_be_focused()
    page.keyboard.type("1000")
    expect(counter).to_contain_text("Votes left: -600 of 2,400")
    expect(over).to_be_visible()
    expect(over).to_have_text("That is more votes than you have: the ballot would be refused.")

    frequency = page.get_by_role("group", name=FREQUENCY_TITLE)
    one_year = frequency.get_by_role("radio", name="1 year", exact=True)
    tab_to(page, one_year)
    page.keyboard.press("Space")
    expect(one_year).to_be_checked()

    proposal_for = page.get_by_role("group", name=PROPOSAL_TITLE).get_by_role("radio", name="For", exact=True)
    tab_to(page, proposal_for)
    page.keyboard.press("Space")
    expect(proposal_for).to_be_checked()

    # The visible button (the hidden default button for Enter is aria-hidden and out of the tab order).
    record = page.get_by_role("button", name="Record my ballot", exact=True)
    tab_to(page, record)
    page.keyboard.press("Enter")


def fix_by_keyboard(page: Page, annual: Annual) -> None:
    """The server's refusal on the page: 400 to Cy, then back with Shift+Tab to empty Ben's
    box, and Enter in the field records the ballot (the page's default button, never an
    election's 'vote with the board')."""
    counter = votes_left(page, annual.cumulative)
    cy, ben = page.get_by_label("Cy Calm", exact=True), page.get_by_label("Ben Bold", exact=True)
    tab_to(page, cy)
    page.keyboard.type("400")
    expect(counter).to_contain_text("Votes left: -1,000 of 2,400")
    page.keyboard.press("Shift+Tab")
    expect(ben).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    expect(ben).to_have_value("")
    expect(counter).to_contain_text("Votes left: 0 of 2,400")
    expect(counter.locator("[data-over-limit]")).to_be_hidden()
    page.keyboard.press("Enter")


def test_a_shareholder_votes_the_whole_annual_ballot_by_keyboard(
    annual: Annual, signed_in: Callable[..., Page], origin: str
) -> None:
    page = signed_in("alice")
    page.goto(annual.url)
    expect(page.get_by_role("heading", level=1)).to_have_text(MEETING_TITLE)

    vote_by_keyboard(page, annual)

    # Over the limit: the server's error on the cumulative item, and nothing recorded at all.
    expect(page).to_have_url(f"{origin}/meetings/{annual.meeting.pk}/ballot/")
    error = page.locator(f"#item-{annual.cumulative.pk}-error")
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text("2,400")
    expect(page.get_by_role("group", name=CUMULATIVE_TITLE)).to_have_accessible_description(
        re.compile(re.escape(error.inner_text().strip()))
    )
    assert not Ballot.objects.filter(holder=annual.alice).exists()
    assert not BallotLine.objects.filter(ballot__holder=annual.alice).exists()
    # The page keeps what was chosen and counts the votes as posted.
    expect(votes_left(page, annual.cumulative)).to_contain_text("Votes left: -600 of 2,400")
    expect(nominee(page, "Ira Ehrenpreis").get_by_role("radio", name="For", exact=True)).to_be_checked()
    expect(nominee(page, "Joe Gebbia").get_by_role("radio", name="Against", exact=True)).to_be_checked()
    expect(page.get_by_label("Ann Able", exact=True)).to_have_value("2000")

    fix_by_keyboard(page, annual)

    status = page.get_by_role("status")
    expect(status).to_contain_text("Your ballot for Alice Example (1,200 shares) on 4 items is recorded.")
    expect(status).to_contain_text("Receipt codes, one per item:")
    codes = re.findall(r"\b[0-9a-f]{5}(?:-[0-9a-f]{5}){3}\b", status.inner_text())
    assert len(codes) == 4, status.inner_text()
    receipts = page.locator(".receipts")
    for code in codes:
        expect(receipts).to_contain_text(code)

    assert lines(annual.majority, annual.alice) == {("Ira Ehrenpreis", "for", 1_200), ("Joe Gebbia", "against", 1_200)}
    assert lines(annual.cumulative, annual.alice) == {(name, "for", n) for name, n in ALICE_CUMULATIVE.items()}
    assert lines(annual.frequency, annual.alice) == {("1 Year", "for", ALICE_SHARES)}
    ballots = {b.poll_id: b for b in Ballot.objects.filter(holder=annual.alice).select_related("voter", "option")}
    assert set(ballots) == {item.pk for item in annual.items}
    assert {ballot.voter.username for ballot in ballots.values()} == {"alice"}
    proposal = ballots[annual.proposal.pk]
    assert proposal.option is not None and (proposal.option.code, proposal.weight) == ("for", ALICE_SHARES)
    assert not BallotLine.objects.filter(ballot=proposal).exists()

    # The page shows the recorded ballot on each item and nominee.
    expect(nominee(page, "Ira Ehrenpreis")).to_contain_text("Your ballot: For")
    expect(nominee(page, "Joe Gebbia")).to_contain_text("Your ballot: Against")
    expect(page.get_by_role("group", name=CUMULATIVE_TITLE)).to_contain_text("Your ballot: 2,000 votes")
    expect(page.get_by_role("group", name=FREQUENCY_TITLE)).to_contain_text("Your recorded ballot: 1 year")
    expect(page.get_by_role("group", name=PROPOSAL_TITLE)).to_contain_text("Your recorded ballot: For")
    screenshot(page, "annual-ballot-recorded")


# --- the secretary certifies and downloads Item 5.07 -------------------------------------------


def close_in_console(secretary: Page, item: Poll) -> None:
    secretary.goto("/console/")
    secretary.get_by_role("button", name=f"Close now: {item.title}", exact=True).click()
    secretary.get_by_role("button", name="Yes: Close now").click()
    expect(secretary.get_by_role("status")).to_contain_text("is closed")


def certify_in_console(secretary: Page, item: Poll) -> None:
    secretary.goto("/console/")
    secretary.get_by_role("link", name=f"Review and certify: {item.title}", exact=True).click()
    expect(secretary.get_by_role("heading", level=1)).to_have_text(f"Certify: {item.title}")
    recount = secretary.get_by_role("table", name=re.compile("Recount"))
    expect(recount).not_to_contain_text("differs")
    secretary.get_by_role("button", name="Certify the result").click()
    expect(secretary.get_by_role("status")).to_contain_text("is certified")


def inspector_reports(annual: Annual, secretary: User) -> None:
    """The inspector's figures equal the ballots', with the brokers' non-votes the site cannot
    know: 250 on the proposal, 150 on the majority election, 100 on the frequency."""
    signed: dict[str, Any] = {"actor": secretary, "source": "Inspector of elections"}
    tabulation_record(
        poll=annual.proposal, shares_for=1_200, shares_against=800, shares_abstain=0, broker_non_votes=250, **signed
    )
    ira, joe = annual.option(annual.majority, "Ira Ehrenpreis"), annual.option(annual.majority, "Joe Gebbia")
    figures = [(ira, "for", 2_000), (joe, "against", 1_200), (joe, "abstain", 800)]
    election = [{"option": option, "choice": choice, "shares": shares} for option, choice, shares in figures]
    lines_tabulation_record(poll=annual.majority, lines=election, broker_non_votes=150, **signed)
    one, three = annual.option(annual.frequency, "1 Year"), annual.option(annual.frequency, "3 Years")
    frequency = [{"option": one, "choice": "for", "shares": 1_200}, {"option": three, "choice": "for", "shares": 800}]
    lines_tabulation_record(poll=annual.frequency, lines=frequency, broker_non_votes=100, **signed)


EXPECTED_CSV = [
    ["Company", COMPANY],
    ["Meeting", MEETING_TITLE],
    ["Date", "2025-11-06"],
    [],
    ["Proposal", "For", "Against", "Abstain", "Broker Non-Votes", "Result"],
    [PROPOSAL_TITLE, "1200", "800", "0", "250", "Approved"],
    [],
    ["Proposal", "Nominee", "For", "Against or Withheld", "Abstain", "Broker Non-Votes", "Elected", "Result"],
    [MAJORITY_TITLE, "Ira Ehrenpreis", "2000", "0", "0", "150", "Yes", "Elected"],
    [MAJORITY_TITLE, "Joe Gebbia", "0", "1200", "800", "150", "No", RESIGNED],
    # Cumulative (plurality) voting has no against or abstain: withheld is 0, abstain blank.
    [CUMULATIVE_TITLE, "Ann Able", "2000", "0", "", "0", "Yes", "Elected"],
    [CUMULATIVE_TITLE, "Ben Bold", "1600", "0", "", "0", "Yes", "Elected"],
    [CUMULATIVE_TITLE, "Cy Calm", "400", "0", "", "0", "No", "Not elected"],
    [],
    ["Proposal", "1 Year", "2 Years", "3 Years", "Abstain", "Broker Non-Votes", "Result"],
    [FREQUENCY_TITLE, "1200", "0", "800", "0", "100", "1 year wins with 60.0% of the votes cast; advisory"],
]


def test_the_secretary_certifies_the_items_and_downloads_the_item_507_csv(
    annual: Annual, signed_in: Callable[..., Page], settings: Any
) -> None:
    settings.COMPANY_NAME = COMPANY
    # Bob gives all his 1,600 cumulative votes to Ben; Alice votes as in the keyboard journey.
    cast_by_service(
        annual, "bob", ira="for", joe="abstain", cumulative={"Ben Bold": 1_600}, years="3 Years", proposal="against"
    )
    alice: dict[str, Any] = {
        "ira": "for",
        "joe": "against",
        "cumulative": ALICE_CUMULATIVE,
        "years": "1 Year",
        "proposal": "for",
    }
    cast_by_service(annual, "alice", **alice)
    secretary = signed_in("secretary")
    for item in annual.items:
        close_in_console(secretary, item)
    inspector_reports(annual, User.objects.get(username="secretary"))
    for item in annual.items:
        certify_in_console(secretary, item)
    assert {item.status for item in Poll.objects.filter(meeting=annual.meeting)} == {"certified"}

    secretary.goto(annual.url)
    link = secretary.get_by_role("link", name="Certified results as CSV (Form 8-K Item 5.07)")
    with secretary.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"meeting-{annual.meeting.pk}-8k-item-5.07.csv"
    text = download.path().read_bytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == EXPECTED_CSV, "\n".join(map(str, rows))
    # The same file as a request from the page (what a script would fetch).
    response = secretary.request.get(f"{annual.url}results.csv")
    assert response.ok and response.headers["content-type"].startswith("text/csv")
    assert response.text() == text


# --- the ballot page on a phone, in English and in Italian ------------------------------------


def log_in_by_field_names(context: BrowserContext, username: str) -> Page:
    """The login form by its fields' names, whatever the language of their labels."""
    page = context.new_page()
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("header")).to_contain_text(username)
    return page


def assert_fits_and_is_accessible(page: Page) -> None:
    width = page.evaluate(WIDTH)
    assert width["scrollWidth"] <= width["innerWidth"], f"{page.url} scrolls sideways at 375 px: {width}"
    violations = axe_violations(page)
    assert not violations, axe_summary(page.url, violations)


# What the ballot page says in each language: the votes-left counter before and after 1,000
# votes are typed, the record button, a nominee's choices, the frequency options, and the
# limit as the over-limit refusal writes it.
WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "context": {},
        "left": ("Votes left: 2,400 of 2,400", "Votes left: 1,400 of 2,400"),
        "record": "Record my ballot",
        "choices": ("For", "Against", "Abstain"),
        "frequency": ("1 year", "2 years", "3 years", "Abstain"),
        "limit": "2,400",
    },
    "it": {
        "context": ITALIAN,
        "left": ("Voti rimasti: 2.400 su 2.400", "Voti rimasti: 1.400 su 2.400"),
        "record": "Registra la mia scheda di voto",
        "choices": ("Favorevole", "Contrario", "Astenuto"),
        "frequency": ("1 anno", "2 anni", "3 anni", "Astenuto"),
        "limit": "2.400",
    },
}


@pytest.mark.parametrize("language", ["en", "it"])
def test_the_ballot_page_fits_a_phone_and_passes_axe(
    language: str, annual: Annual, new_context: Callable[..., BrowserContext]
) -> None:
    words = WORDS[language]
    context = new_context(**PHONE, **words["context"])
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = log_in_by_field_names(context, "alice")
    response = page.goto(annual.url)
    assert response is not None and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert page.viewport_size == {"width": 375, "height": 812}

    joe = nominee(page, "Joe Gebbia")
    for choice in words["choices"]:
        expect(joe.get_by_role("radio", name=choice, exact=True)).to_be_attached()
    frequency = page.get_by_role("group", name=FREQUENCY_TITLE)
    for label in words["frequency"]:
        expect(frequency.get_by_role("radio", name=label, exact=True)).to_be_attached()
    counter = votes_left(page, annual.cumulative)
    expect(counter).to_contain_text(words["left"][0])
    assert_fits_and_is_accessible(page)
    screenshot(page, f"annual-ballot-375px-{language}")

    # The counter in the reader's numbers as they type, then the server's refusal, which must
    # fit and be as accessible as the page.
    page.get_by_label("Ann Able", exact=True).fill("1000")
    expect(counter).to_contain_text(words["left"][1])
    page.get_by_label("Ben Bold", exact=True).fill("2000")
    expect(counter.locator("[data-over-limit]")).to_be_visible()
    page.get_by_role("button", name=words["record"], exact=True).click()
    error = page.locator(f"#item-{annual.cumulative.pk}-error")
    expect(error).to_contain_text(words["limit"])
    assert not Ballot.objects.filter(holder=annual.alice).exists()
    assert_fits_and_is_accessible(page)
    screenshot(page, f"annual-ballot-375px-{language}-refused")


def italian_page(annual: Annual, new_context: Callable[..., BrowserContext]) -> Page:
    context = new_context(**ITALIAN)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = log_in_by_field_names(context, "alice")
    page.goto(annual.url)
    expect(page.locator("html")).to_have_attribute("lang", "it")
    return page


def test_the_refusal_over_the_cumulative_limit_is_in_italian(
    annual: Annual, new_context: Callable[..., BrowserContext]
) -> None:
    page = italian_page(annual, new_context)
    page.get_by_label("Ann Able", exact=True).fill("2000")
    page.get_by_label("Ben Bold", exact=True).fill("1000")
    page.get_by_role("button", name="Registra la mia scheda di voto", exact=True).click()
    error = page.locator(f"#item-{annual.cumulative.pk}-error")
    expect(error).to_contain_text("2.400")
    expect(error).not_to_contain_text("votes; at most", timeout=1_000)


def test_the_meeting_page_around_the_ballot_is_in_italian(
    annual: Annual, new_context: Callable[..., BrowserContext]
) -> None:
    page = italian_page(annual, new_context)
    main = page.locator("main")
    expect(main.locator("p.attendance")).to_contain_text("3.000")
    for english in ("Attendance", "shares present", "No quorum yet", "without voting", "Printable Item 5.07"):
        expect(main).not_to_contain_text(english, timeout=1_000)
