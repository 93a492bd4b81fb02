"""DESIGN, Vote standards: "without quorum an item fails as 'no quorum'". A proposal item did; an
election, frequency or choice item of the same meeting named its winners whatever the shares
present. Now, without quorum, nobody is elected and no option wins (nor ties): the votes are still
shown, with "no quorum" as the reason, on the results page, in the API and in the Item 5.07
export, in English and in Italian."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.utils.encoders import JSONEncoder

from core.models import AuditEvent
from meetings.attendance import attendance_check_in
from meetings.ballot_rules import ElectionStandard, NomineeFigures, election_results, plurality_of_options
from meetings.ballot_services import item_lines_cast
from polls import certification, services
from polls.api.serializers import ResultsSerializer
from polls.models import Option, Poll
from polls.results import poll_results, results_json
from tests.factories import make_annual_item, make_meeting, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def agm() -> dict[str, Any]:
    """20,000 shares outstanding, quorum more than half: Alice's 500 shares alone are no quorum;
    Cede & Co's 10,000 with them are."""
    users = {name: make_user(username=name, email=f"{name}@example.com") for name in ("cede", "alice")}
    register = make_register(
        [("H-CEDE", "Cede & Co", "cede@example.com", 10_000), ("H-ALICE", "Alice", "alice@example.com", 500)],
        outstanding=20_000,
    )
    return {
        "meeting": make_meeting(register, title="2025 Annual Meeting"),
        "users": users,
        "secretary": make_secretary(),
    }


def _ids(item: Poll) -> list[int]:
    return list(Option.objects.filter(poll=item).order_by("position").values_list("pk", flat=True))


def _api(item: Poll) -> dict[str, Any]:
    response = Client().get(f"/api/v1/polls/{item.pk}/results/")
    assert response.status_code == 200
    return dict(response.json())


def _csv(meeting_id: int) -> list[list[str]]:
    response = Client().get(f"/meetings/{meeting_id}/results.csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode())))


def _page(url: str, language: str = "en") -> str:
    response = Client().get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _cells(page: str) -> list[list[str]]:
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", page, flags=re.S)
    return [
        [re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in rows
    ]


def _inquorate_election(agm: dict[str, Any], **fields: Any) -> Poll:
    """Alice's 500 of 20,000 shares for Ada and for Bob (2 seats), closed and certified."""
    item = make_annual_item(
        agm["meeting"], "election", nominees=["Ada", "Bob"], election_standard="majority", seats=2, **fields
    )
    ada, bob = _ids(item)
    item_lines_cast(poll_id=item.pk, actor=agm["users"]["alice"], data={"votes": {str(ada): "for", str(bob): "for"}})
    services.poll_close(poll=item)
    certification.poll_certify(poll=item, actor=agm["secretary"])
    item.refresh_from_db()
    return item


def _inquorate_frequency(agm: dict[str, Any]) -> Poll:
    item = make_annual_item(agm["meeting"], "frequency")
    one, _two, _three, _abstain = _ids(item)
    item_lines_cast(poll_id=item.pk, actor=agm["users"]["alice"], data={"option": one})
    services.poll_close(poll=item)
    certification.poll_certify(poll=item, actor=agm["secretary"])
    item.refresh_from_db()
    return item


def _as_json(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=JSONEncoder))


# ---- the rules ---------------------------------------------------------------------------------


def test_without_quorum_the_election_rule_elects_nobody_and_still_reports_the_percentages() -> None:
    figures = [
        NomineeFigures(id=1, for_=500, against=0, abstain=0),
        NomineeFigures(id=2, for_=100, against=400, abstain=0),
    ]
    for standard in ElectionStandard:
        outcomes = election_results(figures, standard=standard, seats=1, quorum_met=False)
        assert [(o.elected, o.status) for o in outcomes] == [(False, "no_quorum"), (False, "no_quorum")]
        assert [str(o.percent) for o in outcomes] == ["100.0", "20.0"]
    # With quorum the same figures elect as before.
    assert [o.status for o in election_results(figures, standard=ElectionStandard.MAJORITY, seats=1)] == [
        "elected",
        "resignation_tendered",
    ]


def test_without_quorum_no_option_wins_or_ties_and_the_leaders_share_is_still_reported() -> None:
    lone = plurality_of_options({1: 300, 2: 100}, quorum_met=False)
    assert (lone.winner, lone.tied, str(lone.percent), lone.quorum_met) == (None, (), "75.0", False)
    tie = plurality_of_options({1: 100, 2: 100}, quorum_met=False)
    assert (tie.winner, tie.tied) == (None, ())
    assert plurality_of_options({1: 300, 2: 100}).winner == 1


# ---- the API -----------------------------------------------------------------------------------


def test_an_election_without_quorum_elects_nobody_in_the_api(agm: dict[str, Any]) -> None:
    item = _inquorate_election(agm)
    body = _api(item)
    assert body["quorum"]["met"] is False
    assert [(n["name"], n["for"], n["percent"], n["elected"], n["status"]) for n in body["nominees"]] == [
        ("Ada", "500", "100.0", False, "no_quorum"),
        ("Bob", "500", "100.0", False, "no_quorum"),
    ]


def test_an_election_without_quorum_tenders_no_resignation(agm: dict[str, Any]) -> None:
    """Nobody failed a vote the meeting could not hold: the majority-voting follow-up has nothing to do."""
    item = make_annual_item(agm["meeting"], "election", nominees=["Ada", "Bob"], election_standard="majority")
    ada, bob = _ids(item)
    votes = {str(ada): "for", str(bob): "against"}
    item_lines_cast(poll_id=item.pk, actor=agm["users"]["alice"], data={"votes": votes})
    services.poll_close(poll=item)
    certification.poll_certify(poll=item, actor=agm["secretary"])
    assert [n["status"] for n in _api(item)["nominees"]] == ["no_quorum", "no_quorum"]
    assert not AuditEvent.objects.filter(stream=f"poll:{item.pk}", action="resignation_tendered").exists()


def test_an_election_elects_once_the_meeting_has_quorum(agm: dict[str, Any]) -> None:
    item = make_annual_item(
        agm["meeting"], "election", nominees=["Ada", "Bob"], election_standard="majority", results_visibility="live"
    )
    ada, bob = _ids(item)
    item_lines_cast(poll_id=item.pk, actor=agm["users"]["alice"], data={"votes": {str(ada): "for", str(bob): "for"}})
    assert [n["status"] for n in _api(item)["nominees"]] == ["no_quorum", "no_quorum"]
    cede = agm["meeting"].register.holders.get(account="H-CEDE")
    attendance_check_in(meeting=agm["meeting"], holder_id=cede.pk, actor=agm["users"]["cede"])
    body = _api(item)
    assert body["quorum"]["met"] is True
    assert [(n["elected"], n["status"]) for n in body["nominees"]] == [(True, "elected"), (True, "elected")]


def test_a_frequency_item_without_quorum_has_no_winner_in_the_api(agm: dict[str, Any]) -> None:
    item = _inquorate_frequency(agm)
    body = _api(item)
    assert body["quorum"]["met"] is False
    assert body["winner"] is None and body["tied"] == []
    assert body["decision"]["winner"] is None
    assert body["decision"]["reason"] == "no quorum"
    assert body["decision"]["percent"] == "100.0"


def test_a_tied_choice_item_without_quorum_reports_no_tie(agm: dict[str, Any]) -> None:
    item = make_annual_item(agm["meeting"], "choice", options=["Austin", "Reno"], results_visibility="live")
    austin, reno = _ids(item)
    split = {str(austin): "250", str(reno): "250"}
    item_lines_cast(poll_id=item.pk, actor=agm["users"]["alice"], data={"splits": split})
    body = _api(item)
    assert (body["winner"], body["tied"], body["decision"]["winner"]) == (None, [], None)
    assert body["decision"]["reason"] == "no quorum"


def test_the_results_without_quorum_are_what_the_schemas_serializer_describes(agm: dict[str, Any]) -> None:
    for item in (_inquorate_election(agm), _inquorate_frequency(agm)):
        results = poll_results(poll=item)
        assert _as_json(results_json(results)) == _as_json(ResultsSerializer(results).data)


def test_the_schema_names_the_no_quorum_status_and_the_decisions_reason(client: Client) -> None:
    schema = client.get("/api/v1/schema/?format=json").json()
    components = schema["components"]["schemas"]

    def resolved(prop: dict[str, Any]) -> dict[str, Any]:
        for part in prop.get("allOf", [prop]):
            if "$ref" in part:
                return dict(components[part["$ref"].rsplit("/", 1)[-1]])
        return prop

    assert "no_quorum" in resolved(components["NomineeResult"]["properties"]["status"])["enum"]
    assert "reason" in components["OptionDecision"]["properties"]


# ---- the results page --------------------------------------------------------------------------


def test_the_election_page_says_no_quorum_for_each_nominee_in_english_and_italian(agm: dict[str, Any]) -> None:
    item = _inquorate_election(agm)
    english = _page(f"/polls/{item.pk}/results/")
    assert english.count("Not elected: no quorum") == 2
    assert "Elected<" not in english
    assert 'class="winner"' not in english
    italian = _page(f"/polls/{item.pk}/results/", "it")
    assert italian.count("Non eletto: quorum non raggiunto") == 2


def test_the_frequency_page_names_no_winner_in_english_and_italian(agm: dict[str, Any]) -> None:
    item = _inquorate_frequency(agm)
    english = _page(f"/polls/{item.pk}/results/")
    assert re.search(r"<dt>Winner</dt>\s*<dd>None: no quorum</dd>", english)
    assert 'class="winner"' not in english
    italian = _page(f"/polls/{item.pk}/results/", "it")
    assert "Nessuno: quorum non raggiunto" in italian


# ---- the Item 5.07 export ------------------------------------------------------------------------


def test_the_item_507_csv_reports_the_election_and_frequency_without_quorum(agm: dict[str, Any]) -> None:
    _inquorate_election(agm, title="Elect two directors")
    _inquorate_frequency(agm)
    rows = _csv(agm["meeting"].pk)
    assert ["Elect two directors", "Ada", "500", "0", "0", "0", "No", "Not elected: no quorum"] in rows
    assert ["Elect two directors", "Bob", "500", "0", "0", "0", "No", "Not elected: no quorum"] in rows
    assert [
        "Say-on-pay frequency",
        "500",
        "0",
        "0",
        "0",
        "0",
        "No winner: no quorum; advisory",
    ] in rows


def test_the_item_507_page_reports_no_quorum_in_the_readers_language(agm: dict[str, Any]) -> None:
    _inquorate_election(agm, title="Elect two directors")
    _inquorate_frequency(agm)
    url = f"/meetings/{agm['meeting'].pk}/item-5-07/"
    english = _cells(_page(url))
    assert ["Elect two directors", "Ada", "500", "0", "0", "0", "No", "Not elected: no quorum"] in english
    assert any(row[-1].startswith("No winner: no quorum") for row in english)
    italian = _cells(_page(url, "it"))
    assert ["Elect two directors", "Ada", "500", "0", "0", "0", "No", "Non eletto: quorum non raggiunto"] in italian
    assert any(row[-1].startswith("Nessun vincitore: quorum non raggiunto") for row in italian)
