"""The audit trail under AUDIT_KEY: HMAC links over every column, a head per chain and a
sharded running root. Existing links are first checked under the old SHA-256 scheme (a trail
already broken is refused, not blessed), then re-signed in order, with their heads and root.
The scheme is copied here rather than imported, so this migration keeps meaning what it did."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.db import migrations, models

ROOT_SHARDS = 64
HASHED = ("action", "actor_id", "actor_name", "at", "key_id", "payload", "prev_hash", "seq", "stream")


def _old_digest(event: Any) -> str:
    content = json.dumps(
        {
            "stream": event.stream,
            "seq": event.seq,
            "action": event.action,
            "actor": event.actor_id,
            "at": event.at.astimezone(datetime.UTC).isoformat(),
            "payload": event.payload,
            "prev": event.prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,
    )
    return hashlib.sha256(content.encode()).hexdigest()


def _canonical(value: Any) -> Any:
    return value.astimezone(datetime.UTC).isoformat() if isinstance(value, datetime.datetime) else value


def _mac(key: str, event: Any) -> str:
    body = json.dumps(
        {name: _canonical(getattr(event, name)) for name in HASHED},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,
    )
    return hmac.new(key.encode(), body.encode(), hashlib.sha256).hexdigest()


def _share(key: str, stream: str, seq: int, link_hash: str) -> list[int]:
    digest = hmac.new(key.encode(), f"root\x00{stream}\x00{seq}\x00{link_hash}".encode(), hashlib.sha256).digest()
    return [int.from_bytes(digest[i * 8 : i * 8 + 8], "big", signed=True) for i in range(4)]


def resign(apps: Any, schema_editor: Any) -> None:
    event_model = apps.get_model("polls", "AuditEvent")
    head_model = apps.get_model("polls", "AuditHead")
    root_model = apps.get_model("polls", "AuditRoot")
    key = settings.AUDIT_KEY
    key_id = hmac.new(key.encode(), b"quorum-audit-key-id", hashlib.sha256).hexdigest()[:8]
    acc, position = [0, 0, 0, 0], 0
    stream, old_prev, new_prev, last_seq = None, "", "", 0
    heads = []
    for event in event_model.objects.order_by("stream", "seq").iterator(chunk_size=2000):
        if event.stream != stream:
            if stream is not None:
                heads.append(head_model(stream=stream, seq=last_seq, hash=new_prev))
            stream, old_prev, new_prev, last_seq = event.stream, "", "", 0
        if event.seq != last_seq + 1 or event.prev_hash != old_prev or event.hash != _old_digest(event):
            raise RuntimeError(
                f"Audit event {event.pk} ({event.stream} #{event.seq}) does not verify under the old scheme; "
                "investigate it with the previous release's verify_audit before migrating."
            )
        old_prev = event.hash
        event.prev_hash, event.key_id = new_prev, key_id
        event.hash = _mac(key, event)
        position += 1
        event.root_shard, event.root_n = 0, position
        event.save(update_fields=["prev_hash", "key_id", "hash", "root_shard", "root_n"])
        acc = [a ^ b for a, b in zip(acc, _share(key, event.stream, event.seq, event.hash), strict=True)]
        new_prev, last_seq = event.hash, event.seq
    if stream is not None:
        heads.append(head_model(stream=stream, seq=last_seq, hash=new_prev))
    head_model.objects.bulk_create(heads, batch_size=2000)
    root_model.objects.bulk_create(
        [root_model(shard=0, n=position, a0=acc[0], a1=acc[1], a2=acc[2], a3=acc[3])]
        + [root_model(shard=shard) for shard in range(1, ROOT_SHARDS)]
    )


class Migration(migrations.Migration):
    dependencies = [("polls", "0003_trust_secret_polls")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="root_shard",
            field=models.PositiveSmallIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="root_n",
            field=models.BigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="poll",
            name="certified_audit_root",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.CreateModel(
            name="AuditHead",
            fields=[
                ("stream", models.CharField(max_length=100, primary_key=True, serialize=False)),
                ("seq", models.PositiveIntegerField()),
                ("hash", models.CharField(max_length=64)),
            ],
        ),
        migrations.CreateModel(
            name="AuditRoot",
            fields=[
                ("shard", models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ("n", models.BigIntegerField(default=0)),
                ("a0", models.BigIntegerField(default=0)),
                ("a1", models.BigIntegerField(default=0)),
                ("a2", models.BigIntegerField(default=0)),
                ("a3", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(resign, migrations.RunPython.noop),
    ]
