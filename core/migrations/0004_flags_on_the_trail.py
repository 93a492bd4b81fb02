"""The superuser and staff flags go on the trail (core.flag_trail): the accounts holding them
when this runs get their `role_granted` link, so verify_audit knows them from the ones set by
SQL later."""

from typing import Any

from django.db import migrations


def record_current_flags(apps: Any, schema_editor: Any) -> None:
    # The live models: the link is signed and folded into the root as any other.
    from django.contrib.auth.models import User

    from core.flag_trail import FLAGS, record_flags
    from core.role_trail import GRANTED

    for flag in FLAGS:
        record_flags(User.objects.filter(**{flag: True}).values_list("pk", flat=True), flag, GRANTED)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_secretaries_on_the_trail")]

    operations = [migrations.RunPython(record_current_flags, migrations.RunPython.noop)]
