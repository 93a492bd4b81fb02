from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("proposals", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="attachment",
            name="visibility",
            field=models.CharField(
                choices=[("board", "Board only"), ("proxy_material", "Proxy material")],
                default="board",
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="attachment",
            constraint=models.CheckConstraint(
                condition=models.Q(("visibility__in", ["board", "proxy_material"])),
                name="proposals_attachment_visibility_valid",
            ),
        ),
    ]
