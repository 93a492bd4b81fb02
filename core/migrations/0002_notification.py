"""The outbox moves from proposals to core, so that every app can queue notifications (issue 15).

No row moves: core takes over the table proposals created (`db_table = "proposals_notification"`)
in the migration state only. The table itself is changed by proposals' own migration
(proposals/migrations/0002_notification_to_core.py), which depends on this one: it adds
`subject`, fills it from the old foreign key and drops the key's column. Done there, the schema
work runs after the table exists on a new database as on an old one, and core (a lower app)
does not depend on a proposals migration."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("key", models.CharField(max_length=200, unique=True)),
                        ("kind", models.CharField(max_length=40)),
                        ("subject", models.CharField(blank=True, db_index=True, default="", max_length=100)),
                        ("recipient", models.EmailField(max_length=254)),
                        ("context", models.JSONField(blank=True, default=dict)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("failed_at", models.DateTimeField(blank=True, null=True)),
                        ("last_error", models.CharField(blank=True, max_length=500)),
                    ],
                    options={
                        "db_table": "proposals_notification",
                        "ordering": ["-created_at"],
                        "indexes": [models.Index(fields=["sent_at"], name="proposals_n_sent_at_9555b3_idx")],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("sent_at__isnull", True), ("failed_at__isnull", True), _connector="OR"
                                ),
                                name="proposals_notification_sent_or_failed",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
