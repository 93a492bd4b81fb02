"""A proxy voting an election through the API is held to the same rules as on the meeting
ballot: its instruction, the holder's own ballot, and an e-mail to the holder."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from meetings.ballot_models import BallotLine
from meetings.services import proxy_appoint
from tests.factories import make_annual_item, make_meeting, make_register, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def election() -> dict[str, Any]:
    dora, proxy = make_user(username="dora", email="dora@example.com"), make_user(username="proxy")
    register = make_register([("H-D", "Dora Holder", "dora@example.com", 1_000)], outstanding=4_000)
    register.holders.update(user=dora)
    meeting = make_meeting(register)
    item = make_annual_item(meeting, "election", nominees=["Ann", "Ben"], election_standard="majority")
    return {"dora": dora, "proxy": proxy, "meeting": meeting, "item": item, "holder": register.holders.get()}


def test_a_proxy_with_discretion_votes_an_election_and_the_holder_is_told(
    election: dict[str, Any], api_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    proxy_appoint(
        meeting=election["meeting"], holder=election["holder"], proxy=election["proxy"], actor=election["dora"]
    )
    ann, ben = election["item"].options.values_list("pk", flat=True)
    payload = {"votes": {str(ann): "for", str(ben): "against"}, "holder": election["holder"].pk}
    with django_capture_on_commit_callbacks(execute=True):
        cast = api_as(election["proxy"]).post(f"/api/v1/polls/{election['item'].pk}/ballot/", payload, format="json")
    assert cast.status_code == 201, cast.json()
    assert BallotLine.objects.count() == 2
    assert any("proxy" in message.body and message.to == ["dora@example.com"] for message in mail.outbox)


def test_a_proxy_cannot_replace_the_holders_own_election_ballot(election: dict[str, Any], api_as: Any) -> None:
    proxy_appoint(
        meeting=election["meeting"], holder=election["holder"], proxy=election["proxy"], actor=election["dora"]
    )
    ann, _ben = election["item"].options.values_list("pk", flat=True)
    url = f"/api/v1/polls/{election['item'].pk}/ballot/"
    assert api_as(election["dora"]).post(url, {"votes": {str(ann): "for"}}, format="json").status_code == 201
    by_proxy = api_as(election["proxy"]).post(
        url, {"votes": {str(ann): "against"}, "holder": election["holder"].pk}, format="json"
    )
    assert by_proxy.status_code == 409
    assert list(BallotLine.objects.values_list("choice", flat=True)) == ["for"]
