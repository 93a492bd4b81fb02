"""One spelling per option: "Yes" and "yes" cannot be two options of a poll."""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("polls", "0007_register_import_jobs"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="option",
            constraint=models.UniqueConstraint(
                models.F("poll"),
                django.db.models.functions.text.Lower("label"),
                name="polls_option_label_ci_unique",
            ),
        ),
    ]
