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


def link_new_account_to_holdings(
    sender: Any, instance: Any, created: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    """A shareholder who signs up after the register was imported gets their holdings. Logins
    save only `last_login`, so they do not pay for the look-up."""
    from django.conf import settings

    # Opt-in: an unverified e-mail address alone must not hand over a holding.
    if not settings.REGISTER_LINK_BY_EMAIL:
        return
    if created or update_fields is None or "email" in update_fields:
        from polls.services import holders_link_user

        holders_link_user(user=instance)


class PollsConfig(AppConfig):
    name = "polls"
    verbose_name = "Polls and votes"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        from polls import checks  # noqa: F401 - registers the deploy checks

        # After every app's migrations, not only ours: proposals' permissions are created after
        # polls' post_migrate, and the role must get them on the first migrate of a new database.
        post_migrate.connect(ensure_secretary_group, dispatch_uid="polls-secretary-group")
        post_save.connect(link_new_account_to_holdings, sender=get_user_model(), dispatch_uid="polls-link-holders")
