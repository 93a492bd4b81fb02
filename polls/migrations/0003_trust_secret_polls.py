from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("polls", "0002_profile")]

    operations: list[migrations.operations.base.Operation] = []
