"""Secret public polls (nobody reads who chose what, ever) and refusals that name nothing."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from core.models import AuditEvent
from meetings.models import ProxyAppointment
from meetings.services import proxy_appoint
from polls import certification, services
from polls.ballots import ballot_cast, ballot_withdraw
from polls.models import Ballot, Poll, PollStatus
from polls.secrecy import ballot_commitment
from tests.factories import make_item, make_meeting, make_poll, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db


def page_text(response: Any) -> str:
    return html.unescape(response.content.decode())


def option_of(poll: Poll, label: str) -> int:
    return int(poll.options.get(label=label).pk)


@pytest.fixture
def secret_poll() -> Poll:
    poll = make_poll(options=("Zebrafish", "Quokka"), results_visibility="live")
    assert poll.secret
    return poll


# --- The commitment ---------------------------------------------------------------------------


def test_a_commitment_depends_on_the_salt_the_poll_and_the_option() -> None:
    base = ballot_commitment(salt="a" * 32, poll_id=1, option_id=2)
    assert base == ballot_commitment(salt="a" * 32, poll_id=1, option_id=2)
    assert len(base) == 64
    assert base != ballot_commitment(salt="b" * 32, poll_id=1, option_id=2)
    assert base != ballot_commitment(salt="a" * 32, poll_id=1, option_id=3)
    assert base != ballot_commitment(salt="a" * 32, poll_id=2, option_id=2)


# --- Secret by default, chosen before opening ----------------------------------------------


def test_new_public_polls_are_secret_and_shareholder_items_never(api: APIClient) -> None:
    api.force_authenticate(make_secretary())
    base = {"title": "Q", "opens_at": "2030-01-01T10:00:00Z", "closes_at": "2030-01-02T10:00:00Z"}
    created = api.post("/api/v1/polls/", {**base, "options": [{"label": "A"}, {"label": "B"}]}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["secret"] is True
    chosen = api.post(
        "/api/v1/polls/", {**base, "options": [{"label": "A"}, {"label": "B"}], "secret": False}, format="json"
    )
    assert chosen.json()["secret"] is False
    meeting = make_meeting(make_register([("H", "Holder", "h@example.com", 10)], outstanding=10))
    item = api.post("/api/v1/polls/", {**base, "kind": "shareholder", "meeting": meeting.pk}, format="json")
    assert item.status_code == 201
    assert item.json()["secret"] is False
    refused = api.post(
        "/api/v1/polls/", {**base, "kind": "shareholder", "meeting": meeting.pk, "secret": True}, format="json"
    )
    assert refused.status_code == 400
    assert "secret" in refused.json()


def test_the_secretary_turns_secrecy_off_before_opening_but_not_after(api: APIClient) -> None:
    api.force_authenticate(make_secretary())
    draft = make_poll(status=PollStatus.DRAFT)
    response = api.patch(f"/api/v1/polls/{draft.pk}/", {"secret": False}, format="json")
    assert response.status_code == 200
    assert Poll.objects.get(pk=draft.pk).secret is False
    running = make_poll()
    response = api.patch(f"/api/v1/polls/{running.pk}/", {"secret": False}, format="json")
    assert response.status_code == 409
    assert Poll.objects.get(pk=running.pk).secret is True


def test_a_shareholder_item_cannot_be_made_secret_by_an_edit(api: APIClient) -> None:
    api.force_authenticate(make_secretary())
    meeting = make_meeting(make_register([("H", "Holder", "h@example.com", 10)], outstanding=10))
    item = make_item(meeting, status=PollStatus.DRAFT)
    response = api.patch(f"/api/v1/polls/{item.pk}/", {"secret": True}, format="json")
    assert response.status_code == 400
    assert Poll.objects.get(pk=item.pk).secret is False


def test_the_consoles_new_poll_form_offers_secrecy_ticked_and_keeps_the_choice(client: Client) -> None:
    client.force_login(make_secretary())
    form = client.get("/console/polls/new/").content.decode()
    box = re.search(r'<input[^>]*name="secret"[^>]*>', form)
    assert box is not None
    assert "checked" in box.group(0)
    data = {
        "title": "Open ballot",
        "options": "Yes\nNo",
        "opens_at": "2030-01-01T10:00",
        "closes_at": "2030-01-02T10:00",
        "results_visibility": "live",
        "allow_change": "on",
    }
    assert client.post("/console/polls/new/", data).status_code == 302
    assert Poll.objects.get(title="Open ballot").secret is False
    assert client.post("/console/polls/new/", {**data, "title": "Closed ballot", "secret": "on"}).status_code == 302
    assert Poll.objects.get(title="Closed ballot").secret is True


def test_the_admins_poll_form_has_the_secret_box(client: Client) -> None:
    client.force_login(make_secretary())
    page = client.get("/admin/polls/poll/add/").content.decode()
    assert 'name="secret"' in page


# --- Nobody reads a secret choice --------------------------------------------------------------


def test_a_secret_ballots_audit_payload_holds_a_commitment_renewed_at_every_change(secret_poll: Poll) -> None:
    voter = make_user()
    zebrafish, quokka = option_of(secret_poll, "Zebrafish"), option_of(secret_poll, "Quokka")
    ballot_cast(poll_id=secret_poll.pk, actor=voter, option_id=zebrafish)
    first_salt = Ballot.objects.get().salt
    ballot_cast(poll_id=secret_poll.pk, actor=voter, option_id=quokka)
    ballot = Ballot.objects.get()
    events = list(AuditEvent.objects.filter(stream=f"ballot:{secret_poll.pk}:voter:{voter.pk}").order_by("seq"))
    assert [event.action for event in events] == ["ballot_cast", "ballot_changed"]
    for event in events:
        assert "option" not in event.payload
        assert set(event.payload) == {"poll", "commitment", "weight"}
    assert ballot.salt and ballot.salt != first_salt
    assert events[0].payload["commitment"] == ballot_commitment(
        salt=first_salt, poll_id=secret_poll.pk, option_id=zebrafish
    )
    assert events[1].payload["commitment"] == ballot_commitment(
        salt=ballot.salt, poll_id=secret_poll.pk, option_id=quokka
    )


def test_an_open_ballots_audit_payload_still_names_its_option() -> None:
    poll = make_poll(secret=False)
    voter = make_user()
    ballot_cast(poll_id=poll.pk, actor=voter, option_id=option_of(poll, "Yes"))
    event = AuditEvent.objects.get(stream=f"ballot:{poll.pk}:voter:{voter.pk}")
    assert event.payload["option"] == option_of(poll, "Yes")
    assert Ballot.objects.get().salt == ""


def test_a_withdrawn_secret_ballot_leaves_only_a_commitment(secret_poll: Poll) -> None:
    voter = make_user()
    ballot_cast(poll_id=secret_poll.pk, actor=voter, option_id=option_of(secret_poll, "Zebrafish"))
    ballot_withdraw(poll_id=secret_poll.pk, actor=voter)
    for event in AuditEvent.objects.filter(stream__startswith=f"ballot:{secret_poll.pk}:"):
        assert "option" not in event.payload


def test_no_admin_view_shows_a_secret_choice_even_after_certification(client: Client, secret_poll: Poll) -> None:
    secretary = make_secretary()
    ballot_cast(poll_id=secret_poll.pk, actor=make_user(), option_id=option_of(secret_poll, "Zebrafish"))
    ballot = Ballot.objects.get()
    event = AuditEvent.objects.get(stream__startswith=f"ballot:{secret_poll.pk}:")
    services.poll_close(poll=secret_poll)
    certification.poll_certify(poll=secret_poll, actor=secretary)
    client.force_login(secretary)
    for url in (
        "/admin/polls/ballot/",
        f"/admin/polls/ballot/{ballot.pk}/change/",
        f"/admin/core/auditevent/{event.pk}/change/",
    ):
        page = page_text(client.get(url))
        assert "secret ballot" in page or '"commitment"' in page, url
        assert "Zebrafish" not in page, url
        assert f'"option": {ballot.option_id}' not in page, url


def test_the_voter_sees_and_changes_their_own_secret_ballot_and_nobody_else_sees_it(
    api: APIClient, client: Client, secret_poll: Poll
) -> None:
    voter, other = make_user(), make_user()
    zebrafish, quokka = option_of(secret_poll, "Zebrafish"), option_of(secret_poll, "Quokka")
    api.force_authenticate(voter)
    assert api.post(f"/api/v1/polls/{secret_poll.pk}/ballot/", {"option": zebrafish}, format="json").status_code == 201
    assert api.get(f"/api/v1/polls/{secret_poll.pk}/ballot/").json()["option"] == zebrafish
    changed = api.post(f"/api/v1/polls/{secret_poll.pk}/ballot/", {"option": quokka}, format="json")
    assert changed.status_code == 200
    assert changed.json()["option"] == quokka
    client.force_login(voter)
    assert "Your vote: Quokka" in " ".join(
        re.sub("<[^>]+>", "", page_text(client.get(f"/polls/{secret_poll.pk}/"))).split()
    )
    # Another member, and the secretary, get only their own (absent) ballot.
    for reader in (other, make_secretary()):
        api.force_authenticate(reader)
        response = api.get(f"/api/v1/polls/{secret_poll.pk}/ballot/")
        assert response.status_code == 404
        client.force_login(reader)
        assert "Your vote:" not in page_text(client.get(f"/polls/{secret_poll.pk}/"))


def test_a_secret_polls_totals_and_certification_are_as_before(api: APIClient, secret_poll: Poll) -> None:
    secretary = make_secretary()
    zebrafish, quokka = option_of(secret_poll, "Zebrafish"), option_of(secret_poll, "Quokka")
    for choice in (zebrafish, zebrafish, quokka):
        ballot_cast(poll_id=secret_poll.pk, actor=make_user(), option_id=choice)
    services.poll_close(poll=secret_poll)
    certification.poll_certify(poll=secret_poll, actor=secretary)
    results = api.get(f"/api/v1/polls/{secret_poll.pk}/results/").json()
    assert {row["label"]: row["votes"] for row in results["options"]} == {"Zebrafish": 2, "Quokka": 1}
    assert results["certified"] is True
    assert results["winner"]["label"] == "Zebrafish"


def test_the_schema_describes_the_secret_field(api: APIClient) -> None:
    schema = api.get("/api/v1/schema/?format=json").json()
    assert "secret" in schema["components"]["schemas"]["Poll"]["properties"]
    assert "secret" in schema["components"]["schemas"]["PollCreateRequest"]["properties"]
    assert "secret" in schema["components"]["schemas"]["PatchedPollUpdateRequest"]["properties"]


# --- Refusals name nothing -------------------------------------------------------------------


@pytest.fixture
def holdings() -> dict[str, Any]:
    owner = make_user(username="owner", email="owner@example.com")
    register = make_register(
        [("H-1", "Cede & Co nominee", "owner@example.com", 1_000), ("H-2", "Other Fund", "other@example.com", 500)],
        outstanding=10_000,
    )
    meeting = make_meeting(register)
    return {
        "owner": owner,
        "meeting": meeting,
        "item": make_item(meeting),
        "holder": register.holders.get(account="H-1"),
    }


def test_a_ballot_for_someone_elses_holder_is_refused_without_naming_it(
    api: APIClient, holdings: dict[str, Any]
) -> None:
    api.force_authenticate(make_user())
    item = holdings["item"]
    theirs = api.post(
        f"/api/v1/polls/{item.pk}/ballot/", {"choice": "for", "holder": holdings["holder"].pk}, format="json"
    )
    nobody = api.post(f"/api/v1/polls/{item.pk}/ballot/", {"choice": "for", "holder": 999_999}, format="json")
    assert theirs.status_code == nobody.status_code == 403
    assert theirs.json() == nobody.json()
    assert "Cede" not in theirs.content.decode()
    assert not Ballot.objects.exists()


def test_appointing_a_proxy_for_someone_elses_holder_is_refused_like_a_holder_that_does_not_exist(
    api: APIClient, holdings: dict[str, Any]
) -> None:
    make_user(username="proxy")
    api.force_authenticate(make_user())
    url = f"/api/v1/meetings/{holdings['meeting'].pk}/proxies/"
    theirs = api.post(url, {"holder": holdings["holder"].pk, "proxy": "proxy"}, format="json")
    nobody = api.post(url, {"holder": 999_999, "proxy": "proxy"}, format="json")
    assert theirs.status_code == nobody.status_code == 403
    assert theirs.json() == nobody.json()
    assert "Cede" not in theirs.content.decode()
    assert not ProxyAppointment.objects.exists()


def test_a_proxy_appointment_answers_alike_whether_or_not_the_account_exists(
    api: APIClient, holdings: dict[str, Any]
) -> None:
    make_user(username="realperson")
    api.force_authenticate(holdings["owner"])
    url = f"/api/v1/meetings/{holdings['meeting'].pk}/proxies/"
    holder = holdings["holder"].pk
    answers, listings = [], []
    for name in ("realperson", "ghostperson"):
        response = api.post(url, {"holder": holder, "proxy": name}, format="json")
        assert response.status_code == 201
        answers.append(response.content.decode().replace(name, "NAME"))
        listed = api.get(url).json()
        listings.append([(row["holder"], row["proxy"].replace(name, "NAME"), row["revoked_at"]) for row in listed])
        if name == "realperson":
            active = ProxyAppointment.objects.select_related("proxy").get(revoked_at__isnull=True)
            assert active.proxy is not None and active.proxy.username == "realperson"
    assert answers[0] == answers[1]
    assert listings[0] == listings[1] == [(holder, "NAME", None)]
    # The name that matched nobody replaced the proxy, and votes for nobody.
    active = ProxyAppointment.objects.get(revoked_at__isnull=True)
    assert (active.proxy, active.named_as) == (None, "ghostperson")


def test_a_proxy_named_by_e_mail_is_appointed_or_invited(
    api: APIClient, holdings: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    known = make_user(username="knownproxy", email="known@example.com")
    api.force_authenticate(holdings["owner"])
    url = f"/api/v1/meetings/{holdings['meeting'].pk}/proxies/"
    holder = holdings["holder"].pk
    appointed = api.post(url, {"holder": holder, "proxy": "Known@Example.com"}, format="json")
    assert appointed.status_code == 201
    assert ProxyAppointment.objects.get(revoked_at__isnull=True).proxy == known
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        with_invitation = api.post(url, {"holder": holder, "proxy": "stranger@example.org"}, format="json")
    assert with_invitation.status_code == 201
    assert appointed.content.decode().replace("Known@Example.com", "X") == with_invitation.content.decode().replace(
        "stranger@example.org", "X"
    )
    assert [message.to for message in mail.outbox] == [["stranger@example.org"]]
    assert "Cede & Co nominee" in mail.outbox[0].body
    assert "/meetings/" in mail.outbox[0].body


def test_the_proxy_form_answers_alike_whether_or_not_the_account_exists(
    client: Client, holdings: dict[str, Any]
) -> None:
    make_user(username="realperson")
    client.force_login(holdings["owner"])
    url = f"/meetings/{holdings['meeting'].pk}/proxies/"
    holder = holdings["holder"].pk
    said = []
    for name in ("realperson", "ghostperson"):
        response = client.post(url, {"holder": holder, "proxy": name})
        assert response.status_code == 302
        messages = [str(m).replace(name, "NAME") for m in client.get(response["Location"]).context["messages"]]
        said.append(messages)
        page = client.get(response["Location"]).content.decode()
        assert f"{name} may vote for Cede &amp; Co nominee" in page
    assert said[0] == said[1]
    assert len(said[0]) == 1


def test_an_account_made_after_its_name_was_given_cannot_vote_until_named_again(
    api: APIClient, holdings: dict[str, Any]
) -> None:
    proxy_appoint(
        meeting=holdings["meeting"], holder=holdings["holder"], proxy=None, actor=holdings["owner"],
        named_as="latecomer",
    )  # fmt: skip
    latecomer = make_user(username="latecomer")
    api.force_authenticate(latecomer)
    item, holder = holdings["item"], holdings["holder"].pk
    refused = api.post(f"/api/v1/polls/{item.pk}/ballot/", {"choice": "for", "holder": holder}, format="json")
    assert refused.status_code == 403
    assert not Ballot.objects.exists()
    api.force_authenticate(holdings["owner"])
    url = f"/api/v1/meetings/{holdings['meeting'].pk}/proxies/"
    assert api.post(url, {"holder": holder, "proxy": "latecomer"}, format="json").status_code == 201
    api.force_authenticate(latecomer)
    voted = api.post(f"/api/v1/polls/{item.pk}/ballot/", {"choice": "for", "holder": holder}, format="json")
    assert voted.status_code == 201
