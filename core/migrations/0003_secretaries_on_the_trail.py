"""The secretary role goes on the trail (core.role_trail): the accounts already in the group
when this runs get their `role_granted` link, so verify_audit knows them from the ones added
by SQL later."""

from typing import Any

from django.db import migrations


def record_current_secretaries(apps: Any, schema_editor: Any) -> None:
    # The live models: the link is signed and folded into the root as any other.
    from django.contrib.auth.models import User

    from core.role_trail import GRANTED, _record
    from core.roles import SECRETARY_GROUP

    members = User.objects.filter(groups__name=SECRETARY_GROUP).values_list("pk", flat=True)
    _record(members, GRANTED)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_notification"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(record_current_secretaries, migrations.RunPython.noop)]
