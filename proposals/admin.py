from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ReadOnlyAdmin, SavedByItsCheck, SecretaryOnly
from core.errors import DomainError
from core.http import acting_user
from core.models import Notification, NotificationStatus
from core.notifications import notification_resend
from core.roles import is_secretary
from core.selectors import STATUS_CONDITIONS
from polls.admin import audit_trail_html
from proposals import people_services, services
from proposals.board import board_settings_update
from proposals.materials import attachment_visibility_set
from proposals.models import (
    PROPOSAL_TEXT_FIELDS,
    Attachment,
    AttachmentVisibility,
    BoardSettings,
    Comment,
    Director,
    FollowUp,
    Proposal,
    Recusal,
    ReviewVote,
)
from proposals.workflow import Action

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ReadOnlyInline(SecretaryOnly, admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields


class ReviewVoteInline(ReadOnlyInline):
    model = ReviewVote
    fields = ["director", "decision", "comment", "cast_at"]


class RecusalInline(ReadOnlyInline):
    model = Recusal
    fields = ["director", "interest", "created_at", "lifted_at", "lifted_by", "lift_reason"]


def _action(name: str, description: StrOrPromise) -> Any:
    def run(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Proposal]) -> None:
        done = 0
        for proposal in queryset:
            try:
                services.proposal_transition(proposal_id=proposal.pk, action=name, actor=acting_user(request))
                done += 1
            except DomainError as error:
                modeladmin.message_user(request, f"“{proposal}”: {error.message}", messages.ERROR)
        if done:
            message = ngettext("%(count)d proposal: %(action)s.", "%(count)d proposals: %(action)s.", done)
            modeladmin.message_user(request, message % {"count": done, "action": description}, messages.SUCCESS)

    run.__name__ = f"{name}_proposals"
    return admin.action(description=description)(run)


class ProposalAdminForm(forms.ModelForm):
    """An edit goes through proposal_update while the form is checked, so its refusal (only the
    proposer edits, and only in draft or returned) is a form error, not a server error."""

    actor: Any = None  # set per request by ProposalAdmin.get_form

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        changes = {field: data[field] for field in self.changed_data if field in services.EDITABLE_FIELDS}
        polls = data.get("polls") if "polls" in self.changed_data else None
        if not changes and polls is None:
            return data
        try:
            services.proposal_update(proposal=self.instance, actor=self.actor, polls=polls, **changes)
        except DomainError as error:
            raise forms.ValidationError(error.message) from error
        return data


@admin.register(Proposal)
class ProposalAdmin(SavedByItsCheck, SecretaryOnly, admin.ModelAdmin):
    form = ProposalAdminForm
    list_display = ["title", "status", "kind", "counterparty", "proposer", "review_due_at", "updated_at"]
    list_filter = ["status", "kind", "needs_shareholder_vote", "advisory"]
    search_fields = ["title", "summary", "counterparty", "proposer__username"]
    list_select_related = ["proposer"]
    readonly_fields = ["status", "review_due_at", "item", "escalated_from", "proposer", "timeline"]
    fields = [
        *PROPOSAL_TEXT_FIELDS,
        "polls",
        "status",
        "review_due_at",
        "item",
        "escalated_from",
        "proposer",
        "timeline",
    ]
    filter_horizontal = ["polls"]
    inlines = [RecusalInline, ReviewVoteInline]
    actions = [
        _action(Action.REFER, _("Refer to shareholders with no recommendation")),
        _action(Action.DECIDE, _("Decide now on the votes cast (due date reached)")),
        _action(Action.IMPLEMENT, _("Mark implemented")),
    ]

    @admin.display(description=_("Timeline (read-only audit trail)"))
    def timeline(self, proposal: Proposal) -> str:
        return audit_trail_html(f"proposal:{proposal.pk}")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # proposals start with a proposer, on the site or the API

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": acting_user(request)})

    def save_model(self, request: HttpRequest, obj: Proposal, form: Any, change: bool) -> None:
        """The form's check already saved the edit through the service."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Evidence polls were saved by the service; the inlines are read-only, and are only
        read here for the change message (which needs what they would have saved: nothing)."""
        for formset in formsets:
            formset.save(commit=False)


class DirectorForm(forms.ModelForm):
    """Saved through people_services.director_record while the form is checked, as the console's
    people page saves it: the appointment and the interests are on the director's trail in the
    name of the secretary who made them, and a refusal is a form error."""

    actor: Any = None  # set per request by DirectorAdmin.get_form
    office_from = forms.DateField(label=_("In office from"), initial=timezone.localdate)

    class Meta:
        model = Director
        fields = ["user", "title", "office_from", "office_to", "parties"]
        help_texts = {"parties": "The parties this director declares an interest in: they are recused from them."}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            self.instance = people_services.director_record(
                user=data["user"],
                title=data.get("title") or "",
                office_from=data["office_from"],
                office_to=data.get("office_to"),
                parties=data.get("parties") or (),
                actor=self.actor,
            )
        except DomainError as error:
            raise forms.ValidationError(error.message) from error
        return data


@admin.register(Director)
class DirectorAdmin(SecretaryOnly, admin.ModelAdmin):
    form = DirectorForm
    list_display = ["user", "title", "in_office", "interests"]
    list_filter = ["in_office"]
    search_fields = ["user__username", "title"]
    filter_horizontal = ["parties"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": acting_user(request)})

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The row stays, so past votes, recusals and signatures still name the director: a term
        # ends on the console's people page (director_remove), on the trail.
        return False

    def save_model(self, request: HttpRequest, obj: Director, form: Any, change: bool) -> None:
        """The form's check already saved it through the service."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The service set the parties, on the director's trail."""


@admin.register(FollowUp)
class FollowUpAdmin(SecretaryOnly, ReadOnlyAdmin):
    list_display = ["proposal", "due_at", "done_at", "note"]
    list_filter = ["done_at"]
    search_fields = ["proposal__title", "note"]
    list_select_related = ["proposal"]
    actions = ["mark_done"]

    @admin.action(description=_("Mark done (recorded on the proposal's audit trail)"))
    def mark_done(self, request: HttpRequest, queryset: QuerySet[FollowUp]) -> None:
        done = 0
        for follow_up in queryset:
            try:
                services.follow_up_complete(follow_up_id=follow_up.pk, actor=acting_user(request))
            except DomainError as error:
                self.message_user(request, f"{follow_up}: {error.message}", messages.WARNING)
            else:
                done += 1
        if done:
            message = ngettext("%(count)d follow-up marked done.", "%(count)d follow-ups marked done.", done)
            self.message_user(request, message % {"count": done}, messages.SUCCESS)


class NotificationStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return NotificationStatus.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Notification]) -> QuerySet[Notification]:
        chosen = STATUS_CONDITIONS.get(self.value() or "")
        return queryset.filter(chosen) if chosen is not None else queryset


@admin.register(Notification)
class NotificationAdmin(SecretaryOnly, ReadOnlyAdmin):
    """Every notification of core's outbox, sent, pending or failed (after
    Notification.MAX_ATTEMPTS attempts), with the last error. The console's outbox page
    (proposals/outbox_views.py) shows the same with each e-mail's preview."""

    list_display = ["kind", "recipient", "subject", "created_at", "status", "attempts", "sent_at", "last_error"]
    list_filter = [NotificationStatusFilter, "kind", "sent_at"]
    search_fields = ["recipient"]
    actions = ["send_again"]

    @admin.action(description=_("Send the failed notifications again"))
    def send_again(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        actor = acting_user(request)
        again = sum(notification_resend(notification=notification, actor=actor) for notification in queryset)
        self.message_user(
            request,
            ngettext("%(count)d notification queued again.", "%(count)d notifications queued again.", again)
            % {"count": again},
        )

    @admin.display(description=_("status"))
    def status(self, notification: Notification) -> str:
        return str(NotificationStatus(notification.status).label)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        failed = Notification.objects.filter(failed_at__isnull=False).count()
        if failed:
            messages.warning(
                request,
                ngettext(
                    "%(count)d notification could not be sent after %(attempts)d attempts.",
                    "%(count)d notifications could not be sent after %(attempts)d attempts.",
                    failed,
                )
                % {"count": failed, "attempts": Notification.MAX_ATTEMPTS},
            )
        return super().changelist_view(request, extra_context)


@admin.register(Comment)
class CommentAdmin(SecretaryOnly, ReadOnlyAdmin):
    list_display = ["proposal", "author", "created_at"]


@admin.register(Attachment)
class AttachmentAdmin(SecretaryOnly, ReadOnlyAdmin):
    list_display = ["name", "proposal", "visibility", "content_type", "size", "uploaded_by", "created_at"]
    list_filter = ["visibility"]
    actions = ["mark_proxy_material", "mark_board_only"]

    def _set_visibility(self, request: HttpRequest, queryset: QuerySet[Attachment], visibility: str) -> None:
        for attachment in queryset:
            try:
                attachment_visibility_set(attachment=attachment, visibility=visibility, actor=acting_user(request))
            except DomainError as error:
                self.message_user(request, f"{attachment}: {error.message}", messages.ERROR)

    @admin.action(description=_("Mark as proxy material (public once put to a vote)"))
    def mark_proxy_material(self, request: HttpRequest, queryset: QuerySet[Attachment]) -> None:
        self._set_visibility(request, queryset, AttachmentVisibility.PROXY_MATERIAL)

    @admin.action(description=_("Keep for the board only"))
    def mark_board_only(self, request: HttpRequest, queryset: QuerySet[Attachment]) -> None:
        self._set_visibility(request, queryset, AttachmentVisibility.BOARD)


from proposals import party_admin  # noqa: E402, F401 - registers the parties' admin


@admin.register(BoardSettings)
class BoardSettingsAdmin(SecretaryOnly, admin.ModelAdmin):
    """One row; saved through the service, so every change of the quorum basis is on the trail."""

    list_display = ["__str__", "quorum_basis", "updated_by", "updated_at"]
    fields = ["quorum_basis"]

    # The secretary's own setting: not left to the model permissions a staff account was given.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_secretary(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_secretary(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_secretary(request.user) and not BoardSettings.objects.exists()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_secretary(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: BoardSettings, form: Any, change: bool) -> None:
        saved = board_settings_update(quorum_basis=obj.quorum_basis, actor=acting_user(request))
        obj.pk = saved.pk
