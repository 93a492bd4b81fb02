"""A database administrator rewrites the inspector's tabulation or a certified record with SQL:
`verify_audit` (plain, without --certified) names it, and certification refuses forged figures
instead of freezing them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone, translation

from core.models import AuditEvent
from meetings.ballot_services import lines_tabulation_record
from meetings.models import Tabulation
from meetings.services import tabulation_record
from polls import certification, trail_records
from polls.exceptions import IllegalTransition
from polls.models import Option, Poll, PollStatus
from tests.core.test_audit_tamper import refused, sql, verify
from tests.factories import make_annual_item, make_item, make_meeting, make_register, make_secretary

pytestmark = pytest.mark.django_db

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "it" / "LC_MESSAGES"


@pytest.fixture
def agm() -> dict[str, Any]:
    register = make_register(
        [("H-CEDE", "Cede & Co", "cede@example.com", 10_000), ("H-ALICE", "Alice", "alice@example.com", 500)],
        outstanding=20_000,
    )
    return {"meeting": make_meeting(register, title="2025 Annual Meeting"), "secretary": make_secretary()}


@pytest.fixture
def tabulated(agm: dict[str, Any]) -> Poll:
    """A closed proposal with the inspector's three numbers and 1,250 broker non-votes."""
    item = make_item(agm["meeting"], status=PollStatus.CLOSED, title="Ratify the auditor")
    tabulation_record(
        poll=item,
        shares_for=9_000,
        shares_against=700,
        shares_abstain=300,
        broker_non_votes=1_250,
        actor=agm["secretary"],
    )
    return item


def nominees(item: Poll) -> list[int]:
    return list(Option.objects.filter(poll=item).order_by("position").values_list("pk", flat=True))


@pytest.fixture
def election(agm: dict[str, Any]) -> Poll:
    """A closed majority election with the inspector's lines per nominee."""
    item = make_annual_item(
        agm["meeting"], "election", status=PollStatus.CLOSED, nominees=["Ada", "Bob"], election_standard="majority"
    )
    ada, bob = nominees(item)
    lines = [
        {"option": ada, "choice": "for", "shares": 2_000},
        {"option": ada, "choice": "against", "shares": 500},
        {"option": bob, "choice": "for", "shares": 900},
        {"option": bob, "choice": "against", "shares": 1_600},
    ]
    lines_tabulation_record(poll=item, actor=agm["secretary"], lines=lines, broker_non_votes=10, source="Inspector")
    return item


def certify(item: Poll, secretary: Any) -> Poll:
    return certification.poll_certify(poll=item, actor=secretary, confirm_difference=True)


# ---- the tabulation against its tabulation_recorded link ------------------------------------------


def test_broker_non_votes_rewritten_by_sql_before_certification_are_found(tabulated: Poll) -> None:
    sql("UPDATE meetings_tabulation SET broker_non_votes = 6000 WHERE poll_id = %s", [tabulated.pk])
    refused(rf"poll {tabulated.pk}: its tabulation's broker non-votes differ from its latest tabulation_recorded")


def test_a_share_figure_rewritten_by_sql_before_certification_is_found(tabulated: Poll) -> None:
    sql("UPDATE meetings_tabulation SET shares_against = 70 WHERE poll_id = %s", [tabulated.pk])
    refused(rf"poll {tabulated.pk}: its tabulation's against differ")


def test_certification_refuses_a_forged_tabulation_even_with_the_difference_confirmed(
    agm: dict[str, Any], tabulated: Poll
) -> None:
    sql("UPDATE meetings_tabulation SET broker_non_votes = 6000 WHERE poll_id = %s", [tabulated.pk])
    with pytest.raises(certification.RecordOffTrail, match="the inspector's tabulation differs from what the audit"):
        certify(tabulated, agm["secretary"])
    poll = Poll.objects.get(pk=tabulated.pk)
    assert poll.status == PollStatus.CLOSED
    assert poll.certified_result is None
    assert not AuditEvent.objects.filter(stream=f"poll:{tabulated.pk}", action="poll_certified").exists()


def test_the_certification_refusal_is_in_italian(agm: dict[str, Any], tabulated: Poll) -> None:
    compiled, source = CATALOGUE / "django.mo", CATALOGUE / "django.po"
    if not compiled.exists() or compiled.stat().st_mtime < source.stat().st_mtime:
        pytest.fail("The Italian catalogue is not compiled or is stale: run `make messages` (make test does).")
    sql("UPDATE meetings_tabulation SET broker_non_votes = 6000 WHERE poll_id = %s", [tabulated.pk])
    with translation.override("it"), pytest.raises(certification.RecordOffTrail) as refusal:
        certify(tabulated, agm["secretary"])
    assert "Certificazione interrotta: lo scrutinio dell'ispettore differisce" in refusal.value.message


def test_a_tabulation_forged_before_an_earlier_certification_is_found_once_certified(
    agm: dict[str, Any], tabulated: Poll, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Certified by a version that did not compare the rows with the trail: the record froze
    the forged figures, so only the link still says what the inspector entered."""
    sql("UPDATE meetings_tabulation SET broker_non_votes = 6000 WHERE poll_id = %s", [tabulated.pk])
    with monkeypatch.context() as patched:
        patched.setattr(trail_records, "certification_refusal", lambda poll: None)
        certify(tabulated, agm["secretary"])
    record = Poll.objects.get(pk=tabulated.pk).certified_result or {}
    assert record["certification"]["tabulation"]["broker_non_votes"] == "6000"
    refused(rf"poll {tabulated.pk}: its tabulation's broker non-votes differ")
    refused(rf"poll {tabulated.pk}: its tabulation's broker non-votes differ", "--certified", str(tabulated.pk))


def test_an_election_line_rewritten_by_sql_before_certification_is_found(election: Poll) -> None:
    _ada, bob = nominees(election)
    sql("UPDATE meetings_tabulationline SET shares = 100 WHERE option_id = %s AND choice = 'against'", [bob])
    refused(rf"poll {election.pk}: its tabulation's option {bob} against differ")


def test_an_election_line_deleted_or_added_by_sql_is_found(election: Poll) -> None:
    ada, bob = nominees(election)
    sql("DELETE FROM meetings_tabulationline WHERE option_id = %s AND choice = 'against'", [bob])
    refused(rf"poll {election.pk}: its tabulation's option {bob} against differ")
    sql(
        "INSERT INTO meetings_tabulationline (tabulation_id, option_id, choice, shares) "
        "SELECT id, %s, 'against', 1600 FROM meetings_tabulation WHERE poll_id = %s",
        [bob, election.pk],
    )
    assert "events verified" in verify()
    sql(
        "INSERT INTO meetings_tabulationline (tabulation_id, option_id, choice, shares) "
        "SELECT id, %s, 'abstain', 5 FROM meetings_tabulation WHERE poll_id = %s",
        [ada, election.pk],
    )
    refused(rf"poll {election.pk}: its tabulation's option {ada} abstain differ")


def test_an_election_tabulation_changed_by_sql_stops_its_certification(agm: dict[str, Any], election: Poll) -> None:
    sql("UPDATE meetings_tabulation SET broker_non_votes = 0 WHERE poll_id = %s", [election.pk])
    with pytest.raises(certification.RecordOffTrail):
        certify(election, agm["secretary"])
    assert Poll.objects.get(pk=election.pk).status == PollStatus.CLOSED


def test_a_tabulation_deleted_by_sql_is_found_and_stops_certification(agm: dict[str, Any], tabulated: Poll) -> None:
    """Without its row the item would be certified on the ballots alone, as if never tabulated."""
    sql("DELETE FROM meetings_tabulation WHERE poll_id = %s", [tabulated.pk])
    refused(rf"poll {tabulated.pk}: its tabulation, recorded by link #\d+, is missing")
    with pytest.raises(certification.RecordOffTrail):
        certify(tabulated, agm["secretary"])


def test_a_tabulation_inserted_by_sql_is_found_and_stops_certification(agm: dict[str, Any]) -> None:
    item = make_item(agm["meeting"], status=PollStatus.CLOSED)
    sql(
        "INSERT INTO meetings_tabulation (poll_id, shares_for, shares_against, shares_abstain, broker_non_votes, "
        "source, entered_by_id, entered_at) VALUES (%s, 1, 2, 3, 4, '', %s, %s)",
        [item.pk, agm["secretary"].pk, timezone.now()],
    )
    refused(rf"poll {item.pk}: its tabulation has no tabulation_recorded link on the trail")
    with pytest.raises(certification.RecordOffTrail):
        certify(item, agm["secretary"])


# ---- what the services write verifies clean ----------------------------------------------------------


def test_a_tabulation_entered_twice_verifies_and_certifies_on_the_second(agm: dict[str, Any], tabulated: Poll) -> None:
    tabulation_record(
        poll=tabulated,
        shares_for=8_000,
        shares_against=900,
        shares_abstain=100,
        broker_non_votes=42,
        actor=agm["secretary"],
    )
    assert "events verified" in verify()
    certify(tabulated, agm["secretary"])
    assert Tabulation.objects.get(poll=tabulated).broker_non_votes == 42
    assert "events verified" in verify()
    assert "is as certified" in verify("--certified", str(tabulated.pk))


def test_election_lines_entered_twice_verify_and_certify_on_the_second(agm: dict[str, Any], election: Poll) -> None:
    ada, bob = nominees(election)
    lines = [{"option": ada, "choice": "for", "shares": 2_100}, {"option": bob, "choice": "against", "shares": 1_700}]
    lines_tabulation_record(poll=election, actor=agm["secretary"], lines=lines, broker_non_votes=0)
    assert "events verified" in verify()
    certify(election, agm["secretary"])
    assert "events verified" in verify()


def test_a_tabulation_refused_after_certification_leaves_the_trail_verifying(
    agm: dict[str, Any], tabulated: Poll, election: Poll
) -> None:
    certify(tabulated, agm["secretary"])
    certify(election, agm["secretary"])
    with pytest.raises(IllegalTransition):
        tabulation_record(
            poll=tabulated, shares_for=1, shares_against=1, shares_abstain=1, broker_non_votes=1, actor=agm["secretary"]
        )
    ada, _bob = nominees(election)
    with pytest.raises(IllegalTransition):
        lines_tabulation_record(
            poll=election, actor=agm["secretary"], lines=[{"option": ada, "choice": "for", "shares": 1}]
        )
    assert "events verified" in verify()


# ---- the certified record against its poll_certified link ----------------------------------------


def _json_edit(column: str, path: str, value: str) -> str:
    if connection.vendor == "postgresql":
        return f"jsonb_set({column}::jsonb, '{{{path.replace('.', ',')}}}', '{value}')"
    return f"json_set({column}, '$.{path}', json('{value}'))"


def test_plain_verify_audit_finds_a_certified_record_edited_by_sql(agm: dict[str, Any], tabulated: Poll) -> None:
    certify(tabulated, agm["secretary"])
    edit = _json_edit("certified_result", "totals.for", '"1"')
    sql(f"UPDATE polls_poll SET certified_result = {edit} WHERE id = %s", [tabulated.pk])  # noqa: S608
    refused(rf"poll {tabulated.pk}: its certified record differs from the poll_certified link #\d+ that signed it")


def test_plain_verify_audit_finds_a_certified_root_edited_by_sql(agm: dict[str, Any], tabulated: Poll) -> None:
    certify(tabulated, agm["secretary"])
    edit = _json_edit("certified_audit_root", "root", '"00"')
    sql(f"UPDATE polls_poll SET certified_audit_root = {edit} WHERE id = %s", [tabulated.pk])  # noqa: S608
    refused(rf"poll {tabulated.pk}: its certified record differs")


def test_a_certification_undone_or_made_by_sql_is_found(agm: dict[str, Any], tabulated: Poll) -> None:
    certify(tabulated, agm["secretary"])
    sql("UPDATE polls_poll SET status = %s WHERE id = %s", [PollStatus.CLOSED, tabulated.pk])
    refused(rf"poll {tabulated.pk}: its poll_certified link #\d+ certified it, but it is no longer certified")
    sql("UPDATE polls_poll SET status = %s WHERE id = %s", [PollStatus.CERTIFIED, tabulated.pk])
    assert "events verified" in verify()
    other = make_item(agm["meeting"], status=PollStatus.CLOSED, title="Elect the board")
    sql(
        "UPDATE polls_poll SET status = %s, certified_at = %s WHERE id = %s",
        [PollStatus.CERTIFIED, timezone.now(), other.pk],
    )
    refused(rf"poll {other.pk}: is certified, but no poll_certified link on its trail signed it")
