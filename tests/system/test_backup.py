"""make backup and make restore on PostgreSQL: a backup taken mid-meeting restores to the
same results and an audit trail that still verifies."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.db import connection, connections

from core.models import AuditEvent
from meetings.services import item_ballot_cast
from polls import selectors
from polls.models import Poll
from polls.trail_verify import audit_verify
from tests.factories import make_item, make_meeting, make_register, make_user
from tests.system.live import database_url

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_backup_taken_mid_meeting_restores_to_identical_results(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump and pg_restore need PostgreSQL")
    voters = [make_user(email=f"h{i}@example.com") for i in range(3)]
    register = make_register(
        [(f"H{i}", f"Holder {i}", f"h{i}@example.com", 100 * (i + 1)) for i in range(3)], outstanding=1000
    )
    item = make_item(make_meeting(register), results_visibility="live")
    item_ballot_cast(poll_id=item.pk, actor=voters[0], choice="for")
    item_ballot_cast(poll_id=item.pk, actor=voters[1], choice="against")
    before = selectors.results_json(selectors.poll_results(poll=Poll.objects.get(pk=item.pk)))
    events_before = AuditEvent.objects.count()

    env = {"DATABASE_URL": database_url(), "BACKUP_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    backup = subprocess.run(
        [str(ROOT / "scripts/backup.sh")], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert Path(backup).stat().st_size > 0

    # The meeting goes on after the backup...
    item_ballot_cast(poll_id=item.pk, actor=voters[2], choice="abstain")
    assert selectors.results_json(selectors.poll_results(poll=Poll.objects.get(pk=item.pk))) != before

    # ...and the restore brings back exactly the moment of the backup.
    connections.close_all()
    subprocess.run(
        [str(ROOT / "scripts/restore.sh"), backup], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    restored = Poll.objects.get(pk=item.pk)
    assert selectors.results_json(selectors.poll_results(poll=restored)) == before
    assert AuditEvent.objects.count() == events_before
    assert list(audit_verify()) == []
