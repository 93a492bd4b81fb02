"""Admin helpers every app uses."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import router, transaction
from django.http import HttpRequest, HttpResponse

from core.roles import is_secretary


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only a service writes: the admin shows them."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SecretaryWrites:
    """What the API and the console let the secretary alone change (items and their lifecycle,
    meetings, tabulations, certification) is changed in the admin by the secretary alone too,
    whatever model permissions a staff account was given. Actions that change state name the
    "secretary" permission (`allowed_permissions`): an action without one runs for anyone who
    may merely view the list."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_secretary(request.user) and super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_secretary(request.user) and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_secretary(request.user) and super().has_delete_permission(request, obj)  # type: ignore[misc]

    def has_secretary_permission(self, request: HttpRequest) -> bool:
        return is_secretary(request.user)


class SecretaryOnly(SecretaryWrites):
    """Papers the secretary alone reads (the board's votes, comments and files; the register's
    holders; proxies): not even listed for other staff."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_secretary(request.user) and super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_secretary(request.user) and super().has_view_permission(request, obj)  # type: ignore[misc]


class SavedByItsCheck:
    """For a change form whose check (`clean`) saves through the service, so that a refusal is a
    form error: a page answered with errors all the same (an inline's, after the form's check
    had saved) leaves nothing saved, its trail link included. Django's own transaction around
    the view commits whatever the view returns."""

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        with transaction.atomic(using=router.db_for_write(self.model)):  # type: ignore[attr-defined]
            response = super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
            context = getattr(response, "context_data", None) or {}
            if request.method == "POST" and context.get("errors"):
                transaction.set_rollback(True)
        return response


class SuperuserOnly:
    """Celery beat's schedules run any registered task with any arguments (a ballot receipt
    mailed for any account, a sweep at any rate): the superusers' to set, as accounts and staff
    rights are, whatever model permissions a staff account or the secretary was given."""

    @staticmethod
    def _superuser(request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request)


def _schedules_for_superusers() -> None:
    """Re-register django_celery_beat's admins (installed before core) behind SuperuserOnly."""
    from django_celery_beat import models as beat

    for model in (
        beat.PeriodicTask,
        beat.IntervalSchedule,
        beat.CrontabSchedule,
        beat.SolarSchedule,
        beat.ClockedSchedule,
    ):
        if not admin.site.is_registered(model):
            continue
        registered = type(admin.site.get_model_admin(model))
        admin.site.unregister(model)
        admin.site.register(model, type(f"SuperuserOnly{registered.__name__}", (SuperuserOnly, registered), {}))


_schedules_for_superusers()
