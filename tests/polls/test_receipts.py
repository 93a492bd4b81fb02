"""Voter receipts: every cast gives a code; anyone can check it; a check says recorded,
counted, superseded or withdrawn, and never the choice, the voter, the holder or the split."""

from __future__ import annotations

import html
import re
from typing import Any, cast

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from meetings.services import item_ballot_cast, proxy_appoint
from polls import certification, receipts, services
from polls.api.payloads import ballot_payload
from polls.api.serializers import BallotReceiptSerializer
from polls.ballots import CastResult, ballot_cast, ballot_withdraw
from polls.models import Poll, PollStatus
from tests.factories import make_item, make_meeting, make_poll, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db

CODE = re.compile(r"\b[0-9a-f]{5}-[0-9a-f]{5}-[0-9a-f]{5}-[0-9a-f]{5}\b")
# Sentinels: if any of them shows in a receipt's answer, the receipt leaked what it must not.
VOTER = "voter-sentinel-qz"
HOLDER = "Holder Sentinel Qx"
CHOICE = "Choice Sentinel Qw"
OTHER = "Other Sentinel Qv"
SHARES = "7654321"


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def code_of(result: CastResult) -> str:
    return receipts.receipt_code(result.link_hash)


def check(code: str) -> tuple[Any, Any]:
    """The receipt's page and API answer, asked by a visitor with no account."""
    return Client().get(f"/receipts/{code}/"), APIClient().get(f"/api/v1/receipts/{code}/")


def assert_reveals_nothing(*responses: Any) -> None:
    for response in responses:
        body = text(response)
        for sentinel in (VOTER, HOLDER, CHOICE, OTHER, SHARES, "7,654,321", "voter:", "holder:", "ballot:"):
            assert sentinel not in body, sentinel


@pytest.fixture
def poll() -> Poll:
    return make_poll(title="Receipts poll", options=(CHOICE, OTHER), secret=False)


@pytest.fixture
def voter() -> Any:
    return make_user(username=VOTER, email="voter@example.com")


@pytest.fixture
def shareholder() -> dict[str, Any]:
    owner = make_user(username=VOTER, email="holder@example.com")
    register = make_register([("H1", HOLDER, "holder@example.com", int(SHARES))], outstanding=10_000_000)
    item = make_item(make_meeting(register), title="Receipts item")
    return {"owner": owner, "item": item, "holder": register.holders.get()}


def choice_id(poll: Poll, label: str = CHOICE) -> int:
    return int(poll.options.get(label=label).pk)


# --- Every cast path gives a code ------------------------------------------------------------


def test_a_public_ballot_through_the_api_answers_with_its_receipt(poll: Poll, voter: Any, api_as: Any) -> None:
    response = api_as(voter).post(f"/api/v1/polls/{poll.pk}/ballot/", {"option": choice_id(poll)}, format="json")
    assert response.status_code == 201
    code = response.json()["receipt"]
    assert CODE.fullmatch(code)
    assert code.replace("-", "") == AuditEvent.objects.get(stream__startswith=f"ballot:{poll.pk}:").hash[:20]
    assert check(code)[1].json()["status"] == "recorded"


def test_asking_for_ones_ballot_shows_its_standing_receipt(poll: Poll, voter: Any, api_as: Any) -> None:
    client = api_as(voter)
    cast = client.post(f"/api/v1/polls/{poll.pk}/ballot/", {"option": choice_id(poll)}, format="json").json()
    assert client.get(f"/api/v1/polls/{poll.pk}/ballot/").json()["receipt"] == cast["receipt"]


def test_a_public_ballot_through_the_page_shows_its_receipt_and_mails_it(
    poll: Poll, voter: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    client.force_login(voter)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/polls/{poll.pk}/vote/", {"option": choice_id(poll)}, follow=True)
    page = text(response)
    codes = set(CODE.findall(page))
    assert len(codes) == 1  # in the confirmation and beside "your vote", the same code
    (code,) = codes
    assert f"/receipts/{code}/" in page
    message = cast(EmailMultiAlternatives, mail.outbox[0])
    assert len(mail.outbox) == 1
    assert code in message.body and f"/receipts/{code}/" in message.body
    assert message.to == ["voter@example.com"]
    assert CHOICE not in message.body and CHOICE not in str(message.alternatives[0][0])


def test_a_public_ballot_through_the_api_is_not_mailed(
    poll: Poll, voter: Any, api_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        api_as(voter).post(f"/api/v1/polls/{poll.pk}/ballot/", {"option": choice_id(poll)}, format="json")
    assert mail.outbox == []


def test_recasting_the_same_choice_keeps_the_same_receipt(poll: Poll, voter: Any) -> None:
    first = ballot_cast(poll_id=poll.pk, actor=voter, option_id=choice_id(poll))
    again = ballot_cast(poll_id=poll.pk, actor=voter, option_id=choice_id(poll))
    assert not again.changed and again.link_hash == first.link_hash


def test_a_shareholder_ballot_through_the_api_answers_with_its_receipt_and_mails_it(
    shareholder: dict[str, Any], api_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    item = shareholder["item"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(shareholder["owner"]).post(
            f"/api/v1/polls/{item.pk}/ballot/", {"choice": "for"}, format="json"
        )
    assert response.status_code == 201, response.json()
    code = response.json()["receipt"]
    assert CODE.fullmatch(code)
    (message,) = mail.outbox
    assert code in message.body
    assert "for" not in CODE.sub("", str(message.body)).lower().split()  # the choice is not in the mail


def test_a_shareholder_ballot_through_the_meeting_page_shows_its_receipt(
    shareholder: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    item, holder = shareholder["item"], shareholder["holder"]
    client = Client()
    client.force_login(shareholder["owner"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/meetings/{item.meeting_id}/ballot/",
            {"holder": holder.pk, f"item-{item.pk}": "against"},
            follow=True,
        )
    assert response.status_code == 200
    codes = set(CODE.findall(text(response)))
    assert len(codes) == 1
    (code,) = codes
    assert check(code)[1].json()["status"] == "recorded"
    assert code in mail.outbox[0].body


def test_a_proxy_and_a_nominee_split_each_get_a_receipt_and_the_holders_own_vote_supersedes(
    shareholder: dict[str, Any],
) -> None:
    item, holder, owner = shareholder["item"], shareholder["holder"], shareholder["owner"]
    proxy = make_user(username="proxy-sentinel")
    proxy_appoint(meeting=item.meeting, holder=holder, proxy=proxy, actor=owner)
    by_proxy = item_ballot_cast(poll_id=item.pk, actor=proxy, choice="against", holder_id=holder.pk)
    split = item_ballot_cast(poll_id=item.pk, actor=owner, split={"for": 7_000_000, "against": 654_321})
    assert by_proxy.link_hash and split.link_hash and by_proxy.link_hash != split.link_hash
    page, api = check(code_of(by_proxy))
    assert api.json()["status"] == "superseded"
    assert_reveals_nothing(page, api)
    assert "proxy-sentinel" not in text(page) + text(api)
    assert check(code_of(split))[1].json()["status"] == "recorded"


def test_the_ballot_payload_with_its_receipt_equals_the_serializer(poll: Poll, voter: Any) -> None:
    from tests.polls.test_payloads import as_json

    result = ballot_cast(poll_id=poll.pk, actor=voter, option_id=choice_id(poll))
    ballot = result.ballot
    ballot.receipt = code_of(result)  # type: ignore[attr-defined]
    expected = as_json(BallotReceiptSerializer(ballot).data)
    assert as_json({**ballot_payload(ballot), "receipt": code_of(result)}) == expected


# --- What a check says --------------------------------------------------------------------------


def test_a_visitor_reads_recorded_and_never_the_choice_or_the_voter(poll: Poll, voter: Any) -> None:
    result = ballot_cast(poll_id=poll.pk, actor=voter, option_id=choice_id(poll))
    page, api = check(code_of(result))
    assert page.status_code == api.status_code == 200
    assert "Recorded as cast at" in text(page) and "not certified yet" in text(page)
    body = api.json()
    assert body["status"] == "recorded"
    assert set(body) == {"code", "status", "cast_at", "poll", "poll_title", "detail"}
    assert "no-cache" in api["Cache-Control"] and "no-cache" in page["Cache-Control"]
    assert_reveals_nothing(page, api)


def test_a_changed_vote_supersedes_the_old_receipt_and_the_new_one_stands(poll: Poll, voter: Any) -> None:
    old = ballot_cast(poll_id=poll.pk, actor=voter, option_id=choice_id(poll))
    new = ballot_cast(poll_id=poll.pk, actor=voter, option_id=choice_id(poll, OTHER))
    assert code_of(old) != code_of(new)
    page, api = check(code_of(old))
    assert api.json()["status"] == "superseded"
    assert "superseded by a later ballot" in text(page)
    assert_reveals_nothing(page, api)
    assert check(code_of(new))[1].json()["status"] == "recorded"


def test_a_withdrawn_ballot_reads_withdrawn(poll: Poll, voter: Any) -> None:
    result = ballot_cast(poll_id=poll.pk, actor=voter, option_id=choice_id(poll))
    ballot_withdraw(poll_id=poll.pk, actor=voter)
    page, api = check(code_of(result))
    assert api.json()["status"] == "withdrawn"
    assert "withdrawn" in text(page)
    # The withdrawal's own link is not a receipt.
    withdrawal = AuditEvent.objects.get(action="ballot_withdrawn")
    assert check(receipts.receipt_code(withdrawal.hash))[1].status_code == 404


def test_a_vote_after_a_withdrawal_supersedes_the_first(poll: Poll, voter: Any) -> None:
    first = ballot_cast(poll_id=poll.pk, actor=voter, option_id=choice_id(poll))
    ballot_withdraw(poll_id=poll.pk, actor=voter)
    again = ballot_cast(poll_id=poll.pk, actor=voter, option_id=choice_id(poll, OTHER))
    assert check(code_of(first))[1].json()["status"] == "superseded"
    assert check(code_of(again))[1].json()["status"] == "recorded"


def test_after_certification_the_standing_ballot_is_counted_and_the_replaced_one_is_not(poll: Poll, voter: Any) -> None:
    old = ballot_cast(poll_id=poll.pk, actor=voter, option_id=choice_id(poll))
    new = ballot_cast(poll_id=poll.pk, actor=voter, option_id=choice_id(poll, OTHER))
    services.poll_close(poll=poll)
    certification.poll_certify(poll=Poll.objects.get(pk=poll.pk), actor=make_secretary())
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.CERTIFIED
    page, api = check(code_of(new))
    assert api.json()["status"] == "counted"
    assert "counted in the certified result" in text(page)
    assert_reveals_nothing(page, api)
    assert check(code_of(old))[1].json()["status"] == "superseded"


def test_a_code_is_read_whatever_its_case_and_dashes(poll: Poll, voter: Any) -> None:
    code = code_of(ballot_cast(poll_id=poll.pk, actor=voter, option_id=choice_id(poll)))
    for spelling in (code.upper(), code.replace("-", ""), code.replace("-", "").upper()):
        assert APIClient().get(f"/api/v1/receipts/{spelling}/").json()["code"] == code
    typed = Client().get("/receipts/", {"code": f" {code.upper().replace('-', ' ')} "})
    assert typed.status_code == 302 and typed["Location"] == f"/receipts/{code}/"


def test_a_secret_polls_receipt_reveals_nothing_either(voter: Any) -> None:
    secret = make_poll(title="Secret receipts", options=(CHOICE, OTHER), secret=True)
    result = ballot_cast(poll_id=secret.pk, actor=voter, option_id=choice_id(secret))
    page, api = check(code_of(result))
    assert api.json()["status"] == "recorded"
    assert_reveals_nothing(page, api)


def test_a_shareholder_receipt_names_no_holder_no_split_and_no_choice(shareholder: dict[str, Any]) -> None:
    item = shareholder["item"]
    result = item_ballot_cast(poll_id=item.pk, actor=shareholder["owner"], choice="for")
    page, api = check(code_of(result))
    assert api.json()["status"] == "recorded"
    assert_reveals_nothing(page, api)
    assert '"for"' not in text(api)


# --- Codes that are not receipts ----------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "00000-00000-00000-00000",  # well formed, unknown
        "zzzzz-zzzzz-zzzzz-zzzzz",  # not hex
        "abc",  # too short
        "a" * 21,  # too long
        "a" * 500,  # far too long
        "%00" * 7,  # a NUL
        "';drop table x;--",
        "ballot:1:voter:1",
    ],
)
def test_an_unknown_or_malformed_code_is_a_plain_404(code: str) -> None:
    page, api = check(code)
    assert page.status_code == api.status_code == 404
    assert api.json() == {"detail": "Not found."}


def test_a_link_of_another_chain_is_not_a_receipt() -> None:
    make_poll(title="Opened")  # opening appends to the poll's own chain
    event = AuditEvent.objects.filter(stream__startswith="poll:").first()
    assert event is not None
    assert check(receipts.receipt_code(event.hash))[1].status_code == 404


def test_the_check_form_refuses_a_malformed_code_in_the_page() -> None:
    response = Client().get("/receipts/", {"code": "not a code"})
    assert response.status_code == 400
    assert "not a receipt code" in text(response)
    assert Client().get("/receipts/").status_code == 200


def test_the_receipt_page_speaks_italian(poll: Poll, voter: Any) -> None:
    code = code_of(ballot_cast(poll_id=poll.pk, actor=voter, option_id=choice_id(poll)))
    page = Client().get(f"/receipts/{code}/", HTTP_ACCEPT_LANGUAGE="it")
    assert "Registrata come espressa" in text(page)
    # The moment reads in the site's Italian style, never as a raw ISO timestamp.
    sentence = text(page).split("Registrata come espressa il", 1)[1].split(";", 1)[0]
    assert not re.search(r"\d{4}-\d{2}-\d{2}", sentence), sentence
    assert timezone.localdate().strftime("%Y") in sentence


def test_the_schema_describes_the_receipt_field_and_endpoint() -> None:
    schema = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "/api/v1/receipts/{code}/" in schema["paths"]
    assert "receipt" in schema["components"]["schemas"]["BallotReceipt"]["properties"]
