"""Certification is final (DESIGN, Trust): a certified item is served from its frozen record in
every page, API answer and export; the meeting's register and quorum and an item's rules are
frozen once voting begins; the inspector's tabulation is certified beside the ballots' recount,
and a difference only with the secretary's recorded confirmation."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from core.models import AuditEvent
from meetings import meeting_services
from meetings.models import Meeting
from meetings.services import holders_link_user, item_ballot_cast, tabulation_record
from polls import certification, services
from polls.ballots import ballot_cast
from polls.exceptions import IllegalTransition
from polls.models import Poll, PollStatus
from tests.factories import (
    make_item,
    make_meeting,
    make_poll,
    make_register,
    make_split_register,
    make_user,
)

pytestmark = pytest.mark.django_db

FROZEN = "Voting has begun"


@pytest.fixture
def meeting() -> Meeting:
    """20,000 shares outstanding, a quorum of more than 2/3: 10,579 shares voting is no quorum."""
    register = make_split_register()
    return make_meeting(register, quorum="2/3")


def _vote(item: Poll) -> None:
    for account, choice in (("yolanda", "for"), ("zachary", "against")):
        voter = make_user(username=f"{account}-{item.pk}", email=f"{account}@example.com")
        holders_link_user(user=voter)
        item_ballot_cast(poll_id=item.pk, actor=voter, choice=choice, holder_id=None)


@pytest.fixture
def item(meeting: Meeting) -> Poll:
    """An open item with 7,123 shares for and 3,456 against."""
    item = make_item(meeting, results_visibility="after_close")
    _vote(item)
    return item


def _served(client: Client, item: Poll) -> tuple[dict[str, Any], str, str]:
    api = APIClient()
    results = api.get(f"/api/v1/polls/{item.pk}/results/").json()
    page = html.unescape(client.get(f"/polls/{item.pk}/results/").content.decode())
    page = page[page.index("<main") : page.index("</main>")]  # the layout carries per-request tokens
    csv = client.get(f"/meetings/{item.meeting_id}/results.csv").content.decode()
    return results, page, csv


def _certified_without_quorum(item: Poll, secretary: Any) -> Poll:
    services.poll_close(poll=item)
    return certification.poll_certify(poll=item, actor=secretary)


def _record(poll: Poll) -> dict[str, Any]:
    poll.refresh_from_db()
    assert poll.certified_result is not None
    return poll.certified_result


# --- Frozen once voting has begun -----------------------------------------------------------


def test_a_quorum_edit_after_an_item_opened_is_a_409_in_the_api_and_changes_nothing_served(
    item: Poll, secretary: Any, api_secretary: APIClient, client: Client
) -> None:
    _certified_without_quorum(item, secretary)
    before = _served(client, item)
    response = api_secretary.patch(f"/api/v1/meetings/{item.meeting_id}/", {"quorum": "1/2"}, format="json")
    assert response.status_code == 409, response.json()
    assert "quorum" in response.json()["detail"]
    meeting = Meeting.objects.get(items=item)
    assert (meeting.quorum_numerator, meeting.quorum_denominator) == (2, 3)
    assert _served(client, item) == before
    assert before[0]["outcome"]["reason"] == "no quorum"


def _quorum_halved(meeting: Meeting) -> dict[str, Any]:
    """The meeting's edit form as it stands but for a quorum of more than 1/2."""
    return {
        "title": meeting.title,
        "date": meeting.date.isoformat(),
        "register": meeting.register_id,
        "quorum": "1/2",
        "quorum_comparator": ">",
    }


def test_a_quorum_edit_in_the_admin_after_an_item_opened_is_a_form_error(item: Poll, browser: Client) -> None:
    meeting = item.meeting
    assert meeting is not None
    form = {
        **_quorum_halved(meeting),
        "items-TOTAL_FORMS": 1,
        "items-INITIAL_FORMS": 1,
        "items-0-id": item.pk,
        "items-0-meeting": meeting.pk,
    }
    response = browser.post(f"/admin/meetings/meeting/{meeting.pk}/change/", form)
    assert response.status_code == 200  # the form again, with the reason
    assert FROZEN in html.unescape(response.content.decode())
    meeting.refresh_from_db()
    assert meeting.quorum_text == "2/3"
    assert not AuditEvent.objects.filter(action="meeting_updated").exists()


def test_a_quorum_edit_in_the_console_after_an_item_opened_is_a_form_error(item: Poll, browser: Client) -> None:
    meeting = item.meeting
    assert meeting is not None
    response = browser.post(f"/console/meetings/{meeting.pk}/edit/", _quorum_halved(meeting))
    assert response.status_code == 400
    assert FROZEN in html.unescape(response.content.decode())
    meeting.refresh_from_db()
    assert meeting.quorum_text == "2/3"


def test_a_register_change_after_an_item_opened_is_refused(item: Poll, api_secretary: APIClient) -> None:
    other = make_register([("X", "Other", "other@example.com", 5)], outstanding=10)
    response = api_secretary.patch(f"/api/v1/meetings/{item.meeting_id}/", {"register": other.pk}, format="json")
    assert response.status_code == 409
    assert Meeting.objects.get(items=item).register_id != other.pk


def test_the_title_of_a_meeting_under_way_may_still_change_and_is_on_the_trail(
    item: Poll, api_secretary: APIClient, secretary: Any
) -> None:
    response = api_secretary.patch(f"/api/v1/meetings/{item.meeting_id}/", {"title": "2025 AGM"}, format="json")
    assert response.status_code == 200, response.json()
    event = AuditEvent.objects.get(stream=f"meeting:{item.meeting_id}", action="meeting_updated")
    assert event.payload["changes"] == {"title": {"from": "2025 Annual Meeting", "to": "2025 AGM"}}
    assert event.actor_id == secretary.pk


def test_meeting_edits_before_voting_appear_on_the_trail_with_old_and_new_values(
    meeting: Meeting, api_secretary: APIClient
) -> None:
    make_item(meeting, status=PollStatus.DRAFT)
    response = api_secretary.patch(
        f"/api/v1/meetings/{meeting.pk}/", {"quorum": "1/2", "quorum_comparator": ">="}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["quorum"] == "1/2"
    event = AuditEvent.objects.get(stream=f"meeting:{meeting.pk}", action="meeting_updated")
    assert event.payload["changes"] == {
        "quorum": {"from": "2/3", "to": "1/2"},
        "quorum_comparator": {"from": ">", "to": ">="},
    }


def test_the_admin_saves_a_meeting_through_the_service(meeting: Meeting, browser: Client, secretary: Any) -> None:
    form = {
        "title": "Special meeting",
        "date": meeting.date.isoformat(),
        "register": meeting.register_id,
        "quorum": "3/5",
        "quorum_comparator": ">=",
        "items-TOTAL_FORMS": 0,
        "items-INITIAL_FORMS": 0,
    }
    response = browser.post(f"/admin/meetings/meeting/{meeting.pk}/change/", form)
    assert response.status_code == 302, html.unescape(response.content.decode())[:2000]
    meeting.refresh_from_db()
    assert (meeting.title, meeting.quorum_text, meeting.quorum_comparator) == ("Special meeting", "3/5", ">=")
    event = AuditEvent.objects.get(stream=f"meeting:{meeting.pk}", action="meeting_updated")
    assert event.actor_id == secretary.pk
    assert event.payload["changes"]["quorum"] == {"from": "2/3", "to": "3/5"}
    assert "quorum: 2/3 → 3/5" in browser.get(f"/admin/meetings/meeting/{meeting.pk}/change/").content.decode()


def test_a_bad_quorum_in_the_admin_is_a_form_error_not_a_500(meeting: Meeting, browser: Client) -> None:
    form = {
        "title": meeting.title,
        "date": meeting.date.isoformat(),
        "register": meeting.register_id,
        "quorum": "3/2",
        "quorum_comparator": ">",
        "items-TOTAL_FORMS": 0,
        "items-INITIAL_FORMS": 0,
    }
    response = browser.post(f"/admin/meetings/meeting/{meeting.pk}/change/", form)
    assert response.status_code == 200
    meeting.refresh_from_db()
    assert meeting.quorum_text == "2/3"


def test_standard_and_threshold_edits_after_opening_are_409_and_change_nothing(
    item: Poll, api_secretary: APIClient
) -> None:
    for change in ({"standard": "outstanding"}, {"threshold": "2/3"}, {"comparator": ">="}, {"advisory": True}):
        response = api_secretary.patch(f"/api/v1/polls/{item.pk}/", change, format="json")
        assert response.status_code == 409, (change, response.json())
    item.refresh_from_db()
    assert (item.standard, item.threshold_text, item.threshold_comparator, item.advisory) == (
        "votes_cast",
        "1/2",
        ">",
        False,
    )
    with pytest.raises(IllegalTransition):
        meeting_services.item_rules_update(poll=item, actor=None, standard="outstanding")


def test_an_items_rules_may_change_before_it_opens_and_the_change_is_on_its_trail(
    meeting: Meeting, api_secretary: APIClient
) -> None:
    draft = make_item(meeting, status=PollStatus.DRAFT)
    response = api_secretary.patch(
        f"/api/v1/polls/{draft.pk}/", {"standard": "outstanding", "threshold": "2/3", "comparator": ">="}, format="json"
    )
    assert response.status_code == 200, response.json()
    draft.refresh_from_db()
    assert (draft.standard, draft.threshold_text, draft.threshold_comparator) == ("outstanding", "2/3", ">=")
    event = AuditEvent.objects.get(stream=f"poll:{draft.pk}", action="item_rules_updated")
    assert event.payload["changes"]["standard"] == {"from": "votes_cast", "to": "outstanding"}


def test_an_items_standard_edited_in_the_admin_before_it_opens_goes_through_the_service(
    meeting: Meeting, browser: Client
) -> None:
    draft = make_item(meeting, status=PollStatus.DRAFT)
    page = browser.get(f"/admin/polls/poll/{draft.pk}/change/")
    form = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if key in page.context["adminform"].form.fields and value is not None
    }
    form.update(
        {
            "opens_at_0": draft.opens_at.strftime("%Y-%m-%d"),
            "opens_at_1": draft.opens_at.strftime("%H:%M:%S"),
            "closes_at_0": draft.closes_at.strftime("%Y-%m-%d"),
            "closes_at_1": draft.closes_at.strftime("%H:%M:%S"),
            "standard": "present_and_entitled",
            "options-TOTAL_FORMS": 0,
            "options-INITIAL_FORMS": 0,
        }
    )
    form.pop("opens_at", None)
    form.pop("closes_at", None)
    form.pop("advisory", None)
    response = browser.post(f"/admin/polls/poll/{draft.pk}/change/", form)
    assert response.status_code == 302, (
        response.context["adminform"].form.errors,
        [formset.formset.errors for formset in response.context["inline_admin_formsets"]],
    )
    draft.refresh_from_db()
    assert draft.standard == "present_and_entitled"
    assert AuditEvent.objects.filter(stream=f"poll:{draft.pk}", action="item_rules_updated").exists()


def test_options_of_an_open_poll_cannot_change_in_the_admin(browser: Client) -> None:
    poll = make_poll()
    option = poll.options.order_by("position").first()
    assert option is not None
    form = {
        "options-TOTAL_FORMS": 2,
        "options-INITIAL_FORMS": 2,
        "options-0-id": option.pk,
        "options-0-poll": poll.pk,
        "options-0-label": "Changed",
        "options-0-position": 0,
    }
    browser.post(f"/admin/polls/poll/{poll.pk}/change/", form)
    option.refresh_from_db()
    assert option.label != "Changed"


# --- Served from the frozen record ----------------------------------------------------------


def test_a_direct_database_change_after_certification_changes_nothing_served(
    item: Poll, secretary: Any, client: Client
) -> None:
    _certified_without_quorum(item, secretary)
    before = _served(client, item)
    assert before[0]["outcome"]["reason"] == "no quorum"
    assert "Fails: no quorum" in before[1]
    assert "no quorum" in before[2]
    with connection.cursor() as cursor:
        # What a DBA (or an admin before this change) could do: the quorum and the rules.
        cursor.execute(
            "UPDATE meetings_meeting SET quorum_numerator = 1, quorum_denominator = 10 WHERE id = %s", [item.meeting_id]
        )
        cursor.execute("UPDATE polls_poll SET standard = 'outstanding', advisory = %s WHERE id = %s", [True, item.pk])
    after = _served(client, item)
    assert after == before
    assert after[0]["outcome"]["passed"] is False
    assert after[0]["quorum"]["threshold"] == "> 2/3"
    assert "the vote is advisory" not in after[1]


def test_the_certified_record_holds_the_rules_the_register_and_the_certifier(item: Poll, secretary: Any) -> None:
    certified = _certified_without_quorum(item, secretary)
    record = _record(certified)["certification"]
    meeting = item.meeting
    assert meeting is not None
    assert record["standard"] == "votes_cast"
    assert (record["threshold"], record["comparator"]) == ("1/2", ">")
    assert (record["quorum"], record["quorum_comparator"]) == ("2/3", ">")
    assert record["register"] == meeting.register_id
    assert record["shares_outstanding"] == "20000"
    assert record["certified_by"] == secretary.get_username()
    assert record["audit_root"] == certified.certified_audit_root
    assert record["tabulation"] is None and record["confirmed_difference"] is None
    assert _record(certified)["totals"]["broker_non_votes"] == "0"
    assert [row["standard"] for row in _record(certified)["what_if"]]


# --- The inspector's tabulation beside the ballots --------------------------------------------


def _tabulate(item: Poll, secretary: Any) -> None:
    services.poll_close(poll=item)
    tabulation_record(
        poll=item, shares_for=9_000, shares_against=1_000, shares_abstain=0, broker_non_votes=50, actor=secretary
    )


def test_the_certify_page_shows_the_inspector_the_recount_and_the_difference(
    item: Poll, secretary: Any, browser: Client
) -> None:
    _tabulate(item, secretary)
    page = html.unescape(browser.get(f"/console/polls/{item.pk}/certify/").content.decode())
    assert "9,000" in page and "7,123" in page and "+1,877" in page
    assert "1,000" in page and "3,456" in page and "-2,456" in page
    assert "I confirm certifying the inspector's figures despite a difference of For +1,877; Against -2,456." in page
    assert 'name="confirm_difference"' in page
    assert " style=" not in page and "<script>" not in page  # the CSP allows neither


def test_certifying_a_difference_without_confirmation_is_a_409_naming_it(
    item: Poll, secretary: Any, api_secretary: APIClient
) -> None:
    _tabulate(item, secretary)
    response = api_secretary.post(f"/api/v1/polls/{item.pk}/certify/", {}, format="json")
    assert response.status_code == 409
    assert "For +1,877; Against -2,456" in response.json()["detail"]
    item.refresh_from_db()
    assert item.status == PollStatus.CLOSED


def test_certifying_a_difference_with_confirmation_is_recorded_in_the_record_and_on_the_trail(
    item: Poll, secretary: Any, api_secretary: APIClient
) -> None:
    _tabulate(item, secretary)
    response = api_secretary.post(f"/api/v1/polls/{item.pk}/certify/", {"confirm_difference": True}, format="json")
    assert response.status_code == 200, response.json()
    item.refresh_from_db()
    assert item.status == PollStatus.CERTIFIED
    confirmed = _record(item)["certification"]["confirmed_difference"]
    assert confirmed["by"] == secretary.get_username()
    lines = {line["choice"]: line for line in confirmed["lines"]}
    assert lines["for"] == {"choice": "for", "tabulated": "9000", "counted": "7123", "difference": "1877"}
    assert lines["against"]["difference"] == "-2456"
    event = AuditEvent.objects.get(stream=f"poll:{item.pk}", action="tabulation_difference_confirmed")
    assert event.actor_id == secretary.pk
    assert event.payload["lines"] == confirmed["lines"]
    assert _record(item)["totals"]["broker_non_votes"] == "50"
    page = html.unescape(Client().get(f"/polls/{item.pk}/results/").content.decode())
    assert f"{secretary.get_username()} confirmed the difference" in page


def test_the_admin_certify_action_refuses_a_difference_and_points_to_the_console(
    item: Poll, secretary: Any, browser: Client
) -> None:
    _tabulate(item, secretary)
    response = browser.post(
        "/admin/polls/poll/", {"action": "certify_polls", "_selected_action": [item.pk]}, follow=False
    )
    assert response.status_code == 302
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    assert any(f"/console/polls/{item.pk}/certify/" in message for message in shown), shown
    item.refresh_from_db()
    assert item.status == PollStatus.CLOSED


def test_a_tabulation_equal_to_the_ballots_certifies_without_confirmation(item: Poll, secretary: Any) -> None:
    services.poll_close(poll=item)
    tabulation_record(poll=item, shares_for=7_123, shares_against=3_456, shares_abstain=0, actor=secretary)
    certified = certification.poll_certify(poll=item, actor=secretary)
    assert _record(certified)["certification"]["confirmed_difference"] is None
    assert _record(certified)["certification"]["tabulation"]["lines"][0]["difference"] == "0"


def test_a_certified_public_poll_is_served_from_its_record_whatever_its_counters_say(secretary: Any) -> None:
    poll = make_poll(options=("Yes", "No"))
    for label in ("Yes", "Yes", "No"):
        ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=poll.options.get(label=label).pk)
    services.poll_close(poll=poll)
    certification.poll_certify(poll=poll, actor=secretary)
    before = APIClient().get(f"/api/v1/polls/{poll.pk}/results/").json()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE polls_option SET votes = 100, weight = 100 WHERE poll_id = %s AND label = 'No'", [poll.pk]
        )
    after = APIClient().get(f"/api/v1/polls/{poll.pk}/results/").json()
    assert after == before
    assert after["winner"]["label"] == "Yes"
    assert [option["votes"] for option in after["options"]] == [2, 1]


def test_an_opened_items_rules_posted_to_the_admin_change_nothing(item: Poll, browser: Client) -> None:
    form = {"standard": "outstanding", "threshold_numerator": 2, "threshold_denominator": 3, "advisory": "on"}
    response = browser.post(f"/admin/polls/poll/{item.pk}/change/", form)
    assert response.status_code in (200, 302)
    item.refresh_from_db()
    assert (item.standard, item.threshold_text, item.advisory) == ("votes_cast", "1/2", False)


def test_the_certify_page_and_the_refusals_speak_italian(item: Poll, secretary: Any) -> None:
    _tabulate(item, secretary)
    browser = Client(HTTP_ACCEPT_LANGUAGE="it")
    browser.force_login(secretary)
    page = html.unescape(browser.get(f"/console/polls/{item.pk}/certify/").content.decode())
    assert "Confermo di certificare i dati dell'ispettore nonostante una differenza di" in page
    assert "Riconteggio delle schede" in page and "+1.877" in page
    api = APIClient(HTTP_ACCEPT_LANGUAGE="it")
    api.force_authenticate(secretary)
    refused = api.patch(f"/api/v1/meetings/{item.meeting_id}/", {"quorum": "1/2"}, format="json")
    assert refused.status_code == 409
    assert refused.json()["detail"] == "Il voto è iniziato; questi valori non possono più cambiare: quorum."
