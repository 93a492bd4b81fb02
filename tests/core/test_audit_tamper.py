"""A database administrator rewrites the trail with SQL; `verify_audit` names what they did."""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from core import audit
from core.models import AuditEvent, AuditHead
from meetings.services import item_ballot_cast
from polls import certification, services
from polls.ballots import ballot_cast, ballot_withdraw
from polls.checks import audit_key_is_strong
from polls.models import Ballot, Option, Poll, PollStatus
from tests.factories import make_item, make_meeting, make_poll, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db

EVENTS = AuditEvent._meta.db_table


def sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def refused(match: str, *args: str) -> None:
    with pytest.raises(CommandError, match=match):
        call_command("verify_audit", *args)


def option(poll: Poll, label: str) -> int:
    return int(poll.options.get(label=label).pk)


@pytest.fixture
def voted() -> Poll:
    """An open public poll with three voters, one of whom changed their mind."""
    poll = make_poll(secret=False)
    voters = [make_user() for _ in range(3)]
    for voter in voters:
        ballot_cast(poll_id=poll.pk, actor=voter, option_id=option(poll, "Yes"))
    ballot_cast(poll_id=poll.pk, actor=voters[0], option_id=option(poll, "No"))
    return poll


def ballot_chain(poll: Poll, voter_id: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(stream=f"ballot:{poll.pk}:voter:{voter_id}").order_by("seq"))


def test_the_untampered_trail_verifies(voted: Poll) -> None:
    assert "events verified" in verify()


def test_a_forged_actor_name_is_found(voted: Poll) -> None:
    event = AuditEvent.objects.filter(stream=f"poll:{voted.pk}").first()
    assert event is not None
    sql(f"UPDATE {EVENTS} SET actor_name = 'elon' WHERE id = %s", [event.pk])  # noqa: S608
    refused(rf"event {event.pk} \(poll:{voted.pk} #1\): its content was changed")


def test_a_deleted_tail_event_is_found(voted: Poll) -> None:
    voter = Ballot.objects.filter(poll=voted).order_by("pk").first()
    assert voter is not None
    tail = ballot_chain(voted, voter.voter_id)[-1]
    sql(f"DELETE FROM {EVENTS} WHERE id = %s", [tail.pk])  # noqa: S608
    refused(rf"chain {tail.stream}: ends at link #1 but its head says #2: links were removed")


def test_a_deleted_middle_event_is_found() -> None:
    events = [audit.audit_append(stream="test:1", action="noted", actor=None, payload={"n": n}) for n in range(3)]
    sql(f"DELETE FROM {EVENTS} WHERE id = %s", [events[1].pk])  # noqa: S608
    refused(rf"event {events[2].pk} \(test:1 #3\): expected link #2 here")


def test_a_whole_deleted_stream_is_found_with_or_without_its_head(voted: Poll) -> None:
    stream = f"poll:{voted.pk}"
    sql(f"DELETE FROM {EVENTS} WHERE stream = %s", [stream])  # noqa: S608
    refused(rf"chain {stream}: its head says #1 but it has no links")
    sql(f"DELETE FROM {AuditHead._meta.db_table} WHERE stream = %s", [stream])  # noqa: S608
    refused(r"audit root shard 0: folded \d+ links but \d+ events claim it")


def test_two_rows_with_their_contents_swapped_are_found() -> None:
    first = audit.audit_append(stream="test:1", action="noted", actor=None, payload={"n": 1})
    second = audit.audit_append(stream="test:2", action="noted", actor=None, payload={"n": 2})
    sql(f"UPDATE {EVENTS} SET payload = %s WHERE id = %s", [json.dumps(second.payload), first.pk])  # noqa: S608
    sql(f"UPDATE {EVENTS} SET payload = %s WHERE id = %s", [json.dumps(first.payload), second.pk])  # noqa: S608
    refused(rf"event {first.pk} \(test:1 #1\): its content was changed")


def test_two_rows_swapped_in_place_within_a_chain_are_found() -> None:
    events = [audit.audit_append(stream="test:1", action="noted", actor=None, payload={"n": n}) for n in range(3)]
    sql(f"UPDATE {EVENTS} SET seq = 100 WHERE id = %s", [events[0].pk])  # noqa: S608
    sql(f"UPDATE {EVENTS} SET seq = 1 WHERE id = %s", [events[1].pk])  # noqa: S608
    sql(f"UPDATE {EVENTS} SET seq = 2 WHERE id = %s", [events[0].pk])  # noqa: S608
    refused(rf"event {events[1].pk} \(test:1 #1\): does not follow the link before it")


def test_a_ballot_changed_with_its_counters_is_found(voted: Poll) -> None:
    ballot = Ballot.objects.filter(poll=voted, option_id=option(voted, "Yes")).order_by("pk").first()
    assert ballot is not None
    yes, no = option(voted, "Yes"), option(voted, "No")
    sql("UPDATE polls_ballot SET option_id = %s WHERE id = %s", [no, ballot.pk])
    sql("UPDATE polls_option SET votes = votes - 1, weight = weight - 1 WHERE id = %s", [yes])
    sql("UPDATE polls_option SET votes = votes + 1, weight = weight + 1 WHERE id = %s", [no])
    refused(rf"ballot {ballot.pk} \(ballot:{voted.pk}:voter:{ballot.voter_id}\): option differ from its chain")


def test_a_running_total_changed_alone_is_found(voted: Poll) -> None:
    yes = option(voted, "Yes")
    sql("UPDATE polls_option SET votes = votes + 1000, weight = weight + 1000 WHERE id = %s", [yes])
    refused(rf"poll {voted.pk} option {yes} \(Yes\): running total 1002 votes / 1002 weight, its ballots 2 / 2")


def test_a_deleted_ballot_is_found(voted: Poll) -> None:
    ballot = Ballot.objects.filter(poll=voted).order_by("pk").last()
    assert ballot is not None
    sql("DELETE FROM polls_ballot WHERE id = %s", [ballot.pk])
    refused(rf"chain ballot:{voted.pk}:voter:{ballot.voter_id}: its latest link #1 records a ballot that is missing")


def test_a_secret_ballot_changed_with_its_counters_is_found_by_its_commitment() -> None:
    poll = make_poll(secret=True)
    voter = make_user()
    ballot_cast(poll_id=poll.pk, actor=voter, option_id=option(poll, "Yes"))
    assert "commitment" in ballot_chain(poll, voter.pk)[-1].payload
    ballot = Ballot.objects.get(poll=poll)
    sql("UPDATE polls_ballot SET option_id = %s WHERE id = %s", [option(poll, "No"), ballot.pk])
    sql("UPDATE polls_option SET votes = 1 - votes, weight = 1 - weight WHERE poll_id = %s", [poll.pk])
    refused(rf"ballot {ballot.pk} .*: option \(commitment\) differ")


def test_a_split_item_ballot_changed_with_its_counters_is_found() -> None:
    register = make_register([("H1", "Owner", "o@example.com", 100)], outstanding=100)
    item = make_item(make_meeting(register), status=PollStatus.OPEN)
    owner = make_user(email="o@example.com")
    item_ballot_cast(poll_id=item.pk, actor=owner, split={"for": 60, "against": 40})
    assert "events verified" in verify()
    ballot = Ballot.objects.get(poll=item)
    sql("UPDATE polls_ballot SET shares_for = 40, shares_against = 60 WHERE id = %s", [ballot.pk])
    codes = dict(Option.objects.filter(poll=item).values_list("code", "pk"))
    sql("UPDATE polls_option SET weight = 40 WHERE id = %s", [codes["for"]])
    sql("UPDATE polls_option SET weight = 60 WHERE id = %s", [codes["against"]])
    refused(rf"ballot {ballot.pk} .*: shares_against, shares_for differ from its chain's latest link #1")


def test_a_withdrawn_ballot_put_back_by_sql_is_found(voted: Poll) -> None:
    voter = make_user()
    ballot_cast(poll_id=voted.pk, actor=voter, option_id=option(voted, "Yes"))
    ballot_withdraw(poll_id=voted.pk, actor=voter)
    assert "events verified" in verify()
    sql(
        "INSERT INTO polls_ballot (poll_id, voter_id, option_id, weight, salt, cast_at, updated_at) "
        "VALUES (%s, %s, %s, 1, '', %s, %s)",
        [voted.pk, voter.pk, option(voted, "Yes"), voted.opens_at, voted.opens_at],
    )
    sql("UPDATE polls_option SET votes = votes + 1, weight = weight + 1 WHERE id = %s", [option(voted, "Yes")])
    refused(r"exists, but its chain says it was withdrawn")


def _plain_sha256(event: AuditEvent) -> str:
    content = {
        "stream": event.stream,
        "seq": event.seq,
        "action": event.action,
        "actor": event.actor_id,
        "at": event.at.isoformat(),
        "payload": event.payload,
        "prev": event.prev_hash,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def test_a_row_rewritten_with_a_recomputed_plain_sha256_hash_is_found() -> None:
    event = audit.audit_append(stream="test:1", action="noted", actor=None, payload={"n": 1})
    event.payload = {"n": 2}
    sql(
        f"UPDATE {EVENTS} SET payload = %s, hash = %s WHERE id = %s",  # noqa: S608
        [json.dumps(event.payload), _plain_sha256(event), event.pk],
    )
    sql(f"UPDATE {AuditHead._meta.db_table} SET hash = %s WHERE stream = 'test:1'", [_plain_sha256(event)])  # noqa: S608
    refused(rf"event {event.pk} \(test:1 #1\): its content was changed")


def test_a_row_re_signed_with_the_wrong_key_is_found() -> None:
    event = audit.audit_append(stream="test:1", action="noted", actor=None, payload={"n": 1})
    content = {name: getattr(event, name) for name in audit.hashed_fields()} | {"payload": {"n": 2}}
    forged = audit.content_mac("a-guessed-key-that-is-not-the-real-one-0123456789", content)
    sql(f"UPDATE {EVENTS} SET payload = %s, hash = %s WHERE id = %s", ['{"n": 2}', forged, event.pk])  # noqa: S608
    sql(f"UPDATE {AuditHead._meta.db_table} SET hash = %s WHERE stream = 'test:1'", [forged])  # noqa: S608
    refused(rf"event {event.pk} \(test:1 #1\): its content was changed")
    wrong_id = audit.key_id_of("a-guessed-key-that-is-not-the-real-one-0123456789")
    sql(f"UPDATE {EVENTS} SET key_id = %s WHERE id = %s", [wrong_id, event.pk])  # noqa: S608
    refused(rf"signed by an unknown key '{wrong_id}'")


def test_a_changed_root_position_is_found() -> None:
    events = [audit.audit_append(stream="test:1", action="noted", actor=None, payload={"n": n}) for n in range(2)]
    sql(f"UPDATE {EVENTS} SET root_n = root_n + 5 WHERE id = %s", [events[1].pk])  # noqa: S608
    refused(rf"event {events[1].pk}: sits at root position")


def test_links_signed_with_a_retired_key_verify_while_it_is_listed() -> None:
    old_key = "the-retired-audit-key-0123456789-abcdefghijklmnop"
    with override_settings(AUDIT_KEY=old_key):
        audit.audit_append(stream="test:1", action="noted", actor=None)
    audit.audit_append(stream="test:1", action="noted again", actor=None)
    with override_settings(AUDIT_OLD_KEYS=[old_key]):
        assert "2 events verified" in verify()
    refused(r"#1\): signed by an unknown key")


def test_verify_certified_proves_the_trail_as_certified_and_ignores_later_appends(voted: Poll) -> None:
    services.poll_close(poll=voted)
    certified = certification.poll_certify(poll=voted, actor=make_secretary())
    assert certified.certified_audit_root is not None
    later = make_poll(secret=False, title="A later poll")
    ballot_cast(poll_id=later.pk, actor=make_user(), option_id=option(later, "Yes"))
    assert f"poll {voted.pk} is as certified" in verify("--certified", str(voted.pk))


def test_verify_certified_refuses_a_record_edited_after_certification(voted: Poll) -> None:
    services.poll_close(poll=voted)
    certification.poll_certify(poll=voted, actor=make_secretary())
    edit = (
        "jsonb_set(certified_result::jsonb, '{total_ballots}', '99')"
        if connection.vendor == "postgresql"
        else "json_set(certified_result, '$.total_ballots', 99)"
    )
    sql(f"UPDATE polls_poll SET certified_result = {edit} WHERE id = %s", [voted.pk])  # noqa: S608
    refused(rf"certified poll {voted.pk}: its certified record differs", "--certified", str(voted.pk))


def test_verify_certified_refuses_a_poll_that_is_not_certified(voted: Poll) -> None:
    refused(rf"certified poll {voted.pk}: has no certified audit root", "--certified", str(voted.pk))


def test_check_deploy_refuses_a_missing_or_weak_audit_key() -> None:
    with override_settings(AUDIT_KEY=""):
        assert [error.id for error in audit_key_is_strong()] == ["polls.E001"]
    with override_settings(AUDIT_KEY="short"):
        assert "weak" in audit_key_is_strong()[0].msg
    with override_settings(AUDIT_KEY="quorum-insecure-audit-key-development-only"):
        assert "development default" in audit_key_is_strong()[0].msg
    with override_settings(AUDIT_KEY="Zq8vT2mXr9LpW4sKb7NcY1hJd5Gf3Ea6", AUDIT_OLD_KEYS=["old"]):
        assert [error.id for error in audit_key_is_strong()] == ["polls.E002"]
    with override_settings(AUDIT_KEY="Zq8vT2mXr9LpW4sKb7NcY1hJd5Gf3Ea6", AUDIT_OLD_KEYS=[]):
        assert audit_key_is_strong() == []


def _manage(*args: str, **env: str) -> Any:
    import os
    import subprocess
    import sys
    from pathlib import Path

    environment = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings", SECRET_KEY="s" * 20 + "ecret-0123456789-abcdefghijklmnop"
    )
    environment.update(env)
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=root, env=environment, capture_output=True, text=True, check=False
    )


def test_production_refuses_to_start_without_an_audit_key_and_check_deploy_names_a_weak_one() -> None:
    missing = _manage("check", AUDIT_KEY="")
    assert missing.returncode != 0
    assert "AUDIT_KEY must be set" in missing.stderr
    weak = _manage("check", "--deploy", AUDIT_KEY="password")
    assert weak.returncode != 0
    assert "polls.E001" in weak.stderr
