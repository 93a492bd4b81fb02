"""The meeting ballot (several items at once) is one service, meetings.services.meeting_ballot_cast:
all of it is recorded or none of it, with one receipts e-mail for the lot."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.utils import translation

from meetings.services import MeetingBallotRefused, item_ballot_cast, meeting_ballot_cast
from polls.exceptions import ChangeNotAllowed, InvalidVote, PollNotFound
from polls.models import Ballot
from polls.receipts import receipt_code
from tests.factories import make_item, make_meeting, make_register, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup() -> dict[str, Any]:
    alice = make_user(username="alice", email="alice@example.com")
    register = make_register([("A-1", "Alice Example", "alice@example.com", 12_000)], outstanding=40_000)
    meeting = make_meeting(register)
    items = [make_item(meeting, title=f"Item {n}") for n in (1, 2)]
    return {"alice": alice, "holder": register.holders.get(), "meeting": meeting, "items": items}


def test_every_item_is_cast_and_one_mail_carries_every_receipt(
    setup: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    first, second = setup["items"]
    with django_capture_on_commit_callbacks(execute=True):
        cast = meeting_ballot_cast(
            meeting=setup["meeting"],
            actor=setup["alice"],
            holder_id=setup["holder"].pk,
            choices={first.pk: "for", second.pk: "against"},
        )
    assert [result.ballot.poll_id for result in cast] == [first.pk, second.pk]
    assert dict(Ballot.objects.values_list("poll_id", "option__code")) == {first.pk: "for", second.pk: "against"}
    (message,) = mail.outbox
    assert all(receipt_code(result.link_hash) in message.body for result in cast)


def test_one_refused_item_records_none_and_names_each_refusal(
    setup: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    first, _second = setup["items"]
    final = make_item(setup["meeting"], title="Votes here are final", allow_change=False)
    item_ballot_cast(poll_id=final.pk, actor=setup["alice"], choice="against")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(MeetingBallotRefused) as refusal:
        meeting_ballot_cast(
            meeting=setup["meeting"],
            actor=setup["alice"],
            holder_id=setup["holder"].pk,
            choices={first.pk: "for", final.pk: "for"},
        )
    assert list(refusal.value.refused) == [final.pk]
    assert isinstance(refusal.value.refused[final.pk], ChangeNotAllowed)
    assert refusal.value.status_code == ChangeNotAllowed.status_code
    assert list(Ballot.objects.values_list("poll_id", "option__code")) == [(final.pk, "against")]
    assert first.options.get(code="for").weight == 0
    assert mail.outbox == []


def test_an_empty_ballot_is_refused(setup: dict[str, Any]) -> None:
    with translation.override("en"), pytest.raises(InvalidVote, match="Choose for, against or abstain on at least one"):
        meeting_ballot_cast(meeting=setup["meeting"], actor=setup["alice"], holder_id=setup["holder"].pk, choices={})


def test_an_item_of_another_meeting_is_refused_as_unknown(setup: dict[str, Any]) -> None:
    elsewhere = make_item(make_meeting(setup["meeting"].register, title="Special meeting"))
    first = setup["items"][0]
    with pytest.raises(MeetingBallotRefused) as refusal:
        meeting_ballot_cast(
            meeting=setup["meeting"],
            actor=setup["alice"],
            holder_id=setup["holder"].pk,
            choices={first.pk: "for", elsewhere.pk: "for"},
        )
    assert isinstance(refusal.value.refused[elsewhere.pk], PollNotFound)
    assert not Ballot.objects.exists()
