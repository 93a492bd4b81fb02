"""Demo data for a newcomer: safe to run any number of times."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from meetings.demo import MEMBERS, PollsDemo, demo_password
from proposals.demo import seed_proposals


class Command(BaseCommand):
    help = "Create the demo accounts, polls, meeting and the xAI proposal's journey (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        secretary = PollsDemo().seed()
        directors = seed_proposals(secretary)
        password = demo_password()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  secretary / {password}   (staff: may use /admin/)")
        for name in MEMBERS:
            self.stdout.write(f"  {name} / {password}   (member and shareholder)")
        self.stdout.write(f"  directors: {', '.join(directors)} / {password}   (elon is recused on xAI)")
