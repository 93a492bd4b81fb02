"""Attack review of the meeting features of issues 14 and 15 (annual ballots, control numbers,
attendance, directed proxies, the proxy's desk, the board's recommendation, the proxy cut-off):
what a visitor, a member with no holding, a holder, a proxy, a recused director and a secretary
sending odd input get. A probe that found a real problem is kept as a strict xfail naming it."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.errors import DomainError
from core.models import AuditEvent
from meetings.attendance_models import Attendance
from meetings.ballot_models import BallotLine, ItemTerms, NomineeTally
from meetings.models import Holder, Meeting, ProxyAppointment, ProxyInstruction
from meetings.services import item_ballot_cast, proxy_appoint
from polls import certification
from polls import services as poll_services
from polls.models import Ballot, Option, Poll
from proposals import materials, review_votes
from proposals import services as proposals_services
from proposals.models import Comment
from proposals.workflow import Action
from tests import factories as f

pytestmark = pytest.mark.django_db

BIG, HUGE = 2**63, 10**30
SOON = timezone.now() + datetime.timedelta(days=2)
LATER = {"opens_at": SOON, "closes_at": SOON + datetime.timedelta(days=1)}


@dataclass
class Case:
    meeting: Meeting
    users: dict[str, Any]
    holders: dict[str, Holder]
    proposal: Poll
    election: Poll
    frequency: Poll
    draft: Poll


@pytest.fixture
def case() -> Case:
    users = {n: f.make_user(username=n, email=f"{n}@example.com") for n in ("dora", "ed", "proxy", "member")}
    users["secretary"] = f.make_secretary(username="sec")
    rows = [("H-DORA", "Dora Holder", "dora@example.com", 400), ("H-ED", "Ed Holder", "ed@example.com", 100)]
    register = f.make_register([*rows, ("H-QUIET", "Quiet Fund", "quiet@example.com", 500)], outstanding=1_000)
    holders = {h.account.removeprefix("H-").lower(): h for h in register.holders.all()}
    for name in ("dora", "ed"):
        Holder.objects.filter(pk=holders[name].pk).update(user=users[name])
        holders[name].refresh_from_db()
    # A week ahead: the default cut-off (23:59 the day before) is still to come.
    meeting = f.make_meeting(register, date=timezone.localdate() + datetime.timedelta(days=7))
    election = f.make_annual_item(meeting, "election", nominees=["Ann", "Bob"], election_standard="majority")
    draft = f.make_item(meeting, status="draft", title="Secret draft about a merger", **LATER)
    proposal, frequency = f.make_item(meeting, title="Ratify the auditor"), f.make_annual_item(meeting, "frequency")
    return Case(meeting, users, holders, proposal, election, frequency, draft)


def api(user: Any = None) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)  # None: a visitor
    return client


def web(user: Any = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def counts() -> dict[str, Any]:
    """Every row a write on a meeting could add or change, to compare before and after a refusal."""
    counted = (AuditEvent, Ballot, BallotLine, Attendance, ProxyAppointment, ProxyInstruction)
    rows = {
        model.__name__: list(model.objects.order_by("pk").values_list()) for model in (Meeting, NomineeTally, ItemTerms)
    }
    return (
        rows
        | {model.__name__: model.objects.count() for model in counted}
        | {"options": list(Option.objects.order_by("pk").values_list("pk", "votes", "weight"))}
    )


def nominee(item: Poll, label: str) -> Option:
    return Option.objects.get(poll=item, label=label)


def appoint_both(case: Case) -> None:
    for name in ("dora", "ed"):
        proxy_appoint(
            meeting=case.meeting, holder=case.holders[name], proxy=case.users["proxy"], actor=case.users[name]
        )


def dora_votes_for(case: Case) -> None:
    item_ballot_cast(poll_id=case.proposal.pk, actor=case.users["dora"], choice="for", holder_id=None)


# ---- a visitor and a member with no holding -------------------------------------------------


def test_a_visitor_reads_the_meeting_and_recommendations_without_any_holders_name_or_a_draft(case: Case) -> None:
    dora_votes_for(case)
    for path in ("", f"?holder={case.holders['dora'].pk}"):
        body = web().get(f"/meetings/{case.meeting.pk}/{path}").content.decode()
        assert "Ratify the auditor" in body and 'name="holder"' not in body
        for secret in ("Dora Holder", "Ed Holder", "Quiet Fund", "Secret draft about a merger"):
            assert secret not in body
    rows = api().get(f"/api/v1/meetings/{case.meeting.pk}/recommendations/").json()
    assert {row["item"] for row in rows} == {case.proposal.pk, case.election.pk, case.frequency.pk}


@pytest.mark.parametrize("path", ["results.csv", "item-5-07/"])
def test_the_meeting_reports_show_no_open_or_draft_item_before_certification(case: Case, path: str) -> None:
    dora_votes_for(case)
    response = web().get(f"/meetings/{case.meeting.pk}/{path}")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ratify the auditor" not in body and "Secret draft about a merger" not in body and "400" not in body


def test_a_member_sees_no_one_elses_attendance_only_the_total(case: Case) -> None:
    dora_votes_for(case)
    member = api(case.users["member"])
    assert member.get(f"/api/v1/meetings/{case.meeting.pk}/attendance/").json() == []
    assert member.get(f"/api/v1/meetings/{case.meeting.pk}/").json()["attendance"]["shares_present"] == "400"


def test_a_member_cannot_check_a_holder_in_and_an_unknown_holder_gets_the_same_refusal(case: Case) -> None:
    before = counts()
    dora, member = case.holders["dora"].pk, api(case.users["member"])
    url = f"/api/v1/meetings/{case.meeting.pk}/attendance/"
    theirs, unknown = member.post(url, {"holder": dora}, format="json"), member.post(url, {"holder": 987_654})
    assert theirs.status_code == unknown.status_code == 403
    assert theirs.json() == unknown.json() and "Dora" not in theirs.content.decode()
    page = web(case.users["member"]).post(f"/meetings/{case.meeting.pk}/check-in/", {"holder": str(dora)})
    assert page.status_code == 302
    assert counts() == before


CLAIMS = r"""
{"control_number": ["1234567812345670"]}
{"control_number": 1000000000000000000000000000000}
{"control_number": "1234 5678\u0000 1234 5670"}
{"control_number": {"a": 1}}
{"control_number\u0000": "1234567812345670"}
["1234567812345670"]
{}
"""


@pytest.mark.parametrize("body", CLAIMS.strip().splitlines())
def test_a_claim_of_the_wrong_shape_is_the_generic_400_and_links_nothing(case: Case, body: str) -> None:
    response = api(case.users["member"]).post("/api/v1/holdings/claim/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "control number cannot be used" in response.json()["detail"]
    for typed in ("\x00" * 16, "1" * 1_000_000):
        assert web(case.users["member"]).post("/holdings/claim/", {"control_number": typed}).status_code == 400
    assert not Holder.objects.filter(user=case.users["member"]).exists()


def test_a_revoked_proxy_can_no_longer_check_the_holder_in_see_them_or_vote_them(case: Case) -> None:
    ed = case.holders["ed"]
    appointment = proxy_appoint(meeting=case.meeting, holder=ed, proxy=case.users["proxy"], actor=case.users["ed"])
    proxy, url = api(case.users["proxy"]), f"/api/v1/meetings/{case.meeting.pk}/attendance/"
    assert proxy.post(url, {"holder": ed.pk}, format="json").status_code == 201
    assert [row["holder"] for row in proxy.get(url).json()] == [ed.pk]
    revoked = api(case.users["ed"]).delete(f"/api/v1/meetings/{case.meeting.pk}/proxies/{appointment.pk}/")
    assert revoked.status_code == 200
    before = counts()
    assert proxy.get(url).json() == []
    again = proxy.post(url, {"holder": ed.pk}, format="json")
    assert again.status_code == 403 and "Ed Holder" not in again.content.decode()
    assert proxy.get(f"/api/v1/meetings/{case.meeting.pk}/proxy-ballot/").json()["holders"] == []
    assert counts() == before


def test_past_the_cut_off_a_proxy_is_refused_everywhere_and_the_holder_still_votes(case: Case) -> None:
    appoint_both(case)
    Meeting.objects.filter(pk=case.meeting.pk).update(proxy_cutoff=timezone.now() - datetime.timedelta(minutes=1))
    before, proxy, ann = counts(), api(case.users["proxy"]), str(nominee(case.election, "Ann").pk)
    choices = {"choices": {str(case.proposal.pk): "for"}}
    assert proxy.post(f"/api/v1/meetings/{case.meeting.pk}/proxy-ballot/", choices, format="json").status_code == 409
    body = {"votes": {ann: "for"}, "holder": case.holders["dora"].pk}
    assert proxy.post(f"/api/v1/polls/{case.election.pk}/ballot/", body, format="json").status_code == 409
    assert counts() == before
    own = api(case.users["dora"]).post(
        f"/api/v1/polls/{case.election.pk}/ballot/", {"votes": {ann: "for"}}, format="json"
    )
    assert own.status_code == 201


# ---- odd input on every write: a clear refusal and nothing changed -------------------------

ROUTES = {
    "desk": ("proxy", "post", "/api/v1/meetings/{m}/proxy-ballot/"),
    "appoint": ("dora", "post", "/api/v1/meetings/{m}/proxies/"),
    "election": ("dora", "post", "/api/v1/polls/{e}/ballot/"),
    "frequency": ("dora", "post", "/api/v1/polls/{f}/ballot/"),
    "meeting": ("secretary", "patch", "/api/v1/meetings/{m}/"),
    "check-in": ("secretary", "post", "/api/v1/meetings/{m}/attendance/"),
    "resign": ("secretary", "post", "/api/v1/meetings/{m}/resignations/"),
    "interested": ("secretary", "post", "/api/v1/polls/{d}/interested/"),
    "recommend": ("secretary", "post", "/api/v1/meetings/{m}/recommendations/"),
}
# One line per template: route ~ JSON body with @ for each value ~ values. Tokens such as {p} are
# the case's ids (the `ids` fixture); <empty> is an empty body. A route ending in ! is the finding.
ODD_WRITES = r"""
desk ~ {"holders": [@], "choices": {"{p}": "for"}} ~ {big} | {huge} | -1 | "05" | true | [1] | null
desk ~ {"holders": @, "choices": {"{p}": "for"}} ~ "ALL" | {"1": 2} | [] | "{dora}"
desk ~ {"choices": {"@": "for"}} ~ 0{p} | {p}\u0000 | \u0000 | {big} | {huge} | -1 | {other} | {d}
desk ~ {"choices": {"{p}": @}} ~ "maybe" | ["for"] | {huge} | null | {"split": {"for": "{huge}"}}
desk ~ {"choices": {"{e}": {"votes": @}}} ~ {"{ann}": "maybe"} | {"0{ann}": "for"} | ["for"] | {"{foreign}": "for"}
desk ~ {"choices": {"{e}": {"votes": {"@": "for"}}}} ~ {ann}\u0000 | {big}
desk ~ {"choices": {"{f}": {"option": @}}} ~ {huge} | -1 | {ann} | {color}
desk ~ {"choices": @} ~ ["for"] | "for" | null
desk ~ {"choices": {"{p}": "for"}, "exceptions": @} ~ {"{dora}": ["for"]} | {"0{dora}": {"{p}": "for"}} | {"{big}": {}}
desk ~ {"choices": {"{p}": "for"}, "exceptions": @} ~ {"{quiet}": {"{p}": "for"}} | {"{dora}": {"\u0000": "for"}}
appoint ~ {"holder": {dora}, "proxy": "proxy", "instructions": {"@": "for"}} ~ 0{p} | {p}\u0000 | -1 | {d} | {other}
appoint! ~ {"holder": {dora}, "proxy": "proxy", "instructions": {"@": "for"}} ~ {big} | {huge}
appoint ~ {"holder": {dora}, "proxy": "proxy", "instructions": @} ~ {"{p}": ["for"]} | {"{p}": null} | ["for"] | "for"
appoint ~ {"holder": @, "proxy": "proxy"} ~ {big} | {ed} | {outsider} | "{dora}\u0000"
election ~ {"votes": {"@": "for"}} ~ 0{ann} | {ann}\u0000 | \u0000 | {big} | {huge} | -1 | {foreign}
election ~ {"votes": @} ~ {"{ann}": "for\u0000"} | {"{ann}": ["for"]} | ["for"] | {}
election ~ {"cumulative": {"{ann}": "@"}} ~ -5 | {huge} | 1e3
election ~ {"splits": {"{ann}": {"for": "{big}"}}}
election ~ {"option": @} ~ {ann} | {huge}
election ~ {"votes": {"{ann}": "for"}, "holder": @} ~ {big} | {quiet} | {outsider}
election ~ {"votes": {"{ann}": "for"}, "unknown\u0000": 1}
election ~ @ ~ [] | "x" | <empty> | null | { | {"votes": {"1": "for"}} trailing
frequency ~ {"option": @} ~ {ann} | {color} | {big} | -1 | "05" | [1] | null | true
frequency ~ {"choice": "for"}
meeting ~ {"proxy_cutoff": @} ~ "9999-12-31T23:59:59Z" | "0001-01-01T00:00:00Z" | "2025-13-40T25:61:00Z" | {huge}
meeting ~ {"proxy_cutoff": @} ~ ["2025-11-05T10:00:00Z"] | "2025-11-05T10:00:00\u0000Z"
meeting ~ @ ~ {"title": "Annual\u0000meeting"} | {"quorum": "1/0"} | {"quorum": "{huge}/{huge}1"} | []
meeting ~ @ ~ {"register": {big}} | {"register": {outsider_register}} | {"date": "2025-02-30"}
check-in ~ {"holder": @} ~ {big} | {huge} | -1 | 0 | "1\u0000" | [1] | null | {outsider}
check-in ~ @ ~ {} | [1, 2] | <empty>
resign ~ {"item": {e}, "nominee": @, "decision": "accepted"} ~ {ann} | {foreign} | {huge} | -1 | [{ann}]
resign ~ {"item": @, "nominee": {foreign}, "decision": "accepted"} ~ {other_election} | {big}
resign ~ {"item": {e}, "nominee": {ann}, "decision": @} ~ "maybe" | "accepted", "note": "a\u0000b"
resign ~ {}
interested ~ {"holder": @, "reason": "Director's fund"} ~ {big} | {huge} | {outsider} | -1
interested ~ {"holder": {dora}, "reason": @} ~ "a\u0000b" | "   " | ["x"]
recommend ~ {"item": {d}, "option": @} ~ {huge} | {big} | {color}
recommend ~ {"item": @, "recommendation": "for"} ~ {huge} | "{d}\u0000" | {p} | {other}
recommend ~ {"item": {d}, @} ~ "recommendation": "for\u0000" | "recommendation": ["for"] | "nominees": ["for"]
recommend ~ @ ~ [] | "for" | <empty> | null
"""


def expand(table: str) -> list[list[str]]:
    """Each line of a table split at " ~ "; a line with @ in a column is one row per value of its last."""
    found = []
    for line in table.strip().splitlines():
        parts = [part.strip() for part in line.split(" ~ ")]
        if not any("@" in part for part in parts[:-1]):
            found.append(parts)
            continue
        *columns, values = parts
        found += [[c.replace("@", "" if v == "<empty>" else v) for c in columns] for v in values.split(" | ")]
    return found


def odd_writes() -> list[Any]:
    # A route marked "!" once found a 500: an item id past a bigint (SQLite could not bind it).
    return [
        pytest.param(ROUTES[route.rstrip("!")], body, id=f"{route}:{body[:60]}") for route, body in expand(ODD_WRITES)
    ]


@pytest.fixture
def ids(case: Case) -> dict[str, Any]:
    """The case's ids by token, with a proxy holding Dora's and Ed's appointments."""
    appoint_both(case)
    elsewhere = f.make_meeting(case.meeting.register, title="Special meeting")
    other_election = f.make_annual_item(elsewhere, "election", nominees=["Zed", "Yan"], election_standard="majority")
    outsider = f.make_register([("H-X", "Outsider", "x@example.com", 9)], outstanding=9)
    color = f.make_annual_item(case.meeting, "choice", options=["Red", "Blue"], title="Colour")
    found = {
        "m": case.meeting.pk, "p": case.proposal.pk, "e": case.election.pk, "f": case.frequency.pk,
        "d": case.draft.pk, "ann": nominee(case.election, "Ann").pk, "foreign": nominee(other_election, "Zed").pk,
        "other_election": other_election.pk, "other": f.make_item(elsewhere, title="Elsewhere").pk,
        "color": nominee(color, "Red").pk, "outsider": outsider.holders.get().pk, "outsider_register": outsider.pk,
        "dora": case.holders["dora"].pk, "ed": case.holders["ed"].pk, "quiet": case.holders["quiet"].pk,
        "big": BIG, "huge": HUGE,
    }  # fmt: skip
    return {"{" + name + "}": str(value) for name, value in sorted(found.items(), key=lambda kv: -len(kv[0]))}


def filled(text: str, ids: dict[str, str]) -> str:
    for token, value in ids.items():
        text = text.replace(token, value)
    return text


@pytest.mark.parametrize(("route", "body"), odd_writes())
def test_an_odd_write_is_a_clear_refusal_that_changes_nothing(
    case: Case, ids: dict[str, str], route: tuple[str, str, str], body: str
) -> None:
    who, method, path = route
    before = counts()
    client = api(case.users[who])
    response = getattr(client, method)(filled(path, ids), data=filled(body, ids), content_type="application/json")
    assert response.status_code in (400, 403, 404, 409), (response.status_code, response.content[:300])
    assert counts() == before


# Who gets what, with Dora's ballot cast: who ~ method ~ path ~ body (JSON) ~ the statuses expected.
# Tokens are the case's ids; a value past a bigint is never a 500, and no answer names a holder.
ODD_PAGES = r"""
visitor ~ get ~ /api/v1/meetings/{m}/attendance/ ~ {} ~ 401 | 403
visitor ~ get ~ /api/v1/registers/{register}/mailing.csv ~ {} ~ 401 | 403
visitor ~ get ~ /registers/{register}/mailing.csv ~ {} ~ 302
visitor ~ get ~ /api/v1/polls/{d}/results/ ~ {} ~ 404
visitor ~ get ~ /api/v1/polls/{p}/results/ ~ {} ~ 403
visitor ~ get ~ /console/outbox/ ~ {} ~ 302
visitor ~ get ~ /console/polls/{d}/recommendation/ ~ {} ~ 302
visitor ~ post ~ /api/v1/meetings/{m}/recommendations/ ~ {"item": {d}, "recommendation": "for"} ~ 401 | 403
visitor ~ post ~ /api/v1/meetings/{m}/attendance/ ~ {"holder": {dora}} ~ 401 | 403
member ~ post ~ /meetings/{m}/check-in/ ~ {"holder": "{dora}"} ~ 302
member ~ get ~ /api/v1/polls/{p}/ballot/?holder={dora} ~ {} ~ 404
ed ~ get ~ /api/v1/polls/{p}/ballot/?holder={dora} ~ {} ~ 404
proxy ~ get ~ /api/v1/polls/{p}/ballot/?holder={dora} ~ {} ~ 404
member ~ get ~ /api/v1/polls/{p}/results/ ~ {} ~ 403
dora ~ get ~ /api/v1/polls/{p}/results/ ~ {} ~ 403
secretary ~ get ~ /api/v1/polls/{p}/results/ ~ {} ~ 403
member ~ get ~ /api/v1/registers/{register}/mailing.csv ~ {} ~ 403
dora ~ get ~ /registers/{register}/mailing.csv ~ {} ~ 403
member ~ get ~ /console/outbox/ ~ {} ~ 403
dora ~ get ~ /console/outbox/ ~ {} ~ 403
proxy ~ get ~ /console/polls/{d}/recommendation/ ~ {} ~ 403
dora ~ post ~ /console/polls/{d}/recommendation/ ~ {"recommendation": "for"} ~ 403
member ~ get ~ /api/v1/polls/{d}/interested/ ~ {} ~ 403
dora ~ post ~ /api/v1/polls/{d}/interested/ ~ {"holder": {dora}, "reason": "x"} ~ 403
member ~ post ~ /api/v1/meetings/{m}/resignations/ ~ {"item": {e}, "nominee": {ann}, "decision": "accepted"} ~ 403
member ~ patch ~ /api/v1/meetings/{m}/ ~ {"proxy_cutoff": null} ~ 403
member ~ get ~ /meetings/{m}/proxy-ballot/ ~ {} ~ 200 | 403
member ~ get ~ /api/v1/meetings/{m}/proxy-ballot/ ~ {} ~ 200
member ~ post ~ /api/v1/meetings/{m}/proxy-ballot/ ~ {"holders": [{dora}], "choices": {"{p}": "against"}} ~ 403
secretary ~ get ~ /api/v1/registers/9999999999999999999/mailing.csv ~ {} ~ 404
secretary ~ patch ~ /api/v1/meetings/{m}/ ~ {"proxy_cutoff": "2000-01-01T00:00:00Z"} ~ 409
secretary ~ post ~ /console/polls/{d}/recommendation/ ~ @ ~ 400 ~ {"recommendation": "maybe"} | {"nominee-1": "for"}
secretary ~ post ~ /console/polls/{d}/recommendation/ ~ @ ~ 400 ~ {"recommendation": "for\u0000"} | {"option": "{huge}"}
secretary ~ post ~ /meetings/{m}/check-in/ ~ {"holder": "@"} ~ 302 ~ 05 | \u0665 | 1111111111111111111 | -1 | 1\u0000
secretary ~ get ~ /console/outbox/?@ ~ {} ~ 200 | 400 | 404 ~ status=%00 | page={huge} | page=-1
dora ~ get ~ @ ~ {} ~ 200 | 400 | 404 ~ /meetings/{m}/?holder={huge} | /meetings/{m}/?holder=%00
dora ~ get ~ @ ~ {} ~ 400 | 404 ~ /api/v1/polls/{p}/ballot/?holder={huge} | /api/v1/polls/{p}/ballot/?holder=%00
dora ~ delete ~ /api/v1/meetings/{m}/proxies/@/ ~ {} ~ 404 ~ {big} | {huge}
dora ~ post ~ /meetings/{m}/proxies/@/revoke/ ~ {} ~ 404 ~ {big} | {huge}
secretary ~ get ~ /meetings/{big}/@ ~ {} ~ 404 ~ <empty> | results.csv | item-5-07/ | proxy-ballot/
secretary ~ get ~ /api/v1/meetings/{big}/@/ ~ {} ~ 404 ~ attendance | recommendations | resignations | proxy-ballot
secretary ~ get ~ /api/v1/polls/{big}/@/ ~ {} ~ 404 ~ ballot | results | interested
secretary ~ get ~ /console/polls/{big}/recommendation/ ~ {} ~ 404
"""


@pytest.mark.parametrize(("who", "method", "path", "body", "statuses"), expand(ODD_PAGES))
def test_an_odd_or_unauthorised_request_is_a_clear_answer_that_changes_nothing(
    case: Case, who: str, method: str, path: str, body: str, statuses: str
) -> None:
    dora_votes_for(case)
    found = {"m": case.meeting, "p": case.proposal, "d": case.draft, "e": case.election, "dora": case.holders["dora"]}
    ids = {"{" + name + "}": str(row.pk) for name, row in found.items()}
    ids |= {"{ann}": str(nominee(case.election, "Ann").pk), "{register}": str(case.meeting.register_id)}
    url, data = filled(path, ids | {"{big}": str(BIG), "{huge}": str(HUGE)}), filled(body, ids | {"{huge}": str(HUGE)})
    client, before = web(case.users.get(who)), counts()
    if method == "get":
        response = client.get(url)
    elif url.startswith("/api/"):
        response = getattr(client, method)(url, data, content_type="application/json")
    else:
        response = getattr(client, method)(url, json.loads(data))
    assert response.status_code in {int(code) for code in statuses.split(" | ")}, response.status_code
    if response.status_code == 302 and who == "visitor":
        assert "/login" in response["Location"]
    assert counts() == before
    served = response.content.decode(errors="replace")
    assert "Ed Holder" not in served and (who == "dora" or "Dora Holder" not in served)


# ---- the recused director -------------------------------------------------------------------


def test_the_recommendation_link_shows_a_recused_director_the_decision_but_not_the_boards_comments(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        secretary = f.make_secretary()
        robyn, ira = f.make_director("robyn"), f.make_director("ira")
        elon = f.make_director("elon", interests=("xAI",))
        proposal = f.make_proposal(f.make_user(), counterparty="xAI Corp")
        f.start_review(proposal, secretary)
        materials.comment_add(proposal=proposal, actor=robyn.user, body="Elon's conflict is why we hesitate")
        for director in (robyn, ira):
            review_votes.review_vote_cast(proposal_id=proposal.pk, actor=director.user, decision="approve")
        # The recused director also holds shares, so the meeting's ballot is theirs to read.
        register = f.make_register([("H1", "Elon Holder", "elon@example.com", 100)], outstanding=100)
        Holder.objects.filter(register=register).update(user=elon.user)
        meeting = f.make_meeting(register)
    # Before it is put to a vote, nothing on the meeting's page points at the proposal.
    assert f"/proposals/{proposal.pk}/" not in web(elon.user).get(f"/meetings/{meeting.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        proposals_services.proposal_transition(
            proposal_id=proposal.pk, action=Action.PUT_TO_VOTE, actor=secretary, meeting=meeting
        )
    proposal.refresh_from_db()
    assert proposal.item is not None
    # The item is put on the ballot as a draft: nothing links the proposal until it opens.
    assert f"/proposals/{proposal.pk}/" not in web(elon.user).get(f"/meetings/{meeting.pk}/").content.decode()
    poll_services.poll_open(poll=proposal.item)
    page = web(elon.user).get(f"/meetings/{meeting.pk}/").content.decode()
    assert f"/proposals/{proposal.pk}/" in page
    for reader in (None, f.make_user(username="reader"), elon.user):
        detail = web(reader).get(f"/proposals/{proposal.pk}/").content.decode()
        comments = api(reader).get(f"/api/v1/proposals/{proposal.pk}/comments/").content.decode()
        assert "Invest $5B in xAI" in detail and "why we hesitate" not in detail + comments
    assert Comment.objects.filter(body__contains="why we hesitate").exists()


# ---- integrity: rows changed by SQL -------------------------------------------------------


def sql(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def closed_with_ballots(case: Case) -> Poll:
    dora_votes_for(case)
    item_ballot_cast(poll_id=case.proposal.pk, actor=case.users["ed"], choice="against", holder_id=None)
    poll_services.poll_close(poll=case.proposal)
    call_command("verify_audit")
    return case.proposal


def test_shares_present_raised_by_sql_is_found_and_certification_refuses(case: Case) -> None:
    item = closed_with_ballots(case)
    sql("UPDATE meetings_meeting SET shares_present = shares_present + 400 WHERE id = %s", [case.meeting.pk])
    with pytest.raises(CommandError, match="shares present"):
        call_command("verify_audit")
    with pytest.raises(DomainError, match=r"shares present"):
        certification.poll_certify(poll=item, actor=case.users["secretary"])


def test_a_holder_made_present_by_sql_is_found_by_verify_audit(case: Case) -> None:
    closed_with_ballots(case)
    quiet = case.holders["quiet"]
    sql(
        "INSERT INTO meetings_attendance (meeting_id, holder_id, shares, source, recorded_by_id, at) "
        "VALUES (%s, %s, %s, 'in_person', NULL, %s)",
        [case.meeting.pk, quiet.pk, quiet.shares, timezone.now()],
    )
    sql(
        "UPDATE meetings_meeting SET shares_present = shares_present + %s WHERE id = %s",
        [quiet.shares, case.meeting.pk],
    )
    with pytest.raises(CommandError, match="no ballot or check-in on the trail"):
        call_command("verify_audit")
    with pytest.raises(DomainError, match="no ballot or check-in on the trail"):
        certification.poll_certify(poll=case.proposal, actor=case.users["secretary"])


def test_a_recommendation_changed_by_sql_after_opening_is_found_by_verify_audit(case: Case) -> None:
    closed_with_ballots(case)
    ItemTerms.objects.get_or_create(poll=case.proposal)  # the row as the services make it: "none"
    sql("UPDATE meetings_itemterms SET recommendation = 'against' WHERE poll_id = %s", [case.proposal.pk])
    with pytest.raises(CommandError, match="recommendation: stored against, trail"):
        call_command("verify_audit")
    with pytest.raises(DomainError, match="recommendation: stored against"):
        certification.poll_certify(poll=case.proposal, actor=case.users["secretary"])
