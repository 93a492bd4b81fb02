"""The demo's last annual meeting carries a whole ballot (issue 14, part 6): two directors under
majority voting (one failing), the auditor, say-on-pay, its frequency and the xAI proposal,
voted, closed and certified; seeding again adds nothing."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from meetings.ballot_models import BallotLine
from meetings.demo import meeting_title
from meetings.demo_annual import ELECTION_TITLE, FREQUENCY_TITLE, SAY_ON_PAY_TITLE, seed_annual_ballot
from meetings.models import Meeting
from polls.models import Ballot, Poll, PollStatus
from polls.results import poll_results, results_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting() -> Meeting:
    call_command("seed_demo", stdout=StringIO())
    return Meeting.objects.get(title=meeting_title())


def _results(meeting: Meeting, title: str) -> dict[str, Any]:
    return results_json(poll_results(poll=meeting.items.get(title=title)))


def test_last_years_meeting_has_the_whole_annual_ballot_certified(meeting: Meeting) -> None:
    titles = set(meeting.items.values_list("title", flat=True))
    assert {ELECTION_TITLE, SAY_ON_PAY_TITLE, FREQUENCY_TITLE, "Invest $5B in xAI"} <= titles
    assert "Ratify the appointment of the independent auditor" in titles
    for item in meeting.items.all():
        assert item.status == PollStatus.CERTIFIED, item.title
        assert item.closes_at.date() == meeting.date
    for title in (ELECTION_TITLE, SAY_ON_PAY_TITLE, FREQUENCY_TITLE):
        assert Ballot.objects.filter(poll__meeting=meeting, poll__title=title).count() == 4  # 3 members, Cede & Co


def test_the_failing_nominee_is_not_elected_and_tenders_resignation(meeting: Meeting) -> None:
    results = _results(meeting, ELECTION_TITLE)
    assert results["election"] == {"standard": "majority", "seats": 2, "cumulative": False}
    nominees = {row["name"]: row for row in results["nominees"]}
    assert set(nominees) == {"Helen Marsh", "Victor Lang"}
    helen, victor = nominees["Helen Marsh"], nominees["Victor Lang"]
    assert helen["elected"] is True and helen["status"] == "elected"
    assert int(helen["for"]) > int(helen["against"])
    assert victor["elected"] is False
    assert victor["status"] == "resignation_tendered"
    assert int(victor["against"]) > int(victor["for"])
    assert int(victor["abstain"]) > 0
    assert results["quorum"]["met"] is True  # Cede & Co's street-name shares voted


def test_the_auditor_passes_on_the_inspectors_figures(meeting: Meeting) -> None:
    results = _results(meeting, "Ratify the appointment of the independent auditor")
    assert results["totals"]["source"] == "tabulation"
    assert results["quorum"]["met"] is True
    assert results["outcome"]["passed"] is True


def test_say_on_pay_is_advisory_and_the_frequency_picks_a_year(meeting: Meeting) -> None:
    say_on_pay = meeting.items.get(title=SAY_ON_PAY_TITLE)
    assert say_on_pay.advisory
    outcome = results_json(poll_results(poll=say_on_pay))["outcome"]
    assert outcome["passed"] is True and outcome["advisory"] is True
    frequency = _results(meeting, FREQUENCY_TITLE)
    one_year = Poll.objects.get(title=FREQUENCY_TITLE).options.get(label="1 Year")
    assert frequency["decision"]["winner"] == one_year.pk
    assert frequency["decision"]["advisory"] is True


def test_seeding_again_adds_no_item_ballot_or_line(meeting: Meeting) -> None:
    counts = (Poll.objects.count(), Ballot.objects.count(), BallotLine.objects.count())
    call_command("seed_demo", stdout=StringIO())
    seed_annual_ballot(meeting=meeting, secretary=None)
    assert (Poll.objects.count(), Ballot.objects.count(), BallotLine.objects.count()) == counts
