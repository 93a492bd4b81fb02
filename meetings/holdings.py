"""Control numbers at import, the secretary's mailing file, and holders claiming holdings.

The number is shown once, in the mailing file written while the register is stored; the
database keeps only its keyed digest. The mailing file lives under MEDIA_ROOT/mailings/,
readable by the server's account alone, and only the secretary may download it, as often as
the printer needs, each download on the register's trail (as a board portal allows)."""

from __future__ import annotations

import binascii
import csv
import datetime
import functools
import io
import itertools
import operator
import os
import re
import secrets
import struct
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO

import psycopg
from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_append
from core.csv_safe import neutralise
from core.errors import DomainError
from meetings import control_numbers
from meetings.control_models import ClaimAttempts, HolderControl
from meetings.models import Holder, RegisterSnapshot

MAILING_HEADER = ("holder", "name", "email", "shares", "control_number")
BATCH = 5000
# Numbers are drawn and hashed this many at a time.
DRAW_BLOCK = 65536
# Each holder's number is drawn again when its digest collides with one already stored; with
# 10^15 numbers this almost never happens, and never twice in a row.
MAX_DRAWS = 5
_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
_BODY_SPAN = 10 ** (control_numbers.LENGTH - 1)


class ClaimRefused(DomainError):
    status_code = 400
    # One message for an unknown, malformed or already claimed number: a guesser learns nothing.
    default_message = _("That control number cannot be used. Check it against your mailing and try again.")


class ClaimLocked(DomainError):
    status_code = 429
    default_message = _("Too many control numbers were refused for this account. Try again later.")


def control_key() -> bytes:
    key = getattr(settings, "CONTROL_NUMBER_KEY", "") or "control-number:" + settings.SECRET_KEY
    return key.encode()


def mailing_path(register: RegisterSnapshot) -> Path:
    return Path(settings.MEDIA_ROOT) / "mailings" / f"register-{register.pk}.csv"


@functools.cache
@functools.cache
def _luhn_tables() -> tuple[list[int], list[int]]:
    """Luhn sums of every five-digit chunk: with its last digit doubled, and with the one
    before it doubled. A body of fifteen digits is three chunks, so its check digit is three
    look-ups instead of fifteen steps (this runs once per holder of every import)."""
    doubled_last, doubled_before = [], []
    for chunk in range(100_000):
        digits = [(chunk // 10**i) % 10 for i in range(5)]  # rightmost first
        doubled_last.append(sum(_LUHN_DOUBLED[d] if i % 2 == 0 else d for i, d in enumerate(digits)))
        doubled_before.append(sum(_LUHN_DOUBLED[d] if i % 2 == 1 else d for i, d in enumerate(digits)))
    return doubled_last, doubled_before


# Random 64-bit words at or above this are drawn again, so `word % 10**15` is uniform.
_WORD_LIMIT = 2**64 - 2**64 % _BODY_SPAN


def _draw_raw(count: int) -> list[bytes]:
    """`count` control numbers as ASCII bytes: fifteen uniform digits from `secrets` and the Luhn digit."""
    doubled_last, doubled_before = _luhn_tables()
    words = struct.unpack(f"<{count}Q", secrets.token_bytes(8 * count))
    numbers = []
    for word in words:
        while word >= _WORD_LIMIT:
            word = int.from_bytes(secrets.token_bytes(8), "little")
        body = word % _BODY_SPAN
        total = doubled_last[body % 100_000] + doubled_before[body // 100_000 % 100_000] + doubled_last[body // 10**10]
        numbers.append(b"%015d%d" % (body, -total % 10))
    return numbers


def _draw_many(count: int) -> list[str]:
    return [number.decode("ascii") for number in _draw_raw(count)]


def _numbers(count: int, key: bytes, kept: list[bytes] | None = None) -> list[bytes]:
    """`kept` and new numbers up to `count` in all, each as its digest (32 bytes) followed by
    its sixteen digits, in digest order, none twice. Holders stored in that order fill the
    digest's unique index from left to right instead of at random places; which holder gets
    which number is still as random as the numbers. Drawn a block at a time, so a million
    numbers never sit in memory twice; the HMAC is control_numbers.digest from its key's
    padded blocks, hashed once (2.7 s per million with hmac.digest, 1.2 s so)."""
    inner, outer = control_numbers.hmac_pads(key)
    inner_copy, outer_copy = inner.copy, outer.copy
    pairs = list(kept or ())
    while True:
        for start in range(len(pairs), count, DRAW_BLOCK):
            block = []
            for raw in _draw_raw(min(DRAW_BLOCK, count - start)):
                hashed = inner_copy()
                hashed.update(raw)
                outside = outer_copy()
                outside.update(hashed.digest())
                block.append(outside.digest() + raw)
            pairs.extend(block)
        pairs.sort()
        # The same number twice (about once in a thousand million-holder imports) is next to itself.
        if not any(map(operator.eq, pairs, itertools.islice(pairs, 1, None))):
            return pairs
        pairs = sorted(set(pairs))


def _taken(digests: list[bytes]) -> set[bytes]:
    """The digests among these that a stored holder already has."""
    table = Holder._meta.db_table
    taken: set[bytes] = set()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT control_digest FROM {table} WHERE control_digest = ANY(%s)", [digests])  # noqa: S608
            return {bytes(row[0]) for row in cursor.fetchall()}
        for start in range(0, len(digests), 500):  # SQLite's limit on bound parameters
            part = digests[start : start + 500]
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(f"SELECT control_digest FROM {table} WHERE control_digest IN ({marks})", part)  # noqa: S608
            taken.update(bytes(row[0]) for row in cursor.fetchall())
    return taken


def _issue_batch(count: int, key: bytes) -> list[bytes]:
    """`count` numbers (as _numbers gives them) that no stored holder has: a holder whose number
    was taken draws again."""
    pairs = _numbers(count, key)
    for _attempt in range(MAX_DRAWS):
        taken = _taken([pair[:32] for pair in pairs])
        if not taken:
            return pairs
        pairs = _numbers(count, key, [pair for pair in pairs if pair[:32] not in taken])
    raise RuntimeError("control numbers kept colliding")


def _grouped(number: bytes) -> bytes:
    return b" ".join((number[:4], number[4:8], number[8:12], number[12:]))


def _open_private(path: Path) -> int:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)


def control_numbers_issue(*, register: RegisterSnapshot) -> int:
    """Give every holder of `register` a control number and write the mailing file, batch by
    batch (the path of databases without COPY; PostgreSQL's is holders_copy_with_numbers). Runs
    in the import's transaction, which holds the register's holders; returns how many were issued."""
    key = control_key()
    path = mailing_path(register)
    table = Holder._meta.db_table
    select = (
        f"SELECT id, account, name, email, shares FROM {table} "  # noqa: S608 - our table
        "WHERE register_id = %s AND id > %s ORDER BY id LIMIT %s"
    )
    issued = last_id = 0
    try:
        with connection.cursor() as cursor, os.fdopen(_open_private(path), "w", encoding="utf-8", newline="") as target:
            writer = csv.writer(target)
            writer.writerow(MAILING_HEADER)
            while True:
                cursor.execute(select, [register.pk, last_id, BATCH])
                holders = cursor.fetchall()
                if not holders:
                    break
                last_id = holders[-1][0]
                pairs = _issue_batch(len(holders), key)
                cursor.executemany(
                    f"UPDATE {table} SET control_digest = %s WHERE id = %s",  # noqa: S608 - our table
                    [(pair[:32], row[0]) for row, pair in zip(holders, pairs, strict=True)],
                )
                # Only the text the register gave can start like a formula; the rest is digits.
                writer.writerows(
                    (neutralise(account), neutralise(name), neutralise(email), shares, _grouped(pair[32:]).decode())
                    for (_pk, account, name, email, shares), pair in zip(holders, pairs, strict=True)
                )
                issued += len(holders)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return issued


# A cell that starts like a formula starts its line or follows a comma, quoted or not (a false
# hit inside a quoted cell only costs that line a parse). A block is first searched for the
# byte pairs that can start one, which costs a tenth of the expression's search.
_FORMULA_START = re.compile(rb'(?:^|,)"?[=+\-@]', re.MULTILINE)
_FORMULA_MARKS = tuple(
    lead + quote + start for lead in (b",", b"\n") for quote in (b"", b'"') for start in (b"=", b"+", b"-", b"@")
)


def _may_hold_formula(chunk: bytearray) -> bool:
    return chunk[:1] in b'=+-@"' or any(mark in chunk for mark in _FORMULA_MARKS)


COPY_CHUNK_BYTES = 1 << 20


def _neutralised(line: bytearray) -> bytes:
    """A CSV line whose cells may start like a formula, as csv_safe writes it."""
    cells = next(csv.reader([line.decode("utf-8")]))
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([neutralise(cell) for cell in cells])
    return out.getvalue().encode("utf-8")


def _copy_holders(
    cursor: CursorWrapper, data: bytearray, pairs: list[bytes], register_id: int, target: IO[bytes]
) -> bool:
    """One COPY of the holders (the CSV lines of `data`, each with its register and digest) while
    the mailing file is written from the same lines, in a savepoint; False when a digest was
    taken, and nothing of the COPY was stored."""
    table = Holder._meta.db_table
    suffix = f",{register_id},\\x".encode()
    target.write(",".join(MAILING_HEADER).encode() + b"\r\n")
    done = start = 0
    try:
        with (
            transaction.atomic(),
            cursor.copy(
                f"COPY {table} (account, name, email, shares, register_id, control_digest) FROM STDIN (FORMAT csv)"
            ) as copy,
        ):
            while start < len(data):
                end = data.find(b"\n", start + COPY_CHUNK_BYTES) + 1 or len(data)
                chunk = data[start:end]
                lines = chunk.split(b"\n")[:-1]
                part = pairs[done : done + len(lines)]
                copy.write(
                    b"".join(
                        [
                            line + suffix + binascii.hexlify(pair[:32]) + b"\n"
                            for line, pair in zip(lines, part, strict=True)
                        ]
                    )
                )
                shown: list[bytes | bytearray] = (
                    list(lines)
                    if not _may_hold_formula(chunk)
                    else [_neutralised(line) if _FORMULA_START.search(line) else line for line in lines]
                )
                target.write(
                    b"".join(
                        [line + b"," + _grouped(pair[32:]) + b"\r\n" for line, pair in zip(shown, part, strict=True)]
                    )
                )
                done += len(lines)
                start = end
    except (IntegrityError, psycopg.errors.UniqueViolation):  # COPY's errors come unwrapped
        return False
    if done != len(pairs):
        raise RuntimeError(f"{done} holders read back for {len(pairs)} staged")
    return True


def _read_back(cursor: CursorWrapper, sql: str) -> bytearray:
    """The rows of `sql` as CSV lines, in one buffer (not copied to bytes: 60 MB less at the peak)."""
    data = bytearray()
    with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
        for row in copy:
            data += row
    return data


def numbers_draw_start(count: int) -> Future[list[bytes]]:
    """Draw and hash `count` numbers in a thread (for holders_copy_with_numbers), while this one
    waits on the database: the draw is mostly C (secrets, HMAC, sort) and the wait holds no lock."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="control-numbers")
    try:
        return pool.submit(_numbers, count, control_key())
    finally:
        pool.shutdown(wait=False)  # the draw runs on; the thread ends with it


def holders_copy_with_numbers(
    *, register: RegisterSnapshot, source_sql: str, count: int, drawn: Future[list[bytes]] | None = None
) -> int:
    """PostgreSQL: the `count` rows of `source_sql` (account, name, email and shares, in file
    order) become `register`'s holders in one COPY, each with the digest of a fresh control
    number, and the mailing file is written from the same lines. A number a stored holder
    already has (almost never) fails the COPY in its savepoint: it is drawn again and the COPY
    repeated. `drawn`: the numbers numbers_draw_start began drawing. Returns how many were issued."""
    key = control_key()
    path = mailing_path(register)
    try:
        with connection.cursor() as cursor:
            data = _read_back(cursor, source_sql)
            pairs = drawn.result() if drawn is not None else []
            if len(pairs) != count:
                pairs = _numbers(count, key)
            for _attempt in range(MAX_DRAWS):
                with os.fdopen(_open_private(path), "wb") as target:
                    if _copy_holders(cursor, data, pairs, register.pk, target):
                        return count
                taken = _taken([pair[:32] for pair in pairs])
                if not taken:
                    raise RuntimeError("the holders' COPY failed on a unique value that is no control number")
                pairs = _numbers(count, key, [pair for pair in pairs if pair[:32] not in taken])
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    raise RuntimeError("control numbers kept colliding")


def mailing_read(*, register: RegisterSnapshot, actor: User) -> bytes | None:
    """The mailing file's bytes for the secretary, the download on the register's trail; None
    when the register was stored before control numbers existed."""
    path = mailing_path(register)
    if not path.exists():
        return None
    with transaction.atomic():
        audit_append(stream=f"register:{register.pk}", action="mailing_downloaded", actor=actor, payload={})
    return path.read_bytes()


def _now() -> datetime.datetime:
    return timezone.now()


@transaction.atomic
def _claim_or_count(*, actor: User, control_number: str) -> Holder | None:
    """The holder claimed, or None after counting a wrong number (committed either way)."""
    now = _now()
    attempts, _created = ClaimAttempts.objects.get_or_create(user=actor)
    attempts = ClaimAttempts.objects.select_for_update().get(pk=attempts.pk)
    if attempts.locked_until is not None:
        if attempts.locked_until > now:
            raise ClaimLocked
        attempts.failures, attempts.locked_until = 0, None
    number = control_numbers.normalise(control_number)
    holder = None
    if number is not None:
        # The holder's row lock orders two claims of one number: the second sees the first's claim.
        holder = (
            Holder.objects.select_for_update()
            .filter(control_digest=control_numbers.digest(number, control_key()))
            .first()
        )
    claimed = holder is not None and HolderControl.objects.filter(holder=holder).exists()
    if holder is None or claimed or holder.user_id not in (None, actor.pk):
        attempts.failures += 1
        if attempts.failures >= settings.CLAIM_LOCKOUT_ATTEMPTS:
            attempts.locked_until = now + datetime.timedelta(seconds=settings.CLAIM_LOCKOUT_SECONDS)
        attempts.save(update_fields=["failures", "locked_until"])
        return None
    HolderControl.objects.create(holder=holder, claimed_at=now, claimed_by=actor)
    holder.user = actor
    holder.save(update_fields=["user"])
    attempts.failures, attempts.locked_until = 0, None
    attempts.save(update_fields=["failures", "locked_until"])
    audit_append(
        stream=f"holder:{holder.pk}",
        action="holding_claimed",
        actor=actor,
        payload={"register": holder.register_id, "user": actor.pk, "shares": holder.shares},
        at=now,
    )
    return holder


def holding_claim(*, actor: User, control_number: str) -> Holder:
    """Attach the holding whose control number this is to `actor`. A wrong number, whatever the
    reason, is refused with one message and counts toward the account's lockout; the count is
    kept even though the refusal is raised."""
    holder = _claim_or_count(actor=actor, control_number=control_number)
    if holder is None:
        raise ClaimRefused
    return holder
