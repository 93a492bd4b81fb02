"""Reading a transfer agent's register file (`holder,name,email,shares`) one line at a time, so
a million-line file never sits in memory."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from core.validators import CONTROL_CHARACTERS, has_control_characters, shown

HEADER = ["holder", "name", "email", "shares"]
MAX_REPORTED_ERRORS = 1000
# Up to 18 digits: every such number fits the 64-bit share columns.
WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")
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
    errors: list[str],
    *,
    on_progress: Callable[[int, int], None] | None = None,
    progress_every: int = 10_000,
    limit: int | None = None,
) -> Iterator[RegisterLine]:
    """Yield each good line; append a message naming the line number for each bad one.

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
        errors.append(f"line 1: the file cannot be read as UTF-8 CSV ({error})")
        return
    if header is None:
        errors.append("line 1: the file is empty; expected the header holder,name,email,shares")
        return
    if [column.strip().lower() for column in header] != HEADER:
        found = shown(CONTROL_CHARACTERS.sub("?", ",".join(header)))
        errors.append(f"line 1: expected the header holder,name,email,shares, found {found}")
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
        errors.append(f"line {reader.line_num}: the file cannot be read past this line ({error})")
    if on_progress is not None:
        on_progress(reader.line_num, counter.bytes_read)


def _parse_row(row: list[str], line: int, errors: list[str]) -> RegisterLine | None:
    if len(row) != len(HEADER):
        errors.append(f"line {line}: expected 4 fields (holder,name,email,shares), found {len(row)}")
        return None
    account, name, email, shares = (cell.strip() for cell in row)
    cells = (account, name, email, shares)
    problems = [f"missing {column}" for column, value in zip(HEADER, cells, strict=True) if not value]
    # A control character (NUL, a line break inside a quoted cell) is named and never echoed;
    # the cell's other checks would only echo it.
    controlled = {column for column, value in zip(HEADER, cells, strict=True) if has_control_characters(value)}
    problems += [f"control character in {column}" for column in HEADER if column in controlled]
    if "email" in controlled:
        email = ""
    if shares and "shares" not in controlled and not WHOLE_NUMBER.fullmatch(shares):
        if NEGATIVE_NUMBER.fullmatch(shares):
            problems.append(f"shares must not be negative, found {shown(shares)}")
        elif shares.isdigit():
            problems.append(f"shares must be at most 18 digits, found {len(shares)}")
        else:
            problems.append(f"shares must be a whole number, found {shown(shares)!r}")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems.append(f"{shown(email)!r} is not a valid e-mail address")
    if len(account) > 64 or len(name) > 200:
        problems.append("holder id is limited to 64 characters and name to 200")
    if problems:
        errors.append(f"line {line}: {'; '.join(problems)}")
        return None
    return RegisterLine(line=line, account=account, name=name, email=email, shares=int(shares))
