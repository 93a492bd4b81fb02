"""Reading a transfer agent's register file (`holder,name,email,shares`) one line at a time, so
a million-line file never sits in memory."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, cast

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from core.validators import CONTROL_CHARACTERS, has_control_characters, shown
from meetings.models import Holder
from meetings.register_errors import Finding, RegisterError

HEADER = ["holder", "name", "email", "shares"]
MAX_REPORTED_ERRORS = 1000
# Up to 18 digits: every such number fits the 64-bit share columns.
WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")
# Holder.email's column: Django's validator accepts up to 320 characters, which the column would
# refuse with a database error instead of a finding.
EMAIL_MAX_LENGTH = cast(int, Holder._meta.get_field("email").max_length)
NEGATIVE_NUMBER = re.compile(r"-[0-9]+")


@dataclass(frozen=True)
class RegisterLine:
    line: int
    account: str
    name: str
    email: str
    shares: int


class RegisterTooLarge(Exception):
    """The file is longer than the import reads; the caller refuses it."""


class CountingReader(io.RawIOBase):
    """Wraps a binary file and counts the bytes read, for a progress indicator, and stops
    reading at `limit` bytes."""

    def __init__(self, source: IO[bytes], limit: int | None = None) -> None:
        self.source = source
        self.bytes_read = 0
        self.limit = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.source.read(len(buffer))
        count = len(data)
        buffer[:count] = data
        self.bytes_read += count
        if self.limit is not None and self.bytes_read > self.limit:
            raise RegisterTooLarge(self.limit)
        return count


def read_register(
    source: IO[bytes],
    errors: list[RegisterError],
    *,
    on_progress: Callable[[int, int], None] | None = None,
    progress_every: int = 10_000,
    limit: int | None = None,
) -> Iterator[RegisterLine]:
    """Yield each good line; append the findings of each bad one, with its line number.

    Checks that need the whole file (duplicate holders, the total against shares outstanding)
    are the caller's, once every line has been seen. More than `limit` bytes raise
    RegisterTooLarge.
    """
    counter = CountingReader(source, limit)
    text = io.TextIOWrapper(io.BufferedReader(counter, buffer_size=1 << 20), encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as error:
        errors.append(RegisterError(1, (Finding("unreadable", {"why": str(error)}),)))
        return
    if header is None:
        errors.append(RegisterError(1, (Finding("empty_file"),)))
        return
    if [column.strip().lower() for column in header] != HEADER:
        found = shown(CONTROL_CHARACTERS.sub("?", ",".join(header)))
        errors.append(RegisterError(1, (Finding("wrong_header", {"found": found}),)))
        return
    try:
        for row in reader:
            line = reader.line_num
            if on_progress is not None and line % progress_every == 0:
                on_progress(line, counter.bytes_read)
            if not row or all(not cell.strip() for cell in row):
                continue
            parsed = _parse_row(row, line, errors)
            if parsed is not None:
                yield parsed
    except (csv.Error, UnicodeDecodeError) as error:
        errors.append(RegisterError(reader.line_num, (Finding("unreadable_past_line", {"why": str(error)}),)))
    if on_progress is not None:
        on_progress(reader.line_num, counter.bytes_read)


def _shares_finding(shares: str) -> Finding | None:
    """What is wrong with a non-empty shares cell, if anything."""
    if WHOLE_NUMBER.fullmatch(shares):
        return None
    if NEGATIVE_NUMBER.fullmatch(shares):
        return Finding("shares_negative", {"found": shown(shares)})
    if shares.isdigit():
        return Finding("shares_too_long", {"n": len(shares)})
    return Finding("shares_not_whole", {"found": shown(shares)})


def _email_finding(email: str) -> Finding | None:
    try:
        validate_email(email)
        valid = len(email) <= EMAIL_MAX_LENGTH
    except ValidationError:
        valid = False
    return None if valid else Finding("email_invalid", {"email": shown(email)})


def _line_findings(cells: tuple[str, str, str, str]) -> list[Finding]:
    account, name, email, shares = cells
    columns = list(zip(HEADER, cells, strict=True))
    findings: list[Finding | None] = [Finding("missing", {"column": column}) for column, value in columns if not value]
    # A control character (NUL, a line break inside a quoted cell) is named and never echoed;
    # the cell's other checks would only echo it.
    controlled = [column for column, value in columns if has_control_characters(value)]
    findings += [Finding("control_character", {"column": column}) for column in controlled]
    if shares and "shares" not in controlled:
        findings.append(_shares_finding(shares))
    if email and "email" not in controlled:
        findings.append(_email_finding(email))
    if len(account) > 64 or len(name) > 200:
        findings.append(Finding("too_long"))
    return [finding for finding in findings if finding is not None]


def _parse_row(row: list[str], line: int, errors: list[RegisterError]) -> RegisterLine | None:
    if len(row) != len(HEADER):
        errors.append(RegisterError(line, (Finding("field_count", {"n": len(row)}),)))
        return None
    account, name, email, shares = (cell.strip() for cell in row)
    findings = _line_findings((account, name, email, shares))
    if findings:
        errors.append(RegisterError(line, tuple(findings)))
        return None
    return RegisterLine(line=line, account=account, name=name, email=email, shares=int(shares))
