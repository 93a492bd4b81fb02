"""Import a transfer agent's register file, with a progress bar on the terminal."""

from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from meetings.register_import import register_import
from polls.exceptions import RegisterInvalid


class Command(BaseCommand):
    help = "Import a register CSV (holder,name,email,shares) as of a record date. Bad lines import nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--record-date", required=True, type=datetime.date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--shares-outstanding", required=True, type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        size = os.path.getsize(path)
        show_bar = sys.stderr.isatty() or options.get("verbosity", 1) > 1

        def progress(lines: int, bytes_read: int) -> None:
            if not show_bar:
                return
            done = bytes_read / size if size else 1
            bar = "#" * int(done * 30)
            sys.stderr.write(f"\r[{bar:<30}] {done:6.1%}  {lines:,} lines")
            sys.stderr.flush()

        try:
            with path.open("rb") as source:
                snapshot = register_import(
                    source=source,
                    record_date=options["record_date"],
                    shares_outstanding=options["shares_outstanding"],
                    actor=None,
                    source_name=path.name,
                    on_progress=progress,
                )
        except RegisterInvalid as error:
            if show_bar:
                sys.stderr.write("\n")
            for message in error.errors:
                self.stderr.write(message)
            raise CommandError(error.message) from None
        if show_bar:
            sys.stderr.write("\n")
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported register #{snapshot.pk} at {snapshot.record_date}: {snapshot.holder_count:,} holders, "
                f"{snapshot.total_shares:,} of {snapshot.shares_outstanding:,} shares outstanding."
            )
        )
