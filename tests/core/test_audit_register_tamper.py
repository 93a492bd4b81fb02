"""The register decides every holder's weight: a holder's shares raised by SQL before voting are
carried into the ballots, whose links then record the forged weight, so the ballots and running
totals still agree. The import puts the register's record date, shares outstanding and a digest
of its holder lines on the trail; a register changed by SQL afterwards is named by verify_audit
and stops certification."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from core.models import AuditEvent
from meetings.models import Holder
from meetings.services import holders_link_user, item_ballot_cast
from polls import certification
from polls.certification import RecordOffTrail
from polls.models import Poll, PollStatus
from tests.factories import make_item, make_meeting, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db


def _sql(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def register() -> Any:
    return make_register(
        [("H-A", "Alice", "alice@example.com", 10_000), ("H-B", "Bob", "bob@example.com", 8_000)], outstanding=40_000
    )


def test_the_import_puts_the_register_on_its_chain_and_verifies(register: Any) -> None:
    link = AuditEvent.objects.get(stream=f"register:{register.pk}", action="register_imported")
    assert link.payload["holders"] == 2
    assert link.payload["record_date"] == "2025-09-15"
    call_command("verify_audit")


def test_a_holders_shares_raised_by_sql_are_named_and_stop_certification(register: Any) -> None:
    insider = make_user(username="insider", email="insider@example.com")
    meeting = make_meeting(register)
    item = make_item(meeting, title="Authorize the investment in xAI")
    bob = Holder.objects.get(register=register, account="H-B")
    _sql("UPDATE meetings_holder SET shares = 30000, user_id = %s WHERE id = %s", [insider.pk, bob.pk])
    item_ballot_cast(poll_id=item.pk, actor=insider, choice="for")  # weighs 30,000, its link agrees
    with pytest.raises(
        CommandError, match=r"register \d+: its holders' accounts, names, e-mail addresses, shares or control numbers"
    ):
        call_command("verify_audit")
    Poll.objects.filter(pk=item.pk).update(status=PollStatus.CLOSED, closes_at=timezone.now())
    # Certification reads the cheap signs (the holding linked to the insider off the trail);
    # the raised shares themselves are verify_audit's to name, above.
    with pytest.raises(RecordOffTrail, match=r"the meeting's register differs .*is linked to an account"):
        certification.poll_certify(poll=Poll.objects.get(pk=item.pk), actor=make_secretary())
    assert Poll.objects.get(pk=item.pk).status == PollStatus.CLOSED


def test_a_holder_added_or_removed_by_sql_is_named(register: Any) -> None:
    _sql(
        "INSERT INTO meetings_holder (register_id, account, name, email, shares) VALUES (%s, 'H-X', 'X', 'x@x.io', 1)",
        [register.pk],
    )
    with pytest.raises(CommandError, match=r"its number of holders, holders'"):
        call_command("verify_audit")
    Holder.objects.filter(register=register, account="H-X").delete()
    call_command("verify_audit")
    Holder.objects.filter(register=register, account="H-A").delete()
    with pytest.raises(CommandError, match=r"its number of holders"):
        call_command("verify_audit")


def test_a_record_date_or_shares_outstanding_changed_by_sql_is_named(register: Any) -> None:
    _sql("UPDATE meetings_registersnapshot SET record_date = '2025-10-01' WHERE id = %s", [register.pk])
    with pytest.raises(CommandError, match=r"its record date differ"):
        call_command("verify_audit")
    _sql(
        "UPDATE meetings_registersnapshot SET record_date = '2025-09-15', shares_outstanding = 20000 WHERE id = %s",
        [register.pk],
    )
    with pytest.raises(CommandError, match=r"its shares outstanding differ"):
        call_command("verify_audit")


def test_a_holding_linked_by_e_mail_verifies_and_one_linked_by_sql_is_named_and_stops_certification(
    register: Any,
) -> None:
    alice = make_user(username="alice", email="ALICE@example.com")
    holders_link_user(user=alice)  # the opt-in linking at sign-up, by the same address
    call_command("verify_audit")
    insider = make_user(username="insider", email="insider@example.com")
    bob = Holder.objects.get(register=register, account="H-B")
    _sql("UPDATE meetings_holder SET user_id = %s WHERE id = %s", [insider.pk, bob.pk])
    with pytest.raises(CommandError, match=r"holder H-B \(\d+\) is linked to an account by neither a claim"):
        call_command("verify_audit")
    item = make_item(make_meeting(register), status=PollStatus.CLOSED)
    with pytest.raises(RecordOffTrail, match=r"weights and voters cannot be trusted"):
        certification.poll_certify(poll=item, actor=make_secretary())


def test_control_numbers_swapped_between_holders_by_sql_are_named(register: Any) -> None:
    # The insider's own number would then claim the other holding, through the claim service.
    alice, bob = Holder.objects.filter(register=register).order_by("account")
    assert alice.control_digest is not None and bob.control_digest is not None
    _sql("UPDATE meetings_holder SET control_digest = NULL WHERE id IN (%s, %s)", [alice.pk, bob.pk])
    _sql("UPDATE meetings_holder SET control_digest = %s WHERE id = %s", [bytes(bob.control_digest), alice.pk])
    _sql("UPDATE meetings_holder SET control_digest = %s WHERE id = %s", [bytes(alice.control_digest), bob.pk])
    with pytest.raises(CommandError, match=r"shares or control numbers differ from what the trail recorded"):
        call_command("verify_audit")
