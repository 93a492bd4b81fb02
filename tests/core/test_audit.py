from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from core.audit import audit_append
from core.models import AuditEvent
from meetings.services import item_ballot_cast, proxy_appoint
from polls import certification, services
from polls.ballots import ballot_cast
from polls.fastpath import first_ballot_in_one_trip
from polls.models import PollStatus
from polls.trail_verify import audit_verify
from tests.factories import make_poll, make_secretary

pytestmark = pytest.mark.django_db


def option_id(poll: Any, label: str) -> int:
    return int(poll.options.get(label=label).pk)


def test_ballot_changes_and_certification_write_chained_events(member: Any) -> None:
    poll = make_poll()
    ballot_cast(poll_id=poll.pk, actor=member, option_id=option_id(poll, "Yes"))
    ballot_cast(poll_id=poll.pk, actor=member, option_id=option_id(poll, "No"))
    services.poll_close(poll=poll)
    certification.poll_certify(poll=poll, actor=make_secretary())
    ballot_chain = list(AuditEvent.objects.filter(stream=f"ballot:{poll.pk}:voter:{member.pk}"))
    assert [event.action for event in ballot_chain] == ["ballot_cast", "ballot_changed"]
    assert ballot_chain[1].prev_hash == ballot_chain[0].hash
    poll_actions = list(AuditEvent.objects.filter(stream=f"poll:{poll.pk}").values_list("action", flat=True))
    assert poll_actions == ["poll_opened", "poll_closed", "poll_certified"]
    assert list(audit_verify()) == []


def test_events_cannot_be_changed_or_deleted_through_the_orm() -> None:
    event = audit_append(stream="test:1", action="noted", actor=None, payload={"n": 1})
    event.action = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="rewritten")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "noted"


def test_verify_audit_passes_on_an_intact_trail() -> None:
    for n in range(3):
        audit_append(stream="test:1", action="noted", actor=None, payload={"n": n})
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "3 events verified" in out.getvalue()


def test_verify_audit_names_the_first_event_changed_with_raw_sql() -> None:
    events = [audit_append(stream="test:1", action="noted", actor=None, payload={"n": n}) for n in range(3)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET payload = %s WHERE id = %s",  # noqa: S608
            ['{"n": 99}', events[1].pk],
        )
    with pytest.raises(CommandError, match=rf"event {events[1].pk} \(test:1 #2\): its content was changed"):
        call_command("verify_audit")


def test_verify_audit_catches_a_deleted_row() -> None:
    events = [audit_append(stream="test:1", action="noted", actor=None, payload={"n": n}) for n in range(3)]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [events[1].pk])  # noqa: S608
    first = next(audit_verify())
    assert str(first).startswith(f"event {events[2].pk} (test:1 #3): expected link #2 here")


def test_the_admin_shows_events_read_only(client: Any, secretary: Any) -> None:
    event = audit_append(stream="test:1", action="noted", actor=None)
    client.force_login(secretary)
    assert client.get("/admin/core/auditevent/").status_code == 200
    client.post(f"/admin/core/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_a_shareholder_ballot_chain_follows_the_holder_not_the_account() -> None:
    from tests.factories import make_item, make_meeting, make_register, make_user

    owner, proxy = make_user(email="o@example.com"), make_user()
    register = make_register([("H1", "Owner", "o@example.com", 100)], outstanding=100)
    meeting = make_meeting(register)
    item = make_item(meeting, status=PollStatus.OPEN)
    holder = register.holders.get()
    proxy_appoint(meeting=meeting, holder=holder, proxy=proxy, actor=owner)
    item_ballot_cast(poll_id=item.pk, actor=proxy, choice="for", holder_id=holder.pk)
    item_ballot_cast(poll_id=item.pk, actor=owner, choice="against")
    chain = AuditEvent.objects.filter(stream=f"ballot:{item.pk}:holder:{holder.pk}")
    assert list(chain.values_list("action", "actor_id")) == [("ballot_cast", proxy.pk), ("ballot_changed", owner.pk)]
    assert list(audit_verify()) == []


def test_verify_audit_catches_two_rows_swapped() -> None:
    events = [audit_append(stream="test:1", action="noted", actor=None, payload={"n": n}) for n in range(3)]
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET seq = 100 WHERE id = %s", [events[0].pk])  # noqa: S608
        cursor.execute(f"UPDATE {table} SET seq = 1 WHERE id = %s", [events[1].pk])  # noqa: S608
        cursor.execute(f"UPDATE {table} SET seq = 2 WHERE id = %s", [events[0].pk])  # noqa: S608
    broken = next(audit_verify())
    assert broken.event_id == events[1].pk
    assert broken.problem == "does not follow the link before it"


@pytest.mark.django_db(transaction=True)
def test_twenty_voters_at_once_take_the_fast_path_and_leave_a_verifiable_trail() -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    from core.models import AuditRoot
    from tests.factories import make_user

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the fast path and SKIP LOCKED shards are PostgreSQL's")
    poll = make_poll(secret=False)
    voters = [make_user() for _ in range(20)]
    barrier = threading.Barrier(len(voters))

    def vote(index: int) -> Any:
        try:
            barrier.wait(timeout=30)
            return first_ballot_in_one_trip(
                poll_id=poll.pk, actor=voters[index], option_id=option_id(poll, "Yes"), now=timezone.now()
            )
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(voters)) as pool:
        ballots = list(pool.map(vote, range(len(voters))))
    assert all(ballot is not None for ballot in ballots)
    assert sum(AuditRoot.objects.values_list("n", flat=True)) == AuditEvent.objects.count()
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "events verified" in out.getvalue()
