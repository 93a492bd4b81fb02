from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("polls", "0003_trust_secret_polls")]

    operations: list[migrations.operations.base.Operation] = []
