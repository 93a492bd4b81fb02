"""Demo polls, meetings and recorded poll for a newcomer; safe to run any number of times.
`manage.py seed_demo` (in proposals, the top of the dependency chain) runs this first. Dates
follow today, so the story reads true on any day: last year's annual meeting is certified,
this year's is a week away with its items open."""

from __future__ import annotations

import datetime
import io
import os
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from core.roles import SECRETARY_GROUP
from meetings import meeting_services
from meetings.demo_annual import seed_annual_ballot
from meetings.models import Meeting
from meetings.register_import import register_import
from meetings.services import holders_link_user, item_ballot_cast, tabulation_record
from polls import certification, services
from polls.ballots import ballot_cast
from polls.models import Poll, RecordedPoll, ResultsVisibility, VoteStandard

XAI_QUESTION = "Should Tesla invest $5B into xAI, assuming the valuation is set by several credible outside investors?"
XAI_DESCRIPTION = (
    "Asked on X in July 2024. The original poll ended with 958,086 votes, 67.9% yes. "
    "This copy lets the demo accounts vote on the same question."
)
MEMBERS = ["alice", "bob", "carol"]
# Demo voters whose ballots give the poll roughly the X poll's split before anyone logs in.
DEMO_VOTERS = [(f"voter{i:02d}", "Yes" if i <= 19 else "No") for i in range(1, 29)]


def demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD", "quorum-demo")


class PollsDemo:
    def seed(self) -> Any:
        """Create the accounts, polls, meeting and recorded poll; return the secretary."""
        password = demo_password()
        with transaction.atomic():
            secretary = self._user("secretary", password, is_staff=True)
            secretary.groups.add(Group.objects.get_or_create(name=SECRETARY_GROUP)[0])
            for name in MEMBERS:
                self._user(name, password)
            self._xai_poll(secretary)
            self._escalating_poll(secretary)
            self._other_polls(secretary)
            self._annual_meeting(secretary)
            seed_annual_ballot(meeting=Meeting.objects.get(title=meeting_title()), secretary=secretary)
            self._next_meeting(secretary)
            self._recorded_x_poll(secretary)
        return secretary

    def _user(self, username: str, password: str | None, **extra: Any) -> Any:
        """`password=None` makes an account that exists only to hold demo ballots."""
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com", **extra}
        )
        if created:
            user.set_password(password)  # None sets an unusable password
            user.save()
        return user

    def _xai_poll(self, secretary: Any) -> None:
        if Poll.objects.filter(title=XAI_QUESTION).exists():
            return
        now = timezone.now()
        poll = services.poll_create(
            title=XAI_QUESTION,
            description=XAI_DESCRIPTION,
            options=["Yes", "No"],
            opens_at=now - datetime.timedelta(hours=1),
            closes_at=now + datetime.timedelta(days=7),
            allow_change=True,
            results_visibility=ResultsVisibility.LIVE,
            actor=secretary,
        )
        services.poll_open(poll=poll)
        options = {option.label: option.pk for option in poll.options.all()}
        for username, choice in DEMO_VOTERS:
            voter = self._user(username, None)
            ballot_cast(poll_id=poll.pk, actor=voter, option_id=options[choice])

    def _escalating_poll(self, secretary: Any) -> None:
        """The members' own poll on the question, closed, with the rule that sent it to the
        board: "Yes" at or above 2/3 of the votes opens a draft proposal."""
        if Poll.objects.filter(title=ESCALATING_TITLE).exists():
            return
        now = timezone.now()
        poll = services.poll_create(
            title=ESCALATING_TITLE,
            description="Closed. Yes reached 67.9%, above the 2/3 escalation threshold.",
            options=["Yes", "No"],
            opens_at=now - datetime.timedelta(days=30),
            closes_at=now - datetime.timedelta(days=23),
            actor=secretary,
        )
        services.poll_escalation_set(poll=poll, option_label="Yes", threshold="2/3", comparator=">=")
        opened = now - datetime.timedelta(days=30)
        Poll.objects.filter(pk=poll.pk).update(closes_at=now + datetime.timedelta(days=1))
        services.poll_open(poll=poll, now=opened)
        options = {option.label: option.pk for option in poll.options.all()}
        for username, choice in DEMO_VOTERS:
            voter = self._user(username, None)
            ballot_cast(poll_id=poll.pk, actor=voter, option_id=options[choice], now=opened)
        services.poll_close(poll=poll, actor=secretary)

    def _other_polls(self, secretary: Any) -> None:
        now = timezone.now()
        title = "Which city should host the 2027 annual meeting?"
        if not Poll.objects.filter(title=title).exists():
            poll = services.poll_create(
                title=title,
                options=["Austin", "Palo Alto", "Online only"],
                opens_at=now + datetime.timedelta(days=3),
                closes_at=now + datetime.timedelta(days=10),
                results_visibility=ResultsVisibility.AFTER_CLOSE,
                actor=secretary,
            )
            services.poll_schedule(poll=poll)
        title = "Should the annual report be published in Italian as well?"
        if not Poll.objects.filter(title=title).exists():
            poll = services.poll_create(
                title=title,
                options=["Yes", "No"],
                opens_at=now - datetime.timedelta(days=10),
                closes_at=now + datetime.timedelta(days=1),
                allow_change=False,
                actor=secretary,
            )
            services.poll_open(poll=poll, now=now - datetime.timedelta(days=10))
            options = {option.label: option.pk for option in poll.options.all()}
            for username, choice in [("voter01", "Yes"), ("voter02", "Yes"), ("voter03", "No")]:
                voter = get_user_model().objects.get(username=username)
                ballot_cast(
                    poll_id=poll.pk, actor=voter, option_id=options[choice], now=now - datetime.timedelta(days=9)
                )
            services.poll_close(poll=poll)

    def _link_demo_holders(self) -> None:
        """The demo register is a closed one whose addresses are the demo accounts': link them
        by e-mail whatever REGISTER_LINK_BY_EMAIL says, so any deployment's demo can vote."""
        for user in get_user_model().objects.filter(username__in=MEMBERS):
            holders_link_user(user=user)

    def _annual_meeting(self, secretary: Any) -> None:
        """Last year's annual meeting on the register of record (6 November, as Tesla's in
        2025): its auditor item voted by the demo members, tabulated by the inspector, closed
        and certified. The rest of its ballot is meetings.demo_annual's; the xAI item arrives
        there when the proposals demo puts it to the vote."""
        title = meeting_title()
        if Meeting.objects.filter(title=title).exists():
            return
        year = last_year()
        register = register_import(
            source=io.BytesIO(DEMO_REGISTER.encode()),
            record_date=datetime.date(year, 9, 15),
            shares_outstanding=3_200_000_000,
            actor=secretary,
            source_name=f"demo-register-{year}.csv",
        )
        self._link_demo_holders()
        held = datetime.date(year, 11, 6)
        meeting = meeting_services.meeting_create(title=title, date=held, register=register, actor=secretary)
        opened = datetime.datetime.combine(held - datetime.timedelta(days=30), datetime.time(9), tzinfo=datetime.UTC)
        closed = datetime.datetime.combine(held, datetime.time(17), tzinfo=datetime.UTC)
        auditor = meeting_services.item_create(
            meeting=meeting,
            title=AUDITOR_TITLE,
            standard=VoteStandard.VOTES_CAST,
            opens_at=opened,
            closes_at=closed,
            actor=secretary,
        )
        services.poll_open(poll=auditor, now=opened)
        users = {user.username: user for user in get_user_model().objects.filter(username__in=MEMBERS)}
        for day, (username, choice) in enumerate([("alice", "for"), ("bob", "for"), ("carol", "against")], start=1):
            cast = opened + datetime.timedelta(days=day)
            item_ballot_cast(poll_id=auditor.pk, actor=users[username], choice=choice, now=cast)
        services.poll_close(poll=auditor, now=closed, actor=secretary)
        # The street-name shares were voted through brokers: the inspector's report counts them.
        tabulation_record(
            poll=auditor,
            shares_for=2_985_000_000,
            shares_against=96_000_000,
            shares_abstain=19_025_000,
            broker_non_votes=0,
            source=f"Inspector of elections, final report, 6 Nov {year} (demo figures)",
            actor=secretary,
        )
        certification.poll_certify(
            poll=auditor, actor=secretary, confirm_difference=True, now=closed + datetime.timedelta(hours=1)
        )

    def _next_meeting(self, secretary: Any) -> None:
        """This year's meeting, a week from today, on a register of three weeks ago: its items
        are open for the demo members to vote on (results after the close)."""
        today = timezone.localdate()
        title = meeting_title(today.year)
        if Meeting.objects.filter(title=title).exists():
            return
        register = register_import(
            source=io.BytesIO(DEMO_REGISTER.encode()),
            record_date=today - datetime.timedelta(days=21),
            shares_outstanding=3_200_000_000,
            actor=secretary,
            source_name=f"demo-register-{today.year}.csv",
        )
        self._link_demo_holders()
        held = today + datetime.timedelta(days=7)
        meeting = meeting_services.meeting_create(title=title, date=held, register=register, actor=secretary)
        closes = datetime.datetime.combine(held, datetime.time(17), tzinfo=datetime.UTC)
        for item_title, advisory in [
            (AUDITOR_TITLE, False),
            ("Approve executive compensation on an advisory basis", True),
        ]:
            item = meeting_services.item_create(
                meeting=meeting,
                title=item_title,
                standard=VoteStandard.VOTES_CAST,
                advisory=advisory,
                opens_at=timezone.now() - datetime.timedelta(hours=1),
                closes_at=closes,
                actor=secretary,
            )
            services.poll_open(poll=item)

    def _recorded_x_poll(self, secretary: Any) -> None:
        if RecordedPoll.objects.filter(question=XAI_QUESTION).exists():
            return
        recorded = services.recorded_poll_create(
            platform="X",
            url="https://x.com/elonmusk",
            author="Elon Musk (@elonmusk)",
            question=XAI_QUESTION,
            options=["Yes", "No"],
            actor=secretary,
        )
        posted = datetime.datetime(2024, 7, 24, 22, 0, tzinfo=datetime.UTC)
        for hours, total, yes, note in [
            (3, 386_000, "70.0", "about 3 h in (approximate)"),
            (4, 440_189, "69.5", "about 4 h in"),
            (24, 958_086, "67.9", "final"),
        ]:
            services.recorded_snapshot_add(
                recorded_poll=recorded,
                taken_at=posted + datetime.timedelta(hours=hours),
                total_votes=total,
                percentages={"Yes": Decimal(yes), "No": Decimal(100) - Decimal(yes)},
                note=note,
            )


AUDITOR_TITLE = "Ratify the appointment of the independent auditor"


def last_year() -> int:
    return timezone.localdate().year - 1


def meeting_title(year: int | None = None) -> str:
    """The demo's annual meetings follow the calendar: last year's by default."""
    return f"{year or last_year()} Annual Meeting of Stockholders"


ESCALATING_TITLE = "Members' poll: should Tesla invest $5B into xAI?"
DEMO_REGISTER = """holder,name,email,shares
DEMO-0001,Alice Example,alice@example.com,12000
DEMO-0002,Bob Example,bob@example.com,8000
DEMO-0003,Carol Example,carol@example.com,5000
CEDE-0001,Cede & Co (street name),cede@example.com,3100000000
"""
