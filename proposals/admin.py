from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import ngettext

from polls.admin import ReadOnlyAdmin, audit_trail_html
from polls.exceptions import PollError
from proposals import services
from proposals.models import (
    PROPOSAL_TEXT_FIELDS,
    Attachment,
    Comment,
    Director,
    FollowUp,
    Notification,
    Proposal,
    Recusal,
    ReviewVote,
)
from proposals.workflow import Action


class ReadOnlyInline(admin.TabularInline):
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
    fields = ["director", "interest", "created_at"]


def _action(name: str, description: str) -> Any:
    def run(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Proposal]) -> None:
        done = 0
        for proposal in queryset:
            try:
                services.proposal_transition(proposal_id=proposal.pk, action=name, actor=request.user)  # type: ignore[arg-type]
                done += 1
            except PollError as error:
                modeladmin.message_user(request, f"“{proposal}”: {error.message}", messages.ERROR)
        if done:
            modeladmin.message_user(request, f"{done} proposal(s): {description.lower()}.", messages.SUCCESS)

    run.__name__ = f"{name}_proposals"
    return admin.action(description=description)(run)


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
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
        _action(Action.REFER, "Refer to shareholders with no recommendation"),
        _action(Action.DECIDE, "Decide now on the votes cast (due date reached)"),
        _action(Action.IMPLEMENT, "Mark implemented"),
    ]

    @admin.display(description="Timeline (read-only audit trail)")
    def timeline(self, proposal: Proposal) -> str:
        return audit_trail_html(f"proposal:{proposal.pk}")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # proposals start with a proposer, on the site or the API

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Proposal, form: Any, change: bool) -> None:
        data = {field: form.cleaned_data[field] for field in form.changed_data if field in services.EDITABLE_FIELDS}
        polls = form.cleaned_data.get("polls") if "polls" in form.changed_data else None
        services.proposal_update(proposal=obj, editor=request.user, polls=polls, **data)  # type: ignore[arg-type]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Evidence polls were saved by the service; the inlines are read-only."""


@admin.register(Director)
class DirectorAdmin(admin.ModelAdmin):
    list_display = ["user", "title", "in_office", "interests"]
    list_filter = ["in_office"]
    search_fields = ["user__username", "title"]

    def save_model(self, request: HttpRequest, obj: Director, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = services.director_save(
            user=data["user"], title=data["title"], interests=data["interests"], in_office=data["in_office"]
        )
        obj.pk = saved.pk


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ["proposal", "due_at", "done_at", "note"]
    list_filter = ["done_at"]
    search_fields = ["proposal__title", "note"]
    list_select_related = ["proposal"]
    actions = ["mark_done"]

    @admin.action(description="Mark done (recorded on the proposal's audit trail)")
    def mark_done(self, request: HttpRequest, queryset: QuerySet[FollowUp]) -> None:
        done = 0
        for follow_up in queryset:
            try:
                services.follow_up_complete(follow_up_id=follow_up.pk, actor=request.user)  # type: ignore[arg-type]
            except PollError as error:
                self.message_user(request, f"{follow_up}: {error.message}", messages.WARNING)
            else:
                done += 1
        if done:
            message = ngettext("%(count)d follow-up marked done.", "%(count)d follow-ups marked done.", done)
            self.message_user(request, message % {"count": done}, messages.SUCCESS)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["kind", "recipient", "proposal", "created_at", "sent_at"]
    list_filter = ["kind", "sent_at"]
    search_fields = ["recipient"]


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    list_display = ["proposal", "author", "created_at"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["name", "proposal", "content_type", "size", "uploaded_by", "created_at"]
