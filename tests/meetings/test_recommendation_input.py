"""The board's recommendation set after an item is drafted (issue 15, part 5): on a proposal, per
nominee of an election, as an option of a frequency or choice item, through
`/api/v1/meetings/{id}/recommendations/` and the console; fixed once the item opens; a proposal
put to the vote carries the board's decision onto its item."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from meetings.ballot_models import ItemTerms, NomineeTally
from meetings.models import Meeting
from polls import services as poll_services
from polls.models import Option, Poll
from tests.factories import api_for, make_annual_item, make_item, make_meeting, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db

LATER = {
    "opens_at": timezone.now() + datetime.timedelta(days=2),
    "closes_at": timezone.now() + datetime.timedelta(days=3),
}


@pytest.fixture
def meeting() -> Meeting:
    register = make_register([("H-DORA", "Dora Holder", "dora@example.com", 400)], outstanding=1_000)
    return make_meeting(register, date=timezone.localdate() + datetime.timedelta(days=7))


def url(meeting: Meeting) -> str:
    return f"/api/v1/meetings/{meeting.pk}/recommendations/"


def drafts(meeting: Meeting) -> dict[str, Poll]:
    return {
        "proposal": make_item(meeting, status="draft", title="Ratify the auditor", **LATER),
        "election": make_annual_item(
            meeting, "election", status="draft", nominees=["Ann", "Bob"], election_standard="majority", **LATER
        ),
        "frequency": make_annual_item(meeting, "frequency", status="draft", **LATER),
    }


def test_the_secretary_sets_each_forms_recommendation_and_reads_them_all(meeting: Meeting) -> None:
    items = drafts(meeting)
    secretary = api_for(make_secretary())
    bob = Option.objects.get(poll=items["election"], label="Bob")
    three_years = Option.objects.filter(poll=items["frequency"]).order_by("position")[2]
    for body in (
        {"item": items["proposal"].pk, "recommendation": "against"},
        {"item": items["election"].pk, "nominees": {str(bob.pk): "against"}},
        {"item": items["frequency"].pk, "option": three_years.pk},
    ):
        response = secretary.post(url(meeting), body, format="json")
        assert response.status_code == 201, response.json()
    rows = {row["item"]: row for row in secretary.get(url(meeting)).json()}
    assert rows[items["proposal"].pk] == {"item": items["proposal"].pk, "form": "proposal", "recommendation": "against"}
    ann = Option.objects.get(poll=items["election"], label="Ann")
    assert rows[items["election"].pk]["nominees"] == {str(ann.pk): "for", str(bob.pk): "against"}
    assert rows[items["frequency"].pk]["option"] == three_years.pk
    assert NomineeTally.objects.get(option=bob).recommendation == "against"
    changed = AuditEvent.objects.get(stream=f"poll:{items['election'].pk}", action="recommendation_set")
    assert changed.payload == {"nominees": {str(bob.pk): "against"}}


def test_a_plurality_nominee_takes_withhold_and_a_majority_nominee_does_not(meeting: Meeting) -> None:
    majority = make_annual_item(
        meeting, "election", status="draft", nominees=["Ann", "Bob"], election_standard="majority", **LATER
    )
    ann = Option.objects.get(poll=majority, label="Ann")
    refused = api_for(make_secretary()).post(
        url(meeting), {"item": majority.pk, "nominees": {str(ann.pk): "withhold"}}, format="json"
    )
    assert refused.status_code == 400
    assert "for, against, abstain, none" in str(refused.json())
    assert NomineeTally.objects.get(option=ann).recommendation == "for"
    plurality = make_annual_item(
        meeting, "election", status="draft", nominees=["Cy", "Di"], election_standard="plurality", **LATER
    )
    cy = Option.objects.get(poll=plurality, label="Cy")
    accepted = api_for(make_secretary(username="sec2")).post(
        url(meeting), {"item": plurality.pk, "nominees": {str(cy.pk): "withhold"}}, format="json"
    )
    assert accepted.status_code == 201
    assert NomineeTally.objects.get(option=cy).recommendation == "withhold"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"recommendation": "for", "option": None}, "non_field_errors"),
        ({}, "non_field_errors"),
        ({"nominees": {"05": "for"}}, "nominees"),
        ({"nominees": {"1\u0000": "for"}}, "nominees"),
        ({"nominees": {}}, "nominees"),
        ({"recommendation": "x" * 11}, "recommendation"),
    ],
)
def test_a_malformed_recommendation_is_a_400_naming_the_field(
    meeting: Meeting, body: dict[str, Any], field: str
) -> None:
    items = drafts(meeting)
    response = api_for(make_secretary()).post(url(meeting), {"item": items["election"].pk, **body}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not AuditEvent.objects.filter(action="recommendation_set").exists()


def test_a_recommendation_of_the_wrong_shape_or_an_unknown_id_changes_nothing(meeting: Meeting) -> None:
    items = drafts(meeting)
    secretary = api_for(make_secretary())
    other = make_annual_item(meeting, "frequency", status="draft", **LATER)
    foreign = Option.objects.filter(poll=other).first()
    assert foreign is not None
    for body in (
        {"item": items["election"].pk, "recommendation": "for"},
        {"item": items["proposal"].pk, "option": None},
        {"item": items["election"].pk, "nominees": {str(foreign.pk): "for"}},
        {"item": items["frequency"].pk, "option": foreign.pk},
        {"item": items["frequency"].pk, "nominees": {str(foreign.pk): "for"}},
    ):
        response = secretary.post(url(meeting), body, format="json")
        assert response.status_code == 400, body
    assert not AuditEvent.objects.filter(action="recommendation_set").exists()
    assert ItemTerms.objects.get(poll=items["frequency"]).recommended_option is None


def test_an_item_of_another_meeting_is_a_404(meeting: Meeting) -> None:
    elsewhere = make_meeting(meeting.register, title="Special meeting")
    item = make_item(elsewhere, status="draft", **LATER)
    response = api_for(make_secretary()).post(url(meeting), {"item": item.pk, "recommendation": "for"}, format="json")
    assert response.status_code == 404


def test_the_recommendation_is_fixed_once_the_item_opens(meeting: Meeting) -> None:
    items = drafts(meeting)
    for item in items.values():
        poll_services.poll_open(poll=item)
    bob = Option.objects.get(poll=items["election"], label="Bob")
    response = api_for(make_secretary()).post(
        url(meeting), {"item": items["election"].pk, "nominees": {str(bob.pk): "against"}}, format="json"
    )
    assert response.status_code == 409
    assert NomineeTally.objects.get(option=bob).recommendation == "for"


def test_a_member_reads_the_open_items_recommendations_but_sets_none(meeting: Meeting) -> None:
    items = drafts(meeting)
    poll_services.poll_open(poll=items["proposal"])
    member = api_for(make_user(username="member"))
    assert [row["item"] for row in member.get(url(meeting)).json()] == [items["proposal"].pk]
    refused = member.post(url(meeting), {"item": items["election"].pk, "nominees": {}}, format="json")
    assert refused.status_code == 403
    assert APIClient().post(url(meeting), {"item": items["proposal"].pk}, format="json").status_code == 401


def test_the_console_sets_a_nominees_recommendation_and_shows_it_on_the_ballot(meeting: Meeting) -> None:
    items = drafts(meeting)
    client = Client()
    client.force_login(make_secretary())
    election = items["election"]
    ann, bob = Option.objects.filter(poll=election).order_by("position")
    page = client.get(f"/console/polls/{election.pk}/recommendation/")
    assert page.status_code == 200
    assert f'name="nominee-{bob.pk}"' in page.content.decode()
    saved = client.post(
        f"/console/polls/{election.pk}/recommendation/", {f"nominee-{ann.pk}": "for", f"nominee-{bob.pk}": "abstain"}
    )
    assert saved.status_code == 302
    assert NomineeTally.objects.get(option=bob).recommendation == "abstain"
    proposal = items["proposal"]
    client.post(f"/console/polls/{proposal.pk}/recommendation/", {"recommendation": "against"})
    assert ItemTerms.objects.get(poll=proposal).recommendation == "against"
    poll_services.poll_open(poll=proposal)
    late = client.post(f"/console/polls/{proposal.pk}/recommendation/", {"recommendation": "for"})
    assert late.status_code == 400
    assert "can no longer change" in late.content.decode()
    assert ItemTerms.objects.get(poll=proposal).recommendation == "against"


def test_only_the_secretary_reaches_the_console_recommendation_page(meeting: Meeting) -> None:
    items = drafts(meeting)
    client = Client()
    client.force_login(make_user(username="member"))
    response = client.get(f"/console/polls/{items['proposal'].pk}/recommendation/")
    assert response.status_code == 403
    refused = client.post(f"/console/polls/{items['proposal'].pk}/recommendation/", {"recommendation": "for"})
    assert refused.status_code == 403
    assert not AuditEvent.objects.filter(action="recommendation_set").exists()
