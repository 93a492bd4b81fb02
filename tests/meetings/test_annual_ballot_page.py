"""The meeting's ballot page with the annual meeting's forms (issue 14): a proposal's radios, an
election's nominee rows (majority and plurality) with the board's recommendation, a cumulative
election's number inputs and votes left, a frequency item's radios, all posted at once and cast
through meetings.services.meeting_ballot_cast, all of it or none."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.core import mail
from django.test import Client

from meetings.ballot_models import BallotLine, NomineeTally
from meetings.models import Holder, Meeting
from meetings.services import MeetingBallotRefused, meeting_ballot_cast, proxy_appoint
from polls.exceptions import InvalidVote
from polls.models import Ballot, Poll
from tests.factories import make_annual_item, make_item, make_meeting, make_register, make_user

pytestmark = pytest.mark.django_db


@dataclass
class Page:
    client: Client
    users: dict[str, Any]
    holders: dict[str, Holder]
    meeting: Meeting
    proposal: Poll
    election: Poll  # majority, two seats
    plurality: Poll  # for / withhold, one seat
    cumulative: Poll  # plurality, two seats
    frequency: Poll

    @property
    def url(self) -> str:
        return f"/meetings/{self.meeting.pk}/"

    def nominees(self, item: Poll) -> dict[str, int]:
        return dict(item.options.values_list("label", "pk"))

    def post(self, data: dict[str, Any], holder: str = "alice", **extra: Any) -> Any:
        return self.client.post(
            f"/meetings/{self.meeting.pk}/ballot/", {"holder": self.holders[holder].pk, **data}, **extra
        )


@pytest.fixture
def ballot(client: Client) -> Page:
    users = {name: make_user(username=name, email=f"{name}@example.com") for name in ("alice", "bob")}
    register = make_register(
        [("A-1", "Alice Example", "alice@example.com", 12_000), ("B-1", "Bob Example", "bob@example.com", 8_000)],
        outstanding=40_000,
    )
    meeting = make_meeting(register)
    client.force_login(users["alice"])
    return Page(
        client=client,
        users=users,
        holders={"alice": register.holders.get(account="A-1"), "bob": register.holders.get(account="B-1")},
        meeting=meeting,
        proposal=make_item(meeting, title="Ratify the auditor"),
        election=make_annual_item(
            meeting, "election", nominees=["Ira Ehrenpreis", "Joe Gebbia"], election_standard="majority", seats=2
        ),
        plurality=make_annual_item(
            meeting,
            "election",
            title="Elect the chair",
            nominees=["Robyn Denholm", "James Murdoch"],
            election_standard="plurality",
        ),
        cumulative=make_annual_item(
            meeting,
            "election",
            title="Elect directors cumulatively",
            nominees=["Ann Able", "Ben Bold", "Cy Calm"],
            election_standard="plurality",
            cumulative=True,
            seats=2,
        ),
        frequency=make_annual_item(meeting, "frequency"),
    )


def lines(item: Poll) -> set[tuple[str, str, int]]:
    return set(BallotLine.objects.filter(ballot__poll=item).values_list("option__label", "choice", "shares"))


def checked(html: str) -> dict[str, str]:
    """The radios the page checks, by name."""
    found = {}
    for tag in re.findall(r'<input type="radio"[^>]*checked>', html):
        name, value = re.search(r'name="([^"]+)" value="([^"]+)"', tag).groups()  # type: ignore[union-attr]
        found[name] = value
    return found


def radio_names(html: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for tag in re.findall(r'<input type="radio"[^>]*>', html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]+)"', tag)
        assert name and value
        found.setdefault(name.group(1), set()).add(value.group(1))
    return found


def test_the_page_renders_every_form(ballot: Page) -> None:
    html = ballot.client.get(ballot.url).content.decode()
    radios = radio_names(html)
    majority, plurality = ballot.nominees(ballot.election), ballot.nominees(ballot.plurality)
    for name, pk in majority.items():
        assert f"<legend>{name}</legend>" in html
        assert radios[f"item-{ballot.election.pk}-nominee-{pk}"] == {"for", "against", "abstain"}
    for pk in plurality.values():
        assert radios[f"item-{ballot.plurality.pk}-nominee-{pk}"] == {"for", "withhold"}
    assert radios[f"item-{ballot.proposal.pk}"] == {"for", "against", "abstain"}
    frequency = dict(ballot.frequency.options.values_list("pk", "label"))
    assert radios[f"item-{ballot.frequency.pk}"] == {str(pk) for pk in frequency}
    for label in ("1 year", "2 years", "3 years", "Abstain"):
        assert f">{label}</label>" in html
    for pk in ballot.nominees(ballot.cumulative).values():
        name = f"item-{ballot.cumulative.pk}-nominee-{pk}"
        assert re.search(rf'<input type="number" name="{name}"[^>]*min="0"', html)
        assert re.search(rf'name="{name}"[^>]*aria-describedby="item-{ballot.cumulative.pk}-left"', html)
    # 12,000 shares x 2 seats.
    assert "Votes left: <strong data-left>24,000</strong> of 24,000" in html
    assert 'data-limit="24000"' in html
    assert "Vote all with the board's recommendation" in html
    assert 'src="/static/meetings/ballot.js"' in html and finders.find("meetings/ballot.js")
    # Every item and every nominee of a radio election is a group named by its legend.
    assert html.count('<fieldset class="nominee') == 4
    assert html.count('<fieldset class="item ballot-item') == 5


def test_one_post_casts_an_election_a_frequency_and_a_proposal(
    ballot: Page, django_capture_on_commit_callbacks: Any
) -> None:
    nominees = ballot.nominees(ballot.election)
    two_years = ballot.frequency.options.get(label="2 Years")
    with django_capture_on_commit_callbacks(execute=True):
        response = ballot.post(
            {
                f"item-{ballot.proposal.pk}": "for",
                f"item-{ballot.election.pk}-nominee-{nominees['Ira Ehrenpreis']}": "for",
                f"item-{ballot.election.pk}-nominee-{nominees['Joe Gebbia']}": "against",
                f"item-{ballot.frequency.pk}": str(two_years.pk),
            },
            follow=True,
        )
    html = response.content.decode()
    assert "on 3 items is recorded" in html
    assert lines(ballot.election) == {("Ira Ehrenpreis", "for", 12_000), ("Joe Gebbia", "against", 12_000)}
    assert lines(ballot.frequency) == {("2 Years", "for", 12_000)}
    assert Ballot.objects.get(poll=ballot.proposal).option.code == "for"  # type: ignore[union-attr]
    # Items left blank are not voted; the receipts go out in one e-mail.
    assert not Ballot.objects.filter(poll__in=[ballot.plurality, ballot.cumulative]).exists()
    assert len(mail.outbox) == 1
    # The page shows the holder's ballot as it stands, and the radios hold it.
    assert html.count("Your ballot: For") == 1 and "Your ballot: Against" in html
    assert "Your recorded ballot: 2 years" in html
    assert checked(html) == {
        f"item-{ballot.proposal.pk}": "for",
        f"item-{ballot.election.pk}-nominee-{nominees['Ira Ehrenpreis']}": "for",
        f"item-{ballot.election.pk}-nominee-{nominees['Joe Gebbia']}": "against",
        f"item-{ballot.frequency.pk}": str(two_years.pk),
    }


def test_a_cumulative_ballot_is_cast_and_shown_with_the_votes_left(ballot: Page) -> None:
    nominees = ballot.nominees(ballot.cumulative)
    field = f"item-{ballot.cumulative.pk}-nominee-"
    response = ballot.post({f"{field}{nominees['Ann Able']}": "20000", f"{field}{nominees['Cy Calm']}": "4000"})
    assert response.status_code == 302
    assert lines(ballot.cumulative) == {("Ann Able", "for", 20_000), ("Cy Calm", "for", 4_000)}
    html = ballot.client.get(ballot.url).content.decode()
    assert "Votes left: <strong data-left>0</strong> of 24,000" in html
    assert "Your ballot: 20,000 votes" in html
    assert re.search(rf'name="{field}{nominees["Ann Able"]}" value="20000"', html)


def test_over_the_limit_a_cumulative_ballot_shows_the_error_and_records_nothing(ballot: Page) -> None:
    nominees = ballot.nominees(ballot.cumulative)
    field = f"item-{ballot.cumulative.pk}-nominee-"
    response = ballot.post(
        {
            f"item-{ballot.proposal.pk}": "for",
            f"{field}{nominees['Ann Able']}": "20000",
            f"{field}{nominees['Ben Bold']}": "10000",
        }
    )
    assert response.status_code == 400
    html = response.content.decode()
    error = re.search(rf'<p class="field-error" id="item-{ballot.cumulative.pk}-error" role="alert">([^<]*)</p>', html)
    assert error and "at most 24,000" in error.group(1)
    assert f'aria-describedby="item-{ballot.cumulative.pk}-rules item-{ballot.cumulative.pk}-error"' in html
    # What was typed stays, with the votes left as the server counts them.
    assert "Votes left: <strong data-left>-6,000</strong> of 24,000" in html
    assert re.search(r"<span class=\"field-error over-limit\" data-over-limit>", html)
    assert not Ballot.objects.exists() and not BallotLine.objects.exists()


def test_a_number_that_is_not_whole_is_an_error_on_its_nominee(ballot: Page) -> None:
    pk = ballot.nominees(ballot.cumulative)["Ben Bold"]
    name = f"item-{ballot.cumulative.pk}-nominee-{pk}"
    response = ballot.post({name: "-3", f"item-{ballot.proposal.pk}": "for"})
    assert response.status_code == 400
    html = response.content.decode()
    assert (
        f'<p class="field-error" id="id_{name}_error" role="alert">Enter a whole number of votes, 0 or more.</p>'
        in html
    )
    assert re.search(rf'name="{name}"[^>]*aria-describedby="item-{ballot.cumulative.pk}-left id_{name}_error"', html)
    assert not Ballot.objects.exists()


def test_a_choice_the_election_does_not_allow_is_an_error_on_its_nominee(ballot: Page) -> None:
    pk = ballot.nominees(ballot.election)["Joe Gebbia"]
    response = ballot.post({f"item-{ballot.election.pk}-nominee-{pk}": "withhold"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose one of the choices shown for this nominee." in html
    assert f'aria-describedby="id_item-{ballot.election.pk}-nominee-{pk}_error"' in html
    assert not Ballot.objects.exists()


def test_vote_with_the_boards_recommendation_casts_it_on_every_nominee(ballot: Page) -> None:
    nominees = ballot.nominees(ballot.election)
    NomineeTally.objects.filter(option_id=nominees["Joe Gebbia"]).update(recommendation="against")
    response = ballot.post({"recommend": str(ballot.election.pk), f"item-{ballot.proposal.pk}": "against"})
    assert response.status_code == 302
    assert lines(ballot.election) == {("Ira Ehrenpreis", "for", 12_000), ("Joe Gebbia", "against", 12_000)}
    assert Ballot.objects.get(poll=ballot.proposal).option.code == "against"  # type: ignore[union-attr]


def test_under_plurality_the_boards_against_is_withheld_and_none_is_left_blank(ballot: Page) -> None:
    nominees = ballot.nominees(ballot.plurality)
    NomineeTally.objects.filter(option_id=nominees["Robyn Denholm"]).update(recommendation="against")
    NomineeTally.objects.filter(option_id=nominees["James Murdoch"]).update(recommendation="none")
    html = ballot.client.get(ballot.url).content.decode()
    assert 'data-recommendation="withhold"' in html and 'data-recommendation=""' in html
    ballot.post({"recommend": str(ballot.plurality.pk)})
    assert lines(ballot.plurality) == {("Robyn Denholm", "withhold", 12_000)}


def test_the_page_in_italian_shows_italian_labels(ballot: Page) -> None:
    ballot.client.cookies.load({})
    html = ballot.client.get(ballot.url, headers={"accept-language": "it"}).content.decode()
    assert '<html lang="it">' in html
    for label in ("1 anno", "2 anni", "3 anni", "Favorevole", "Contrario", "Astenuto", "Voto negato"):
        assert f">{label}</label>" in html, label
    assert "Voti rimasti: <strong data-left>24.000</strong> su 24.000" in html
    assert "Vota tutto secondo la raccomandazione del consiglio" in html
    assert "Elezione degli amministratori" in html  # the form, in the items' table


def test_a_proxy_votes_a_holders_election_on_the_page(ballot: Page) -> None:
    bob, alice = ballot.holders["bob"], ballot.users["alice"]
    proxy_appoint(meeting=ballot.meeting, holder=bob, proxy=alice, actor=ballot.users["bob"])
    html = ballot.client.get(f"{ballot.url}?holder={bob.pk}").content.decode()
    assert "as their proxy" in html
    assert "Votes left: <strong data-left>16,000</strong> of 16,000" in html  # Bob's 8,000 x 2 seats
    nominees = ballot.nominees(ballot.election)
    response = ballot.post(
        {
            f"item-{ballot.election.pk}-nominee-{nominees['Ira Ehrenpreis']}": "abstain",
            f"item-{ballot.election.pk}-nominee-{nominees['Joe Gebbia']}": "for",
        },
        holder="bob",
    )
    assert response.status_code == 302
    cast = Ballot.objects.get(poll=ballot.election)
    assert (cast.holder_id, cast.voter_id, cast.weight) == (bob.pk, alice.pk, 8_000)
    assert lines(ballot.election) == {("Ira Ehrenpreis", "abstain", 8_000), ("Joe Gebbia", "for", 8_000)}


def test_the_service_takes_choices_and_payloads_at_once_and_refuses_all_or_nothing(ballot: Page) -> None:
    alice, holder = ballot.users["alice"], ballot.holders["alice"]
    nominees = ballot.nominees(ballot.plurality)
    with pytest.raises(MeetingBallotRefused) as refusal:
        meeting_ballot_cast(
            meeting=ballot.meeting,
            actor=alice,
            holder_id=holder.pk,
            choices={
                ballot.proposal.pk: "for",
                ballot.plurality.pk: {"votes": {str(nominees["James Murdoch"]): "against"}},
                ballot.frequency.pk: ["not", "a", "ballot"],  # type: ignore[dict-item]
            },
        )
    assert list(refusal.value.refused) == [ballot.plurality.pk, ballot.frequency.pk]
    assert "for, withhold" in refusal.value.refused[ballot.plurality.pk].message
    assert not Ballot.objects.exists()
    cast = meeting_ballot_cast(
        meeting=ballot.meeting,
        actor=alice,
        holder_id=holder.pk,
        choices={
            ballot.proposal.pk: "for",
            ballot.plurality.pk: {"votes": {str(nominees["James Murdoch"]): "withhold"}},
        },
    )
    assert [result.ballot.poll_id for result in cast] == [ballot.proposal.pk, ballot.plurality.pk]
    assert lines(ballot.plurality) == {("James Murdoch", "withhold", 12_000)}


def test_a_payload_cannot_vote_for_someone_else(ballot: Page) -> None:
    nominees = ballot.nominees(ballot.election)
    with pytest.raises(MeetingBallotRefused):
        meeting_ballot_cast(
            meeting=ballot.meeting,
            actor=ballot.users["alice"],
            holder_id=ballot.holders["alice"].pk,
            choices={ballot.election.pk: {"votes": {str(nominees["Joe Gebbia"]): "maybe"}}},
        )
    # The holder is the ballot's, given to the service: an item's part naming one is refused.
    with pytest.raises(MeetingBallotRefused, match="Unknown keys in the item's ballot: holder"):
        meeting_ballot_cast(
            meeting=ballot.meeting,
            actor=ballot.users["alice"],
            holder_id=ballot.holders["alice"].pk,
            choices={
                ballot.election.pk: {"votes": {str(nominees["Joe Gebbia"]): "for"}, "holder": ballot.holders["bob"].pk}
            },
        )
    assert not Ballot.objects.exists()


def test_an_empty_meeting_ballot_is_still_refused(ballot: Page) -> None:
    with pytest.raises(InvalidVote):
        meeting_ballot_cast(
            meeting=ballot.meeting, actor=ballot.users["alice"], holder_id=ballot.holders["alice"].pk, choices={}
        )
