from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.admin import ReadOnlyAdmin, SavedByItsCheck, SecretaryOnly, SecretaryWrites
from core.errors import DomainError
from core.http import acting_user
from core.roles import is_secretary
from meetings import services
from meetings.admin_forms import MeetingAdminForm
from meetings.ballot_forms import LineItem
from meetings.forms import RegisterImportForm
from meetings.models import Holder, Meeting, ProxyAppointment, RegisterSnapshot, Tabulation
from meetings.tabulation_forms import LinesTabulationForm, takes_lines
from polls import kinds
from polls.admin import audit_trail_html
from polls.models import Poll


@admin.register(RegisterSnapshot)
class RegisterSnapshotAdmin(SecretaryOnly, ReadOnlyAdmin):
    list_display = ["record_date", "holder_count", "total_shares", "shares_outstanding", "source_name", "imported_at"]
    date_hierarchy = "record_date"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_secretary(request.user) and request.user.has_perm("meetings.add_registersnapshot")

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        """Adding a register means importing its file, through the same service as the API."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = RegisterImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            snapshot = form.import_register(actor=acting_user(request))
            if snapshot is not None:
                self.message_user(request, _("Imported %(register)s.") % {"register": snapshot}, messages.SUCCESS)
                return redirect("admin:meetings_registersnapshot_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import a register of record"),
            "form": form,
            "line_errors": form.line_errors,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/meetings/register_import.html", context)


@admin.register(Holder)
class HolderAdmin(SecretaryOnly, ReadOnlyAdmin):
    list_display = ["account", "name", "email", "shares", "user", "register"]
    list_filter = ["register"]
    search_fields = ["account", "name", "email"]
    list_select_related = ["register", "user"]


class ItemInline(SecretaryWrites, admin.TabularInline):
    model = Poll
    fields = ["title", "standard", "threshold_text", "advisory", "status"]
    readonly_fields = ["title", "standard", "threshold_text", "advisory", "status"]
    extra = 0
    show_change_link = True
    verbose_name = gettext_lazy("item")
    verbose_name_plural = gettext_lazy("items on the ballot (add them as shareholder polls)")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Meeting)
class MeetingAdmin(SavedByItsCheck, SecretaryWrites, admin.ModelAdmin):
    """Saved through meeting_create / meeting_update: a register or quorum edit once an item has
    opened is a form error, and every edit is on the meeting's trail."""

    form = MeetingAdminForm
    list_display = ["title", "date", "register", "quorum_text", "quorum_comparator"]
    search_fields = ["title"]
    date_hierarchy = "date"
    fields = ["title", "date", "register", "quorum", "quorum_comparator", "proxy_cutoff", "audit_trail"]
    readonly_fields = ["audit_trail"]
    inlines = [ItemInline]

    @admin.display(description=gettext_lazy("Audit trail (read-only)"))
    def audit_trail(self, meeting: Meeting) -> str:
        return audit_trail_html(f"meeting:{meeting.pk}") if meeting.pk else "-"

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request: HttpRequest, obj: Meeting, form: Any, change: bool) -> None:
        """The form's check already saved it through the service."""


@admin.register(ProxyAppointment)
class ProxyAppointmentAdmin(SecretaryOnly, ReadOnlyAdmin):
    list_display = ["holder", "named_as", "proxy", "meeting", "appointed_by", "appointed_at", "revoked_at"]
    list_filter = ["meeting", "revoked_at"]
    search_fields = ["holder__name", "holder__account", "named_as", "proxy__username"]
    list_select_related = ["holder", "proxy", "meeting", "appointed_by"]
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Needed for the revoke action; every field stays read-only.
        return is_secretary(request.user) and request.user.has_perm("meetings.change_proxyappointment")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.list_display

    @admin.action(description=gettext_lazy("Revoke the selected proxies"), permissions=["secretary"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ProxyAppointment]) -> None:
        revoked = 0
        for appointment in queryset.filter(revoked_at__isnull=True):
            try:
                services.proxy_revoke(appointment=appointment, actor=acting_user(request))
            except DomainError as error:
                self.message_user(request, f"{appointment}: {error.message}", messages.ERROR)
            else:
                revoked += 1
        message = ngettext("%(count)d proxy revoked.", "%(count)d proxies revoked.", revoked)
        self.message_user(request, message % {"count": revoked}, messages.SUCCESS)


def _line_kinds() -> list[str]:
    """The kinds whose tabulation is per nominee or option (asked of their ballot forms)."""
    return kinds.kinds_where(lambda form: isinstance(form, LineItem))


class TabulationAdminForm(forms.ModelForm):
    """A proposal's three numbers, recorded through its ballot form while the form is checked, so
    a refusal (not closed yet, certified, more than outstanding) is a form error rather than a
    500 from save_model. An election, frequency or choice item is tabulated per nominee or option
    on its own page (TabulationAdmin.lines_view): this form refuses it. The admin's change view
    runs in one transaction: a later failure undoes the record."""

    actor: Any = None  # set per request by TabulationAdmin.get_form

    class Meta:
        model = Tabulation
        fields = ["poll", "shares_for", "shares_against", "shares_abstain", "broker_non_votes", "source"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        poll = data.get("poll")
        if self.errors or poll is None:
            return data
        if takes_lines(poll):
            url = reverse("admin:meetings_tabulation_lines", kwargs={"poll_id": poll.pk})
            message = _("“%(title)s” is tabulated per nominee or option: enter its figures on its own page.")
            raise ValidationError(format_html('{} <a href="{}">{}</a>', message % {"title": poll.title}, url, url))
        try:
            kinds.form_of(poll).tabulate(
                poll=poll,
                shares_for=data["shares_for"],
                shares_against=data["shares_against"],
                shares_abstain=data["shares_abstain"],
                broker_non_votes=data.get("broker_non_votes") or 0,
                source=data.get("source") or "",
                actor=self.actor,
            )
        except DomainError as error:
            raise ValidationError(error.message) from error
        self.instance = Tabulation.objects.get(poll_id=poll.pk)
        return data


@admin.register(Tabulation)
class TabulationAdmin(SecretaryWrites, admin.ModelAdmin):
    form = TabulationAdminForm
    list_display = ["poll", "figures", "broker_non_votes", "entered_by"]
    fields = ["poll", "shares_for", "shares_against", "shares_abstain", "broker_non_votes", "source"]
    list_select_related = ["poll", "entered_by"]

    @admin.display(description=gettext_lazy("Figures"))
    def figures(self, tabulation: Tabulation) -> str:
        if takes_lines(tabulation.poll):
            return _("%(count)d figures per nominee or option") % {"count": tabulation.lines.count()}
        return _("For %(for)s, against %(against)s, abstain %(abstain)s") % {
            "for": tabulation.shares_for,
            "against": tabulation.shares_against,
            "abstain": tabulation.shares_abstain,
        }

    def get_urls(self) -> list[Any]:
        lines = [
            path("lines/", self.admin_site.admin_view(self.lines_items_view), name="meetings_tabulation_lines_items"),
            path("lines/<int:poll_id>/", self.admin_site.admin_view(self.lines_view), name="meetings_tabulation_lines"),
        ]
        return lines + super().get_urls()

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "poll":
            three_numbers = kinds.kinds_where(lambda form: form.takes_tabulation and not isinstance(form, LineItem))
            kwargs["queryset"] = Poll.objects.filter(kind__in=three_numbers)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        """?poll=<id> of an item tabulated per nominee or option goes to its own page."""
        poll_id = request.GET.get("poll", "")
        poll = Poll.objects.filter(pk=int(poll_id)).first() if poll_id.isdigit() else None
        if poll is not None and takes_lines(poll):
            return redirect("admin:meetings_tabulation_lines", poll_id=poll.pk)
        return super().add_view(request, form_url, extra_context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        tabulation = self.get_object(request, object_id)
        if tabulation is not None and takes_lines(tabulation.poll):
            return redirect("admin:meetings_tabulation_lines", poll_id=tabulation.poll_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def lines_items_view(self, request: HttpRequest) -> HttpResponse:
        """The items tabulated per nominee or option, each with a link to its figures."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        items = Poll.objects.filter(kind__in=_line_kinds(), meeting__isnull=False).select_related("meeting")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Tabulation per nominee or option"),
            "items": items.order_by("-closes_at", "-pk"),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/meetings/tabulation_lines_items.html", context)

    def lines_view(self, request: HttpRequest, poll_id: int) -> HttpResponse:
        """An election's figures per nominee and choice, or a frequency or choice item's per
        option, recorded through the item's ballot form like the API's and the console's."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        poll = get_object_or_404(Poll.objects.filter(meeting__isnull=False), pk=poll_id)
        if not takes_lines(poll):
            return redirect(f"{reverse('admin:meetings_tabulation_add')}?poll={poll.pk}")
        form = LinesTabulationForm(request.POST if request.method == "POST" else None, poll=poll)
        if request.method == "POST" and form.is_valid() and form.record(actor=acting_user(request)) is not None:
            self.message_user(request, _("The tabulation of “%(title)s” is recorded.") % {"title": poll.title})
            return redirect("admin:meetings_tabulation_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Inspector's tabulation: %(title)s") % {"title": poll.title},
            "form": form,
            "poll": poll,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/meetings/tabulation_lines.html", context)

    def save_model(self, request: HttpRequest, obj: Tabulation, form: Any, change: bool) -> None:
        """The form's check already recorded it through the service."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
