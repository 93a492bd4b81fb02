"""The hot paths build their JSON by hand; the serializers describe it in the schema. These
tests keep the two identical, so the schema stays true."""

from __future__ import annotations

from typing import Any

import pytest

from meetings.services import item_ballot_cast, tabulation_record
from polls import certification, selectors
from polls.api.payloads import ballot_payload
from polls.api.serializers import BallotSerializer, ResultsSerializer
from polls.ballots import ballot_cast
from polls.models import Ballot, PollStatus
from tests.factories import make_item, make_meeting, make_poll, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db


def as_json(data: Any) -> Any:
    import json

    from rest_framework.utils.encoders import JSONEncoder

    return json.loads(json.dumps(data, cls=JSONEncoder))


def test_the_ballot_payload_equals_the_serializer_for_public_and_shareholder_ballots() -> None:
    poll = make_poll()
    ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=poll.options.get(label="Yes").pk)
    holder_user = make_user(email="h@example.com")
    register = make_register([("H1", "Holder", "h@example.com", 90)], outstanding=100)
    item = make_item(make_meeting(register))
    item_ballot_cast(poll_id=item.pk, actor=holder_user, split={"for": 50, "against": 40})
    for ballot in Ballot.objects.all():
        assert as_json(ballot_payload(ballot)) == as_json(BallotSerializer(ballot).data)


def test_the_results_json_equals_the_serializer_for_polls_and_items() -> None:
    poll = make_poll(options=("Yes", "No", "Abstain"))
    for label in ("Yes", "Yes", "No"):
        ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=poll.options.get(label=label).pk)
    tied = make_poll(title="Tied")
    register = make_register([("C", "Cede", "c@example.com", 3_000_000_000)], outstanding=3_200_000_000)
    item = make_item(make_meeting(register), status=PollStatus.CLOSED, standard="present_and_entitled", advisory=True)
    tabulation_record(
        poll=item,
        shares_for=1_060_000_000,
        shares_against=916_300_000,
        shares_abstain=473_000_000,
        broker_non_votes=5,
        actor=make_secretary(),
    )
    certification.poll_certify(poll=item, actor=make_secretary(), confirm_difference=True)
    item.refresh_from_db()
    for subject in (poll, tied, item):
        results = selectors.poll_results(poll=subject)
        assert as_json(selectors.results_json(results)) == as_json(ResultsSerializer(results).data)
