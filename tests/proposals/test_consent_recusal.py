"""A written consent is the board's deliberation: a director recused from its proposal (here,
one who declared an interest after it was circulated, which made it fail) reads neither the
consent nor who signed it, on the pages or in the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from proposals import people_services
from proposals.models import ConsentStatus, WrittenConsent
from tests.factories import make_director, make_proposal, make_secretary, make_user, start_review

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory's


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def failed() -> dict[str, Any]:
    secretary = make_secretary(username="secretary")
    brad, ira, elon = (make_director(name) for name in ("brad", "ira", "elon"))
    proposal = start_review(make_proposal(make_user(username="proposer")), secretary)
    answer = _api(secretary).post(
        f"/api/v1/proposals/{proposal.pk}/consents/",
        {"text": "RESOLVED, that the Company invest $5B.", "outcome": "approved"},
        format="json",
    )
    consent_id = answer.json()["id"]
    signed = _api(brad.user).post(f"/api/v1/consents/{consent_id}/sign/", {"password": PASSWORD}, format="json")
    assert signed.status_code == 200
    people_services.director_save(director_user=elon.user, title="CEO", interests=["xAI"])
    return {"elon": elon, "ira": ira, "consent_id": consent_id}


def test_the_consent_fails_when_a_signer_becomes_recused(failed: dict[str, Any]) -> None:
    _api(failed["ira"].user).get(f"/api/v1/consents/{failed['consent_id']}/")
    assert WrittenConsent.objects.get(pk=failed["consent_id"]).status == ConsentStatus.FAILED


def test_a_recused_director_reads_neither_the_consent_nor_its_signatures(failed: dict[str, Any]) -> None:
    consent_id, elon = failed["consent_id"], failed["elon"].user
    api = _api(elon)
    assert api.get(f"/api/v1/consents/{consent_id}/").status_code == 404
    assert api.get("/api/v1/consents/").json()["count"] == 0
    client = Client()
    client.force_login(elon)
    assert client.get(f"/proposals/consents/{consent_id}/").status_code == 404
    assert "RESOLVED" not in client.get("/proposals/consents/").content.decode()


def test_a_director_who_is_not_recused_still_reads_it(failed: dict[str, Any]) -> None:
    answer = _api(failed["ira"].user).get(f"/api/v1/consents/{failed['consent_id']}/")
    assert answer.status_code == 200
