from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("polls", "0002_profile")]

    operations: list[migrations.operations.base.Operation] = [
        # Existing polls keep open ballots: their trail already names each choice.
        migrations.AddField(
            model_name="poll",
            name="secret",
            field=models.BooleanField(
                default=False,
                help_text="Public polls only: nobody, the secretary included, can see who chose what.",
                verbose_name="secret ballot",
            ),
        ),
        migrations.AddField(
            model_name="ballot",
            name="salt",
            field=models.CharField(blank=True, default="", editable=False, max_length=64, db_default=""),
        ),
        migrations.AddConstraint(
            model_name="poll",
            constraint=models.CheckConstraint(
                condition=models.Q(("secret", False), ("kind", "public"), _connector="OR"),
                name="polls_poll_secret_only_public",
            ),
        ),
    ]
