from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("proposals", "0002_trust_visibility")]

    operations: list[migrations.operations.base.Operation] = []
