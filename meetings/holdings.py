"""Control numbers at import, the secretary's mailing file, and holders claiming holdings.

The number is shown once, in the mailing file written while the register is stored; the
database keeps only its keyed digest. The mailing file lives under MEDIA_ROOT/mailings/,
readable by the server's account alone, and only the secretary may download it, as often as
the printer needs, each download on the register's trail (as a board portal allows)."""

from __future__ import annotations

import csv
import datetime
import functools
import os
import secrets
import struct
from pathlib import Path

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


def _draw_many(count: int) -> list[str]:
    """`count` control numbers: fifteen uniform digits from `secrets` and the Luhn digit."""
    doubled_last, doubled_before = _luhn_tables()
    words = struct.unpack(f"<{count}Q", secrets.token_bytes(8 * count))
    numbers = []
    for word in words:
        while word >= _WORD_LIMIT:
            word = int.from_bytes(secrets.token_bytes(8), "little")
        body = word % _BODY_SPAN
        total = doubled_last[body % 100_000] + doubled_before[body // 100_000 % 100_000] + doubled_last[body // 10**10]
        numbers.append(f"{body:015d}{(10 - total % 10) % 10}")
    return numbers


def _draw() -> str:
    return _draw_many(1)[0]


def _store_digests(rows: list[tuple[int, bytes]]) -> set[int]:
    """Insert (holder id, digest) pairs; the holders whose digest collided are returned."""
    table = HolderControl._meta.db_table
    values = ", ".join(["(%s, %s)"] * len(rows))
    params = [value for row in rows for value in row]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (holder_id, digest) VALUES {values} "  # noqa: S608 - our table; values bound
            "ON CONFLICT (digest) DO NOTHING RETURNING holder_id",
            params,
        )
        stored = {row[0] for row in cursor.fetchall()}
    return {holder_id for holder_id, _digest in rows} - stored


def _open_private(path: Path) -> int:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)


def _copy_digests(cursor: CursorWrapper, rows: list[tuple[int, bytes]]) -> bool:
    """PostgreSQL: COPY the batch straight into the table, in a savepoint; False when a digest
    collided (almost never), and nothing of the batch was stored."""
    table = HolderControl._meta.db_table
    # One block of COPY text per batch (bytea in hex): cheaper than a row at a time.
    block = "".join(f"{pk}\t\\\\x{value.hex()}\n" for pk, value in rows)
    try:
        with transaction.atomic(), cursor.copy(f"COPY {table} (holder_id, digest) FROM STDIN") as copy:
            copy.write(block)
    except (IntegrityError, psycopg.errors.UniqueViolation):  # COPY's errors come unwrapped
        return False
    return True


def _store_batch(cursor: CursorWrapper, ids: list[int], numbers: list[str], key: bytes) -> list[str]:
    """Store the digests of `numbers` for the holders `ids`; the numbers as finally issued
    (a holder whose digest was already taken draws again)."""
    digest = control_numbers.digest
    rows = [(pk, digest(number, key)) for pk, number in zip(ids, numbers, strict=True)]
    if connection.vendor == "postgresql" and _copy_digests(cursor, rows):
        return numbers
    issued = dict(zip(ids, numbers, strict=True))
    collided = _store_digests(rows)
    for _attempt in range(MAX_DRAWS):
        if not collided:
            return [issued[pk] for pk in ids]
        issued.update({pk: _draw() for pk in collided})
        collided = _store_digests([(pk, digest(issued[pk], key)) for pk in collided])
    raise RuntimeError("control numbers kept colliding")


def control_numbers_issue(*, register: RegisterSnapshot) -> int:
    """Give every holder of `register` a control number and write the mailing file. Runs in
    the import's transaction, which holds the register's holders; returns how many were issued."""
    key = control_key()
    safe = neutralise
    path = mailing_path(register)
    issued = 0
    last_id = 0
    select = (
        f"SELECT id, account, name, email, shares FROM {Holder._meta.db_table} "  # noqa: S608 - our table
        "WHERE register_id = %s AND id > %s ORDER BY id LIMIT %s"
    )
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
                numbers = _store_batch(cursor, [row[0] for row in holders], _draw_many(len(holders)), key)
                # Only the text the register gave can start like a formula; the rest is digits.
                writer.writerows(
                    (safe(account), safe(name), safe(email), shares, f"{n[:4]} {n[4:8]} {n[8:12]} {n[12:]}")
                    for (_pk, account, name, email, shares), n in zip(holders, numbers, strict=True)
                )
                issued += len(holders)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return issued


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
    control = None
    if number is not None:
        control = (
            HolderControl.objects.select_for_update()
            .select_related("holder__register")
            .filter(digest=control_numbers.digest(number, control_key()))
            .first()
        )
    holder = control.holder if control is not None else None
    if control is None or holder is None or control.claimed_at is not None or holder.user_id not in (None, actor.pk):
        attempts.failures += 1
        if attempts.failures >= settings.CLAIM_LOCKOUT_ATTEMPTS:
            attempts.locked_until = now + datetime.timedelta(seconds=settings.CLAIM_LOCKOUT_SECONDS)
        attempts.save(update_fields=["failures", "locked_until"])
        return None
    control.claimed_at, control.claimed_by = now, actor
    control.save(update_fields=["claimed_at", "claimed_by"])
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
