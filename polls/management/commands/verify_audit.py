from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from polls.audit import audit_verify
from polls.models import AuditEvent


class Command(BaseCommand):
    help = "Check every audit chain; exit non-zero naming the first broken event."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = next(audit_verify(), None)
        if broken is not None:
            raise CommandError(f"Audit trail broken at {broken}.")
        self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {AuditEvent.objects.count():,} events verified."))
