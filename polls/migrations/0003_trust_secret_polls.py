import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("polls", "0002_profile"), migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
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
        # A proxy named by a name that matches no account is kept, with no account to vote.
        migrations.AlterField(
            model_name="proxyappointment",
            name="proxy",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="proxy_for",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="proxyappointment",
            name="named_as",
            field=models.CharField(blank=True, default="", max_length=254),
        ),
        migrations.AddConstraint(
            model_name="poll",
            constraint=models.CheckConstraint(
                condition=models.Q(("secret", False), ("kind", "public"), _connector="OR"),
                name="polls_poll_secret_only_public",
            ),
        ),
    ]
