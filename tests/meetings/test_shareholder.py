from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from meetings.services import item_ballot_cast, proxy_appoint, proxy_revoke, tabulation_record
from polls import certification, selectors, services
from polls.exceptions import ChangeNotAllowed, IllegalTransition, InvalidVote, NotEligible, PollNotOpen, RecountMismatch
from polls.models import Ballot, Option, Poll, PollStatus
from tests.factories import make_item, make_meeting, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db

TESLA_OUTSTANDING = 3_200_000_000


@pytest.fixture
def tesla() -> dict[str, Any]:
    """Three holders who vote the 2025 totals, plus holders who do not vote, up to 3.2 B shares."""
    users = {name: make_user(username=name, email=f"{name}@example.com") for name in ("fors", "againsts", "abstains")}
    register = make_register(
        [
            ("H-FOR", "For Holder", "fors@example.com", 1_060_000_000),
            ("H-AGAINST", "Against Holder", "againsts@example.com", 916_300_000),
            ("H-ABSTAIN", "Abstain Holder", "abstains@example.com", 473_000_000),
            ("H-QUIET-1", "Quiet Fund", "quiet1@example.com", 500_000_000),
            ("H-QUIET-2", "Other Quiet Fund", "quiet2@example.com", 250_700_000),
        ],
        outstanding=TESLA_OUTSTANDING,
    )
    meeting = make_meeting(register)
    return {"users": users, "register": register, "meeting": meeting}


def holder_id(register: Any, account: str) -> int:
    return int(register.holders.get(account=account).pk)


def test_the_tesla_case_through_the_api_fails_the_bylaw_standard_and_would_pass_by_votes_cast(
    tesla: dict[str, Any], api: APIClient
) -> None:
    secretary = make_secretary()
    api.force_authenticate(secretary)
    created = api.post(
        "/api/v1/polls/",
        {
            "title": "Shareholder proposal: invest in xAI",
            "kind": "shareholder",
            "meeting": tesla["meeting"].pk,
            "standard": "present_and_entitled",
            "threshold": "1/2",
            "comparator": ">",
            "advisory": True,
            "opens_at": timezone.now().isoformat(),
            "closes_at": (timezone.now() + datetime.timedelta(days=1)).isoformat(),
            "results_visibility": "live",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    item = created.json()
    assert [option["label"] for option in item["options"]] == ["For", "Against", "Abstain"]
    assert api.post(f"/api/v1/polls/{item['id']}/open/").status_code == 200

    for name, choice in (("fors", "for"), ("againsts", "against"), ("abstains", "abstain")):
        voter = APIClient()
        voter.force_authenticate(tesla["users"][name])
        response = voter.post(f"/api/v1/polls/{item['id']}/ballot/", {"choice": choice}, format="json")
        assert response.status_code == 201, response.json()

    results = api.get(f"/api/v1/polls/{item['id']}/results/").json()
    assert results["totals"]["for"] == "1060000000"
    assert results["totals"]["against"] == "916300000"
    assert results["totals"]["abstain"] == "473000000"
    assert results["outcome"] == {
        "standard": "present_and_entitled",
        "threshold": "> 1/2",
        "passed": False,
        "percent": "43.3",
        "quorum_met": True,
        "reason": "failed",
        "advisory": True,
    }
    what_if = {row["standard"]: (row["passed"], row["percent"]) for row in results["what_if"]}
    assert what_if["votes_cast"] == (True, "53.6")
    assert what_if["present_and_entitled"] == (False, "43.3")
    assert results["quorum"]["met"] is True


def test_a_ballot_weighs_the_holders_shares_at_the_record_date(tesla: dict[str, Any]) -> None:
    item = make_item(tesla["meeting"])
    result = item_ballot_cast(poll_id=item.pk, actor=tesla["users"]["fors"], choice="for")
    assert result.ballot.weight == 1_060_000_000
    assert item.options.get(code="for").weight == 1_060_000_000


def test_a_member_who_is_not_a_holder_is_refused_with_the_reason(tesla: dict[str, Any], api: APIClient) -> None:
    item = make_item(tesla["meeting"])
    api.force_authenticate(make_user())
    response = api.post(f"/api/v1/polls/{item.pk}/ballot/", {"choice": "for"}, format="json")
    assert response.status_code == 403
    assert "not a holder in the register of record (2025-09-15)" in response.json()["detail"]
    assert not Ballot.objects.exists()


def test_a_proxy_votes_for_the_holder_and_the_ballot_keeps_both(tesla: dict[str, Any], api: APIClient) -> None:
    item = make_item(tesla["meeting"])
    register, holder_user, proxy = tesla["register"], tesla["users"]["fors"], make_user(username="proxy")
    fund = holder_id(register, "H-FOR")
    api.force_authenticate(holder_user)
    appointed = api.post(
        f"/api/v1/meetings/{tesla['meeting'].pk}/proxies/", {"holder": fund, "proxy": "proxy"}, format="json"
    )
    assert appointed.status_code == 201, appointed.json()
    api.force_authenticate(proxy)
    response = api.post(f"/api/v1/polls/{item.pk}/ballot/", {"choice": "against", "holder": fund}, format="json")
    assert response.status_code == 201, response.json()
    ballot = Ballot.objects.get()
    assert (ballot.holder_id, ballot.voter_id) == (fund, proxy.pk)
    assert response.json()["voter"] == "proxy"


def test_the_latest_ballot_for_a_holder_counts_whoever_cast_it(tesla: dict[str, Any]) -> None:
    item = make_item(tesla["meeting"])
    register, owner, proxy = tesla["register"], tesla["users"]["fors"], make_user()
    holder = register.holders.get(account="H-FOR")
    proxy_appoint(meeting=tesla["meeting"], holder=holder, proxy=proxy, actor=owner)
    item_ballot_cast(poll_id=item.pk, actor=proxy, choice="against", holder_id=holder.pk)
    item_ballot_cast(poll_id=item.pk, actor=owner, choice="for", holder_id=holder.pk)
    assert Ballot.objects.filter(poll=item).count() == 1
    totals = dict(item.options.values_list("code", "weight"))
    assert totals == {"for": 1_060_000_000, "against": 0, "abstain": 0}
    assert Ballot.objects.get().voter == owner


def test_a_proxy_that_was_not_appointed_is_refused(tesla: dict[str, Any]) -> None:
    item = make_item(tesla["meeting"])
    stranger = make_user()
    with pytest.raises(NotEligible, match="You may not act for that holder at this meeting") as refused:
        item_ballot_cast(poll_id=item.pk, actor=stranger, choice="for", holder_id=holder_id(tesla["register"], "H-FOR"))
    assert "For Holder" not in str(refused.value)


def test_a_revoked_proxy_can_no_longer_vote(tesla: dict[str, Any]) -> None:
    item = make_item(tesla["meeting"])
    owner, proxy = tesla["users"]["fors"], make_user()
    holder = tesla["register"].holders.get(account="H-FOR")
    appointment = proxy_appoint(meeting=tesla["meeting"], holder=holder, proxy=proxy, actor=owner)
    proxy_revoke(appointment=appointment, actor=owner)
    with pytest.raises(NotEligible):
        item_ballot_cast(poll_id=item.pk, actor=proxy, choice="for", holder_id=holder.pk)


def test_only_the_holder_may_appoint_its_proxy(tesla: dict[str, Any]) -> None:
    holder = tesla["register"].holders.get(account="H-FOR")
    with pytest.raises(NotEligible):
        proxy_appoint(meeting=tesla["meeting"], holder=holder, proxy=make_user(), actor=make_user())


def test_a_nominee_splits_its_shares_across_choices(tesla: dict[str, Any], api: APIClient) -> None:
    item = make_item(tesla["meeting"])
    api.force_authenticate(tesla["users"]["abstains"])
    split = {"for": "300000000", "against": "100000000", "abstain": "73000000"}
    response = api.post(f"/api/v1/polls/{item.pk}/ballot/", {"split": split}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["shares_for"] == "300000000"
    assert dict(item.options.values_list("code", "weight")) == {
        "for": 300_000_000,
        "against": 100_000_000,
        "abstain": 73_000_000,
    }


def test_a_split_above_the_holding_is_refused_and_changes_nothing(tesla: dict[str, Any], api: APIClient) -> None:
    item = make_item(tesla["meeting"])
    api.force_authenticate(tesla["users"]["abstains"])
    split = {"for": "473000000", "against": "1"}
    response = api.post(f"/api/v1/polls/{item.pk}/ballot/", {"split": split}, format="json")
    assert response.status_code == 400
    assert "holds 473,000,000" in response.json()["detail"]
    assert not Ballot.objects.exists()


@pytest.mark.parametrize("payload", [{"choice": "maybe"}, {"split": {"for": "-5"}}, {"choice": "for", "option": 1}, {}])
def test_malformed_shareholder_ballots_get_a_400(
    tesla: dict[str, Any], api: APIClient, payload: dict[str, Any]
) -> None:
    item = make_item(tesla["meeting"])
    api.force_authenticate(tesla["users"]["fors"])
    response = api.post(f"/api/v1/polls/{item.pk}/ballot/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not Ballot.objects.exists()


def test_ballots_after_close_are_refused(tesla: dict[str, Any]) -> None:
    item = make_item(tesla["meeting"], status=PollStatus.CLOSED)
    with pytest.raises(PollNotOpen):
        item_ballot_cast(poll_id=item.pk, actor=tesla["users"]["fors"], choice="for")


def test_a_changed_ballot_is_refused_where_the_item_does_not_allow_it(tesla: dict[str, Any]) -> None:
    item = make_item(tesla["meeting"], allow_change=False)
    item_ballot_cast(poll_id=item.pk, actor=tesla["users"]["fors"], choice="for")
    with pytest.raises(ChangeNotAllowed):
        item_ballot_cast(poll_id=item.pk, actor=tesla["users"]["fors"], choice="against")


def test_certification_recounts_freezes_and_signs(tesla: dict[str, Any]) -> None:
    item = make_item(tesla["meeting"], standard="present_and_entitled")
    for name, choice in (("fors", "for"), ("againsts", "against"), ("abstains", "abstain")):
        item_ballot_cast(poll_id=item.pk, actor=tesla["users"][name], choice=choice)
    services.poll_close(poll=item)
    secretary = make_secretary()
    certified = certification.poll_certify(poll=item, actor=secretary)
    assert certified.status == PollStatus.CERTIFIED
    assert certified.certified_by == secretary
    assert certified.certified_result is not None
    assert certified.certified_result["totals"]["for"] == "1060000000"
    assert certified.certified_result["outcome"]["passed"] is False
    # Frozen: no ballot, change or tabulation gets in afterwards.
    with pytest.raises(PollNotOpen):
        item_ballot_cast(poll_id=item.pk, actor=tesla["users"]["fors"], choice="against")
    with pytest.raises(IllegalTransition):
        tabulation_record(poll=item, shares_for=1, shares_against=0, shares_abstain=0, actor=secretary)


def test_certification_after_a_deliberate_mismatch_refuses_and_reports_the_difference(tesla: dict[str, Any]) -> None:
    item = make_item(tesla["meeting"])
    item_ballot_cast(poll_id=item.pk, actor=tesla["users"]["fors"], choice="for")
    services.poll_close(poll=item)
    Option.objects.filter(poll=item, code="for").update(weight=1_060_000_001)
    with pytest.raises(RecountMismatch, match="For: running 1 votes / 1060000001 weight, recount 1 / 1060000000"):
        certification.poll_certify(poll=item, actor=make_secretary())
    assert Poll.objects.get(pk=item.pk).status == PollStatus.CLOSED


def test_certification_reports_a_ballot_count_changed_by_sql_from_the_recount_s_one_pass(
    tesla: dict[str, Any],
) -> None:
    item = make_item(tesla["meeting"])
    item_ballot_cast(poll_id=item.pk, actor=tesla["users"]["fors"], choice="for")
    services.poll_close(poll=item)
    Poll.objects.filter(pk=item.pk).update(ballot_count=2)
    with (
        CaptureQueriesContext(connection) as queries,
        pytest.raises(RecountMismatch, match="ballots: running 2, recount 1"),
    ):
        certification.poll_certify(poll=item, actor=make_secretary())
    over_ballots = [q["sql"] for q in queries.captured_queries if 'FROM "polls_ballot"' in q["sql"]]
    assert len(over_ballots) == 1, over_ballots


def test_the_inspectors_tabulation_decides_with_broker_non_votes(tesla: dict[str, Any]) -> None:
    item = make_item(tesla["meeting"], status=PollStatus.CLOSED, standard="outstanding")
    tabulation_record(
        poll=item,
        shares_for=1_060_000_000,
        shares_against=916_300_000,
        shares_abstain=473_000_000,
        broker_non_votes=200_000_000,
        actor=make_secretary(),
    )
    results = selectors.poll_results(poll=item)
    assert results.totals is not None and results.totals.source == "tabulation"
    assert results.quorum is not None and results.quorum.present == 2_649_300_000
    assert results.outcome is not None and results.outcome.passed is False  # 1.06 B of 3.2 B outstanding
    assert str(results.outcome.percent) == "33.1"


def test_a_tabulation_above_the_shares_outstanding_is_refused(tesla: dict[str, Any]) -> None:
    item = make_item(tesla["meeting"], status=PollStatus.CLOSED)
    with pytest.raises(Exception, match="more than the 3,200,000,000 outstanding"):
        tabulation_record(
            poll=item, shares_for=3_200_000_000, shares_against=1, shares_abstain=0, actor=make_secretary()
        )


def test_a_meeting_needs_an_existing_register(api: APIClient) -> None:
    api.force_authenticate(make_secretary())
    response = api.post("/api/v1/meetings/", {"title": "AGM", "date": "2025-11-06", "register": 424242}, format="json")
    assert response.status_code == 400
    assert "register" in response.json()


def test_the_8k_export_lists_certified_items_with_their_frozen_figures(tesla: dict[str, Any], client: Any) -> None:
    item = make_item(tesla["meeting"], status=PollStatus.CLOSED, title="Invest in xAI")
    tabulation_record(
        poll=item,
        shares_for=1_060_000_000,
        shares_against=916_300_000,
        shares_abstain=473_000_000,
        broker_non_votes=12,
        actor=make_secretary(),
    )
    certification.poll_certify(poll=item, actor=make_secretary(), confirm_difference=True)
    make_item(tesla["meeting"], title="Still open")
    body = client.get(f"/meetings/{tesla['meeting'].pk}/results.csv").content.decode()
    # The Item 5.07 table (tests/meetings/test_item_507.py): plain words, never the codes.
    assert body.splitlines()[4:] == [
        "Proposal,For,Against,Abstain,Broker Non-Votes,Result",
        "Invest in xAI,1060000000,916300000,473000000,12,Approved",
    ]


def test_concurrent_items_keep_one_ballot_per_holder_in_the_database(tesla: dict[str, Any]) -> None:
    from django.db import IntegrityError, transaction

    item = make_item(tesla["meeting"])
    holder = tesla["register"].holders.get(account="H-FOR")
    item_ballot_cast(poll_id=item.pk, actor=tesla["users"]["fors"], choice="for")
    with pytest.raises(IntegrityError), transaction.atomic():
        Ballot.objects.create(
            poll=item,
            voter=make_user(),
            holder=holder,
            weight=1,
            shares_for=1,
            shares_against=0,
            shares_abstain=0,
        )


def test_a_holder_of_several_accounts_must_say_which(tesla: dict[str, Any]) -> None:
    item = make_item(tesla["meeting"])
    owner, other = tesla["users"]["fors"], tesla["register"].holders.get(account="H-QUIET-1")
    proxy_appoint(meeting=tesla["meeting"], holder=other, proxy=owner, actor=make_secretary())
    with pytest.raises(InvalidVote, match="several holders"):
        item_ballot_cast(poll_id=item.pk, actor=owner, choice="for")
