from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("proposals", "0002_trust_visibility")]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="notification",
            name="failed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="notification",
            name="last_error",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.CheckConstraint(
                condition=models.Q(("sent_at__isnull", True), ("failed_at__isnull", True), _connector="OR"),
                name="proposals_notification_sent_or_failed",
            ),
        ),
    ]
