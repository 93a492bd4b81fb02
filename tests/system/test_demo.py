"""The demo's story reads true on any day: its dates follow today."""

from __future__ import annotations

import datetime
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from meetings.models import Holder, Meeting
from polls.models import PollStatus, ResultsVisibility
from polls.permissions import can_see_results
from proposals import selectors
from proposals.demo import WAITING_TITLE
from proposals.models import Proposal
from proposals.workflow import State

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> None:
    call_command("seed_demo", stdout=StringIO())


def test_last_years_annual_meeting_is_held_last_year_and_every_item_is_certified(demo: None) -> None:
    last_year = timezone.localdate().year - 1
    meeting = Meeting.objects.get(title=f"{last_year} Annual Meeting of Stockholders")
    assert meeting.date == datetime.date(last_year, 11, 6)
    assert meeting.register.record_date < meeting.date
    items = list(meeting.items.all())
    assert {item.title for item in items} == {
        "Ratify the appointment of the independent auditor",
        "Invest $5B in xAI",
        "Elect two directors",
        "Approve executive compensation on an advisory basis",
        "Frequency of the advisory vote on executive compensation",
    }
    assert all(item.status == PollStatus.CERTIFIED for item in items)
    auditor = next(item for item in items if item.title.startswith("Ratify"))
    assert auditor.closes_at.date() == meeting.date
    assert auditor.ballots.count() == 3


def test_this_years_meeting_is_next_week_with_its_items_open_and_results_hidden(demo: None) -> None:
    today = timezone.localdate()
    meeting = Meeting.objects.get(title=f"{today.year} Annual Meeting of Stockholders")
    assert meeting.date == today + datetime.timedelta(days=7)
    assert today - datetime.timedelta(days=30) < meeting.register.record_date < today
    items = list(meeting.items.all())
    assert len(items) == 2
    secretary = User.objects.get(username="secretary")
    for item in items:
        assert item.effective_status() == PollStatus.OPEN
        assert item.closes_at.date() == meeting.date
        assert item.results_visibility == ResultsVisibility.AFTER_CLOSE
        assert not can_see_results(user=secretary, poll=item)  # no running share totals in public


def test_no_open_item_closes_after_its_meeting(demo: None) -> None:
    for meeting in Meeting.objects.all():
        for item in meeting.items.all():
            assert item.closes_at.date() <= meeting.date, (meeting.title, item.title)


def test_a_proposal_waits_in_every_disinterested_directors_review_queue(demo: None) -> None:
    proposal = Proposal.objects.get(title=WAITING_TITLE)
    assert proposal.status == State.IN_REVIEW
    assert proposal.review_due_at is not None
    assert proposal.review_due_at > timezone.now()
    for username in ("robyn", "kimbal", "ira", "james", "elon"):
        assert proposal in selectors.review_queue(User.objects.get(username=username)), username


def test_seeding_twice_adds_nothing(demo: None) -> None:
    meetings, proposals = Meeting.objects.count(), Proposal.objects.count()
    call_command("seed_demo", stdout=StringIO())
    assert (Meeting.objects.count(), Proposal.objects.count()) == (meetings, proposals)


def test_the_demo_seeds_and_votes_where_e_mail_linking_is_off(settings: Any) -> None:
    # Production's default: holdings are claimed by control number, not linked by e-mail.
    settings.REGISTER_LINK_BY_EMAIL = False
    call_command("seed_demo", stdout=StringIO())
    assert Holder.objects.filter(user__username="alice").exists()
