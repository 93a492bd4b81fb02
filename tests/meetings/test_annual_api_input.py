"""Bad input to the annual meeting's ballot forms through the API (issue 14): unknown ids, a
choice the standard does not take, cumulative votes over the limit, numbers that are not whole,
splits that do not add up, wrong shapes, NUL and control characters, huge numbers. Each is a 400
naming the field, and every stored figure (ballots, lines, totals) is as it was."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from polls.models import Poll
from tests.factories import make_secretary
from tests.meetings.conftest import Annual, cast, create_item, election, fill, nominees, results, snapshot

pytestmark = pytest.mark.django_db

# ---- bad input ------------------------------------------------------------------------------


MAJORITY_CASES = [
    ({"votes": {"999999": "for"}}, "votes"),
    ({"votes": {"99999999999999999999999999": "for"}}, "votes"),
    ({"votes": {"{X}": "withhold"}}, "votes"),
    ({"votes": {"{X}": "yes"}}, "votes"),
    ({"votes": {"{X}": "for\u0000"}}, "votes"),
    ({"votes": {"{X}\u0000": "for"}}, "votes"),
    ({"votes": {"{X}": "for\u0007"}}, "votes"),
    ({"votes": {"{X}": ["for"]}}, "votes"),
    ({"votes": {"{X}": None}}, "votes"),
    ({"votes": ["{X}"]}, "votes"),
    ({"votes": "{X}"}, "votes"),
    ({"votes": {}}, "votes"),
    ({"votes": {str(n): "for" for n in range(1, 60)}}, "votes"),
    ({"splits": {"{X}": {"for": "20", "against": "11"}}}, "splits"),
    ({"splits": {"{X}": {"for": "-5"}}}, "splits"),
    ({"splits": {"{X}": {"for": "1.5"}}}, "splits"),
    ({"splits": {"{X}": {"for": 1.5}}}, "splits"),
    ({"splits": {"{X}": {"for": True}}}, "splits"),
    ({"splits": {"{X}": {"for": "\u0661\u0662"}}}, "splits"),
    ({"splits": {"{X}": {"for": ""}}}, "splits"),
    ({"splits": {"{X}": {"for": 10**30}}}, "splits"),
    ({"splits": {"{X}": {"for": str(10**30)}}}, "splits"),
    ({"splits": {"{X}": {"againts": "5"}}}, "splits"),
    ({"splits": {"{X}": {"withhold": "5"}}}, "splits"),
    ({"splits": {"{X}": ["for", "5"]}}, "splits"),
    ({"splits": {"{X}": "30"}}, "splits"),
    ({"splits": [{"{X}": {"for": "5"}}]}, "splits"),
    ({"splits": {"{X}": {"for": "0"}}}, "ballot gives no shares"),
    ({"cumulative": {"{X}": "5"}}, "votes, splits"),
    ({"option": "{X}", "holder": "{alice}"}, "votes, splits"),
    ({"choice": "for"}, "votes, splits"),
    ({"split": {"for": "5"}}, "votes, splits"),
    ({"votes": {"{X}": "for"}, "splits": {"{X}": {"for": "5"}}}, "exactly one"),
    ({}, "exactly one"),
    ({"votes": {"{X}": "for"}, "holder": "abc"}, "holder"),
    ({"votes": {"{X}": "for"}, "holder": -1}, "holder"),
    ({"votes": {"{X}": "for"}, "holder": 10**30}, "holder"),
]


@pytest.mark.parametrize(("payload", "named"), MAJORITY_CASES)
def test_a_bad_ballot_on_a_majority_election_is_a_400_naming_the_field_and_stores_nothing(
    annual: Annual, payload: dict[str, Any], named: str
) -> None:
    poll, ids = election(annual, standard="majority", seats=1, names="XY")
    keyed = {**ids, "alice": annual.holders["alice"].pk}
    cast(annual, "alice", poll, {"votes": {str(ids["X"]): "for"}}, 201)  # a ballot to keep
    before = snapshot(poll)
    response = cast(annual, "alice", poll, fill(payload, {k: str(v) for k, v in keyed.items()}))
    assert response.status_code == 400, response.json()
    assert named in json.dumps(response.json(), ensure_ascii=False), response.json()
    assert snapshot(poll) == before


PLURALITY_CASES = [
    ({"votes": {"{X}": "against"}}, "votes"),
    ({"votes": {"{X}": "abstain"}}, "votes"),
    ({"splits": {"{X}": {"for": "10", "against": "10"}}}, "splits"),
    ({"splits": {"{X}": {"abstain": "1"}}}, "splits"),  # the split serializer knows only for/against/abstain
]


@pytest.mark.parametrize(("payload", "named"), PLURALITY_CASES)
def test_against_or_abstain_on_a_plurality_election_is_a_400(
    annual: Annual, payload: dict[str, Any], named: str
) -> None:
    poll, ids = election(annual, standard="plurality", seats=1, names="XY")
    before = snapshot(poll)
    response = cast(annual, "alice", poll, fill(payload, {k: str(v) for k, v in ids.items()}))
    assert response.status_code == 400, response.json()
    assert named in json.dumps(response.json()), response.json()
    assert snapshot(poll) == before


def test_withhold_in_a_split_on_a_plurality_election_is_accepted(annual: Annual) -> None:
    poll, ids = election(annual, standard="plurality", seats=1, names="XY")
    cast(annual, "cede", poll, {"splits": {str(ids["X"]): {"for": "700", "withhold": "300"}}}, 201)
    assert nominees(results(poll))["X"][:3] == ("700", None, "300")


CUMULATIVE_CASES = [
    ({"cumulative": {"{X}": "91"}}, "90"),
    ({"cumulative": {"{X}": "46", "{P}": "45"}}, "90"),
    ({"cumulative": {"{X}": "-1"}}, "cumulative"),
    ({"cumulative": {"{X}": "1.5"}}, "cumulative"),
    ({"cumulative": {"{X}": 1.5}}, "cumulative"),
    ({"cumulative": {"{X}": True}}, "cumulative"),
    ({"cumulative": {"{X}": 10**30}}, "cumulative"),
    ({"cumulative": {"{X}": "9223372036854775808"}}, "cumulative"),
    ({"cumulative": {"{X}": "\u0661\u0662"}}, "cumulative"),
    ({"cumulative": {"{X}": ""}}, "cumulative"),
    ({"cumulative": {"{X}": "5\u0000"}}, "cumulative"),
    ({"cumulative": {"999999": "5"}}, "cumulative"),
    ({"cumulative": ["{X}"]}, "cumulative"),
    ({"cumulative": {}}, "cumulative"),
    ({"votes": {"{X}": "for"}}, "cumulative"),
    ({"splits": {"{X}": {"for": "5"}}}, "cumulative"),
]


@pytest.mark.parametrize(("payload", "named"), CUMULATIVE_CASES)
def test_a_bad_cumulative_ballot_is_a_400_naming_the_limit_or_the_field(
    annual: Annual, payload: dict[str, Any], named: str
) -> None:
    poll, ids = election(annual, standard="plurality", seats=3, names="XPQR", cumulative=True)
    before = snapshot(poll)
    response = cast(annual, "alice", poll, fill(payload, {k: str(v) for k, v in ids.items()}))
    assert response.status_code == 400, response.json()
    assert named in json.dumps(response.json()), response.json()
    assert snapshot(poll) == before


OPTION_CASES = [
    ({"option": 999999}, "option"),
    ({"option": "abc"}, "option"),
    ({"option": -1}, "option"),
    ({"option": 0}, "option"),
    ({"option": 10**30}, "option"),
    ({"option": 1.5}, "option"),
    ({"option": [1]}, "option"),
    ({"option": True}, "option"),
    ({"splits": {"{A}": "20", "{B}": "11"}}, "splits"),
    ({"splits": {"{A}": "-1"}}, "splits"),
    ({"splits": {"{A}": 1.5}}, "splits"),
    ({"splits": {"{A}": True}}, "splits"),
    ({"splits": {"{A}": "\u0661"}}, "splits"),
    ({"splits": {"{A}": {"for": "5"}}}, "splits"),
    ({"splits": {"999999": "5"}}, "splits"),
    ({"splits": {"{A}": "0"}}, "ballot gives no shares"),
    ({"votes": {"{A}": "for"}}, "option, splits"),
    ({"cumulative": {"{A}": "5"}}, "option, splits"),
    ({"choice": "for"}, "option, splits"),
]


@pytest.mark.parametrize("form", ["frequency", "choice"])
@pytest.mark.parametrize(("payload", "named"), OPTION_CASES)
def test_a_bad_frequency_or_choice_ballot_is_a_400_and_stores_nothing(
    annual: Annual, form: str, payload: dict[str, Any], named: str
) -> None:
    extra = {"options": [{"label": "A"}, {"label": "B"}]} if form == "choice" else {}
    poll, ids = create_item(annual, form, **extra)
    labels = {"A": ids.get("A", ids.get("1 Year")), "B": ids.get("B", ids.get("2 Years"))}
    before = snapshot(poll)
    response = cast(annual, "alice", poll, fill(payload, {k: str(v) for k, v in labels.items()}))
    assert response.status_code == 400, response.json()
    assert named in json.dumps(response.json()), response.json()
    assert snapshot(poll) == before


def test_an_option_of_another_item_is_unknown_here(annual: Annual) -> None:
    first, first_ids = create_item(annual, "frequency")
    second, _ids = create_item(annual, "frequency")
    before = snapshot(second)
    cast(annual, "alice", second, {"option": first_ids["1 Year"]}, 400)
    cast(annual, "alice", second, {"splits": {str(first_ids["1 Year"]): "5"}}, 400)
    assert snapshot(second) == before and snapshot(first)["ballots"] == 0


# ---- creation -------------------------------------------------------------------------------

CREATE_CASES = [
    ("election", {"nominees": [{"name": "X"}], "election_standard": "majority"}, "nominees"),
    ("election", {"nominees": [{"name": "X"}, {"name": "Y"}]}, "majority or plurality"),
    ("election", {"nominees": [{"name": "X"}, {"name": "Y"}], "election_standard": "majority", "seats": 3}, "seats"),
    ("election", {"nominees": [{"name": "X"}, {"name": "Y"}], "election_standard": "majority", "seats": 0}, "seats"),
    (
        "election",
        {"nominees": [{"name": "X"}, {"name": "Y"}], "election_standard": "majority", "cumulative": True},
        "umulative",
    ),
    ("election", {"nominees": [{"name": "X"}, {"name": "X"}], "election_standard": "plurality"}, "nominee"),
    ("election", {"nominees": [{"name": "X\u0000"}, {"name": "Y"}], "election_standard": "plurality"}, "name"),
    ("election", {"nominees": [{"name": "X\u0007"}, {"name": "Y"}], "election_standard": "plurality"}, "name"),
    ("election", {"nominees": ["X", "Y"], "election_standard": "plurality"}, "nominees"),
    (
        "election",
        {
            "nominees": [{"name": "X"}, {"name": "Y"}],
            "options": [{"label": "Z"}, {"label": "W"}],
            "election_standard": "plurality",
        },
        "nominees",
    ),
    (
        "election",
        {"nominees": [{"name": "X"}, {"name": "Y"}], "election_standard": "plurality", "threshold": "1/2"},
        "threshold",
    ),
    ("frequency", {"options": [{"label": "X"}, {"label": "Y"}]}, "1 year"),
    ("frequency", {"seats": 2}, "elections only"),
    ("choice", {"options": [{"label": "X"}]}, "options"),
    ("choice", {"options": [{"label": "X"}, {"label": "Y"}], "threshold": "3/2"}, "threshold"),
    ("choice", {"options": [{"label": "X"}, {"label": "Y"}], "election_standard": "plurality"}, "elections only"),
]


@pytest.mark.parametrize(("form", "fields", "named"), CREATE_CASES)
def test_an_item_the_form_cannot_hold_is_a_400_and_creates_nothing(
    annual: Annual, form: str, fields: dict[str, Any], named: str
) -> None:
    secretary = APIClient(raise_request_exception=False)
    secretary.force_authenticate(make_secretary())
    now = timezone.now()
    response = secretary.post(
        "/api/v1/polls/",
        {
            "title": "Bad item",
            "kind": "shareholder",
            "form": form,
            "meeting": annual.meeting.pk,
            "opens_at": now.isoformat(),
            "closes_at": (now + datetime.timedelta(days=1)).isoformat(),
            **fields,
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert named in json.dumps(response.json(), ensure_ascii=False), response.json()
    assert not Poll.objects.exists()
