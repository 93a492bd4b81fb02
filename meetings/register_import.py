"""Importing a transfer agent's register of record: every line checked, on every path, before
anything is stored.

PostgreSQL reads the file itself (COPY) and the checks run as SQL; other databases stage the
lines the Python reader (meetings.registers) accepted. The two paths give the same findings, line
for line. Whatever COPY cannot read line for line as the Python reader does (an end-of-data
marker `\\.`, a control character, a cell spanning lines) goes to the Python reader, which names
each bad line."""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import IO, Any

import psycopg
from django.conf import settings
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.validators import ECHO_LIMIT, shown
from meetings.holdings import control_numbers_issue, holders_copy_with_numbers, numbers_draw_start
from meetings.models import Holder, RegisterSnapshot
from meetings.register_errors import Finding, RegisterError
from meetings.register_scan import needs_line_reader, quoted_apart
from meetings.register_trail import register_record
from meetings.registers import (
    EMAIL_MAX_LENGTH,
    HEADER,
    MAX_REPORTED_ERRORS,
    RegisterLine,
    RegisterTooLarge,
    read_register,
)
from polls.exceptions import InvalidPollData, RegisterInvalid
from polls.permissions import poll_manager_required

STAGING_TABLE = "quorum_register_staging"
# One COPY per block: small enough for a progress bar to move often, large enough that the
# statements cost nothing next to the rows (a million lines is about 240 blocks).
COPY_BLOCK_BYTES = 256 * 1024
# A million-holder register is about 60 MB; the limit leaves room and stops a runaway upload.
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


class RegisterFileTooLarge(DomainError):
    status_code = 413

    def __init__(self, limit: int) -> None:
        super().__init__(
            _("The register file is larger than %(size)s MB; nothing was imported.")
            % {"size": number_format(limit // (1024 * 1024), force_grouping=True)}
        )


def register_max_bytes() -> int:
    return int(getattr(settings, "REGISTER_MAX_BYTES", DEFAULT_MAX_BYTES))


def _batches(lines: Iterator[RegisterLine], size: int = 5000) -> Iterator[list[RegisterLine]]:
    batch: list[RegisterLine] = []
    for item in lines:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _stage_register_lines(lines: Iterator[RegisterLine]) -> None:
    """Load the lines into a temporary table: COPY on PostgreSQL, batched inserts elsewhere.
    An earlier import on this connection may have left one behind, hence the DROP first. Each
    batch is written once the reader has produced it (its progress report included), so no
    COPY is open while a progress callback writes on the same connection."""
    columns = "(line integer, account text, name text, email text, shares bigint)"
    insert = f"INSERT INTO {STAGING_TABLE} (line, account, name, email, shares) VALUES (%s, %s, %s, %s, %s)"  # noqa: S608
    with connection.cursor() as cursor:
        with transaction.atomic():
            cursor.execute(f"DROP TABLE IF EXISTS {STAGING_TABLE}")
            cursor.execute(f"CREATE TEMPORARY TABLE {STAGING_TABLE} {columns}")
        for batch in _batches(lines):
            rows = [(item.line, item.account, item.name, item.email, item.shares) for item in batch]
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    # Binary-safe: write_row escapes every value, and the reader refused control characters.
                    with cursor.copy(f"COPY {STAGING_TABLE} (line, account, name, email, shares) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    cursor.executemany(insert, rows)


# For the statements that sort every account, in their transaction only: a million accounts sort
# in memory in 0.4 s, against 1.7 s spilled to disk under the default 4 MB.
SORT_MEMORY_SQL = "SET LOCAL work_mem = '256MB'"
SPLIT = 10**9


def _whole_file_errors(shares_outstanding: int, shares: str = "shares") -> tuple[list[RegisterError], int, int]:
    """Duplicate holders (each later line names the first) and the total against outstanding.
    `shares` is the SQL for a line's share count (the fast path stages it as text)."""
    errors: list[RegisterError] = []
    postgres = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            cursor.execute(SORT_MEMORY_SQL)
        # One pass counts the lines, their shares and their distinct accounts; only a file with
        # a duplicate pays for the window that names each one (a million lines: 1.1 s against
        # 2.4 s for the window and the sum).
        # PostgreSQL sums bigints as numeric; SQLite's SUM fails past 2**63, which ten 18-digit
        # lines reach, so there the shares' high and low nine digits are summed apart.
        scale = 1 if postgres else SPLIT
        sums = f"SUM({shares}), 0" if postgres else f"SUM(({shares}) / {SPLIT}), SUM(({shares}) % {SPLIT})"
        cursor.execute(f"SELECT COUNT(*), {sums}, COUNT(DISTINCT account) FROM {STAGING_TABLE}")  # noqa: S608
        count, high, low, accounts = cursor.fetchone()
        total = int(high or 0) * scale + int(low or 0)
        if accounts < count:
            cursor.execute(
                f"SELECT line, substr(account, 1, %s), first_line FROM (SELECT line, account, "  # noqa: S608
                f"MIN(line) OVER (PARTITION BY account) AS first_line FROM {STAGING_TABLE}) AS seen "
                "WHERE line > first_line ORDER BY line LIMIT %s",
                [ECHO_LIMIT + 1, MAX_REPORTED_ERRORS],
            )
            for line, account, first_line in cursor.fetchall():
                again = Finding("duplicate_holder", {"holder": shown(account), "first": first_line})
                errors.append(RegisterError(line, (again,)))
    if total > shares_outstanding:
        over = {"total": int(total), "outstanding": shares_outstanding}
        errors.append(RegisterError(None, (Finding("over_outstanding", over),)))
    return errors, int(count), int(total)


def _shown_sql(column: str) -> str:
    """core.validators.shown in SQL: what a finding may echo of a cell."""
    return f"CASE WHEN length({column}) > {ECHO_LIMIT} THEN left({column}, {ECHO_LIMIT}) || '…' ELSE {column} END"


# E-mail is checked with a character class and LIKE patterns (one @, a dotted domain whose
# last label has two or more characters, no leading, trailing or doubled dots, no hyphen at a
# label's edge, no longer than the column) rather than Django's validator, whose nested groups
# cost PostgreSQL's regex engine 8 s per million lines; the rarely used forms Django also accepts
# (quoted local parts, address literals) are refused here.
BAD_EMAIL_SQL = (
    "(email ~ '[^-!#$%%&''*+/=?^_`{}|~0-9A-Za-z.@]' OR email LIKE '%%@%%@%%' OR email NOT LIKE '_%%@_%%._%%' "
    "OR email LIKE '%%@%%._' OR email LIKE '.%%' OR email LIKE '%%.@%%' OR email LIKE '%%..%%' "
    "OR email LIKE '%%@-%%' OR email LIKE '%%@.%%' OR email LIKE '%%-.%%' OR email LIKE '%%.-%%' "
    f"OR email LIKE '%%-' OR email LIKE '%%.' OR length(email) > {EMAIL_MAX_LENGTH})"
)
# A whole number of up to 18 digits (`shares ~ '^[0-9]{1,18}$'`), without a regular expression:
# each regular expression over a million cells costs about a second, this a third of one.
SHARES_OK_SQL = "(shares <> '' AND length(shares) <= 18 AND ltrim(shares, '0123456789') = '')"
SQL_SHARES = f"CASE WHEN {SHARES_OK_SQL} THEN shares::bigint ELSE 0 END"
# Each bad line's findings as meetings.registers gives them (control characters never get here):
# the missing cells, the shares cell's finding code and what it may echo of the cell, the
# e-mail address as it may be echoed when it is not one, and whether a cell is too long.
LINE_PROBLEMS_SQL = (
    "SELECT line, "  # noqa: S608 - our table name; values are bound parameters
    "account = '', name = '', email = '', shares = '', "
    "CASE WHEN shares = '' OR shares ~ '^[0-9]{1,18}$' THEN NULL "
    "WHEN shares ~ '^-[0-9]+$' THEN 'shares_negative' "
    "WHEN shares ~ '^[0-9]+$' THEN 'shares_too_long' "
    "ELSE 'shares_not_whole' END, "
    f"{_shown_sql('shares')}, length(shares), "
    f"CASE WHEN email <> '' AND {BAD_EMAIL_SQL} THEN {_shown_sql('email')} END, "
    "length(account) > 64 OR length(name) > 200 "
    f"FROM {STAGING_TABLE} "
    f"WHERE account = '' OR name = '' OR email = '' OR NOT {SHARES_OK_SQL} "
    f"OR (email <> '' AND {BAD_EMAIL_SQL}) OR length(account) > 64 OR length(name) > 200 "
    "ORDER BY line LIMIT %(limit)s"
)
# A line break inside a quoted cell: the only control character the byte scan lets through.
LINE_BREAK_IN_CELL_SQL = (
    f"SELECT 1 FROM {STAGING_TABLE} WHERE strpos(concat(account, name, email, shares), E'\\n') > 0 "  # noqa: S608
    "OR strpos(concat(account, name, email, shares), E'\\r') > 0 LIMIT 1"
)


# PostgreSQL links after the COPY: only the holders an account's address matches are rewritten.
LINK_BY_EMAIL_SQL = (
    f"UPDATE {Holder._meta.db_table} h SET user_id = u.id FROM (SELECT LOWER(email) AS email, MIN(id) AS id "  # noqa: S608
    f"FROM {User._meta.db_table} WHERE email <> '' GROUP BY LOWER(email)) u "
    "WHERE h.register_id = %s AND LOWER(h.email) = u.email"
)

TRIM_CELLS_SQL = (
    f"UPDATE {STAGING_TABLE} SET account = coalesce(trim(account), ''), name = coalesce(trim(name), ''), "  # noqa: S608
    "email = coalesce(trim(email), ''), shares = coalesce(trim(shares), '') "
    "WHERE account IS NULL OR name IS NULL OR email IS NULL OR shares IS NULL OR account <> trim(account) "
    "OR name <> trim(name) OR email <> trim(email) OR shares <> trim(shares)"
)


class _NotPlainCsv(Exception):
    """The file needs the Python reader to be read line for line."""


def _create_copy_staging(cursor: CursorWrapper) -> None:
    with transaction.atomic():
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGING_TABLE} (line bigint GENERATED ALWAYS AS IDENTITY "
            "(START WITH 2), account text, name text, email text, shares text)"
        )


def _copy_blocks(
    cursor: CursorWrapper, source: IO[bytes], on_progress: Callable[[int, int], None] | None, limit: int
) -> tuple[bool, int]:
    """COPY the rest of the file into the staging table block by block; whether any block held
    a quote, and how many lines were copied. _NotPlainCsv when a block needs the line reader."""
    copy_sql = f"COPY {STAGING_TABLE} (account, name, email, shares) FROM STDIN (FORMAT csv)"
    copied = lines = 0
    quoted = False
    tail = b"\n"  # the header's end: the first data line starts a line
    pending = b""
    while True:
        block = source.read(COPY_BLOCK_BYTES)
        copied += len(block)
        if copied > limit:
            raise RegisterTooLarge(limit)
        # A marker or character split across two blocks is found with the previous
        # block's last bytes.
        if block and needs_line_reader(tail + block):
            raise _NotPlainCsv
        quoted = quoted or b'"' in block
        tail = block[-3:] if block else tail
        # One COPY per block of whole lines, each committed on its own when the caller
        # holds no transaction: a worker's progress written between two blocks is then
        # seen by the page that polls it. A quoted cell cut at a block's end makes that
        # COPY fail, and the line reader explains the line.
        data = pending + block
        cut = data.rfind(b"\n") + 1 if block else len(data)
        chunk, pending = data[:cut], data[cut:]
        if b'"' in chunk and quoted_apart(chunk):
            raise _NotPlainCsv
        if chunk:
            with transaction.atomic(), cursor.copy(copy_sql) as copy:
                copy.write(chunk)
            lines += chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
        if on_progress is not None:
            on_progress(lines + 1, copied)  # the line reached, as the line reader counts
        if not block:
            return quoted, lines


def _sql_line_error(row: tuple[Any, ...]) -> RegisterError:
    """One row of LINE_PROBLEMS_SQL as the findings meetings.registers gives the same line."""
    line, *missing, shares_code, shares_shown, shares_length, email_shown, too_long = row
    findings = [Finding("missing", {"column": column}) for column, gone in zip(HEADER, missing, strict=True) if gone]
    if shares_code is not None:
        params = {"n": shares_length} if shares_code == "shares_too_long" else {"found": shares_shown}
        findings.append(Finding(shares_code, params))
    if email_shown is not None:
        findings.append(Finding("email_invalid", {"email": email_shown}))
    if too_long:
        findings.append(Finding("too_long"))
    return RegisterError(line, tuple(findings))


@dataclass(frozen=True)
class _Copied:
    lines: int
    in_file_order: bool  # no line was rewritten, so the table reads back in the file's order


def _stage_with_copy(source: IO[bytes], on_progress: Callable[[int, int], None] | None, limit: int) -> _Copied | None:
    """Stream the file into the staging table with COPY. None when COPY would not read it line
    for line as the Python reader does (a wrong header, an end-of-data marker, control
    characters, a malformed line): the Python reader then explains."""
    header = source.readline(4096).decode("utf-8-sig", errors="replace").strip().lower().replace(" ", "")
    if header != ",".join(HEADER):
        return None
    try:
        with connection.cursor() as cursor:
            _create_copy_staging(cursor)
            quoted, lines = _copy_blocks(cursor, source, on_progress, limit)
            # Cells are read stripped, as the Python reader does; only lines that need it are rewritten.
            cursor.execute(TRIM_CELLS_SQL)
            in_file_order = cursor.rowcount == 0
            # A line break inside a quoted cell is a bad line, and it puts COPY's line numbers
            # out of step with the file's; only quotes can make one.
            if quoted:
                cursor.execute(LINE_BREAK_IN_CELL_SQL)
                if cursor.fetchone() is not None:
                    raise _NotPlainCsv
    except _NotPlainCsv:
        return None
    except (DatabaseError, psycopg.Error):  # COPY is psycopg's own API: its errors come unwrapped
        return None  # ragged rows, stray quotes, bad encoding, NUL: the Python reader names each line
    return _Copied(lines=lines, in_file_order=in_file_order)


def _copied_line_errors() -> list[RegisterError]:
    """Every line of the COPY-staged table checked in SQL."""
    with connection.cursor() as cursor:
        cursor.execute(LINE_PROBLEMS_SQL, {"limit": MAX_REPORTED_ERRORS})
        return [_sql_line_error(row) for row in cursor.fetchall()]


def _line_number(error: RegisterError) -> int:
    return error.line if error.line is not None else 1 << 62


def _size(source: IO[bytes], start: int) -> int:
    end = source.seek(0, io.SEEK_END)
    source.seek(start)
    return end - start


@dataclass(frozen=True)
class StagedRegister:
    """A register file read, staged and found free of errors, waiting to be stored."""

    copied: bool  # staged by COPY: shares are still text
    count: int
    total: int
    in_file_order: bool = False  # the staging table reads back in the file's order without sorting
    # The control numbers, drawing while the lines were checked (meetings.holdings).
    drawn: Future[list[bytes]] | None = None


def _drop_staging() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING_TABLE}")


def register_stage(
    *,
    source: IO[bytes],
    shares_outstanding: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> StagedRegister:
    """Read and check every line into this connection's staging table. Outside a transaction
    each block commits on its own, so a worker's progress reports show while it reads; a file
    with any bad line raises RegisterInvalid naming every bad line, and the table is dropped.
    A file over the size limit is refused before it is read."""
    if shares_outstanding <= 0:
        raise InvalidPollData(_("Shares outstanding must be a positive whole number."))
    limit = register_max_bytes()
    errors: list[RegisterError] = []
    start = source.tell()
    if _size(source, start) > limit:
        raise RegisterFileTooLarge(limit)
    drawn = None
    try:
        try:
            copied = _stage_with_copy(source, on_progress, limit) if connection.vendor == "postgresql" else None
            if copied is None:
                source.seek(start)
                _stage_register_lines(read_register(source, errors, on_progress=on_progress, limit=limit))
            else:
                # The numbers are drawn while PostgreSQL checks the lines (a file with bad lines wastes the draw).
                drawn = numbers_draw_start(copied.lines)
                errors = _copied_line_errors()
        except RegisterTooLarge:  # the file grew while it was read
            raise RegisterFileTooLarge(limit) from None
        file_errors, count, total = _whole_file_errors(shares_outstanding, "shares" if copied is None else SQL_SHARES)
        errors = sorted(errors + file_errors, key=_line_number)
        if errors:
            raise RegisterInvalid(errors[:MAX_REPORTED_ERRORS], total=len(errors))
    except BaseException:
        if not connection.needs_rollback:
            _drop_staging()
        raise
    in_file_order = copied is not None and copied.in_file_order
    return StagedRegister(copied=copied is not None, count=count, total=total, in_file_order=in_file_order, drawn=drawn)


@transaction.atomic
def register_store(
    *,
    staged: StagedRegister,
    record_date: datetime.date,
    shares_outstanding: int,
    actor: User | None,
    source_name: str = "",
) -> RegisterSnapshot:
    """The staged lines become a register snapshot and its holders, in one transaction.
    Each holder gets a control number (meetings.holdings): on PostgreSQL the holders are copied
    in with their numbers' digests, elsewhere inserted and then given them. With
    REGISTER_LINK_BY_EMAIL, holders are also linked to accounts with the same e-mail address
    (case-insensitive; e-mail linking is opt-in, for closed registers: otherwise holders claim by
    control number)."""
    snapshot = RegisterSnapshot.objects.create(
        record_date=record_date,
        shares_outstanding=shares_outstanding,
        source_name=source_name[:255],
        holder_count=staged.count,
        total_shares=staged.total,
        imported_by=actor,
    )
    if connection.vendor == "postgresql":
        # Every staged line was found a whole number of shares: COPY-staged text casts as it is.
        shares = "shares::bigint" if staged.copied else "shares"
        # A table only ever appended to reads back in the order it was written: no sort.
        order = "" if staged.in_file_order else " ORDER BY line"
        holders_copy_with_numbers(
            register=snapshot,
            source_sql=f"SELECT account, name, email, {shares} FROM {STAGING_TABLE}{order}",  # noqa: S608
            count=staged.count,
            drawn=staged.drawn,
        )
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {STAGING_TABLE}")
            if settings.REGISTER_LINK_BY_EMAIL:
                cursor.execute(LINK_BY_EMAIL_SQL, [snapshot.pk])
        register_record(snapshot=snapshot, actor=actor)
        return snapshot
    shares = SQL_SHARES if staged.copied else "shares"
    user_table = User._meta.db_table
    # E-mail linking is opt-in (closed registers); otherwise holders claim by control number.
    by_email = settings.REGISTER_LINK_BY_EMAIL
    link = (
        f"LEFT JOIN (SELECT LOWER(email) AS email, MIN(id) AS id FROM {user_table} WHERE email <> '' "  # noqa: S608
        "GROUP BY LOWER(email)) u ON u.email = LOWER(s.email)"
        if by_email
        else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Holder._meta.db_table} (register_id, account, name, email, shares, user_id) "  # noqa: S608
            f"SELECT %s, s.account, s.name, s.email, {shares}, {'u.id' if by_email else 'NULL'} "
            f"FROM {STAGING_TABLE} s {link}",
            [snapshot.pk],
        )
        cursor.execute(f"DROP TABLE {STAGING_TABLE}")
    control_numbers_issue(register=snapshot)
    register_record(snapshot=snapshot, actor=actor)
    return snapshot


@transaction.atomic
def register_import(
    *,
    source: IO[bytes],
    record_date: datetime.date,
    shares_outstanding: int,
    actor: User | None,
    source_name: str = "",
    on_progress: Callable[[int, int], None] | None = None,
) -> RegisterSnapshot:
    """Check the whole file, then import it in one transaction: a file with any bad line is
    refused with every bad line named, and nothing is stored (raising rolls back the staging
    table and anything else this transaction wrote). Only the secretary imports a register,
    whichever path the file came by (no actor: a command run by whoever runs the server)."""
    poll_manager_required(actor)
    staged = register_stage(source=source, shares_outstanding=shares_outstanding, on_progress=on_progress)
    return register_store(
        staged=staged,
        record_date=record_date,
        shares_outstanding=shares_outstanding,
        actor=actor,
        source_name=source_name,
    )
