from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.models import AuditEvent
from polls.trail_verify import audit_verify


class Command(BaseCommand):
    help = (
        "Check every audit link's HMAC and order, each chain against its head, the running root, and every "
        "ballot and running total against the trail; exit non-zero naming the first problem. With --certified "
        "POLL, also prove that poll's certification: the trail as of then still gives its certified root."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--certified", type=int, metavar="POLL", help="a certified poll (item) id")

    def handle(self, *args: Any, **options: Any) -> None:
        problem = next(audit_verify(certified=options["certified"]), None)
        if problem is not None:
            raise CommandError(f"Audit trail broken: {problem}.")
        events = AuditEvent.objects.count()
        if options["certified"] is not None:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Audit trail intact: {events:,} events verified; poll {options['certified']} "
                    "is as certified (same root, same record)."
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {events:,} events verified."))
