"""Receipts: a voter's receipt code is a prefix of their ballot link's hash, found by a range
scan on this index."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("polls", "0004_trust_audit"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["hash"], name="polls_audit_hash_receipt"),
        ),
    ]
