"""The admin's board pages (directors, their interests, the parties that recuse them) are the
secretary's, whatever model permissions a staff account was given: Django asks a model admin's
module permission only for the index, so every add, change and delete page is gated too."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from core.audit import audit_trail
from proposals.models import Director, Party
from tests.factories import make_director, make_proposal, make_secretary, make_user, start_review

pytestmark = pytest.mark.django_db


def _staff_with(*codenames: str) -> User:
    clerk = make_user(username="clerk", is_staff=True)
    for codename in codenames:
        clerk.user_permissions.add(Permission.objects.get(content_type__app_label="proposals", codename=codename))
    return clerk


def test_a_staff_account_given_director_permissions_cannot_appoint_a_director_in_the_admin(client: Client) -> None:
    make_director("elon", interests=("xAI",))
    newcomer = make_user(username="newcomer")
    client.force_login(_staff_with("add_director", "view_director", "change_director"))
    assert client.get("/admin/proposals/director/add/").status_code == 403
    answer = client.post(
        "/admin/proposals/director/add/",
        {"user": newcomer.pk, "title": "Director", "office_from": "2026-01-01", "parties": []},
    )
    assert answer.status_code == 403
    assert not Director.objects.filter(user=newcomer).exists()


def test_a_staff_account_given_delete_permission_cannot_remove_a_director_in_the_admin(client: Client) -> None:
    director = make_director("elon", interests=("xAI",))
    client.force_login(_staff_with("delete_director"))
    answer = client.post(f"/admin/proposals/director/{director.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 403
    assert Director.objects.filter(pk=director.pk).exists()


def test_the_secretary_cannot_delete_a_director_row_only_end_the_term(client: Client) -> None:
    director = make_director("elon", interests=("xAI",))
    client.force_login(make_secretary())
    client.post(f"/admin/proposals/director/{director.pk}/delete/", {"post": "yes"})
    assert Director.objects.filter(pk=director.pk).exists()


def test_a_staff_account_given_party_permissions_cannot_add_a_party_or_an_alias(client: Client) -> None:
    make_director("elon", interests=("xAI",))
    xai = Party.objects.get(name="xAI")
    client.force_login(_staff_with("add_party", "change_party", "view_party"))
    assert client.get("/admin/proposals/party/").status_code == 403
    assert client.post("/admin/proposals/party/add/", {"name": "SpaceX", "new_alias": ""}).status_code == 403
    assert client.post(f"/admin/proposals/party/{xai.pk}/change/", {"new_alias": "Tesla"}).status_code == 403
    assert list(Party.objects.values_list("name", flat=True)) == ["xAI"]


def test_a_director_appointed_in_the_admin_is_on_the_trail_in_the_secretarys_name(client: Client) -> None:
    make_director("elon", interests=("xAI",))
    newcomer = make_user(username="newcomer")
    secretary = make_secretary()
    client.force_login(secretary)
    answer = client.post(
        "/admin/proposals/director/add/",
        {"user": newcomer.pk, "title": "Director", "office_from": "2026-01-01", "parties": [Party.objects.get().pk]},
    )
    assert answer.status_code == 302
    director = Director.objects.get(user=newcomer)
    assert director.office_from == datetime.date(2026, 1, 1)
    assert director.interests == ["xAI"]
    (event,) = audit_trail(f"director:{newcomer.pk}")
    assert event.action == "director_appointed"
    assert event.actor_id == secretary.pk


def test_interests_recorded_through_the_api_are_on_the_trail_in_the_secretarys_name(api_as: Any) -> None:
    make_user(username="kimbal")
    secretary = make_secretary()
    answer = api_as(secretary).post(
        "/api/v1/directors/", {"user": "kimbal", "title": "Director", "interests": ["xAI"]}, format="json"
    )
    assert answer.status_code == 201
    (event,) = audit_trail(f"director:{User.objects.get(username='kimbal').pk}")
    assert event.action == "interests_declared"
    assert event.actor_id == secretary.pk


def _summary_changed_in_the_admin(client: Client, proposal: Any) -> Any:
    """The proposal's change page posted as it stands but for a new summary."""
    fields = {name: getattr(proposal, name) for name in ("title", "body", "kind", "counterparty", "currency")}
    inlines = {
        f"{prefix}-{count}": "0"
        for prefix in ("recusals", "review_votes")
        for count in ("TOTAL_FORMS", "INITIAL_FORMS")
    }
    return client.post(
        f"/admin/proposals/proposal/{proposal.pk}/change/", {**fields, **inlines, "summary": "Changed", "amount": ""}
    )


def test_an_edit_the_service_refuses_is_a_form_error_in_the_proposal_admin_not_a_server_error(
    client: Client,
) -> None:
    make_director("brad")
    secretary = make_secretary()
    proposal = start_review(make_proposal(), secretary)
    client.force_login(secretary)
    answer = _summary_changed_in_the_admin(client, proposal)
    assert answer.status_code == 200
    assert "Only the proposer may edit" in answer.content.decode()
    proposal.refresh_from_db()
    assert proposal.summary == "Authorize an investment of $5 billion in xAI."


def test_the_secretary_edits_her_own_draft_in_the_proposal_admin_through_the_service(client: Client) -> None:
    secretary = make_secretary()
    proposal = make_proposal(secretary)
    client.force_login(secretary)
    answer = _summary_changed_in_the_admin(client, proposal)
    assert answer.status_code == 302
    proposal.refresh_from_db()
    assert proposal.summary == "Changed"
    assert [event.action for event in audit_trail(f"proposal:{proposal.pk}")][-1] == "edited"


def test_the_secretary_adds_an_alias_and_a_party_in_the_party_admin(client: Client) -> None:
    make_director("elon", interests=("xAI",))
    xai = Party.objects.get()
    client.force_login(make_secretary())
    alias = xai.aliases.get()
    shown = {
        "aliases-TOTAL_FORMS": "1",
        "aliases-INITIAL_FORMS": "1",
        "aliases-0-id": alias.pk,
        "aliases-0-party": xai.pk,
    }
    answer = client.post(f"/admin/proposals/party/{xai.pk}/change/", {"new_alias": "Grok Labs", **shown})
    assert answer.status_code == 302
    assert sorted(xai.aliases.values_list("text", flat=True)) == ["Grok Labs", "xAI"]
    none = {"aliases-TOTAL_FORMS": "0", "aliases-INITIAL_FORMS": "0"}
    assert client.post("/admin/proposals/party/add/", {"name": "SpaceX", "new_alias": "", **none}).status_code == 302
    assert Party.objects.filter(name="SpaceX").exists()
