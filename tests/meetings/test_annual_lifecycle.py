"""An election item through its life: ballots changed and withdrawn keep every running total
equal to a recount, certification freezes the nominees, and majority voting's follow-up (the
failed nominee's resignation and the board's decision) is on the item's trail."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from meetings.attendance import attendance_check_in
from meetings.ballot_models import ItemTerms, NomineeTally
from polls import kinds, services
from polls.certification import poll_certify, poll_recount
from polls.models import Poll
from tests.factories import make_annual_item, make_meeting, make_register, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def election() -> dict[str, Any]:
    alice = make_user(username="alice", email="alice@example.com")
    register = make_register(
        [("A-1", "Alice", "alice@example.com", 12_000), ("B-1", "Bob", "bob@example.com", 28_000)], outstanding=40_000
    )
    meeting = make_meeting(register)
    item = make_annual_item(meeting, "election", nominees=["Ann", "Ben", "Cy"], election_standard="majority")
    register.holders.filter(account="A-1").update(user=alice)
    return {"alice": alice, "meeting": meeting, "item": item, "ids": list(item.options.values_list("pk", flat=True))}


def tallies() -> dict[int, tuple[int, int, int]]:
    return {t.pk: (t.against_shares, t.abstain_shares, t.against_ballots) for t in NomineeTally.objects.all()}


def test_a_changed_then_withdrawn_ballot_leaves_every_total_equal_to_a_recount(
    election: dict[str, Any], api_as: Any
) -> None:
    api, item, ids = api_as(election["alice"]), election["item"], election["ids"]
    url = f"/api/v1/polls/{item.pk}/ballot/"
    first = api.post(url, {"votes": {str(ids[0]): "for", str(ids[1]): "against"}}, format="json")
    assert first.status_code == 201
    split = {str(ids[0]): {"for": "100", "against": "200"}, str(ids[2]): {"abstain": 5}}
    changed = api.post(url, {"splits": split}, format="json")
    assert changed.status_code == 200
    assert {line["option"] for line in changed.json()["lines"]} == {ids[0], ids[2]}
    assert tallies() == {ids[0]: (200, 0, 1), ids[1]: (0, 0, 0), ids[2]: (0, 5, 0)}
    assert ItemTerms.objects.get().shares_voted == 300
    item.refresh_from_db()
    assert item.ballot_count == 1
    assert all(line.matches for line in poll_recount(poll=item))
    assert kinds.form_of(item).tally_problems(item) == []
    assert api.delete(url).status_code == 204
    assert ItemTerms.objects.get().shares_voted == 0
    assert tallies() == {ids[0]: (0, 0, 0), ids[1]: (0, 0, 0), ids[2]: (0, 0, 0)}
    assert kinds.form_of(item).tally_problems(item) == []


def test_certification_freezes_the_nominees_and_tenders_the_failed_nominees_resignation(
    election: dict[str, Any], api_as: Any, secretary: Any
) -> None:
    item, ids, meeting = election["item"], election["ids"], election["meeting"]
    votes = {str(ids[0]): "for", str(ids[1]): "against"}
    cast = api_as(election["alice"]).post(f"/api/v1/polls/{item.pk}/ballot/", {"votes": votes}, format="json")
    assert cast.status_code == 201
    # Bob attends in person: his shares make the quorum that lets Alice's votes elect.
    bob = meeting.register.holders.get(account="B-1")
    attendance_check_in(meeting=meeting, holder_id=bob.pk, actor=secretary)
    services.poll_close(poll=item)
    poll_certify(poll=Poll.objects.get(pk=item.pk), actor=secretary)
    record = Poll.objects.get(pk=item.pk).certified_result
    assert record is not None
    frozen = record["nominees"]
    assert [(row["for"], row["status"]) for row in frozen] == [
        ("12000", "elected"),
        ("0", "resignation_tendered"),
        ("0", "resignation_tendered"),
    ]
    api = api_as(secretary)
    url = f"/api/v1/meetings/{meeting.pk}/resignations/"
    assert [(row["nominee"], row["decision"]) for row in api.get(url).json()] == [
        (ids[1], "pending"),
        (ids[2], "pending"),
    ]
    decided = api.post(url, {"item": item.pk, "nominee": ids[1], "decision": "rejected"}, format="json")
    assert decided.status_code == 201
    assert decided.json()[0]["decision"] == "rejected"
    again = api.post(url, {"item": item.pk, "nominee": ids[1], "decision": "accepted"}, format="json")
    assert again.status_code == 409
    elected = api.post(url, {"item": item.pk, "nominee": ids[0], "decision": "accepted"}, format="json")
    assert elected.status_code == 400
    by_member = api_as(election["alice"]).post(
        url, {"item": item.pk, "nominee": ids[2], "decision": "accepted"}, format="json"
    )
    assert by_member.status_code == 403
    call_command("verify_audit")  # raises CommandError on any problem
