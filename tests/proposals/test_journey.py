"""The xAI story end to end, through the same services the pages and API call."""

from __future__ import annotations

import datetime
from collections import Counter
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from core.models import AuditEvent
from meetings.services import tabulation_record
from polls import certification
from polls import services as poll_services
from polls.ballots import ballot_cast
from polls.models import Poll, PollStatus
from polls.trail_verify import audit_verify
from proposals import review_votes, services
from proposals.models import FollowUp, Proposal
from proposals.tasks import proposals_escalate
from proposals.workflow import Action, State
from tests.factories import make_director, make_meeting, make_poll, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db


def test_the_xai_journey_from_poll_to_defeat_with_each_email_once(django_capture_on_commit_callbacks: Any) -> None:
    secretary = make_secretary(username="secretary", email="secretary@example.com")
    robyn = make_director("robyn", title="Chair")
    make_director("elon", interests=("xAI",))
    kimbal = make_director("kimbal")
    members = [make_user() for _ in range(9)]

    # 1. The members' poll closes with Yes at 6 of 9 (2/3): the escalation rule opens a draft.
    poll = make_poll(title="Should Tesla invest $5B into xAI?")
    poll_services.poll_escalation_set(poll=poll, option_label="Yes", threshold="2/3", comparator=">=")
    options = dict(poll.options.values_list("label", "pk"))
    for i, member in enumerate(members):
        ballot_cast(poll_id=poll.pk, actor=member, option_id=options["Yes" if i < 6 else "No"])
    with django_capture_on_commit_callbacks(execute=True):
        poll_services.poll_close(poll=poll, actor=secretary)
    proposal = Proposal.objects.get(escalated_from=poll)
    assert proposal.status == State.DRAFT
    assert list(proposal.polls.all()) == [poll]

    # 2. Submitted, then reviewed with Elon recused; the board refers it with no recommendation.
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_update(proposal=proposal, actor=proposal.proposer, counterparty="xAI", advisory=True)
        services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=proposal.proposer)
        services.proposal_transition(
            proposal_id=proposal.pk,
            action=Action.START_REVIEW,
            actor=secretary,
            due_at=timezone.now() + datetime.timedelta(days=7),
        )
        for director in (robyn, kimbal):
            review_votes.review_vote_cast(proposal_id=proposal.pk, actor=director.user, decision="refer")

    # 3. Put to the 2025 meeting under the bylaw standard; the inspector's totals are certified.
    register = make_register([("CEDE", "Cede & Co", "cede@example.com", 3_000_000_000)], outstanding=3_200_000_000)
    meeting = make_meeting(register)
    with django_capture_on_commit_callbacks(execute=True):
        proposal = services.proposal_transition(
            proposal_id=proposal.pk,
            action=Action.PUT_TO_VOTE,
            actor=secretary,
            meeting=meeting,
            standard="present_and_entitled",
        )
        item = proposal.item
        assert item is not None
        assert item.advisory is True
        poll_services.poll_open(poll=item, actor=secretary)
        poll_services.poll_close(poll=item, actor=secretary)
        tabulation_record(
            poll=item,
            shares_for=1_060_000_000,
            shares_against=916_300_000,
            shares_abstain=473_000_000,
            actor=secretary,
        )
        certification.poll_certify(poll=item, actor=secretary, confirm_difference=True)

    # 4. Certification settled it through the Celery task: defeated, with a board follow-up.
    proposal.refresh_from_db()
    assert proposal.status == State.DEFEATED
    assert FollowUp.objects.filter(proposal=proposal).count() == 1
    trail = list(
        AuditEvent.objects.filter(stream=f"proposal:{proposal.pk}").values_list("action", "payload__to", "actor_name")
    )
    assert [action for action, _, _ in trail] == [
        "created",
        "edited",
        "submit",
        "start_review",
        "director_recused",
        "review_vote",
        "review_vote",
        "refer",
        "put_to_vote",
        "settle",
        "follow_up_opened",
    ]
    assert trail[-2] == ("settle", "defeated", "system")
    assert list(audit_verify()) == []

    # 5. Every expected message, exactly once.
    sent = Counter((message.subject.split(":")[0], message.to[0]) for message in mail.outbox)
    assert sent == Counter(
        {
            ("[Quorum] A poll asks for a proposal", "secretary@example.com"): 1,
            ("[Quorum] Proposal submitted", "secretary@example.com"): 1,
            ("[Quorum] Review requested", "robyn@example.com"): 1,
            ("[Quorum] Review requested", "kimbal@example.com"): 1,
            (f"[Quorum] {proposal.title}".split(":")[0], "secretary@example.com"): 1,  # referred: to the proposer
            ("[Quorum] Shareholder vote outcome", "secretary@example.com"): 1,
            ("[Quorum] Shareholder vote outcome", "robyn@example.com"): 1,
            ("[Quorum] Shareholder vote outcome", "elon@example.com"): 1,
            ("[Quorum] Shareholder vote outcome", "kimbal@example.com"): 1,
        }
    )
    assert not any("elon@example.com" in m.to for m in mail.outbox if "Review requested" in m.subject)


def test_escalation_creates_one_proposal_even_if_the_close_is_processed_twice(
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_secretary()
    poll = make_poll()
    poll_services.poll_escalation_set(poll=poll, option_label="Yes")
    ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=poll.options.get(label="Yes").pk)
    with django_capture_on_commit_callbacks(execute=True):
        poll_services.poll_close(poll=poll)
    proposals_escalate.delay(poll.pk)
    proposals_escalate.delay(poll.pk)
    assert Proposal.objects.filter(escalated_from=poll).count() == 1


def test_a_poll_below_its_threshold_does_not_escalate(django_capture_on_commit_callbacks: Any) -> None:
    poll = make_poll()
    poll_services.poll_escalation_set(poll=poll, option_label="Yes", threshold="2/3")
    options = dict(poll.options.values_list("label", "pk"))
    for label in ("Yes", "No"):
        ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=options[label])
    with django_capture_on_commit_callbacks(execute=True):
        poll_services.poll_close(poll=poll)
    assert not Proposal.objects.exists()


def test_settling_twice_changes_nothing_the_second_time() -> None:
    call_command("seed_demo", stdout=StringIO())
    proposal = Proposal.objects.get(title="Invest $5B in xAI")
    events = AuditEvent.objects.filter(stream=f"proposal:{proposal.pk}").count()
    services.proposal_settle(proposal_id=proposal.pk)
    assert Proposal.objects.get(pk=proposal.pk).status == State.DEFEATED
    assert AuditEvent.objects.filter(stream=f"proposal:{proposal.pk}").count() == events
    assert FollowUp.objects.filter(proposal=proposal).count() == 1


def test_verify_audit_passes_on_the_demo_data_and_fails_on_a_tampered_event() -> None:
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "Audit trail intact" in out.getvalue()
    proposal = Proposal.objects.get(title="Invest $5B in xAI")
    refer = AuditEvent.objects.get(stream=f"proposal:{proposal.pk}", action="refer")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET actor_name = 'someone else', action = 'decide' WHERE id = %s",  # noqa: S608
            [refer.pk],
        )
    with pytest.raises(CommandError, match=f"event {refer.pk} "):
        call_command("verify_audit")


def test_the_demo_shows_a_full_timeline() -> None:
    call_command("seed_demo", stdout=StringIO())
    proposal = Proposal.objects.get(title="Invest $5B in xAI")
    assert proposal.status == State.DEFEATED
    actions = list(AuditEvent.objects.filter(stream=f"proposal:{proposal.pk}").values_list("action", flat=True))
    assert {"director_recused", "refer", "put_to_vote", "settle", "follow_up_opened"} <= set(actions)
    assert proposal.item is not None
    assert Poll.objects.get(pk=proposal.item.pk).status == PollStatus.CERTIFIED
