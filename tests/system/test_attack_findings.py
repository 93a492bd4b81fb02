"""Findings of the attack review of Trust I and II (issues 11 and 12), one regression test each:
what a served PostgreSQL instance answered before the fix."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from meetings.models import Meeting
from meetings.services import holders_link_user, item_ballot_cast, proxy_appoint, tabulation_record
from polls import certification, services
from polls.models import Poll
from proposals import review_votes
from proposals import services as proposals_services
from proposals.models import Director, Proposal
from proposals.workflow import Action
from tests.factories import (
    make_director,
    make_item,
    make_meeting,
    make_proposal,
    make_register,
    make_secretary,
    make_user,
    start_review,
)

pytestmark = pytest.mark.django_db


# --- A lone surrogate echoed in an error ------------------------------------------------------


def test_a_lone_surrogate_in_a_choice_is_a_400_not_a_500(api: APIClient) -> None:
    # JSON may escape half a surrogate pair; the choice field echoes it in its error, and the
    # renderer could not encode the answer.
    api.force_authenticate(make_user())
    response = api.post(
        "/api/v1/proposals/",
        data='{"title": "T", "summary": "s", "kind": "\\ud800"}',
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert "kind" in response.json()
    assert "\\ud800" in response.json()["kind"][0]
    assert not Proposal.objects.exists()


def test_a_lone_surrogate_in_a_username_is_a_400_for_the_secretary(api: APIClient) -> None:
    api.force_authenticate(make_secretary())
    response = api.post(
        "/api/v1/directors/", data='{"user": "\\udfff", "title": "Director"}', content_type="application/json"
    )
    assert response.status_code == 400, response.content


# --- Rules changed by SQL after certification -------------------------------------------------


@pytest.fixture
def certified() -> Poll:
    register = make_register(
        [("H-1", "Yolanda Fund", "yolanda@example.com", 7_123), ("H-2", "Zachary Trust", "zach@example.com", 3_456)],
        outstanding=20_000,
    )
    meeting: Meeting = make_meeting(register, quorum="2/3")
    item = make_item(meeting, results_visibility="after_close")
    for account, choice in (("yolanda", "for"), ("zach", "against")):
        voter = make_user(username=account, email=f"{account}@example.com")
        holders_link_user(user=voter)
        item_ballot_cast(poll_id=item.pk, actor=voter, choice=choice, holder_id=None)
    services.poll_close(poll=item)
    secretary = make_secretary()
    tabulation_record(
        poll=item, shares_for=7_123, shares_against=3_456, shares_abstain=0, broker_non_votes=0, actor=secretary
    )
    return certification.poll_certify(poll=item, actor=secretary)


def _sql(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_the_certified_item_verifies_before_any_change(certified: Poll) -> None:
    call_command("verify_audit")
    call_command("verify_audit", "--certified", str(certified.pk))


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("UPDATE meetings_meeting SET quorum_numerator = 1, quorum_denominator = 100 WHERE id = %s", "quorum"),
        ("UPDATE polls_poll SET threshold_numerator = 2, threshold_denominator = 3 WHERE meeting_id = %s", "threshold"),
        (
            "UPDATE meetings_registersnapshot SET shares_outstanding = shares_outstanding + 1 "
            "WHERE id = (SELECT register_id FROM meetings_meeting WHERE id = %s)",
            "shares_outstanding",
        ),
        (
            "UPDATE meetings_tabulation SET shares_for = 99999 "
            "WHERE poll_id IN (SELECT id FROM polls_poll WHERE meeting_id = %s)",
            "tabulation",
        ),
    ],
)
def test_verify_audit_finds_a_certified_items_rules_changed_by_sql(certified: Poll, statement: str, named: str) -> None:
    # Nothing served changes (the record is frozen), but the rows the record is checked against
    # were rewritten with no event on any trail: verify_audit said "intact".
    _sql(statement, [certified.meeting_id])
    with pytest.raises(CommandError, match=rf"certified poll {certified.pk}: {named} changed since certification"):
        call_command("verify_audit")
    with pytest.raises(CommandError, match=named):
        call_command("verify_audit", "--certified", str(certified.pk))


# --- The board's split in the public timeline -------------------------------------------------


def test_a_proposal_at_a_vote_shows_the_boards_decision_but_not_its_tally_or_recusals(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # The board rule writes the final tally on its decision ("... 1 rejected ... (2 of 3 who may
    # vote)"); visitors, members and the recused director read the decision, not the split.
    with django_capture_on_commit_callbacks(execute=True):
        secretary = make_secretary()
        robyn, ira = make_director("robyn"), make_director("ira")
        elon = make_director("elon", interests=("xAI",))
        proposal = make_proposal(make_user(), counterparty="xAI Corp")
        start_review(proposal, secretary)
        for director in (robyn, ira):
            review_votes.review_vote_cast(proposal_id=proposal.pk, actor=director.user, decision="refer")
        register = make_register([("H1", "Holder", "holder@example.com", 100)], outstanding=100)
        proposals_services.proposal_transition(
            proposal_id=proposal.pk, action=Action.PUT_TO_VOTE, actor=secretary, meeting=make_meeting(register)
        )
    for reader in (None, make_user(), elon.user):
        client, api = Client(), APIClient()
        if reader is not None:
            client.force_login(reader)
            api.force_authenticate(reader)
        page = client.get(f"/proposals/{proposal.pk}/").content.decode()
        events = api.get(f"/api/v1/proposals/{proposal.pk}/events/").json()
        assert "referred" in page and any(event["action"] == "refer" for event in events)
        for served in (page, str(events)):
            assert "who may vote" not in served and "0 rejected" not in served
    board = APIClient()
    board.force_authenticate(robyn.user)
    assert "2 of 2 who may vote" in str(board.get(f"/api/v1/proposals/{proposal.pk}/events/").json())


# --- A very long username at sign-in ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_a_hundred_kilobyte_username_is_an_ordinary_failed_sign_in(client: Client, path: str) -> None:
    # Django's login form does not enforce its username's max_length; axes counted the attempt
    # under the whole name in a 255-character column: a 500 on PostgreSQL.
    from axes.models import AccessAttempt

    response = client.post(path, {"username": "x" * 100_000, "password": "wrong"})
    assert response.status_code == 200
    assert [len(name) for name in AccessAttempt.objects.values_list("username", flat=True)] == [150]


def test_a_hundred_kilobyte_username_at_the_token_endpoint_is_an_ordinary_failure(api: APIClient) -> None:
    from axes.models import AccessAttempt

    response = api.post("/api/v1/auth/token/", {"username": "x" * 100_000, "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert response.json()["non_field_errors"] == ["Unable to log in with provided credentials."]
    assert AccessAttempt.objects.get().username == "x" * 150


# --- Lead's follow-ups to the attack review -----------------------------------------------------


def test_someone_elses_proxy_appointment_answers_like_an_unknown_one(client: Client) -> None:
    holder_user = make_user(username="holder", email="holder@example.com")
    register = make_register([("H1", "Holder", "holder@example.com", 100)], outstanding=100)
    meeting = make_meeting(register)
    holder = register.holders.get(account="H1")
    holder.user = holder_user
    holder.save(update_fields=["user"])
    appointment = proxy_appoint(meeting=meeting, holder=holder, proxy=make_user(username="proxy"), actor=holder_user)
    client.force_login(make_user(username="stranger"))
    someone_elses = client.post(f"/meetings/{meeting.pk}/proxies/{appointment.pk}/revoke/")
    unknown = client.post(f"/meetings/{meeting.pk}/proxies/{appointment.pk + 1000}/revoke/")
    assert someone_elses.status_code == unknown.status_code == 404
    appointment.refresh_from_db()
    assert appointment.revoked_at is None


def test_a_counterparty_ending_in_a_full_stop_gets_no_second_one(client: Client) -> None:
    proposal = make_proposal(counterparty="X Corp.")
    client.force_login(proposal.proposer)
    page = client.get(f"/proposals/{proposal.pk}/").content.decode()
    assert "X Corp.." not in page
    assert "X Corp." in page


def test_an_interest_that_names_no_party_is_a_400_and_nothing_is_stored(api: APIClient) -> None:
    api.force_authenticate(make_secretary())
    make_user(username="elon")
    for nameless in ["...", "\u200b"]:
        response = api.post("/api/v1/directors/", {"user": "elon", "interests": [nameless]}, format="json")
        assert response.status_code == 400, nameless
    assert not Director.objects.filter(user__username="elon").exists()


def test_a_comment_longer_than_ten_thousand_characters_is_refused(api: APIClient) -> None:
    proposal = make_proposal()
    api.force_authenticate(proposal.proposer)
    response = api.post(f"/api/v1/proposals/{proposal.pk}/comments/", {"body": "x" * 10_001}, format="json")
    assert response.status_code == 400
    assert not proposal.comments.exists()
