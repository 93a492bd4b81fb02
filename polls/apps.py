from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_secretary_group(sender: AppConfig, **kwargs: Any) -> None:
    """The secretary role is a group with the admin rights to run polls; kept in step with
    the models on every migrate, so a new model's permissions reach the role too."""
    from django.contrib.auth.models import Group, Permission

    from polls.permissions import SECRETARY_GROUP

    group, _ = Group.objects.get_or_create(name=SECRETARY_GROUP)
    wanted = Permission.objects.filter(content_type__app_label__in=["polls", "proposals"]).exclude(
        codename__in=["add_ballot", "change_ballot", "delete_ballot"]
    )
    group.permissions.add(*wanted)


class PollsConfig(AppConfig):
    name = "polls"
    verbose_name = "Polls and votes"

    def ready(self) -> None:
        post_migrate.connect(ensure_secretary_group, sender=self)
