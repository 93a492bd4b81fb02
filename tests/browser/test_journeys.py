"""The journeys of issue 5, each role in a browser context of its own, each ending in a
screenshot under test-artifacts/."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Literal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from meetings.models import Holder, ProxyAppointment
from polls.ballots import ballot_cast
from polls.models import Ballot
from proposals.models import Proposal
from tests.browser.conftest import (
    ABSTAIN_SHARES,
    AGAINST_SHARES,
    FOR_SHARES,
    PASSWORD,
    World,
    screenshot,
)

pytestmark = pytest.mark.browser


def ballots_of(holder: Holder) -> dict[int, tuple[str, int, str]]:
    """What the database holds for a holder: item -> (choice, shares, who acted)."""
    rows = Ballot.objects.filter(holder=holder).values_list("poll_id", "option__code", "weight", "voter__username")
    return {poll_id: (code, weight, username) for poll_id, code, weight, username in rows}


def form_with_button(page: Page, name: str) -> Locator:
    """The form whose submit button reads `name` (pages carry several forms)."""
    return page.locator("form").filter(has=page.get_by_role("button", name=name, exact=True))


def field(scope: Locator, name: str) -> Locator:
    """A form control by its name, checked to carry a label a screen reader announces."""
    control = scope.locator(f"[name={name}]")
    expect(control).to_have_accessible_name(re.compile(r"\w"))
    return control


def console_row(page: Page, title: str, name: str, role: Literal["button", "link"] = "button") -> Locator:
    """The button (or link) `name` in the secretary console's row for the poll titled `title`."""
    row = page.locator("li, tr").filter(has_text=title).filter(has=page.get_by_role(role, name=name))
    return row.get_by_role(role, name=name)


def ballot_item(page: Page, title: str) -> Locator:
    """One item's for / against / abstain group on the meeting ballot."""
    return page.get_by_role("group", name=title)


# --- (a) a member votes, changes the vote, sees the chart -----------------------------------


def test_a_member_logs_in_votes_changes_the_vote_and_sees_the_results_chart(
    world: World, page: Page, origin: str
) -> None:
    poll = world.poll
    options = {option.label: option.pk for option in poll.options.all()}
    for username, label in [("bob", "Yes"), ("carol", "Yes"), ("paolo", "No")]:
        ballot_cast(poll_id=poll.pk, actor=User.objects.get(username=username), option_id=options[label])

    page.goto(f"/polls/{poll.pk}/")
    page.get_by_role("link", name="Log in to vote").click()
    expect(page).to_have_url(f"{origin}/accounts/login/?next=/polls/{poll.pk}/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{origin}/polls/{poll.pk}/")

    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Vote").click()
    expect(page.get_by_role("status")).to_contain_text("Your vote has been recorded")
    expect(page.locator("main")).to_contain_text("Your vote: Yes")

    page.get_by_label("Only a summary").check()
    page.get_by_role("button", name="Change my vote").click()
    expect(page.get_by_role("status")).to_contain_text("Your vote has been changed")
    expect(page.locator("main")).to_contain_text("Your vote: Only a summary")
    ballots = Ballot.objects.filter(poll=poll, voter__username="alice").values_list("option__label", flat=True)
    assert list(ballots) == ["Only a summary"], "one ballot, the latest choice"

    page.get_by_role("link", name="See the results").click()
    expect(page).to_have_url(f"{origin}/polls/{poll.pk}/results/")
    chart = page.locator("main figure").first
    expect(chart).to_be_visible()
    for label, percent in [("Yes", "50.0%"), ("No", "25.0%"), ("Only a summary", "25.0%")]:
        expect(chart).to_contain_text(label)
        expect(chart).to_contain_text(percent)
        row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=label, exact=True))
        expect(row).to_contain_text(percent)
    expect(page.locator("main")).to_contain_text("4 of")
    screenshot(page, "a-member-votes")


# --- (b) a shareholder votes a three-item ballot; a proxy votes for another holder ----------


def test_a_shareholder_votes_a_three_item_ballot_and_a_proxy_votes_for_another_holder(
    world: World, signed_in: Callable[..., Page]
) -> None:
    meeting_page = f"/meetings/{world.meeting.pk}/"
    elect, auditor, pay = world.items
    alice_holder = Holder.objects.get(account="TSLA-0001")
    bob_holder = Holder.objects.get(account="TSLA-0002")

    alice = signed_in("alice")
    alice.goto(meeting_page)
    expect(alice.locator("main")).to_contain_text(f"{FOR_SHARES:,}")
    ballot_item(alice, elect.title).get_by_label("For").check()
    ballot_item(alice, auditor.title).get_by_label("Against").check()
    ballot_item(alice, pay.title).get_by_label("Abstain").check()
    alice.get_by_role("button", name="Record my ballot").click()
    expect(alice.get_by_role("status")).to_contain_text(re.compile(r"Alice Example .*recorded"))
    # The page shows the ballot as recorded, and the database holds exactly that.
    expect(ballot_item(alice, elect.title).get_by_label("For")).to_be_checked()
    expect(ballot_item(alice, auditor.title).get_by_label("Against")).to_be_checked()
    expect(ballot_item(alice, pay.title).get_by_label("Abstain")).to_be_checked()
    recorded = ballots_of(alice_holder)
    assert recorded == {
        elect.pk: ("for", FOR_SHARES, "alice"),
        auditor.pk: ("against", FOR_SHARES, "alice"),
        pay.pk: ("abstain", FOR_SHARES, "alice"),
    }

    # Bob names Paolo his proxy on the meeting page.
    bob = signed_in("bob")
    bob.goto(meeting_page)
    proxy_form = form_with_button(bob, "Appoint proxy")
    proxy_form.get_by_label("Holder").select_option(label=str(bob_holder))
    proxy_form.get_by_label("Proxy's username or e-mail address").fill("paolo")
    proxy_form.get_by_role("button", name="Appoint proxy").click()
    # The answer would be the same for a name with no account; the list below tells Bob it worked.
    expect(bob.get_by_role("status")).to_contain_text("If paolo has an account, they may now vote for Bob Example")
    expect(bob.locator("main")).to_contain_text("paolo may vote for Bob Example")
    assert ProxyAppointment.objects.filter(holder=bob_holder, proxy__username="paolo", revoked_at=None).count() == 1

    # Paolo, who holds no shares, votes Bob's.
    paolo = signed_in("paolo")
    paolo.goto(meeting_page)
    expect(paolo.locator("main")).to_contain_text(f"Voting {AGAINST_SHARES:,} shares for Bob Example as their proxy")
    ballot_item(paolo, elect.title).get_by_label("Against").check()
    ballot_item(paolo, auditor.title).get_by_label("For").check()
    ballot_item(paolo, pay.title).get_by_label("Against").check()
    paolo.get_by_role("button", name="Record my ballot").click()
    expect(paolo.get_by_role("status")).to_contain_text(f"Your ballot for Bob Example ({AGAINST_SHARES:,} shares)")
    expect(ballot_item(paolo, elect.title).get_by_label("Against")).to_be_checked()
    recorded = ballots_of(bob_holder)
    assert recorded == {
        elect.pk: ("against", AGAINST_SHARES, "paolo"),
        auditor.pk: ("for", AGAINST_SHARES, "paolo"),
        pay.pk: ("against", AGAINST_SHARES, "paolo"),
    }, "the ballot represents Bob and records Paolo as the one who acted"

    # The live results of the first item weigh both holders' shares.
    paolo.goto(f"/polls/{elect.pk}/results/")
    for_row = paolo.get_by_role("row").filter(has=paolo.get_by_role("rowheader", name="For", exact=True))
    against_row = paolo.get_by_role("row").filter(has=paolo.get_by_role("rowheader", name="Against", exact=True))
    expect(for_row).to_contain_text(f"{FOR_SHARES:,}")
    expect(against_row).to_contain_text(f"{AGAINST_SHARES:,}")
    paolo.goto(meeting_page)
    screenshot(paolo, "b-shareholder-and-proxy-vote")


# --- (c) the xAI proposal from submission to its defeat -------------------------------------

XAI_TITLE = "Invest $5B in xAI"


REFER = "Refer to the shareholders with no recommendation"


def action_form(page: Page, action: str) -> Locator:
    """One of the proposal page's action forms, found by the workflow action it sends."""
    return page.locator(f"main form:has(input[name=action][value={action}])")


def transition(page: Page, action: str, comment: str = "") -> None:
    form = action_form(page, action)
    if comment:
        field(form, "comment").fill(comment)
    form.get_by_role("button").click()


def status_badge(page: Page) -> Locator:
    return page.locator("main article .badge").first


def test_the_xai_proposal_goes_from_submission_through_board_review_and_a_shareholder_vote_to_its_defeat(
    world: World, signed_in: Callable[..., Page]
) -> None:
    # The member submits it.
    proposer = signed_in("alice")
    proposer.goto("/proposals/new/")
    form = proposer.locator("main form")
    field(form, "title").fill(XAI_TITLE)
    field(form, "summary").fill("Authorize an investment of $5 billion in xAI.")
    field(form, "body").fill("The valuation is set by several credible outside investors.")
    field(form, "kind").select_option("investment")
    field(form, "counterparty").fill("xAI")
    field(form, "amount").fill("5000000000")
    field(form, "currency").fill("USD")
    field(form, "needs_shareholder_vote").check()
    field(form, "advisory").check()
    proposer.get_by_role("button", name="Save and submit").click()
    expect(proposer.get_by_role("status")).to_contain_text("Proposal submitted")
    expect(proposer.get_by_role("heading", level=1)).to_have_text(XAI_TITLE)
    expect(status_badge(proposer)).to_have_text("Submitted")
    proposal = Proposal.objects.get(title=XAI_TITLE)
    assert (proposal.proposer.username, proposal.status, proposal.counterparty) == ("alice", "submitted", "xAI")
    detail = f"/proposals/{proposal.pk}/"

    # The secretary finds it waiting and starts the board review with a due date.
    secretary = signed_in("secretary")
    secretary.goto("/proposals/")
    secretary.get_by_role("link", name=XAI_TITLE).first.click()
    expect(secretary).to_have_url(f"{secretary.url.split('/proposals/')[0]}{detail}")
    due = timezone.localtime() + datetime.timedelta(days=14)
    field(action_form(secretary, "start_review"), "due_at").fill(due.strftime("%Y-%m-%dT%H:%M"))
    transition(secretary, "start_review")
    expect(status_badge(secretary)).to_have_text("In review")
    expect(secretary.locator("main")).to_contain_text("Recused: declared an interest in xAI")

    # Elon, who declared an interest in xAI, is recused: the review page says why, with no form.
    elon = signed_in("elon")
    elon.goto(f"{detail}review/")
    expect(elon.get_by_role("alert")).to_contain_text("You are recused from this review")
    expect(elon.get_by_role("alert")).to_contain_text("xAI")
    expect(elon.get_by_role("button", name="Record my vote")).to_have_count(0)

    # The chair votes to refer it to the shareholders with no recommendation.
    robyn = signed_in("robyn")
    robyn.goto(detail)
    robyn.get_by_role("link", name="Review this proposal").click()
    review = robyn.locator("main form")
    review.get_by_label(REFER).check()
    field(review, "comment").fill("Shareholders should weigh in; I make no recommendation.")
    robyn.get_by_role("button", name="Record my vote").click()
    expect(robyn.get_by_role("status")).to_contain_text("Your review vote is recorded")
    board = robyn.get_by_role("table", name="Board review")
    expect(board.get_by_role("row").filter(has_text="robyn")).to_contain_text("Refer")
    expect(board.get_by_role("row").filter(has_text="elon")).to_contain_text("Recused")

    # The secretary has no refer button: referral is the board's. Two more directors refer,
    # quorum is 3 of the 5 in office, and the board rule refers it on the spot.
    secretary.reload()
    expect(action_form(secretary, "refer")).to_have_count(0)
    for username in ("kimbal", "ira"):
        director = signed_in(username)
        director.goto(f"{detail}review/")
        director.locator("main form").get_by_label(REFER).check()
        director.get_by_role("button", name="Record my vote").click()
        expect(director.get_by_role("status")).to_contain_text("Your review vote is recorded")
    secretary.reload()
    expect(status_badge(secretary)).to_have_text("Referred")
    expect(secretary.locator("main")).to_contain_text("The board recommends: No recommendation")
    vote_form = action_form(secretary, "put_to_vote")
    field(vote_form, "meeting").select_option(label=world.meeting.title)
    field(vote_form, "standard").select_option("present_and_entitled")
    field(vote_form, "threshold").fill("1/2")
    transition(secretary, "put_to_vote")
    expect(status_badge(secretary)).to_have_text("Shareholder vote")
    proposal.refresh_from_db()
    item = proposal.item
    assert item is not None, "putting it to the vote creates the meeting item"
    assert (item.meeting_id, item.standard, item.advisory) == (world.meeting.pk, "present_and_entitled", True)

    # The secretary opens the item from the console.
    secretary.goto("/console/")
    console_row(secretary, XAI_TITLE, "Open now").click()
    expect(secretary.locator("main")).to_contain_text("voting starts at once")
    secretary.get_by_role("button", name="Yes: Open now").click()
    expect(secretary.get_by_role("status")).to_contain_text("is open")
    expect(console_row(secretary, XAI_TITLE, "Close now")).to_be_visible()

    # The shareholders vote it on the meeting's ballot, each in their own browser.
    for username, choice in [("alice", "For"), ("bob", "Against"), ("carol", "Abstain")]:
        holder_page = signed_in(username)
        holder_page.goto(f"/meetings/{world.meeting.pk}/")
        ballot_item(holder_page, XAI_TITLE).get_by_label(choice).check()
        holder_page.get_by_role("button", name="Record my ballot").click()
        expect(holder_page.get_by_role("status")).to_contain_text("recorded")
    weights = dict(Ballot.objects.filter(poll=item).values_list("option__code", "weight"))
    assert weights == {"for": FOR_SHARES, "against": AGAINST_SHARES, "abstain": ABSTAIN_SHARES}

    # The secretary closes the vote, reads the recount and certifies the result.
    secretary.goto("/console/")
    console_row(secretary, XAI_TITLE, "Close now").click()
    secretary.get_by_role("button", name="Yes: Close now").click()
    expect(secretary.get_by_role("status")).to_contain_text("is closed")
    console_row(secretary, XAI_TITLE, "Review and certify", "link").click()
    expect(secretary).to_have_url(re.compile(rf"/console/polls/{item.pk}/certify/$"))
    recount = secretary.get_by_role("table", name=re.compile("Recount"))
    for label, shares in [("For", FOR_SHARES), ("Against", AGAINST_SHARES), ("Abstain", ABSTAIN_SHARES)]:
        row = recount.get_by_role("row").filter(has=secretary.get_by_role("rowheader", name=label, exact=True))
        expect(row).to_contain_text(f"{shares:,}")
        expect(row).to_contain_text("matches")
    secretary.get_by_role("button", name="Certify the result").click()
    expect(secretary.get_by_role("status")).to_contain_text("is certified")
    item.refresh_from_db()
    assert (item.status, item.certified_by_id) == ("certified", world.secretary.pk)

    # Defeated: 53.6% of the votes cast, but 43.3% with abstentions counted against.
    proposer.goto(f"/polls/{item.pk}/results/")
    expect(proposer.locator("main")).to_contain_text("Certified")
    expect(proposer.locator("main")).to_contain_text("43.3%")
    what_if = proposer.get_by_role("table", name=re.compile("What if"))
    votes_cast = what_if.get_by_role("row").filter(has=proposer.get_by_role("rowheader", name=re.compile("^Votes")))
    expect(votes_cast).to_contain_text("53.6%")
    expect(votes_cast).to_contain_text("would pass")
    proposer.goto(detail)
    expect(status_badge(proposer)).to_have_text("Defeated")
    expect(proposer.locator("main")).to_contain_text("Board follow-up due")
    assert Proposal.objects.get(pk=proposal.pk).status == "defeated"
    screenshot(proposer, "c-xai-proposal-defeated")
