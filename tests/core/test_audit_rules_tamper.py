"""An item's rules are frozen once it opens, and its `poll_opened` link records them: a rule
changed by SQL afterwards is named by verify_audit and stops certification, which would
otherwise freeze the changed rule into the result every page and export serves."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from core.models import AuditEvent
from meetings import meeting_services
from meetings.services import tabulation_record
from polls import certification, services
from polls.certification import RecordOffTrail
from polls.models import Poll, PollStatus
from tests.factories import make_annual_item, make_item, make_meeting, make_register, make_secretary

pytestmark = pytest.mark.django_db


def _sql(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def meeting() -> Any:
    return make_meeting(make_register([("H-A", "Alice", "alice@example.com", 10_000)], outstanding=20_000))


def test_a_standard_changed_by_sql_after_opening_is_named_and_stops_certification(meeting: Any) -> None:
    secretary = make_secretary()
    item = make_item(meeting, status=PollStatus.CLOSED, title="Ratify the auditor")
    tabulation_record(poll=item, shares_for=3_000, shares_against=7_000, shares_abstain=0, actor=secretary)
    call_command("verify_audit")  # intact before the edit
    # "More than 1/2 of the votes cast" becomes "at least 1/10 of outstanding": 3,000 for would pass.
    _sql(
        "UPDATE polls_poll SET standard = 'outstanding', threshold_numerator = 1, threshold_denominator = 10,"
        " threshold_comparator = '>=' WHERE id = %s",
        [item.pk],
    )
    with pytest.raises(CommandError, match=r"its rules \(comparator, standard, threshold\) differ from those"):
        call_command("verify_audit")
    with pytest.raises(RecordOffTrail, match="the item's rules differ"):
        certification.poll_certify(poll=item, actor=secretary, confirm_difference=True)
    assert Poll.objects.get(pk=item.pk).status == PollStatus.CLOSED


def test_an_elections_seats_changed_by_sql_while_it_is_open_are_named(meeting: Any) -> None:
    item = make_annual_item(meeting, "election", nominees=["Ada", "Bob", "Cy"], seats=2, election_standard="plurality")
    call_command("verify_audit")
    _sql("UPDATE meetings_itemterms SET seats = 1 WHERE poll_id = %s", [item.pk])
    with pytest.raises(CommandError, match=r"its rules \(seats\) differ"):
        call_command("verify_audit")


def test_a_quorum_changed_by_sql_after_an_item_opened_is_named(meeting: Any) -> None:
    make_item(meeting)
    _sql("UPDATE meetings_meeting SET quorum_numerator = 1, quorum_denominator = 100 WHERE id = %s", [meeting.pk])
    with pytest.raises(CommandError, match=r"its rules \(quorum\) differ"):
        call_command("verify_audit")


def test_rules_changed_before_opening_are_the_ones_recorded_and_verify_clean(meeting: Any) -> None:
    item = make_item(meeting, status=PollStatus.DRAFT)
    _sql("UPDATE polls_poll SET threshold_numerator = 2, threshold_denominator = 3 WHERE id = %s", [item.pk])
    services.poll_open(poll=Poll.objects.get(pk=item.pk))
    call_command("verify_audit")
    opened = AuditEvent.objects.get(stream=f"poll:{item.pk}", action="poll_opened")
    assert opened.payload["rules"]["threshold"] == "2/3"


def test_an_item_whose_window_passed_before_any_sweep_records_its_rules_at_the_close(meeting: Any) -> None:
    """No opening link: the item closed unopened (the sweep came after its window), as a
    paper-only item with the inspector's tabulation may."""
    secretary = make_secretary()
    now = timezone.now()
    item = meeting_services.item_create(
        meeting=meeting,
        title="Ratify the auditor",
        opens_at=now + datetime.timedelta(minutes=1),
        closes_at=now + datetime.timedelta(hours=1),
        actor=None,
    )
    services.poll_schedule(poll=item)
    services.polls_sweep(now=now + datetime.timedelta(hours=2))
    actions = list(AuditEvent.objects.filter(stream=f"poll:{item.pk}").values_list("action", flat=True))
    assert "poll_opened" not in actions and "poll_closed" in actions
    tabulation_record(poll=item, shares_for=3_000, shares_against=7_000, shares_abstain=0, actor=secretary)
    call_command("verify_audit")
    _sql("UPDATE polls_poll SET standard = 'outstanding' WHERE id = %s", [item.pk])
    with pytest.raises(CommandError, match=r"its rules \(standard\) differ"):
        call_command("verify_audit")
    with pytest.raises(RecordOffTrail):
        certification.poll_certify(poll=item, actor=secretary, confirm_difference=True)
