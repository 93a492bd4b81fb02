"""The tamper-evident trail: append an event to a subject's chain, keep each chain's head and a
running root over every chain, and the keyed hashes that bind them.

Each event's `hash` is HMAC-SHA-256, keyed by `AUDIT_KEY`, over every content column (stream,
seq, action, actor id and name, time, payload, the previous link's hash and the key's id), so a
database administrator who rewrites a row cannot recompute a hash that verifies. `AuditHead`
holds each chain's last link, so a removed tail is found. `AuditRoot` folds every link into a
running root, so a whole removed chain (events and head) is found too.

Why the root is sharded and XOR-folded rather than one chained row: every ballot appends a link,
and a single root row updated by every append would serialise all voters of all polls on one
row lock (a chained root HMAC(prev_root, link) also needs the previous value in Python, a
second round trip while holding that lock). XOR of per-link MACs is order-free, so each append
folds its link into whichever of `ROOT_SHARDS` rows no other transaction holds (`FOR UPDATE
SKIP LOCKED`) in the same statement, and never waits; the root is the XOR of all shards. Each
shard also counts its links and each event records its (shard, position), so the root as of any
moment (certification) is exactly recomputable: the events at positions up to that moment's
counts. A link's MAC uses a key separate from its `hash` by domain, so knowing a row does not
let anyone take its share out of the root.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.utils import timezone

from core.models import AuditEvent, AuditHead, AuditRoot

ROOT_SHARDS = 64
ROOT_WORDS = 4  # 4 x 64 bits: the full 256 bits of a link's MAC
# Columns outside the content MAC: the row's address, the MAC itself, and its place in the root
# (which the root and the shard counts check instead: they are assigned inside the statement).
UNHASHED_FIELDS = frozenset({"id", "hash", "root_shard", "root_n"})


@cache
def hashed_fields() -> tuple[str, ...]:
    """Every other column of an event, read from the model, so a column added later is covered."""
    return tuple(
        sorted(field.attname for field in AuditEvent._meta.concrete_fields if field.name not in UNHASHED_FIELDS)
    )


def key_id_of(key: str) -> str:
    """A short public name for a key, stored on each event, so old events find their key after
    a rotation. Derived by HMAC, so it reveals nothing about the key."""
    return hmac.new(key.encode(), b"quorum-audit-key-id", hashlib.sha256).hexdigest()[:8]


def current_key() -> tuple[str, str]:
    key: str = settings.AUDIT_KEY
    return key_id_of(key), key


def known_keys() -> dict[str, str]:
    """The current key and the retired ones still needed to verify older events."""
    keys = {key_id_of(key): key for key in getattr(settings, "AUDIT_OLD_KEYS", [])}
    key_id, key = current_key()
    keys[key_id] = key
    return keys


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    return value


def content_mac(key: str, content: Mapping[str, Any]) -> str:
    """HMAC-SHA-256 over the event's hashed columns in canonical JSON."""
    body = json.dumps(
        {name: _canonical(content[name]) for name in hashed_fields()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,
    )
    return hmac.new(key.encode(), body.encode(), hashlib.sha256).hexdigest()


def link_share(key: str, *, stream: str, seq: int, link_hash: str) -> tuple[int, ...]:
    """A link's share of the root: a MAC under a separate domain, as four signed 64-bit words
    (what a PostgreSQL bigint holds, and what `#` XORs)."""
    digest = hmac.new(key.encode(), f"root\x00{stream}\x00{seq}\x00{link_hash}".encode(), hashlib.sha256).digest()
    return tuple(int.from_bytes(digest[i * 8 : i * 8 + 8], "big", signed=True) for i in range(ROOT_WORDS))


def fold(words: Iterable[tuple[int, ...]]) -> tuple[int, ...]:
    acc = [0] * ROOT_WORDS
    for share in words:
        for i in range(ROOT_WORDS):
            acc[i] ^= share[i]
    return tuple(acc)


def root_hex(words: tuple[int, ...]) -> str:
    return b"".join(word.to_bytes(8, "big", signed=True) for word in words).hex()


@dataclass(frozen=True)
class Link:
    """A link ready to insert: its content, its MAC and its share of the root."""

    content: dict[str, Any]
    hash: str
    share: tuple[int, ...]


def link_prepare(
    *, stream: str, seq: int, action: str, actor_id: int | None, actor_name: str, at: datetime.datetime,
    payload: Any, prev_hash: str,
) -> Link:  # fmt: skip
    """Sign a link with the current key. Used by `audit_append` and by the one-statement first
    ballot, which inserts the same columns in SQL."""
    key_id, key = current_key()
    content = {
        "stream": stream,
        "seq": seq,
        "action": action,
        "actor_id": actor_id,
        "actor_name": actor_name,
        "at": at,
        "payload": json.loads(json.dumps(payload, default=str)),  # exactly what the JSON column will hold
        "prev_hash": prev_hash,
        "key_id": key_id,
    }
    link_hash = content_mac(key, content)
    return Link(content=content, hash=link_hash, share=link_share(key, stream=stream, seq=seq, link_hash=link_hash))


# Fold a link into a free root shard and count it, in one statement that never waits: a shard
# held by another transaction is skipped. No row (every shard busy) falls back to waiting.
ROOT_FOLD_SQL = """
UPDATE core_auditroot SET n = n + 1, a0 = a0 # %(c0)s, a1 = a1 # %(c1)s, a2 = a2 # %(c2)s, a3 = a3 # %(c3)s
WHERE shard = (SELECT shard FROM core_auditroot ORDER BY shard LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING shard, n
"""
ROOT_FOLD_WAIT_SQL = """
UPDATE core_auditroot SET n = n + 1, a0 = a0 # %(c0)s, a1 = a1 # %(c1)s, a2 = a2 # %(c2)s, a3 = a3 # %(c3)s
WHERE shard = %(shard)s
RETURNING shard, n
"""
# SQLite has one writer at a time, so one shard is enough; it has no XOR operator, and Django
# registers BITXOR() on its connections.
ROOT_FOLD_SQLITE = """
UPDATE core_auditroot SET n = n + 1, a0 = BITXOR(a0, %(c0)s), a1 = BITXOR(a1, %(c1)s),
    a2 = BITXOR(a2, %(c2)s), a3 = BITXOR(a3, %(c3)s)
WHERE shard = 0
RETURNING shard, n
"""


def _root_fold(share: tuple[int, ...]) -> tuple[int, int]:
    """Fold a link's share into the root; the shard and the link's position in it."""
    params: dict[str, Any] = {f"c{i}": share[i] for i in range(ROOT_WORDS)}
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        for attempt in range(2):
            cursor.execute(ROOT_FOLD_SQL if postgres else ROOT_FOLD_SQLITE, params)
            row = cursor.fetchone()
            if row is not None:
                return int(row[0]), int(row[1])
            if attempt == 0 and not AuditRoot.objects.exists():
                # The migration creates the shards; a test's flush empties the table.
                AuditRoot.objects.bulk_create([AuditRoot(shard=n) for n in range(ROOT_SHARDS)], ignore_conflicts=True)
            elif postgres:
                break
        # Every shard is held by another transaction: wait for one.
        cursor.execute(ROOT_FOLD_WAIT_SQL, {**params, "shard": os.getpid() % ROOT_SHARDS})
        row = cursor.fetchone()
    if row is None:
        raise RuntimeError("The audit root has no shards; run the migrations.")
    return int(row[0]), int(row[1])


def audit_append(
    *,
    stream: str,
    action: str,
    actor: User | AnonymousUser | None,
    payload: dict[str, Any] | None = None,
    at: datetime.datetime | None = None,
) -> AuditEvent:
    """Append to `stream`'s chain. Call inside the transaction that changed the subject, after
    locking it, so the chain, its head, the root and the change commit together or not at all."""
    at = at or timezone.now()
    # The head row is the chain's lock: a concurrent append waits here and then reads our link.
    head = AuditHead.objects.select_for_update().filter(stream=stream).values_list("seq", "hash").first()
    seq, prev_hash = (head[0] + 1, head[1]) if head else (1, "")
    authenticated = actor is not None and actor.is_authenticated
    link = link_prepare(
        stream=stream,
        seq=seq,
        action=action,
        actor_id=actor.pk if authenticated and actor is not None else None,
        actor_name=actor.get_username() if authenticated and actor is not None else "system",
        at=at,
        payload=payload or {},
        prev_hash=prev_hash,
    )
    shard, position = _root_fold(link.share)
    event = AuditEvent.objects.create(**link.content, hash=link.hash, root_shard=shard, root_n=position)
    if head:
        AuditHead.objects.filter(stream=stream).update(seq=seq, hash=link.hash)
    else:
        AuditHead.objects.create(stream=stream, seq=seq, hash=link.hash)  # a racing first link: IntegrityError
    return event


def audit_trail(stream: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(stream=stream).select_related("actor").order_by("seq"))


@dataclass(frozen=True)
class RootSnapshot:
    """The root at one moment and how many links each shard held then."""

    root: str
    counts: list[int]

    def as_json(self) -> dict[str, Any]:
        return {"root": self.root, "counts": self.counts, "events": sum(self.counts)}


def audit_root_snapshot() -> RootSnapshot:
    """Read every shard in one statement (one snapshot): committed links only, each shard's
    count saying exactly which positions are in."""
    rows = sorted(AuditRoot.objects.values_list("shard", "n", "a0", "a1", "a2", "a3"))
    return RootSnapshot(root=root_hex(fold(tuple(row[2:]) for row in rows)), counts=[row[1] for row in rows])
