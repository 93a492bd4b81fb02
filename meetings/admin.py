from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from core.admin import ReadOnlyAdmin
from core.errors import DomainError
from core.http import acting_user
from meetings import services
from meetings.admin_forms import MeetingAdminForm
from meetings.forms import RegisterImportForm
from meetings.models import Holder, Meeting, ProxyAppointment, RegisterSnapshot, Tabulation
from polls import kinds
from polls.admin import audit_trail_html
from polls.models import Poll


@admin.register(RegisterSnapshot)
class RegisterSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["record_date", "holder_count", "total_shares", "shares_outstanding", "source_name", "imported_at"]
    date_hierarchy = "record_date"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("meetings.add_registersnapshot")

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        """Adding a register means importing its file, through the same service as the API."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = RegisterImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            snapshot = form.import_register(actor=acting_user(request))
            if snapshot is not None:
                self.message_user(request, f"Imported {snapshot}.", messages.SUCCESS)
                return redirect("admin:meetings_registersnapshot_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Import a register of record",
            "form": form,
            "line_errors": form.line_errors,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/meetings/register_import.html", context)


@admin.register(Holder)
class HolderAdmin(ReadOnlyAdmin):
    list_display = ["account", "name", "email", "shares", "user", "register"]
    list_filter = ["register"]
    search_fields = ["account", "name", "email"]
    list_select_related = ["register", "user"]


class ItemInline(admin.TabularInline):
    model = Poll
    fields = ["title", "standard", "threshold_text", "advisory", "status"]
    readonly_fields = ["title", "standard", "threshold_text", "advisory", "status"]
    extra = 0
    show_change_link = True
    verbose_name = "item"
    verbose_name_plural = "items on the ballot (add them as shareholder polls)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    """Saved through meeting_create / meeting_update: a register or quorum edit once an item has
    opened is a form error, and every edit is on the meeting's trail."""

    form = MeetingAdminForm
    list_display = ["title", "date", "register", "quorum_text", "quorum_comparator"]
    search_fields = ["title"]
    date_hierarchy = "date"
    fields = ["title", "date", "register", "quorum", "quorum_comparator", "audit_trail"]
    readonly_fields = ["audit_trail"]
    inlines = [ItemInline]

    @admin.display(description="Audit trail (read-only)")
    def audit_trail(self, meeting: Meeting) -> str:
        return audit_trail_html(f"meeting:{meeting.pk}") if meeting.pk else "-"

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request: HttpRequest, obj: Meeting, form: Any, change: bool) -> None:
        """The form's check already saved it through the service."""


@admin.register(ProxyAppointment)
class ProxyAppointmentAdmin(ReadOnlyAdmin):
    list_display = ["holder", "named_as", "proxy", "meeting", "appointed_by", "appointed_at", "revoked_at"]
    list_filter = ["meeting", "revoked_at"]
    search_fields = ["holder__name", "holder__account", "named_as", "proxy__username"]
    list_select_related = ["holder", "proxy", "meeting", "appointed_by"]
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Needed for the revoke action; every field stays read-only.
        return request.user.has_perm("meetings.change_proxyappointment")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.list_display

    @admin.action(description="Revoke the selected proxies")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ProxyAppointment]) -> None:
        for appointment in queryset.filter(revoked_at__isnull=True):
            services.proxy_revoke(appointment=appointment, actor=acting_user(request))
        self.message_user(request, "Revoked.", messages.SUCCESS)


class TabulationAdminForm(forms.ModelForm):
    """Records through the service while the form is checked, so a refusal (not closed yet,
    certified, more than outstanding) is a form error rather than a 500 from save_model. The
    admin's change view runs in one transaction: a later failure undoes the record."""

    actor: Any = None  # set per request by TabulationAdmin.get_form

    class Meta:
        model = Tabulation
        fields = ["poll", "shares_for", "shares_against", "shares_abstain", "broker_non_votes", "source"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors or data.get("poll") is None:
            return data
        try:
            self.instance = services.tabulation_record(
                poll=data["poll"],
                shares_for=data["shares_for"],
                shares_against=data["shares_against"],
                shares_abstain=data["shares_abstain"],
                broker_non_votes=data.get("broker_non_votes") or 0,
                source=data.get("source") or "",
                actor=self.actor,
            )
        except DomainError as error:
            raise ValidationError(error.message) from error
        return data


@admin.register(Tabulation)
class TabulationAdmin(admin.ModelAdmin):
    form = TabulationAdminForm
    list_display = ["poll", "shares_for", "shares_against", "shares_abstain", "broker_non_votes", "entered_by"]
    fields = ["poll", "shares_for", "shares_against", "shares_abstain", "broker_non_votes", "source"]
    list_select_related = ["poll", "entered_by"]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "poll":
            kwargs["queryset"] = Poll.objects.filter(kind__in=kinds.kinds_where(lambda form: form.takes_tabulation))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request: HttpRequest, obj: Tabulation, form: Any, change: bool) -> None:
        """The form's check already recorded it through the service."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
