from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_secretary_group(sender: AppConfig, **kwargs: Any) -> None:
    """The secretary role is a group with the admin rights to run polls; kept in step with
    the models on every migrate, so a new model's permissions reach the role too."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    from core.roles import SECRETARY_GROUP

    group, _ = Group.objects.get_or_create(name=SECRETARY_GROUP)
    wanted = Permission.objects.filter(
        Q(content_type__app_label__in=["polls", "meetings", "proposals"])
        | Q(
            content_type__app_label="core",
            content_type__model__in=["auditevent", "audithead", "auditroot", "profile", "notification"],
        )
    ).exclude(codename__in=["add_ballot", "change_ballot", "delete_ballot"])
    group.permissions.add(*wanted)


class CoreConfig(AppConfig):
    """What every app shares and no app owns: accounts that hold (tokens, two-factor, lockout
    responses, the trusted client address) and the deploy checks that keep them honest."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core import checks, mfa  # noqa: F401 - registers the deploy check and the built-in rule

        # After every app's migrations, not only ours: the other apps' permissions are created
        # after core's post_migrate, and the role must get them on the first migrate of a new database.
        post_migrate.connect(ensure_secretary_group, dispatch_uid="core-secretary-group")

        # Every grant and removal of the secretary role goes on the account's trail.
        from django.contrib.auth.models import User
        from django.db.models.signals import m2m_changed

        from core.role_trail import on_groups_changed

        m2m_changed.connect(on_groups_changed, sender=User.groups.through, dispatch_uid="core-role-trail")

        # And every grant and removal of the superuser and staff flags.
        from django.db.models.signals import post_save, pre_save

        from core.flag_trail import on_user_post_save, on_user_pre_save

        pre_save.connect(on_user_pre_save, sender=User, dispatch_uid="core-flag-trail-pre")
        post_save.connect(on_user_post_save, sender=User, dispatch_uid="core-flag-trail-post")
