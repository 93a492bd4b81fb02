"""Unanimous written consent: every director in office signs (re-authenticated) or it fails;
a recused director makes it impossible up front; every step is on the trail."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from core.audit import audit_trail
from core.models import Notification
from proposals import consent
from proposals.models import ConsentStatus, Director, Proposal, WrittenConsent
from proposals.tasks import proposals_sweep
from tests.factories import make_director, make_proposal, make_secretary, make_user, start_review

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory's


def api_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def board() -> dict[str, Any]:
    secretary = make_secretary(username="secretary")
    directors = [make_director(name) for name in ("brad", "ira", "kathleen")]
    proposal = start_review(make_proposal(make_user(username="proposer"), counterparty="SolarCity"), secretary)
    return {"secretary": secretary, "directors": directors, "proposal": proposal}


def circulate(board: dict[str, Any], **body: Any) -> Any:
    payload = {"text": "RESOLVED, that the Company invest $5B.", "outcome": "approved", **body}
    return api_for(board["secretary"]).post(
        f"/api/v1/proposals/{board['proposal'].pk}/consents/", payload, format="json"
    )


def sign(director: Director, consent_id: int, **body: Any) -> Any:
    return api_for(director.user).post(
        f"/api/v1/consents/{consent_id}/sign/", {"password": PASSWORD, **body}, format="json"
    )


def test_it_passes_when_the_last_director_signs_and_decides_the_proposal(board: dict[str, Any]) -> None:
    response = circulate(board)
    assert response.status_code == 201, response.content
    consent_id = response.json()["id"]
    assert [row["response"] for row in response.json()["signatures"]] == ["pending"] * 3
    first, second, last = board["directors"]
    assert sign(first, consent_id).status_code == 200
    assert sign(second, consent_id).json()["status"] == "open"
    answer = sign(last, consent_id)
    assert answer.status_code == 200
    assert answer.json()["status"] == "passed"
    proposal = Proposal.objects.get(pk=board["proposal"].pk)
    assert proposal.status == "approved" and proposal.board_recommendation == "for"
    actions = [event.action for event in audit_trail(f"consent:{consent_id}")]
    assert actions == ["consent_circulated", *["consent_signed"] * 3, "consent_passed"]
    signed = [event for event in audit_trail(f"consent:{consent_id}") if event.action == "consent_signed"]
    assert [event.actor_id for event in signed] == [d.user_id for d in board["directors"]]
    assert all(event.payload["at"] for event in signed), "each signature is time-stamped"
    on_proposal = [event.action for event in audit_trail(f"proposal:{proposal.pk}")]
    assert on_proposal[-2:] == ["consent_passed", "decide"]
    call_command("verify_audit")


def test_a_consent_to_refer_refers_the_proposal_with_no_recommendation(board: dict[str, Any]) -> None:
    consent_id = circulate(board, outcome="referred").json()["id"]
    for director in board["directors"]:
        sign(director, consent_id)
    proposal = Proposal.objects.get(pk=board["proposal"].pk)
    assert (proposal.status, proposal.board_recommendation) == ("referred", "none")


def test_one_refusal_fails_it_and_nobody_can_sign_after(board: dict[str, Any]) -> None:
    consent_id = circulate(board).json()["id"]
    first, second, third = board["directors"]
    sign(first, consent_id)
    refused = sign(second, consent_id, refuse=True)
    assert refused.status_code == 200 and refused.json()["status"] == "failed"
    assert sign(third, consent_id).status_code == 409
    assert Proposal.objects.get(pk=board["proposal"].pk).status == "in_review"
    actions = [event.action for event in audit_trail(f"consent:{consent_id}")]
    assert actions[-2:] == ["consent_refused", "consent_failed"]
    call_command("verify_audit")


def test_it_fails_at_its_deadline_on_the_next_read_or_sweep(board: dict[str, Any]) -> None:
    consent_id = circulate(board).json()["id"]
    sign(board["directors"][0], consent_id)
    WrittenConsent.objects.filter(pk=consent_id).update(deadline=timezone.now() - datetime.timedelta(seconds=1))
    assert proposals_sweep.delay().get()["consents_failed"] == 1
    read = api_for(board["directors"][1].user).get(f"/api/v1/consents/{consent_id}/")
    assert read.json()["status"] == "failed"
    assert "deadline" in read.json()["failure"]
    assert sign(board["directors"][1], consent_id).status_code == 409
    assert proposals_sweep.delay().get()["consents_failed"] == 0, "a second sweep finds nothing"


def test_a_lazy_read_fails_an_expired_consent_without_the_sweep(board: dict[str, Any]) -> None:
    consent_id = circulate(board).json()["id"]
    WrittenConsent.objects.filter(pk=consent_id).update(deadline=timezone.now() - datetime.timedelta(seconds=1))
    page = Client()
    page.force_login(board["directors"][0].user)
    assert page.get(f"/proposals/consents/{consent_id}/").status_code == 200
    assert WrittenConsent.objects.get(pk=consent_id).status == ConsentStatus.FAILED


def test_a_recused_director_in_office_makes_it_impossible_up_front(board: dict[str, Any]) -> None:
    make_director("elon", interests=("SolarCity",))
    response = circulate(board)
    assert response.status_code == 409
    assert "elon" in response.json()["detail"] and "unanimous" in response.json()["detail"]
    assert not WrittenConsent.objects.exists()
    page = Client()
    page.force_login(board["secretary"])
    form = page.get(f"/proposals/{board['proposal'].pk}/consents/new/")
    assert b"cannot be decided by written consent" in form.content
    assert b"<textarea" not in form.content, "no form to fill that could only be refused"


def test_a_wrong_password_is_refused_without_saying_why_and_counts_towards_the_lockout(
    board: dict[str, Any],
) -> None:
    consent_id = circulate(board).json()["id"]
    director = board["directors"][0]
    refused = sign(director, consent_id, password="not it")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "The password or the code is not right."
    assert AccessAttempt.objects.get(username=director.user.username).failures_since_start == 1
    assert WrittenConsent.objects.get(pk=consent_id).signatures.filter(response="").count() == 3
    for _attempt in range(4):
        sign(director, consent_id, password="not it")
    assert sign(director, consent_id).status_code == 429, "locked, even with the right password"
    assert [event.action for event in audit_trail(f"consent:{consent_id}")] == ["consent_circulated"]


def test_a_director_with_an_authenticator_signs_only_with_a_code(board: dict[str, Any]) -> None:
    consent_id = circulate(board).json()["id"]
    careless, careful = board["directors"][:2]
    TOTPDevice.objects.create(user=careless.user, name="app", confirmed=True)
    device = TOTPDevice.objects.create(user=careful.user, name="app", confirmed=True)
    assert sign(careless, consent_id).status_code == 403, "the password alone is not enough"
    assert sign(careless, consent_id, otp="000000").status_code == 403
    code = str(totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)).zfill(device.digits)
    assert sign(careful, consent_id, otp=code).status_code == 200


def test_only_the_secretary_circulates_and_only_its_directors_sign(board: dict[str, Any]) -> None:
    director = board["directors"][0]
    as_director = api_for(director.user).post(
        f"/api/v1/proposals/{board['proposal'].pk}/consents/", {"text": "x", "outcome": "approved"}, format="json"
    )
    assert as_director.status_code == 403
    consent_id = circulate(board).json()["id"]
    late = make_director("late")
    assert sign(late, consent_id).status_code == 403, "appointed after it was circulated"
    member = api_for(make_user(username="member")).get(f"/api/v1/consents/{consent_id}/")
    assert member.status_code == 404, "the resolution is board material"


def test_every_director_in_office_is_notified(board: dict[str, Any]) -> None:
    consent_id = circulate(board).json()["id"]
    recipients = set(Notification.objects.filter(kind="consent_requested").values_list("recipient", flat=True))
    assert recipients == {f"{d.user.username}@example.com" for d in board["directors"]}
    key = f"consent_requested:{board['proposal'].pk}:{consent_id}:"
    assert Notification.objects.filter(key__startswith=key).count() == 3


def test_a_second_open_consent_on_the_same_proposal_is_refused(board: dict[str, Any]) -> None:
    assert circulate(board).status_code == 201
    assert circulate(board).status_code == 409


def test_a_director_signs_from_the_page(board: dict[str, Any]) -> None:
    found = consent.consent_create(
        proposal_id=board["proposal"].pk, text="RESOLVED.", outcome="rejected", actor=board["secretary"]
    )
    page = Client()
    page.force_login(board["directors"][0].user)
    assert b"Sign the resolution" in page.get(f"/proposals/consents/{found.pk}/").content
    wrong = page.post(f"/proposals/consents/{found.pk}/sign/", {"password": "nope", "answer": "sign"})
    assert wrong.status_code == 403
    assert b"The password or the code is not right." in wrong.content
    done = page.post(f"/proposals/consents/{found.pk}/sign/", {"password": PASSWORD, "answer": "sign"})
    assert done.status_code == 302
    assert found.signatures.get(director=board["directors"][0]).response == "signed"


def test_the_collection_takes_the_proposal_in_the_body_too(board: dict[str, Any]) -> None:
    body = {"proposal": board["proposal"].pk, "text": "RESOLVED.", "outcome": "rejected"}
    assert api_for(board["directors"][0].user).post("/api/v1/consents/", body, format="json").status_code == 403
    created = api_for(board["secretary"]).post("/api/v1/consents/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["proposal"] == board["proposal"].pk


def test_the_secretary_circulates_one_from_the_page(board: dict[str, Any]) -> None:
    page = Client()
    page.force_login(board["secretary"])
    form = page.get(f"/proposals/{board['proposal'].pk}/consents/new/")
    assert form.status_code == 200 and b"<textarea" in form.content
    deadline = (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = page.post(
        f"/proposals/{board['proposal'].pk}/consents/new/",
        {"text": "RESOLVED, that the Company refer it.", "outcome": "referred", "deadline": deadline},
    )
    assert response.status_code == 302, response.content[:800]
    created = WrittenConsent.objects.get()
    assert response["Location"] == f"/proposals/consents/{created.pk}/"
    assert created.signatures.count() == 3
    past = page.post(
        f"/proposals/{board['proposal'].pk}/consents/new/",
        {"text": "Again.", "outcome": "approved", "deadline": "2020-01-01T00:00"},
    )
    assert past.status_code == 400, "a deadline in the past is a form error"
