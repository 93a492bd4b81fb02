"""Integrity of the annual meeting's ballot forms (issue 14): certification freezes the nominees
and options and reads back what was live; any running total or ballot line changed by SQL stops
certification and is reported by verify_audit; the inspector's lines replace the ballots'
figures; a closed or certified item takes no ballot and no withdrawal."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from rest_framework.test import APIClient

from meetings.ballot_models import BallotLine, ItemTerms
from meetings.ballot_services import item_lines_cast, lines_tabulation_record
from polls import certification, selectors, services
from polls.ballots import ballot_withdraw
from polls.exceptions import IllegalTransition, InvalidPollData, PollNotOpen, RecountMismatch
from polls.models import Ballot, Poll, PollStatus
from polls.results import results_json
from tests.factories import make_annual_item, make_secretary
from tests.meetings.conftest import Annual, snapshot

pytestmark = pytest.mark.django_db

FORM_KEYS = ("form", "election", "nominees", "decision", "options", "quorum", "total_ballots", "total_weight")


def ids_of(poll: Poll) -> dict[str, int]:
    return {option.label: option.pk for option in poll.options.order_by("position")}


def vote(annual: Annual, who: str, poll: Poll, data: dict[str, Any]) -> None:
    item_lines_cast(poll_id=poll.pk, actor=annual.users[who], data=data)


def majority_election(annual: Annual) -> tuple[Poll, dict[str, int]]:
    poll = make_annual_item(annual.meeting, "election", nominees=["X", "Y"], election_standard="majority", seats=2)
    ids = ids_of(poll)
    x, y = str(ids["X"]), str(ids["Y"])
    vote(annual, "alice", poll, {"votes": {x: "for", y: "against"}})
    vote(annual, "bob", poll, {"votes": {x: "against", y: "abstain"}})
    vote(annual, "cede", poll, {"splits": {x: {"for": "700", "against": "200", "abstain": "100"}, y: {"for": "50"}}})
    return poll, ids


def live(poll: Poll) -> dict[str, Any]:
    return dict(results_json(selectors.poll_results(poll=Poll.objects.get(pk=poll.pk))))


def close(poll: Poll) -> Poll:
    services.poll_close(poll=poll)
    return Poll.objects.get(pk=poll.pk)


def verify_audit() -> str:
    """verify_audit's verdict: its success line, or the problem it exits non-zero with."""
    from io import StringIO

    out = StringIO()
    try:
        call_command("verify_audit", stdout=out)
    except CommandError as error:
        return f"ERROR {error}"
    return out.getvalue()


def sql(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


# ---- certification --------------------------------------------------------------------------


def test_certification_freezes_the_nominees_and_the_record_reads_back_what_was_live(annual: Annual) -> None:
    poll, ids = majority_election(annual)
    poll = close(poll)
    before = live(poll)
    assert verify_audit().startswith("Audit trail intact")
    certified = certification.poll_certify(poll=poll, actor=make_secretary())
    assert certified.status == PollStatus.CERTIFIED
    record = certified.certified_result
    assert record is not None
    assert {n["name"]: (n["for"], n["against"], n["abstain"], n["elected"]) for n in record["nominees"]} == {
        "X": ("730", "270", "100", True),
        "Y": ("50", "30", "70", True),
    }
    assert record["certification"]["form"] == "election"
    assert record["certification"]["election_standard"] == "majority"
    after = live(certified)
    assert after["certified"] is True
    assert {key: after.get(key) for key in FORM_KEYS} == {key: before.get(key) for key in FORM_KEYS}
    # Served from the record: a total changed by SQL afterwards changes nothing read ...
    sql("UPDATE polls_option SET weight = weight + 1000 WHERE id = %s", [ids["Y"]])
    assert live(certified)["nominees"] == before["nominees"]
    # ... but verify_audit finds it.
    assert verify_audit().startswith("ERROR Audit trail broken")


def test_a_certified_record_keeps_the_outcome_of_each_form(annual: Annual) -> None:
    frequency = make_annual_item(annual.meeting, "frequency")
    freq_ids = ids_of(frequency)
    vote(annual, "alice", frequency, {"option": freq_ids["1 Year"]})
    vote(annual, "cede", frequency, {"splits": {str(freq_ids["3 Years"]): "600", str(freq_ids["Abstain"]): "400"}})
    cumulative = make_annual_item(
        annual.meeting,
        "election",
        nominees=["X", "P", "Q", "R"],
        election_standard="plurality",
        seats=3,
        cumulative=True,
    )
    cum_ids = ids_of(cumulative)
    vote(annual, "alice", cumulative, {"cumulative": {str(cum_ids["X"]): "90"}})
    vote(
        annual,
        "bob",
        cumulative,
        {"cumulative": {str(cum_ids[n]): v for n, v in (("P", "80"), ("Q", "70"), ("R", "60"))}},
    )
    secretary = make_secretary()
    for poll in (frequency, cumulative):
        before = live(close(poll))
        record = certification.poll_certify(poll=Poll.objects.get(pk=poll.pk), actor=secretary).certified_result
        assert record is not None
        assert {key: record.get(key) for key in FORM_KEYS} == {key: before.get(key) for key in FORM_KEYS}
    frozen = Poll.objects.get(pk=frequency.pk).certified_result
    assert frozen is not None and frozen["decision"]["winner"] == freq_ids["3 Years"]
    assert frozen["decision"]["advisory"] is True
    record = Poll.objects.get(pk=cumulative.pk).certified_result or {}
    elected = {n["name"]: n["status"] for n in record["nominees"]}
    assert elected == {"X": "elected", "P": "elected", "Q": "elected", "R": "not_elected"}
    assert verify_audit().startswith("Audit trail intact")


# ---- tampering by SQL -----------------------------------------------------------------------


def line_id(poll: Poll, holder: Any, option: int, choice: str) -> int:
    return int(BallotLine.objects.get(ballot__poll=poll, ballot__holder=holder, option_id=option, choice=choice).pk)


def forge_line_and_total(annual: Annual, poll: Poll, ids: dict[str, int]) -> None:
    sql(
        "UPDATE meetings_ballotline SET shares = 100 WHERE id = %s",
        [line_id(poll, annual.holders["cede"], ids["X"], "against")],
    )
    sql("UPDATE meetings_nomineetally SET against_shares = against_shares - 100 WHERE option_id = %s", [ids["X"]])


TAMPERS = {
    "a for line's shares": lambda a, p, i: sql(
        "UPDATE meetings_ballotline SET shares = 29 WHERE id = %s", [line_id(p, a.holders["alice"], i["X"], "for")]
    ),
    "an against line's shares": lambda a, p, i: sql(
        "UPDATE meetings_ballotline SET shares = 1 WHERE id = %s", [line_id(p, a.holders["bob"], i["X"], "against")]
    ),
    "a line's choice": lambda a, p, i: sql(
        "UPDATE meetings_ballotline SET choice = 'for' WHERE id = %s",
        [line_id(p, a.holders["bob"], i["Y"], "abstain")],
    ),
    "a line removed": lambda a, p, i: sql(
        "DELETE FROM meetings_ballotline WHERE id = %s", [line_id(p, a.holders["cede"], i["Y"], "for")]
    ),
    "a nominee's against shares": lambda a, p, i: sql(
        "UPDATE meetings_nomineetally SET against_shares = against_shares + 5 WHERE option_id = %s", [i["X"]]
    ),
    "a nominee's abstain ballots": lambda a, p, i: sql(
        "UPDATE meetings_nomineetally SET abstain_ballots = abstain_ballots - 1 WHERE option_id = %s", [i["Y"]]
    ),
    "the shares voted": lambda a, p, i: sql(
        "UPDATE meetings_itemterms SET shares_voted = shares_voted + 1 WHERE poll_id = %s", [p.pk]
    ),
    "a nominee's votes for": lambda a, p, i: sql(
        "UPDATE polls_option SET weight = weight - 30 WHERE id = %s", [i["X"]]
    ),
    "a ballot's weight": lambda a, p, i: sql(
        "UPDATE polls_ballot SET weight = weight - 10 WHERE poll_id = %s AND holder_id = %s",
        [p.pk, a.holders["cede"].pk],
    ),
    # The careful forger moves a line and the total it fed together: only the trail tells.
    "a line and its total together": lambda a, p, i: forge_line_and_total(a, p, i),
}


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_a_total_or_line_changed_by_sql_stops_certification_and_verify_audit_reports_it(
    annual: Annual, tamper: str
) -> None:
    poll, ids = majority_election(annual)
    poll = close(poll)
    assert verify_audit().startswith("Audit trail intact")
    TAMPERS[tamper](annual, poll, ids)
    with pytest.raises(RecountMismatch):
        certification.poll_certify(poll=poll, actor=make_secretary())
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.CLOSED
    assert Poll.objects.get(pk=poll.pk).certified_result is None
    assert verify_audit().startswith("ERROR Audit trail broken")


def test_the_certify_endpoint_answers_a_tampered_item_with_a_409_naming_the_difference(annual: Annual) -> None:
    poll, _ids = majority_election(annual)
    poll = close(poll)
    sql("UPDATE meetings_itemterms SET shares_voted = 1 WHERE poll_id = %s", [poll.pk])
    client = APIClient()
    client.force_authenticate(make_secretary())
    response = client.post(f"/api/v1/polls/{poll.pk}/certify/", {}, format="json")
    assert response.status_code == 409, response.json()
    assert "shares voted" in response.json()["detail"]


# ---- the inspector's tabulation -------------------------------------------------------------


def test_the_inspectors_lines_replace_the_ballots_figures(annual: Annual) -> None:
    poll, ids = majority_election(annual)
    poll = close(poll)
    secretary = make_secretary()
    client = APIClient()
    client.force_authenticate(secretary)
    lines = [
        {"option": ids["X"], "choice": "for", "shares": 900},
        {"option": ids["X"], "choice": "against", "shares": 950},
        {"option": ids["X"], "choice": "abstain", "shares": 20},
        {"option": ids["Y"], "choice": "for", "shares": 1_200},
        {"option": ids["Y"], "choice": "against", "shares": 100},
    ]
    response = client.post(
        f"/api/v1/polls/{poll.pk}/tabulation/",
        {"lines": lines, "broker_non_votes": 30, "source": "Inspector's report"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert {
        n["name"]: (n["for"], n["against"], n["abstain"], n["broker_non_votes"], n["status"]) for n in body["nominees"]
    } == {
        "X": ("900", "950", "20", "30", "resignation_tendered"),
        "Y": ("1200", "100", "0", "30", "elected"),
    }
    assert {o["label"]: o["weight"] for o in body["options"]} == {"X": "900", "Y": "1200"}
    assert live(poll)["nominees"] == body["nominees"]
    # The ballots' own totals are untouched: the recount still matches them.
    assert verify_audit().startswith("Audit trail intact")


def test_the_inspectors_lines_decide_a_frequency_item(annual: Annual) -> None:
    poll = make_annual_item(annual.meeting, "frequency", status=PollStatus.CLOSED)
    ids = ids_of(poll)
    lines_tabulation_record(
        poll=poll,
        actor=make_secretary(),
        lines=[
            {"option": ids["1 Year"], "choice": "for", "shares": 300},
            {"option": ids["3 Years"], "choice": "for", "shares": 500},
            {"option": ids["Abstain"], "choice": "for", "shares": 900},
        ],
        broker_non_votes=40,
    )
    decision = live(poll)["decision"]
    assert (decision["winner"], decision["percent"], decision["broker_non_votes"]) == (ids["3 Years"], "62.5", "40")


def test_a_tabulated_frequency_item_counts_every_option_toward_quorum(annual: Annual) -> None:
    poll = make_annual_item(annual.meeting, "frequency", status=PollStatus.CLOSED)
    ids = ids_of(poll)
    lines_tabulation_record(
        poll=poll,
        actor=make_secretary(),
        lines=[
            {"option": ids["1 Year"], "choice": "for", "shares": 300},
            {"option": ids["3 Years"], "choice": "for", "shares": 500},
            {"option": ids["Abstain"], "choice": "for", "shares": 900},
        ],
        broker_non_votes=40,
    )
    assert live(poll)["quorum"]["present"] == "1740"


def test_a_tabulated_cumulative_election_never_has_more_present_than_outstanding(annual: Annual) -> None:
    poll = make_annual_item(
        annual.meeting,
        "election",
        nominees=["X", "P", "Q"],
        election_standard="plurality",
        seats=3,
        cumulative=True,
        status=PollStatus.CLOSED,
    )
    ids = ids_of(poll)
    lines_tabulation_record(
        poll=poll, actor=make_secretary(), lines=[{"option": ids["X"], "choice": "for", "shares": 3_000}]
    )
    quorum = live(poll)["quorum"]
    assert int(quorum["present"]) <= int(quorum["outstanding"])
    # 2,000 shares x 3 seats is every vote there is: 3,000 + 3,001 across nominees is more.
    with pytest.raises(InvalidPollData):
        lines_tabulation_record(
            poll=poll,
            actor=make_secretary(),
            lines=[
                {"option": ids["X"], "choice": "for", "shares": 3_000},
                {"option": ids["P"], "choice": "for", "shares": 3_001},
            ],
        )


def test_a_tabulated_election_can_be_certified(annual: Annual) -> None:
    poll, ids = majority_election(annual)
    poll = close(poll)
    secretary = make_secretary()
    lines_tabulation_record(
        poll=poll,
        actor=secretary,
        lines=[
            {"option": ids["X"], "choice": "for", "shares": 730},
            {"option": ids["X"], "choice": "against", "shares": 270},
            {"option": ids["X"], "choice": "abstain", "shares": 100},
            {"option": ids["Y"], "choice": "for", "shares": 50},
            {"option": ids["Y"], "choice": "against", "shares": 30},
            {"option": ids["Y"], "choice": "abstain", "shares": 70},
        ],
        broker_non_votes=10,
    )
    certified = certification.poll_certify(poll=poll, actor=secretary, confirm_difference=True)
    assert certified.status == PollStatus.CERTIFIED
    assert certified.certified_result is not None
    assert certified.certified_result["nominees"][0]["broker_non_votes"] == "10"
    # The record's tabulation matches the live lines: the trail verifies, as certified too.
    assert verify_audit().startswith("Audit trail intact")
    call_command("verify_audit", certified=poll.pk, stdout=io.StringIO())
    sql("UPDATE meetings_tabulationline SET shares = shares + 1 WHERE option_id = %s AND choice = 'for'", [ids["X"]])
    assert verify_audit().startswith("ERROR Audit trail broken")


def test_certifying_a_tabulated_item_through_the_api_is_never_a_500(annual: Annual) -> None:
    poll = make_annual_item(annual.meeting, "frequency", status=PollStatus.CLOSED)
    ids = ids_of(poll)
    secretary = make_secretary()
    lines_tabulation_record(
        poll=poll, actor=secretary, lines=[{"option": ids["1 Year"], "choice": "for", "shares": 10}]
    )
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(secretary)
    response = client.post(f"/api/v1/polls/{poll.pk}/certify/", {"confirm_difference": True}, format="json")
    assert response.status_code != 500


BAD_TABULATIONS = [
    ({"lines": [{"option": 999_999, "choice": "for", "shares": 5}]}, "999999"),
    ({"lines": [{"option": "{X}", "choice": "withhold", "shares": 5}]}, "choices"),
    ({"lines": [{"option": "{X}", "choice": "for", "shares": -5}]}, "shares"),
    ({"lines": [{"option": "{X}", "choice": "for", "shares": 1.5}]}, "shares"),
    ({"lines": [{"option": "{X}", "choice": "for", "shares": 10**30}]}, "shares"),
    ({"lines": [{"option": "{X}", "choice": "for", "shares": "1\u0000"}]}, "shares"),
    ({"lines": [{"option": "{X}", "choice": "maybe", "shares": 5}]}, "choice"),
    ({"lines": [["{X}", "for", 5]]}, "lines"),
    ({"lines": {"{X}": 5}}, "lines"),
    ({"lines": "{X}"}, "lines"),
    ({"lines": [{"option": "{X}", "choice": "for", "shares": 5}] * 2}, "once"),
    ({"lines": [{"option": "{X}", "choice": "for", "shares": 5}], "shares_for": 5}, "not both"),
    ({"shares_for": 5, "shares_against": 0, "shares_abstain": 0}, "lines"),
    ({"lines": [{"option": "{X}", "choice": "for", "shares": 5}], "broker_non_votes": -1}, "broker_non_votes"),
    ({"lines": [{"option": "{X}", "choice": "for", "shares": 5}], "source": "a\u0000b"}, "source"),
]


def fill(value: Any, x: int) -> Any:
    if isinstance(value, dict):
        return {fill(k, x): fill(v, x) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, x) for v in value]
    return x if value == "{X}" else value


@pytest.mark.parametrize(("payload", "named"), BAD_TABULATIONS)
def test_a_bad_tabulation_is_a_400_and_stores_nothing(annual: Annual, payload: dict[str, Any], named: str) -> None:
    import json

    from meetings.ballot_models import TabulationLine
    from meetings.models import Tabulation

    poll = make_annual_item(
        annual.meeting, "election", nominees=["X", "Y"], election_standard="majority", status=PollStatus.CLOSED
    )
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(make_secretary())
    response = client.post(f"/api/v1/polls/{poll.pk}/tabulation/", fill(payload, ids_of(poll)["X"]), format="json")
    assert response.status_code == 400, response.content
    assert named in json.dumps(response.json()), response.json()
    assert not Tabulation.objects.filter(poll=poll).exists()
    assert not TabulationLine.objects.exists()


def test_a_tabulation_above_the_shares_outstanding_is_refused(annual: Annual) -> None:
    poll = make_annual_item(
        annual.meeting, "election", nominees=["X", "Y"], election_standard="majority", status=PollStatus.CLOSED
    )
    x = ids_of(poll)["X"]
    with pytest.raises(InvalidPollData):
        lines_tabulation_record(
            poll=poll,
            actor=make_secretary(),
            lines=[{"option": x, "choice": "for", "shares": 2_000}, {"option": x, "choice": "against", "shares": 1}],
        )


def test_a_tabulation_before_the_item_closes_is_refused(annual: Annual) -> None:
    poll = make_annual_item(annual.meeting, "frequency")
    with pytest.raises(IllegalTransition):
        lines_tabulation_record(
            poll=poll, actor=make_secretary(), lines=[{"option": ids_of(poll)["1 Year"], "choice": "for", "shares": 1}]
        )


# ---- closed and certified items -------------------------------------------------------------


def test_a_ballot_or_a_withdrawal_on_a_closed_item_is_refused_and_changes_nothing(annual: Annual) -> None:
    poll, ids = majority_election(annual)
    poll = close(poll)
    before = snapshot(poll)
    with pytest.raises(PollNotOpen):
        vote(annual, "alice", poll, {"votes": {str(ids["X"]): "against"}})
    with pytest.raises(PollNotOpen):
        vote(annual, "dora", poll, {"votes": {str(ids["X"]): "for"}})
    with pytest.raises(PollNotOpen):
        ballot_withdraw(poll_id=poll.pk, actor=annual.users["alice"])
    client = APIClient()
    client.force_authenticate(annual.users["bob"])
    response = client.post(f"/api/v1/polls/{poll.pk}/ballot/", {"votes": {str(ids["Y"]): "for"}}, format="json")
    assert response.status_code == 409
    assert client.delete(f"/api/v1/polls/{poll.pk}/ballot/").status_code == 409
    assert snapshot(poll) == before


def test_a_certified_item_takes_no_ballot(annual: Annual) -> None:
    poll = make_annual_item(annual.meeting, "frequency")
    ids = ids_of(poll)
    vote(annual, "alice", poll, {"option": ids["2 Years"]})
    certified = certification.poll_certify(poll=close(poll), actor=make_secretary())
    before = snapshot(certified)
    client = APIClient()
    client.force_authenticate(annual.users["bob"])
    assert client.post(f"/api/v1/polls/{poll.pk}/ballot/", {"option": ids["1 Year"]}, format="json").status_code == 409
    with pytest.raises(PollNotOpen):
        vote(annual, "alice", poll, {"splits": {str(ids["1 Year"]): "30"}})
    assert snapshot(certified) == before


def test_a_withdrawal_and_a_re_cast_leave_the_totals_equal_to_the_recount(annual: Annual) -> None:
    poll, ids = majority_election(annual)
    ballot_withdraw(poll_id=poll.pk, actor=annual.users["cede"])
    vote(annual, "cede", poll, {"splits": {str(ids["Y"]): {"against": "1000"}}})
    vote(annual, "alice", poll, {"votes": {str(ids["Y"]): "for"}})
    assert ItemTerms.objects.get(poll=poll).shares_voted == 1_100
    assert Ballot.objects.filter(poll=poll).count() == 3
    assert verify_audit().startswith("Audit trail intact")
    certified = certification.poll_certify(poll=close(poll), actor=make_secretary())
    record = certified.certified_result or {}
    nominees = {n["name"]: (n["for"], n["against"], n["abstain"]) for n in record["nominees"]}
    assert nominees == {"X": ("0", "70", "0"), "Y": ("30", "1000", "70")}


def test_a_certified_item_takes_no_tabulation_and_a_line_changed_afterwards_is_reported(annual: Annual) -> None:
    poll, ids = majority_election(annual)
    secretary = make_secretary()
    certified = certification.poll_certify(poll=close(poll), actor=secretary)
    frozen = live(certified)["nominees"]
    with pytest.raises(IllegalTransition):
        lines_tabulation_record(
            poll=certified, actor=secretary, lines=[{"option": ids["X"], "choice": "for", "shares": 1}]
        )
    sql(
        "UPDATE meetings_ballotline SET shares = 1 WHERE id = %s",
        [line_id(poll, annual.holders["cede"], ids["Y"], "for")],
    )
    assert live(certified)["nominees"] == frozen
    assert verify_audit().startswith("ERROR Audit trail broken")
