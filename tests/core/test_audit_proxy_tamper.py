"""A proxy appointment decides who may vote a holder's shares, and its instructions how: every
appointment and revocation is a link on the meeting's chain, so an appointment inserted,
un-revoked, redirected or re-instructed by SQL is named by verify_audit and stops
certification; so is a ballot cast for a holder by an account the trail never appointed."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from meetings.models import Holder, ProxyAppointment
from meetings.services import item_ballot_cast, proxy_appoint, proxy_revoke
from polls import certification
from polls.exceptions import RecountMismatch
from polls.models import Poll, PollStatus
from tests.factories import make_item, make_meeting, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db


def _sql(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def desk() -> dict[str, Any]:
    alice = make_user(username="alice", email="alice@example.com")
    register = make_register(
        [("H-A", "Alice", "alice@example.com", 10_000), ("H-B", "Bob", "bob@example.com", 8_000)], outstanding=20_000
    )
    meeting = make_meeting(register)
    item = make_item(meeting, title="Ratify the auditor")
    holder = Holder.objects.get(register=register, account="H-A")
    if holder.user_id != alice.pk:
        Holder.objects.filter(pk=holder.pk).update(user=alice)
        holder.refresh_from_db()
    return {
        "alice": alice,
        "fund": make_user(username="fund", email="fund@example.com"),
        "insider": make_user(username="insider", email="insider@example.com"),
        "meeting": meeting,
        "item": item,
        "holder": holder,
        "bob": Holder.objects.get(register=register, account="H-B"),
    }


def _verify_fails(match: str) -> None:
    with pytest.raises(CommandError, match=match):
        call_command("verify_audit")


def test_an_appointment_the_trail_records_verifies(desk: dict[str, Any]) -> None:
    proxy_appoint(meeting=desk["meeting"], holder=desk["holder"], proxy=desk["fund"], actor=desk["alice"])
    item_ballot_cast(poll_id=desk["item"].pk, actor=desk["fund"], choice="for", holder_id=desk["holder"].pk)
    call_command("verify_audit")


def test_an_appointment_inserted_by_sql_is_named_and_stops_certification(desk: dict[str, Any]) -> None:
    call_command("verify_audit")
    _sql(
        "INSERT INTO meetings_proxyappointment (meeting_id, holder_id, proxy_id, named_as, discretionary,"
        " appointed_by_id, appointed_at) VALUES (%s, %s, %s, 'insider', true, %s, %s)",
        [desk["meeting"].pk, desk["bob"].pk, desk["insider"].pk, desk["insider"].pk, timezone.now()],
    )
    _verify_fails(rf"proxy for holder {desk['bob'].pk}: an appointment the trail does not record")
    Poll.objects.filter(pk=desk["item"].pk).update(status=PollStatus.CLOSED, closes_at=timezone.now())
    with pytest.raises(RecountMismatch, match="an appointment the trail does not record"):
        certification.poll_certify(poll=Poll.objects.get(pk=desk["item"].pk), actor=make_secretary())


def test_a_revoked_appointment_restored_by_sql_is_named(desk: dict[str, Any]) -> None:
    appointment = proxy_appoint(meeting=desk["meeting"], holder=desk["holder"], proxy=desk["fund"], actor=desk["alice"])
    proxy_revoke(appointment=appointment, actor=desk["alice"])
    call_command("verify_audit")
    ProxyAppointment.objects.filter(pk=appointment.pk).update(revoked_at=None)
    _verify_fails(rf"proxy for holder {desk['holder'].pk}: an appointment the trail does not record")


def test_an_appointment_redirected_to_another_account_by_sql_is_named(desk: dict[str, Any]) -> None:
    appointment = proxy_appoint(meeting=desk["meeting"], holder=desk["holder"], proxy=desk["fund"], actor=desk["alice"])
    ProxyAppointment.objects.filter(pk=appointment.pk).update(proxy=desk["insider"])
    _verify_fails(r"its proxy differ from the trail")


def test_an_instruction_changed_or_discretion_granted_by_sql_is_named(desk: dict[str, Any]) -> None:
    item = desk["item"]
    appointment = proxy_appoint(
        meeting=desk["meeting"],
        holder=desk["holder"],
        proxy=desk["fund"],
        actor=desk["alice"],
        instructions={item.pk: "against"},
        discretionary=False,
    )
    call_command("verify_audit")
    _sql("UPDATE meetings_proxyinstruction SET instruction = 'for' WHERE appointment_id = %s", [appointment.pk])
    _verify_fails(r"its instructions differ from the trail")
    _sql("UPDATE meetings_proxyinstruction SET instruction = 'against' WHERE appointment_id = %s", [appointment.pk])
    ProxyAppointment.objects.filter(pk=appointment.pk).update(discretionary=True)
    _verify_fails(r"its discretion differ from the trail")


def test_a_ballot_cast_through_a_forged_appointment_since_removed_is_named(desk: dict[str, Any]) -> None:
    _sql(
        "INSERT INTO meetings_proxyappointment (meeting_id, holder_id, proxy_id, named_as, discretionary,"
        " appointed_by_id, appointed_at) VALUES (%s, %s, %s, 'insider', true, %s, %s)",
        [desk["meeting"].pk, desk["bob"].pk, desk["insider"].pk, desk["insider"].pk, timezone.now()],
    )
    item_ballot_cast(poll_id=desk["item"].pk, actor=desk["insider"], choice="for", holder_id=desk["bob"].pk)
    ProxyAppointment.objects.filter(holder=desk["bob"]).delete()
    _verify_fails(r"cast by an account the trail never appointed its proxy")
