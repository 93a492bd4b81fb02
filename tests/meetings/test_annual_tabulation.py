"""The inspector's tabulation of an election, frequency or choice item through the console and
the admin (issue 14, part 4): one number per nominee and choice or per option, plus broker
non-votes and the source, recorded through the same service as the API; bad input is a form
error and stores nothing; the admin's three-number form never takes these items."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client

from meetings.attendance import attendance_check_in
from meetings.ballot_models import TabulationLine
from meetings.models import Tabulation
from polls import services
from polls.models import Poll, PollStatus
from polls.results import poll_results, results_json
from tests.factories import make_annual_item, make_item, make_meeting, make_secretary, make_split_register

pytestmark = pytest.mark.django_db

NOT_CLOSED = "Enter the inspector's totals after the poll closes."


@pytest.fixture
def meeting() -> Any:
    return make_meeting(make_split_register())


@pytest.fixture
def election(meeting: Any) -> Poll:
    """A closed two-seat majority election of Ada and Ben."""
    return make_annual_item(
        meeting, "election", status=PollStatus.CLOSED, nominees=["Ada", "Ben"], election_standard="majority", seats=2
    )


@pytest.fixture
def secretary_browser(client: Client) -> Client:
    client.force_login(make_secretary())
    return client


def _quorum_present(meeting: Any) -> None:
    """Yolanda Fund and the quiet holder attend in person: 16,544 of 20,000 shares. Without quorum
    an election elects nobody and no option wins, which is not what these tests are about."""
    secretary = make_secretary(username="clerk")
    for holder in meeting.register.holders.filter(account__in=["H-1", "H-3"]):
        attendance_check_in(meeting=meeting, holder_id=holder.pk, actor=secretary)


def _ids(poll: Poll) -> dict[str, int]:
    return {option.label: option.pk for option in poll.options.all()}


def _figures(poll: Poll) -> dict[str, str]:
    ids = _ids(poll)
    return {
        f"line_{ids['Ada']}_for": "9000",
        f"line_{ids['Ada']}_against": "1000",
        f"line_{ids['Ada']}_abstain": "50",
        f"line_{ids['Ben']}_for": "4000",
        f"line_{ids['Ben']}_against": "6000",
        f"line_{ids['Ben']}_abstain": "",
        "broker_non_votes": "700",
        "source": "Inspector's final report",
    }


def _stored(poll: Poll) -> dict[tuple[str, str], int]:
    names = {pk: label for label, pk in _ids(poll).items()}
    rows = TabulationLine.objects.filter(tabulation__poll=poll).values_list("option_id", "choice", "shares")
    return {(names[option], choice): shares for option, choice, shares in rows}


def _nominees(poll: Poll) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in results_json(poll_results(poll=poll))["nominees"]}


def _assert_recorded(election: Poll) -> None:
    assert _stored(election) == {
        ("Ada", "for"): 9000,
        ("Ada", "against"): 1000,
        ("Ada", "abstain"): 50,
        ("Ben", "for"): 4000,
        ("Ben", "against"): 6000,
    }
    tabulation = Tabulation.objects.get(poll=election)
    assert (tabulation.broker_non_votes, tabulation.source) == (700, "Inspector's final report")
    nominees = _nominees(election)
    assert (nominees["Ada"]["for"], nominees["Ada"]["against"], nominees["Ada"]["abstain"]) == ("9000", "1000", "50")
    assert nominees["Ada"]["broker_non_votes"] == "700"
    assert nominees["Ada"]["elected"] is True
    assert (nominees["Ben"]["for"], nominees["Ben"]["against"], nominees["Ben"]["abstain"]) == ("4000", "6000", "0")
    assert nominees["Ben"]["elected"] is False
    assert nominees["Ben"]["status"] == "resignation_tendered"


# --- Console --------------------------------------------------------------------------------


def test_the_console_page_has_a_number_per_nominee_and_choice(secretary_browser: Client, election: Poll) -> None:
    response = secretary_browser.get(f"/console/polls/{election.pk}/tabulation/")
    assert response.status_code == 200
    page = response.content.decode()
    for name in _figures(election):
        assert f'name="{name}"' in page
    assert "withhold" not in page
    assert 'for="id_line_' in page  # every input has its label (visually hidden in the table)


def test_the_console_records_the_figures_and_the_results_use_them(secretary_browser: Client, election: Poll) -> None:
    response = secretary_browser.post(f"/console/polls/{election.pk}/tabulation/", _figures(election))
    assert response.status_code == 302
    assert response["Location"] == f"/console/polls/{election.pk}/certify/"
    _assert_recorded(election)


def test_the_console_shows_the_recorded_figures_again(secretary_browser: Client, election: Poll) -> None:
    secretary_browser.post(f"/console/polls/{election.pk}/tabulation/", _figures(election))
    page = secretary_browser.get(f"/console/polls/{election.pk}/tabulation/").content.decode()
    assert 'value="6000"' in page and 'value="700"' in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Ben_for": "-1"}, "Ensure this value is greater than or equal to 0."),
        ({"Ben_for": "12.5"}, "Enter a whole number."),
        ({"Ben_for": "many"}, "Enter a whole number."),
        ({"broker_non_votes": "-3"}, "Ensure this value is greater than or equal to 0."),
        ({"all": ""}, "Enter at least one figure for a nominee or option"),
    ],
)
def test_bad_figures_in_the_console_are_form_errors_and_store_nothing(
    secretary_browser: Client, election: Poll, change: dict[str, str], message: str
) -> None:
    ids = _ids(election)
    data = _figures(election)
    if "all" in change:
        data = dict.fromkeys(data, "")
    for key, value in change.items():
        name, _sep, choice = key.partition("_")
        data[f"line_{ids[name]}_{choice}" if choice and name in ids else key] = value
    response = secretary_browser.post(f"/console/polls/{election.pk}/tabulation/", data)
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert not Tabulation.objects.exists()
    assert not TabulationLine.objects.exists()


def test_the_console_refuses_an_open_election_as_a_form_error(secretary_browser: Client, meeting: Any) -> None:
    election = make_annual_item(meeting, "election", nominees=["Ada", "Ben"], election_standard="majority")
    page = secretary_browser.get(f"/console/polls/{election.pk}/tabulation/")
    assert NOT_CLOSED in html.unescape(page.content.decode())  # said before anything is typed
    response = secretary_browser.post(f"/console/polls/{election.pk}/tabulation/", _figures(election))
    assert response.status_code == 400
    assert NOT_CLOSED in html.unescape(response.content.decode())
    assert not Tabulation.objects.exists()


def test_a_plurality_election_takes_for_and_withhold(secretary_browser: Client, meeting: Any) -> None:
    _quorum_present(meeting)  # before the item closes: attendance is fixed from then on
    election = make_annual_item(
        meeting, "election", status=PollStatus.CLOSED, nominees=["Ada", "Ben", "Cy"], election_standard="plurality"
    )
    ids = _ids(election)
    page = secretary_browser.get(f"/console/polls/{election.pk}/tabulation/").content.decode()
    assert f'name="line_{ids["Ada"]}_withhold"' in page
    assert f'name="line_{ids["Ada"]}_against"' not in page
    data = {f"line_{ids['Ada']}_for": "30", f"line_{ids['Ada']}_withhold": "5", f"line_{ids['Cy']}_for": "20"}
    response = secretary_browser.post(f"/console/polls/{election.pk}/tabulation/", data)
    assert response.status_code == 302
    assert _stored(election) == {("Ada", "for"): 30, ("Ada", "withhold"): 5, ("Cy", "for"): 20}
    nominees = _nominees(election)
    assert nominees["Ada"]["elected"] is True and nominees["Ada"]["withheld"] == "5"
    assert nominees["Cy"]["elected"] is False


def test_a_frequency_item_takes_a_number_per_option(secretary_browser: Client, meeting: Any) -> None:
    _quorum_present(meeting)  # before the item closes: attendance is fixed from then on
    item = make_annual_item(meeting, "frequency", status=PollStatus.CLOSED)
    ids = _ids(item)
    page = secretary_browser.get(f"/console/polls/{item.pk}/tabulation/").content.decode()
    assert all(f'name="line_{pk}_for"' in page for pk in ids.values())
    data = {f"line_{ids['1 Year']}_for": "800", f"line_{ids['3 Years']}_for": "300", "broker_non_votes": "40"}
    assert secretary_browser.post(f"/console/polls/{item.pk}/tabulation/", data).status_code == 302
    decision = results_json(poll_results(poll=item))["decision"]
    assert decision["winner"] == ids["1 Year"]
    assert decision["broker_non_votes"] == "40"


def test_a_proposals_console_tabulation_is_still_three_numbers(secretary_browser: Client, meeting: Any) -> None:
    item = make_item(meeting)
    services.poll_close(poll=item)
    assert 'name="shares_for"' in secretary_browser.get(f"/console/polls/{item.pk}/tabulation/").content.decode()
    data = {"shares_for": "900", "shares_against": "50", "shares_abstain": "10", "broker_non_votes": ""}
    assert secretary_browser.post(f"/console/polls/{item.pk}/tabulation/", data).status_code == 302
    assert Tabulation.objects.get(poll=item).shares_for == 900


# --- Admin ----------------------------------------------------------------------------------


def test_the_admin_records_an_elections_figures_per_nominee(secretary_browser: Client, election: Poll) -> None:
    listed = secretary_browser.get("/admin/meetings/tabulation/lines/")
    assert listed.status_code == 200
    assert f"/admin/meetings/tabulation/lines/{election.pk}/" in listed.content.decode()
    url = f"/admin/meetings/tabulation/lines/{election.pk}/"
    page = secretary_browser.get(url)
    assert page.status_code == 200
    assert f'name="line_{_ids(election)["Ben"]}_against"' in page.content.decode()
    response = secretary_browser.post(url, _figures(election))
    assert response.status_code == 302
    assert response["Location"] == "/admin/meetings/tabulation/"
    _assert_recorded(election)
    assert secretary_browser.get("/admin/meetings/tabulation/").status_code == 200


def test_bad_figures_in_the_admin_are_form_errors(secretary_browser: Client, election: Poll) -> None:
    data = {**_figures(election), f"line_{_ids(election)['Ada']}_for": "-5"}
    response = secretary_browser.post(f"/admin/meetings/tabulation/lines/{election.pk}/", data)
    assert response.status_code == 200  # the form again, with the reason
    assert "Ensure this value is greater than or equal to 0." in response.content.decode()
    assert not Tabulation.objects.exists()


def test_the_admin_refuses_an_open_election_as_a_form_error(secretary_browser: Client, meeting: Any) -> None:
    election = make_annual_item(meeting, "election", nominees=["Ada", "Ben"], election_standard="majority")
    response = secretary_browser.post(f"/admin/meetings/tabulation/lines/{election.pk}/", _figures(election))
    assert response.status_code == 200
    assert NOT_CLOSED in html.unescape(response.content.decode())
    assert not Tabulation.objects.exists()


def test_the_admins_three_number_form_never_takes_an_election(secretary_browser: Client, election: Poll) -> None:
    form = {"poll": election.pk, "shares_for": 5, "shares_against": 6, "shares_abstain": 7, "broker_non_votes": 0}
    response = secretary_browser.post("/admin/meetings/tabulation/add/", form)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Tabulation.objects.exists()
    redirected = secretary_browser.get(f"/admin/meetings/tabulation/add/?poll={election.pk}")
    assert redirected["Location"] == f"/admin/meetings/tabulation/lines/{election.pk}/"


def test_the_admin_form_routes_by_the_ballot_form_not_the_choice_list(election: Poll) -> None:
    from meetings.admin import TabulationAdminForm

    form_class = type("Form", (TabulationAdminForm,), {"actor": make_secretary()})
    form = form_class(
        {"poll": election.pk, "shares_for": 5, "shares_against": 6, "shares_abstain": 7, "broker_non_votes": 0}
    )
    form.fields["poll"].queryset = Poll.objects.all()  # as if the list offered it
    assert not form.is_valid()
    assert "tabulated per nominee or option" in str(form.errors)
    assert not Tabulation.objects.exists()


def test_an_elections_tabulation_opens_on_its_own_page_in_the_admin(secretary_browser: Client, election: Poll) -> None:
    secretary_browser.post(f"/admin/meetings/tabulation/lines/{election.pk}/", _figures(election))
    tabulation = Tabulation.objects.get(poll=election)
    response = secretary_browser.get(f"/admin/meetings/tabulation/{tabulation.pk}/change/")
    assert response["Location"] == f"/admin/meetings/tabulation/lines/{election.pk}/"


# --- Reading the results ---------------------------------------------------------------------


def test_an_elections_results_read_its_terms_and_tabulation_once(
    election: Poll, django_assert_num_queries: Any
) -> None:
    poll = Poll.objects.get(pk=election.pk)
    # Options, tabulation, meeting, register snapshot, terms, tallies: once each.
    with django_assert_num_queries(6):
        poll_results(poll=poll)


def test_a_tabulation_recorded_between_two_readings_of_the_same_poll_is_seen(
    secretary_browser: Client, election: Poll
) -> None:
    assert _nominees(election)["Ada"]["for"] == "0"
    secretary_browser.post(f"/console/polls/{election.pk}/tabulation/", _figures(election))
    assert _nominees(election)["Ada"]["for"] == "9000"
