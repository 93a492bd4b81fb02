"""The tamper-evident trail: append an event to a subject's chain, and verify every chain."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone

from polls.models import AuditEvent


def event_digest(
    *, stream: str, seq: int, action: str, actor_id: int | None, at: datetime.datetime, payload: Any, prev_hash: str
) -> str:
    """SHA-256 over the previous link and this event's content, in a canonical JSON form."""
    content = json.dumps(
        {
            "stream": stream,
            "seq": seq,
            "action": action,
            "actor": actor_id,
            "at": at.astimezone(datetime.UTC).isoformat(),
            "payload": payload,
            "prev": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,
    )
    return hashlib.sha256(content.encode()).hexdigest()


def audit_append(
    *,
    stream: str,
    action: str,
    actor: User | AnonymousUser | None,
    payload: dict[str, Any] | None = None,
    at: datetime.datetime | None = None,
) -> AuditEvent:
    """Append to `stream`'s chain. Call inside the transaction that changed the subject, after
    locking it, so the chain and the change commit together or not at all."""
    at = at or timezone.now()
    payload = json.loads(json.dumps(payload or {}, default=str))  # exactly what the JSON column will hold
    last = AuditEvent.objects.filter(stream=stream).order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, "")
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        stream=stream,
        seq=seq,
        action=action,
        actor_id=actor_id,
        actor_name=actor.get_username() if actor is not None and actor.is_authenticated else "system",
        at=at,
        payload=payload,
        prev_hash=prev_hash,
        hash=event_digest(
            stream=stream, seq=seq, action=action, actor_id=actor_id, at=at, payload=payload, prev_hash=prev_hash
        ),
    )


@dataclass(frozen=True)
class BrokenLink:
    event_id: int
    stream: str
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"event {self.event_id} ({self.stream} #{self.seq}): {self.problem}"


def audit_verify() -> Iterator[BrokenLink]:
    """Walk every chain in order and report each link that does not hold: content that no
    longer matches its hash, a previous-hash that does not match the link before, or a gap
    in the sequence (a removed or reordered row)."""
    stream, expected_seq, prev_hash = None, 1, ""
    events = AuditEvent.objects.order_by("stream", "seq").values_list(
        "id", "stream", "seq", "action", "actor_id", "at", "payload", "prev_hash", "hash"
    )
    for event_id, event_stream, seq, action, actor_id, at, payload, stored_prev, stored_hash in events.iterator(
        chunk_size=5000
    ):
        if event_stream != stream:
            stream, expected_seq, prev_hash = event_stream, 1, ""
        if seq != expected_seq:
            yield BrokenLink(
                event_id, event_stream, seq, f"expected link #{expected_seq} here; a row is missing or moved"
            )
        elif stored_prev != prev_hash:
            yield BrokenLink(event_id, event_stream, seq, "does not follow the link before it")
        elif stored_hash != event_digest(
            stream=event_stream,
            seq=seq,
            action=action,
            actor_id=actor_id,
            at=at,
            payload=payload,
            prev_hash=stored_prev,
        ):
            yield BrokenLink(event_id, event_stream, seq, "its content was changed after it was written")
        expected_seq, prev_hash = seq + 1, stored_hash


def audit_trail(stream: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(stream=stream).select_related("actor").order_by("seq"))
