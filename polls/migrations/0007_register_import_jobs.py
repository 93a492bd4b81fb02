"""Register imports run on a worker: the job the request leaves and the worker's progress."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("polls", "0005_receipts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RegisterImport",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "status",
                    models.CharField(
                        choices=[("queued", "Queued"), ("running", "Running"), ("done", "Done"), ("failed", "Failed")],
                        default="queued",
                        max_length=10,
                    ),
                ),
                ("file", models.CharField(blank=True, max_length=255)),
                ("source_name", models.CharField(blank=True, max_length=255)),
                ("size", models.BigIntegerField(default=0)),
                ("record_date", models.DateField()),
                ("shares_outstanding", models.BigIntegerField()),
                ("bytes_read", models.BigIntegerField(default=0)),
                ("lines_checked", models.BigIntegerField(default=0)),
                ("lines_imported", models.BigIntegerField(default=0)),
                ("errors", models.JSONField(blank=True, default=list)),
                ("error_total", models.PositiveIntegerField(default=0)),
                ("message", models.CharField(blank=True, max_length=500)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "snapshot",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="imports",
                        to="polls.registersnapshot",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("status__in", ["queued", "running"]), ("finished_at__isnull", False), _connector="OR"
                        ),
                        name="polls_register_import_finished_has_time",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("shares_outstanding__gt", 0)),
                        name="polls_register_import_outstanding_positive",
                    ),
                ],
            },
        ),
    ]
