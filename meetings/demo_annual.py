"""Last year's annual meeting with its whole ballot (issue 14): beside the auditor's ratification
(meetings.demo) and the xAI shareholder proposal (proposals.demo), two directors elected under
majority voting, one of whom fails and tenders their resignation, say-on-pay and its frequency.
The demo members vote their shares; Cede & Co, the street-name nominee, splits its 3.1 billion
as its beneficial owners told it, so the quorum is met and the figures read like a filing's.
Every item is cast, closed and certified through the services; each is made once."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from meetings import meeting_services
from meetings.ballot_services import annual_item_create, item_lines_cast
from meetings.models import Meeting
from meetings.services import holders_link_user, item_ballot_cast
from polls import certification
from polls import services as poll_services
from polls.models import Poll, VoteStandard

ELECTION_TITLE = "Elect two directors"
NOMINEES = ["Helen Marsh", "Victor Lang"]  # fictional; Victor Lang fails under majority voting
SAY_ON_PAY_TITLE = "Approve executive compensation on an advisory basis"
FREQUENCY_TITLE = "Frequency of the advisory vote on executive compensation"
NOMINEE_ACCOUNT = "cede"  # holds Cede & Co's street-name shares in the demo register
VOTERS = ["alice", "bob", "carol", NOMINEE_ACCOUNT]

# The election: each voter's choice per nominee, Cede & Co's split (of 3,100,000,000 shares)
# as it was instructed. Victor Lang gets more shares against than for.
ELECTION_VOTES = {
    "alice": {"Helen Marsh": "for", "Victor Lang": "against"},
    "bob": {"Helen Marsh": "for", "Victor Lang": "against"},
    "carol": {"Helen Marsh": "abstain", "Victor Lang": "for"},
}
ELECTION_SPLIT = {
    "Helen Marsh": {"for": 2_790_000_000, "against": 248_000_000, "abstain": 62_000_000},
    "Victor Lang": {"for": 1_364_000_000, "against": 1_674_000_000, "abstain": 62_000_000},
}
SAY_ON_PAY_VOTES = {"alice": "for", "bob": "against", "carol": "for"}
SAY_ON_PAY_SPLIT = {"for": 2_250_000_000, "against": 780_000_000, "abstain": 70_000_000}
FREQUENCY_VOTES = {"alice": "1 Year", "bob": "3 Years", "carol": "1 Year"}
FREQUENCY_SPLIT = {"1 Year": 2_480_000_000, "2 Years": 31_000_000, "3 Years": 527_000_000, "Abstain": 62_000_000}


def seed_annual_ballot(*, meeting: Meeting, secretary: Any) -> None:
    """Add what is missing of the meeting's ballot (safe to run again)."""
    # A month of proxy voting up to the meeting's close, as its auditor item had.
    start = meeting.date - datetime.timedelta(days=30)
    opened = datetime.datetime.combine(start, datetime.time(9), tzinfo=datetime.UTC)
    closed = datetime.datetime.combine(meeting.date, datetime.time(17), tzinfo=datetime.UTC)
    voters = _voters()
    titles = set(meeting.items.values_list("title", flat=True))
    steps = [(ELECTION_TITLE, _election), (SAY_ON_PAY_TITLE, _say_on_pay), (FREQUENCY_TITLE, _frequency)]
    for title, make in steps:
        if title in titles:
            continue
        with transaction.atomic():
            item = make(meeting, secretary, opened, closed)
            poll_services.poll_open(poll=item, now=opened)
            _vote(item, voters, opened)
            poll_services.poll_close(poll=item, now=closed, actor=secretary)
            certification.poll_certify(poll=item, actor=secretary, now=closed + datetime.timedelta(hours=1))


def _voters() -> dict[str, Any]:
    """The members, and an account for Cede & Co that exists only to hold its ballots."""
    users = get_user_model()
    nominee, created = users.objects.get_or_create(
        username=NOMINEE_ACCOUNT, defaults={"email": f"{NOMINEE_ACCOUNT}@example.com"}
    )
    if created:
        nominee.set_unusable_password()
        nominee.save()
    holders_link_user(user=nominee)
    return {user.username: user for user in users.objects.filter(username__in=VOTERS)}


def _election(meeting: Meeting, secretary: Any, opened: datetime.datetime, closed: datetime.datetime) -> Poll:
    return annual_item_create(
        meeting=meeting,
        kind="election",
        title=ELECTION_TITLE,
        description="Majority voting: a nominee is elected with more shares for than against; "
        "one who is not tenders their resignation to the board.",
        nominees=NOMINEES,
        seats=2,
        election_standard="majority",
        opens_at=opened,
        closes_at=closed,
        actor=secretary,
    )


def _say_on_pay(meeting: Meeting, secretary: Any, opened: datetime.datetime, closed: datetime.datetime) -> Poll:
    return meeting_services.item_create(
        meeting=meeting,
        title=SAY_ON_PAY_TITLE,
        standard=VoteStandard.VOTES_CAST,
        advisory=True,
        opens_at=opened,
        closes_at=closed,
        actor=secretary,
    )


def _frequency(meeting: Meeting, secretary: Any, opened: datetime.datetime, closed: datetime.datetime) -> Poll:
    return annual_item_create(
        meeting=meeting, kind="frequency", title=FREQUENCY_TITLE, opens_at=opened, closes_at=closed, actor=secretary
    )


def _vote(item: Poll, voters: dict[str, Any], opened: datetime.datetime) -> None:
    """One ballot a day from each voter, Cede & Co's last, through the item's own service."""
    ids = {option.label: str(option.pk) for option in item.options.all()}
    for day, username in enumerate(VOTERS, start=1):
        actor, now = voters[username], opened + datetime.timedelta(days=day)
        if item.title == SAY_ON_PAY_TITLE:
            choice = SAY_ON_PAY_VOTES.get(username)
            split = None if choice else SAY_ON_PAY_SPLIT
            item_ballot_cast(poll_id=item.pk, actor=actor, choice=choice, split=split, now=now)
        else:
            item_lines_cast(poll_id=item.pk, actor=actor, data=_lines_payload(item, ids, username), now=now)


def _lines_payload(item: Poll, ids: dict[str, str], username: str) -> dict[str, Any]:
    if item.title == ELECTION_TITLE:
        if username == NOMINEE_ACCOUNT:
            split = {ids[name]: {c: str(n) for c, n in shares.items()} for name, shares in ELECTION_SPLIT.items()}
            return {"splits": split}
        return {"votes": {ids[name]: choice for name, choice in ELECTION_VOTES[username].items()}}
    if username == NOMINEE_ACCOUNT:
        return {"splits": {ids[label]: str(shares) for label, shares in FREQUENCY_SPLIT.items()}}
    return {"option": int(ids[FREQUENCY_VOTES[username]])}
