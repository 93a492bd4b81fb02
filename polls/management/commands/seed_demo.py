"""Demo data for a newcomer: safe to run any number of times."""

from __future__ import annotations

import datetime
import os
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from polls import services
from polls.models import Poll, ResultsVisibility
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
