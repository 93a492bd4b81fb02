"""The xAI journey as demo data: escalation from the members' poll, board review with the
interested director recused, the directors' referral with no recommendation, the shareholder
vote on the Tesla 2025 totals, defeat under the bylaw standard and the board's follow-up."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from meetings.demo import ESCALATING_TITLE, demo_password, last_year, meeting_title
from meetings.models import Meeting
from meetings.services import tabulation_record
from polls import certification
from polls import services as poll_services
from polls.models import Poll, VoteStandard
from proposals import people_services, review_votes, services
from proposals.models import Proposal
from proposals.workflow import Action, State

DIRECTORS = [
    ("robyn", "Chair", []),
    ("elon", "Director and CEO", ["xAI", "SpaceX", "X"]),
    ("kimbal", "Director", []),
    ("ira", "Director", []),
    ("james", "Director", []),
]


def seed_proposals(secretary: Any) -> list[str]:
    """Create the directors and run the journey once; return the directors' usernames."""
    with transaction.atomic():
        for username, title, interests in DIRECTORS:
            user, created = get_user_model().objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.com"}
            )
            if created:
                user.set_password(demo_password())
                user.save()
            if not hasattr(user, "director"):
                people_services.director_save(director_user=user, title=title, interests=interests)
    poll = Poll.objects.get(title=ESCALATING_TITLE)
    proposal = services.proposal_escalate(poll_id=poll.pk)
    if proposal is not None and proposal.status == State.DRAFT:
        _journey(proposal, secretary)
    _waiting_for_review(secretary)
    return [name for name, _, _ in DIRECTORS]


WAITING_TITLE = "Publish the annual report in Italian as well"


def _waiting_for_review(secretary: Any) -> None:
    """A member's proposal the secretary has sent to the board, with no vote yet: what a
    director finds in their queue on first login."""
    if Proposal.objects.filter(title=WAITING_TITLE).exists():
        return
    alice = get_user_model().objects.get(username="alice")
    with transaction.atomic():
        proposal = services.proposal_create(
            actor=alice,
            title=WAITING_TITLE,
            summary="Publish the full annual report in Italian too, for the shareholders who read it first in Italian.",
            kind="governance",
        )
        services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=alice)
        services.proposal_transition(
            proposal_id=proposal.pk,
            action=Action.START_REVIEW,
            actor=secretary,
            due_at=timezone.now() + datetime.timedelta(days=10),
        )


def _journey(proposal: Proposal, secretary: Any) -> None:
    users = {user.username: user for user in get_user_model().objects.filter(username__in=[d[0] for d in DIRECTORS])}
    with transaction.atomic():
        services.proposal_update(
            proposal=proposal,
            actor=secretary,
            title="Invest $5B in xAI",
            summary="Authorize an investment of $5 billion in xAI, at a valuation set by several credible "
            "outside investors.",
            kind="investment",
            counterparty="xAI",
            amount="5000000000.00",
            currency="USD",
            needs_shareholder_vote=True,
            advisory=True,
        )
        services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=secretary)
        services.proposal_transition(
            proposal_id=proposal.pk,
            action=Action.START_REVIEW,
            actor=secretary,
            due_at=timezone.now() + datetime.timedelta(days=14),
        )
        # Elon is recused (xAI); three of the other four vote to refer with no recommendation,
        # which the board rule decides on the spot: a plurality no remaining vote can change.
        for username, comment in (
            ("robyn", "Shareholders should weigh in; I make no recommendation."),
            ("kimbal", "Refer it to the shareholders."),
            ("ira", "No recommendation from the board."),
        ):
            review_votes.review_vote_cast(
                proposal_id=proposal.pk, actor=users[username], decision="refer", comment=comment
            )
        meeting = Meeting.objects.get(title=meeting_title())
        proposal = services.proposal_transition(
            proposal_id=proposal.pk,
            action=Action.PUT_TO_VOTE,
            actor=secretary,
            meeting=meeting,
            standard=VoteStandard.PRESENT_AND_ENTITLED,
        )
        item = proposal.item
        assert item is not None  # noqa: S101 - put_to_vote creates it
        # The vote ran at last year's meeting, like its auditor item (polls/demo.py): a month
        # of proxy voting up to the meeting's close.
        opened = datetime.datetime.combine(
            meeting.date - datetime.timedelta(days=30), datetime.time(9), tzinfo=datetime.UTC
        )
        closed = datetime.datetime.combine(meeting.date, datetime.time(17), tzinfo=datetime.UTC)
        Poll.objects.filter(pk=item.pk).update(opens_at=opened, closes_at=closed)
        poll_services.poll_open(poll=item, actor=secretary, now=opened)
        poll_services.poll_close(poll=item, actor=secretary, now=closed)
        tabulation_record(
            poll=item,
            shares_for=1_060_000_000,
            shares_against=916_300_000,
            shares_abstain=473_000_000,
            source=f"Inspector of elections, final report, 6 Nov {last_year()} (Tesla's 2025 figures, rounded)",
            actor=secretary,
        )
        # The inspector counted every share, most of them voted through brokers, not on this site.
        certification.poll_certify(
            poll=item, actor=secretary, confirm_difference=True, now=closed + datetime.timedelta(hours=1)
        )
    # The certification signal settles it through Celery after commit; settling here as well
    # keeps the demo whole when no worker is running, and a second settlement is a no-op.
    services.proposal_settle(proposal_id=proposal.pk)
