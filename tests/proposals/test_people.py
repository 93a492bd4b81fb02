"""The secretary manages people from the console: directors with their term and interests,
invitations by e-mail, deactivation; every change is on the person's trail with who did it."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from core.audit import audit_trail
from core.models import Profile
from core.services import api_token_issue
from proposals import people_services
from proposals.models import Director, Party, Recusal
from proposals.parties import party_key
from tests.factories import make_director, make_proposal, make_secretary, make_user, start_review

pytestmark = pytest.mark.django_db


def console_as(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_secretary_adds_a_director_with_a_new_party_and_the_trail_names_the_secretary() -> None:
    secretary, elon = make_secretary(username="sec"), make_user(username="elon", email="elon@example.com")
    client = console_as(secretary)
    assert client.get("/console/people/directors/new/").status_code == 200
    response = client.post(
        "/console/people/directors/new/",
        {"account": "elon@example.com", "title": "CEO", "office_from": "2024-01-01", "new_party": "xAI Corp."},
    )
    assert response.status_code == 302, response.content[:500]
    director = Director.objects.get(user=elon)
    assert director.in_office and director.title == "CEO"
    assert director.office_from == datetime.date(2024, 1, 1)
    assert [party.name for party in director.parties.all()] == ["xAI Corp."]
    assert director.conflict_with("xAI") is not None, "the new party recuses on any spelling"
    [event] = audit_trail(f"director:{elon.pk}")
    assert event.action == "director_appointed"
    assert event.actor_id == secretary.pk
    assert event.payload["interests"] == ["xAI Corp."]


def test_picking_a_listed_party_recuses_the_director_from_a_proposal_in_review_at_once() -> None:
    secretary = make_secretary(username="sec")
    proposal = start_review(make_proposal(make_user(username="proposer")), secretary)
    party = Party.objects.get(aliases__key=party_key("xAI"))
    kimbal = make_director("kimbal")
    response = console_as(secretary).post(
        f"/console/people/directors/{kimbal.pk}/",
        {"title": "Director", "office_from": "2024-01-01", "parties": [party.pk]},
    )
    assert response.status_code == 302
    assert Recusal.objects.filter(proposal=proposal, director=kimbal).exists()


def test_a_term_that_ends_before_it_starts_is_a_form_error() -> None:
    secretary = make_secretary(username="sec")
    make_user(username="robyn")
    response = console_as(secretary).post(
        "/console/people/directors/new/",
        {"account": "robyn", "office_from": "2025-01-02", "office_to": "2025-01-01"},
    )
    assert response.status_code == 400
    assert not Director.objects.filter(user__username="robyn").exists()


def test_an_unknown_account_is_a_form_error_not_a_new_director() -> None:
    response = console_as(make_secretary(username="sec")).post(
        "/console/people/directors/new/", {"account": "nobody", "office_from": "2025-01-01"}
    )
    assert response.status_code == 400
    assert b"No account has this username or e-mail." in response.content
    assert not Director.objects.exists()


def test_removing_a_director_asks_first_then_ends_the_term_on_the_trail() -> None:
    secretary, director = make_secretary(username="sec"), make_director("james")
    client = console_as(secretary)
    assert client.get(f"/console/people/directors/{director.pk}/remove/").status_code == 200
    director.refresh_from_db()
    assert director.in_office, "the confirmation page changes nothing"
    today = timezone.localdate()
    response = client.post(f"/console/people/directors/{director.pk}/remove/", {"office_to": today.isoformat()})
    assert response.status_code == 302
    director.refresh_from_db()
    assert not director.in_office and director.office_to == today
    event = audit_trail(f"director:{director.user_id}")[-1]
    assert (event.action, event.actor_id) == ("director_removed", secretary.pk)


def test_the_sweep_puts_a_director_in_office_on_the_first_day_of_the_term() -> None:
    secretary, user = make_secretary(username="sec"), make_user(username="future")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    director = people_services.director_record(user=user, title="", office_from=tomorrow, actor=secretary)
    assert not director.in_office
    assert people_services.directors_term_sync(today=tomorrow) == 1
    director.refresh_from_db()
    assert director.in_office
    assert people_services.directors_term_sync(today=tomorrow) == 0, "a second run finds nothing"
    assert audit_trail(f"director:{user.pk}")[-1].action == "term_started"


def test_an_invitation_creates_an_account_without_a_password_and_mails_a_link_in_the_invitees_language(
    django_capture_on_commit_callbacks: Any,
) -> None:
    secretary = make_secretary(username="sec", first_name="Brandon")
    client = console_as(secretary)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/console/people/invite/",
            {"email": "ira@example.com", "first_name": "Ira", "last_name": "Ehrenpreis", "language": "it"},
        )
    assert response.status_code == 302
    user = User.objects.get(email="ira@example.com")
    assert user.is_active and not user.has_usable_password()
    assert Profile.objects.get(user=user).language == "it"
    [message] = mail.outbox
    assert message.to == ["ira@example.com"]
    assert "Scegli la tua password" in message.body, message.body
    link = re.search(r"https?://\S+/reset/\S+/", str(message.body))
    assert link is not None
    event = audit_trail(f"account:{user.pk}")[0]
    assert (event.action, event.actor_id) == ("account_invited", secretary.pk)
    # The link sets a password once.
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]
    anonymous = Client()
    form_page = anonymous.get("/" + path, follow=True)
    assert form_page.status_code == 200
    done = anonymous.post(
        form_page.redirect_chain[-1][0], {"new_password1": "A fresh one 42!", "new_password2": "A fresh one 42!"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("A fresh one 42!")


def test_an_address_already_in_use_is_refused_with_409() -> None:
    make_user(username="taken", email="taken@example.com")
    response = console_as(make_secretary(username="sec")).post(
        "/console/people/invite/", {"email": "Taken@example.com", "language": "en"}
    )
    assert response.status_code == 409
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1
    assert mail.outbox == []


def test_deactivating_an_account_asks_first_then_revokes_its_tokens_on_the_trail() -> None:
    secretary, member = make_secretary(username="sec"), make_user(username="leaver")
    key, _token = api_token_issue(user=member)
    client = console_as(secretary)
    assert client.get(f"/console/people/accounts/{member.pk}/deactivate/").status_code == 200
    member.refresh_from_db()
    assert member.is_active, "the confirmation page changes nothing"
    assert client.post(f"/console/people/accounts/{member.pk}/deactivate/").status_code == 302
    member.refresh_from_db()
    assert not member.is_active
    assert Client().get("/api/v1/proposals/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    event = audit_trail(f"account:{member.pk}")[-1]
    assert event.action == "account_deactivated" and event.actor_id == secretary.pk
    assert event.payload == {"tokens": 1}


def test_the_secretary_cannot_deactivate_their_own_account_or_an_administrator() -> None:
    secretary = make_secretary(username="sec")
    admin = make_user(username="root", is_superuser=True, is_staff=True)
    client = console_as(secretary)
    assert client.post(f"/console/people/accounts/{secretary.pk}/deactivate/").status_code == 409
    assert client.post(f"/console/people/accounts/{admin.pk}/deactivate/").status_code == 403
    assert User.objects.filter(pk__in=[secretary.pk, admin.pk], is_active=True).count() == 2


@pytest.mark.parametrize(
    "path",
    ["/console/people/", "/console/people/directors/new/", "/console/people/invite/"],
)
def test_people_pages_are_the_secretarys_only(path: str) -> None:
    assert console_as(make_director("director").user).get(path).status_code == 403
    assert Client().get(path).status_code == 302


def test_every_people_change_keeps_the_trail_verifiable() -> None:
    secretary = make_secretary(username="sec")
    user = make_user(username="elon")
    director = people_services.director_record(
        user=user, title="CEO", office_from=datetime.date(2024, 1, 1), new_party="xAI", actor=secretary
    )
    people_services.director_remove(director=director, actor=secretary)
    people_services.account_deactivate(user=user, actor=secretary)
    people_services.account_reactivate(user=user, actor=secretary)
    call_command("verify_audit")
