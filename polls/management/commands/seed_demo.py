"""Demo data for a newcomer: safe to run any number of times."""

from __future__ import annotations

import datetime
import io
import os
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from polls import services
from polls.models import Meeting, Poll, RecordedPoll, ResultsVisibility, VoteStandard
from polls.permissions import SECRETARY_GROUP

XAI_QUESTION = "Should Tesla invest $5B into xAI, assuming the valuation is set by several credible outside investors?"
XAI_DESCRIPTION = (
    "Asked on X in July 2024. The original poll ended with 958,086 votes, 67.9% yes. "
    "This copy lets the demo accounts vote on the same question."
)
MEMBERS = ["alice", "bob", "carol"]
# Demo voters whose ballots give the poll roughly the X poll's split before anyone logs in.
DEMO_VOTERS = [(f"voter{i:02d}", "Yes" if i <= 19 else "No") for i in range(1, 29)]


class Command(BaseCommand):
    help = "Create the demo accounts and polls (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DEMO_PASSWORD", "quorum-demo")
        with transaction.atomic():
            secretary = self._user("secretary", password, is_staff=True)
            secretary.groups.add(Group.objects.get_or_create(name=SECRETARY_GROUP)[0])
            for name in MEMBERS:
                self._user(name, password)
            self._xai_poll(secretary)
            self._other_polls(secretary)
            self._annual_meeting(secretary)
            self._recorded_x_poll(secretary)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  secretary / {password}   (staff: may use /admin/)")
        for name in MEMBERS:
            self.stdout.write(f"  {name} / {password}")

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
            created_by=secretary,
        )
        services.poll_open(poll=poll)
        options = {option.label: option.pk for option in poll.options.all()}
        for username, choice in DEMO_VOTERS:
            voter = self._user(username, None)
            services.ballot_cast(poll_id=poll.pk, voter=voter, option_id=options[choice])

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
                created_by=secretary,
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
                created_by=secretary,
            )
            services.poll_open(poll=poll, now=now - datetime.timedelta(days=10))
            options = {option.label: option.pk for option in poll.options.all()}
            for username, choice in [("voter01", "Yes"), ("voter02", "Yes"), ("voter03", "No")]:
                voter = get_user_model().objects.get(username=username)
                services.ballot_cast(
                    poll_id=poll.pk, voter=voter, option_id=options[choice], now=now - datetime.timedelta(days=9)
                )
            services.poll_close(poll=poll)

    def _annual_meeting(self, secretary: Any) -> None:
        """The 6 Nov 2025 meeting: the xAI item decided on the inspector's totals (passes by
        votes cast, fails under the bylaw standard), and an open item the demo members hold
        shares for."""
        if Meeting.objects.filter(title=MEETING_TITLE).exists():
            return
        register = services.register_import(
            source=io.BytesIO(DEMO_REGISTER.encode()),
            record_date=datetime.date(2025, 9, 15),
            shares_outstanding=3_200_000_000,
            imported_by=secretary,
            source_name="demo-register.csv",
        )
        meeting = services.meeting_create(
            title=MEETING_TITLE, date=datetime.date(2025, 11, 6), register=register, created_by=secretary
        )
        opened = datetime.datetime(2025, 10, 1, 12, tzinfo=datetime.UTC)
        closed = datetime.datetime(2025, 11, 6, 20, tzinfo=datetime.UTC)
        xai = services.item_create(
            meeting=meeting,
            title="Shareholder proposal: authorize the board to invest in xAI",
            description="Advisory. Decided under the bylaws' standard, where abstentions count against.",
            standard=VoteStandard.PRESENT_AND_ENTITLED,
            advisory=True,
            opens_at=opened,
            closes_at=closed,
            created_by=secretary,
        )
        services.poll_open(poll=xai, now=opened)
        services.poll_close(poll=xai, now=closed)
        services.tabulation_record(
            poll=xai,
            shares_for=1_060_000_000,
            shares_against=916_300_000,
            shares_abstain=473_000_000,
            source="Inspector of elections, final report (public figures, rounded)",
            entered_by=secretary,
        )
        services.poll_certify(poll=xai, certified_by=secretary, now=closed + datetime.timedelta(days=1))
        now = timezone.now()
        auditor = services.item_create(
            meeting=meeting,
            title="Ratify the appointment of the independent auditor",
            standard=VoteStandard.VOTES_CAST,
            opens_at=now - datetime.timedelta(hours=1),
            closes_at=now + datetime.timedelta(days=7),
            results_visibility=ResultsVisibility.LIVE,
            created_by=secretary,
        )
        services.poll_open(poll=auditor)

    def _recorded_x_poll(self, secretary: Any) -> None:
        if RecordedPoll.objects.filter(question=XAI_QUESTION).exists():
            return
        recorded = services.recorded_poll_create(
            platform="X",
            url="https://x.com/elonmusk",
            author="Elon Musk (@elonmusk)",
            question=XAI_QUESTION,
            options=["Yes", "No"],
            created_by=secretary,
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


MEETING_TITLE = "2025 Annual Meeting of Stockholders"
DEMO_REGISTER = """holder,name,email,shares
DEMO-0001,Alice Example,alice@example.com,12000
DEMO-0002,Bob Example,bob@example.com,8000
DEMO-0003,Carol Example,carol@example.com,5000
CEDE-0001,Cede & Co (street name),cede@example.com,3100000000
"""
